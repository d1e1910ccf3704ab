"""The calls table of the review app: filters, sorting and one page of rows, all done by the database.

Only the page's rows leave the database (50 by default), with the counts of every call the filters keep, by
verdict and by review state, so the page costs the same for 100 calls or 100,000. A call's review state
comes from the decisions on its current findings: `to review` (none decided), `partly`, `reviewed` (each
finding has a decision), or `nothing` (no findings). Free text is searched in each call's words as the book
keeps them (folded: no case, accents or punctuation), as a phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Mapping
from urllib.parse import urlencode

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection, Row

from etiquette.db import schema
from etiquette.matching import fold
from etiquette.types import Severity, Verdict

REVIEW_STATES = {"to_review": "to review", "partly": "partly reviewed", "reviewed": "reviewed", "nothing": "no findings"}
PAGE_SIZES = (25, 50, 100, 200)
NONE = "(none)"  # the agent or team of calls whose log did not name one
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

calls, findings, decisions, texts = schema.calls.c, schema.findings.c, schema.decisions.c, schema.call_texts.c

_decided = (select(findings.call_id.label("call_id"), func.count().label("n"))
            .select_from(schema.decisions.join(schema.findings, findings.finding_id == decisions.finding_id))
            .group_by(findings.call_id).subquery("decided"))
DECIDED = func.coalesce(_decided.c.n, 0)
REVIEW = case((calls.findings == 0, "nothing"), (DECIDED == 0, "to_review"), (DECIDED < calls.findings, "partly"),
              else_="reviewed")
SORTS = {  # name: the columns it orders by, first to last (ascending); each call row counts its findings per severity
    "worst": [calls.verdict != "fail", -func.coalesce(calls.high, 0), -func.coalesce(calls.medium, 0), -calls.findings],
    "call": [], "day": [calls.day, calls.started_at], "agent": [calls.agent], "team": [calls.team],
    "language": [calls.language], "verdict": [calls.verdict], "findings": [calls.findings],
    "duration": [calls.duration], "review": [REVIEW],
}


@dataclass(frozen=True)
class Filters:
    """What the calls page was asked for (its query string), every value checked."""

    verdict: str = ""
    check: str = ""
    rule: str = ""
    severity: str = ""  # at least this severity
    agent: str = ""
    team: str = ""
    since: str = ""  # a day, YYYY-MM-DD (the call's local date)
    until: str = ""
    language: str = ""
    review: str = ""
    text: str = ""
    sort: str = "worst"
    desc: bool = False
    page: int = 1
    size: int = 50

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> "Filters":
        """From a query string; a value that makes no sense is left out, never an error page."""
        values = {f.name: params.get(f.name, "").strip()[:200] for f in fields(cls) if isinstance(f.default, str)}
        if values["verdict"] not in {v.value for v in Verdict}:
            values["verdict"] = ""
        if values["severity"] not in {s.value for s in Severity}:
            values["severity"] = ""
        if values["review"] not in REVIEW_STATES:
            values["review"] = ""
        for day in ("since", "until"):
            if not _DAY.fullmatch(values[day]):
                values[day] = ""
        if values["sort"] not in SORTS:
            values["sort"] = "worst"
        size = _number(params.get("size"), 50)
        return cls(**values, desc=params.get("desc") == "1", page=max(1, _number(params.get("page"), 1)),
                   size=size if size in PAGE_SIZES else 50)

    def query(self, **changes: object) -> str:
        """The query string of these filters with some changed (links for sorting and pages): defaults left out."""
        changed = replace(self, **changes)  # type: ignore[arg-type]
        pairs = [(f.name, getattr(changed, f.name)) for f in fields(self) if getattr(changed, f.name) != f.default]
        return urlencode([(name, "1" if value is True else value) for name, value in pairs])

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in ("verdict", "check", "rule", "severity", "agent", "team", "since",
                                                     "until", "language", "review", "text"))


def _number(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


@dataclass
class Listing:
    filters: Filters
    rows: list[Row]  # the page's calls
    total: int  # calls the filters keep
    by_verdict: dict[str, int]
    by_review: dict[str, int]
    options: dict[str, list[str]] = field(default_factory=dict)  # what the filters can choose from

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.size))


def _conditions(f: Filters) -> list:
    found = []
    if f.verdict:
        found.append(calls.verdict == f.verdict)
    for name, column in (("agent", calls.agent), ("team", calls.team)):
        value = getattr(f, name)
        if value:
            found.append(column.is_(None) if value == NONE else column == value)
    if f.language:
        found.append(or_(calls.language == f.language, calls.language.like(f"{_escape(f.language)}-%", escape="\\")))
    if f.since:
        found.append(calls.day >= f.since)
    if f.until:
        found.append(calls.day <= f.until)
    if f.review:
        found.append(REVIEW == f.review)
    # Subqueries the database runs once (IN), not once per call (a correlated EXISTS): without statistics, SQLite
    # answered `rule = 'insult'` for each of 10,000 calls by reading every insult in the book (two minutes).
    finding = []
    if f.check:
        finding.append(findings.check == f.check)
    if f.rule:
        finding.append(findings.rule == f.rule)
    if f.severity:
        finding.append(findings.severity.in_([s.value for s in Severity if s >= Severity(f.severity)]))
    if finding:
        found.append(calls.call_id.in_(select(findings.call_id).where(*finding)))
    phrase = " ".join(fold(word) for word in f.text.split())
    if phrase:
        found.append(calls.call_id.in_(select(texts.call_id).where(texts.text.like(f"%{_escape(phrase)}%", escape="\\"))))
    return found


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_calls(connection: Connection, f: Filters) -> Listing:
    """One page of the calls the filters keep, with their counts by verdict and review state."""
    where = and_(True, *_conditions(f))
    joined = schema.calls.outerjoin(_decided, _decided.c.call_id == calls.call_id)
    order = [column.desc() if f.desc else column for column in SORTS[f.sort]]
    query = (select(calls.call_id, calls.verdict, calls.findings, calls.agent, calls.team, calls.day, calls.language,
                    calls.duration, calls.recording, calls.high, calls.medium, calls.low, REVIEW.label("review"),
                    DECIDED.label("decided"))
             .select_from(joined).where(where)
             .order_by(*order, calls.call_id.desc() if f.desc and f.sort == "call" else calls.call_id))
    if f.text:  # searching reads every call's words: once, counting the calls while picking the page's rows
        rows, counts, page = _counting(connection, query, f)
        f = replace(f, page=page)
    else:  # two quick queries: the counts, then the page (a query that also counts would sort every row whole)
        counts = list(connection.execute(select(calls.verdict, REVIEW, func.count()).select_from(joined).where(where)
                                         .group_by(calls.verdict, REVIEW)))
        total = sum(n for _, _, n in counts)
        f = replace(f, page=min(f.page, max(1, -(-total // f.size))))
        rows = list(connection.execute(query.limit(f.size).offset((f.page - 1) * f.size)))
    by_verdict: dict[str, int] = {}
    by_review: dict[str, int] = {}
    for verdict, review, n in counts:
        by_verdict[verdict] = by_verdict.get(verdict, 0) + n
        by_review[review] = by_review.get(review, 0) + n
    return Listing(f, rows, sum(by_verdict.values()), by_verdict, by_review, _options(connection))


def _counting(connection: Connection, query, f: Filters) -> tuple[list[Row], list[tuple[str, str, int]], int]:
    """The page's rows, the counts by verdict and review state, and the page (the last one when asked for one past
    it), from one query: window sums over every call kept."""
    pairs = [(v.value, s) for v in Verdict for s in REVIEW_STATES]
    counted = query.add_columns(*[func.sum(case((and_(calls.verdict == v, REVIEW == s), 1), else_=0)).over()
                                  for v, s in pairs])
    page = f.page
    rows = list(connection.execute(counted.limit(f.size).offset((page - 1) * f.size)))
    if not rows and page > 1:  # a page past the end: the last one
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        page = max(1, -(-total // f.size))
        rows = list(connection.execute(counted.limit(f.size).offset((page - 1) * f.size)))
    sums = [int(n or 0) for n in rows[0][-len(pairs):]] if rows else []
    return rows, [(v, s, n) for (v, s), n in zip(pairs, sums) if n], page


_OPTIONS: dict[tuple, dict[str, list[str]]] = {}  # the last book's choices, by what would change them


def _options(connection: Connection) -> dict[str, list[str]]:
    """What the filters can choose from: read again only when the book's calls change (their number or latest
    check), which costs one quick query instead of five."""
    key = (str(connection.engine.url), *connection.execute(select(func.count(), func.max(calls.checked_at))).one())
    if (known := _OPTIONS.get(key)) is not None:
        return known

    def distinct(column) -> list[str]:
        values = connection.execute(select(column).distinct()).scalars()
        return sorted((NONE if value is None else value) for value in values)

    found = {"agent": distinct(calls.agent), "team": distinct(calls.team), "language": distinct(calls.language),
             "check": distinct(findings.check), "rule": distinct(findings.rule)}
    _OPTIONS.clear()
    _OPTIONS[key] = found
    return found
