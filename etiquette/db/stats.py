"""`etiquette stats`: the book's numbers across runs, per agent, team, day or rule.

Each call counts once, as its latest check left it (a re-run replaces a call's rows). A group's figures come
from measures: functions that, given the grouping and the time filter, return columns per group: calls and
failed calls, findings per check, and (with `--decisions`) reviewers' decisions on the findings and the
field precision they give: of the decided findings, the share a reviewer found right (confirmed or needs
coaching). Only decisions on findings the book still holds count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from etiquette.db import schema

BY = ("agent", "team", "day", "check", "rule")
DECISION_COLUMNS = ("decided", "confirmed", "false_positive", "needs_coaching")
NONE = "(none)"  # the group of calls whose metadata does not say


@dataclass(frozen=True)
class Query:
    by: str
    since: datetime | None = None  # calls started (or, without a start time, checked) at or after this
    decisions: bool = False  # add reviewers' decisions and field precision


def parse_since(text: str, today: date | None = None) -> datetime:
    """`30d`, `12w`, `6m` (months of 30 days) back from now, or a date `2025-03-01`; ValueError otherwise."""
    found = re.fullmatch(r"\s*(\d+)\s*([dwm])\s*", text.lower())
    if found:
        days = int(found.group(1)) * {"d": 1, "w": 7, "m": 30}[found.group(2)]
        start = (today or datetime.now(timezone.utc).date()) - timedelta(days=days)
        return datetime(start.year, start.month, start.day)
    try:
        return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
    except ValueError:
        raise ValueError(f"{text!r} is not a span such as 30d, 12w or 6m, nor a date such as 2025-03-01") from None


def _group(query: Query) -> ColumnElement:
    calls, findings = schema.calls.c, schema.findings.c
    return {"agent": calls.agent, "team": calls.team, "day": calls.day, "check": findings.check,
            "rule": findings.rule}[query.by]


def _when(query: Query) -> ColumnElement:
    calls = schema.calls.c
    if query.since is None:
        return and_(True)
    return func.coalesce(calls.started_at, calls.checked_at) >= query.since


def _joined(query: Query):
    """Calls, with their findings when the grouping is a finding's (check, rule)."""
    if query.by in ("check", "rule"):
        return schema.findings.join(schema.calls, schema.findings.c.call_id == schema.calls.c.call_id)
    return schema.calls


def call_counts(connection: Connection, query: Query) -> dict[str | None, dict[str, int]]:
    """calls and failed: calls checked in the group (for a rule: the calls it was raised in)."""
    calls = schema.calls.c
    group = _group(query)
    per_finding = query.by in ("check", "rule")
    call = func.count(func.distinct(calls.call_id)) if per_finding else func.count()
    failed = (func.count(func.distinct(case((calls.verdict == "fail", calls.call_id)))) if per_finding
              else func.sum(case((calls.verdict == "fail", 1), else_=0)))
    rows = connection.execute(select(group, call, failed).select_from(_joined(query)).where(_when(query)).group_by(group))
    return {key: {"calls": int(n or 0), "failed": int(f or 0)} for key, n, f in rows}


def finding_counts(connection: Connection, query: Query) -> dict[str | None, dict[str, int]]:
    """One column per check: the findings it raised in the group."""
    findings = schema.findings.c
    group = _group(query)
    joined = schema.findings.join(schema.calls, findings.call_id == schema.calls.c.call_id)
    rows = connection.execute(select(group, findings.check, func.count()).select_from(joined).where(_when(query))
                              .group_by(group, findings.check))
    counts: dict[str | None, dict[str, int]] = {}
    for key, check, n in rows:
        counts.setdefault(key, {})[check] = int(n)
    return counts


def decision_counts(connection: Connection, query: Query) -> dict[str | None, dict[str, int]]:
    """With --decisions: the group's decided findings, and how many were confirmed, false positives or needed coaching."""
    if not query.decisions:
        return {}
    findings, decisions = schema.findings.c, schema.decisions.c
    group = _group(query)
    joined = (schema.decisions.join(schema.findings, findings.finding_id == decisions.finding_id)
              .join(schema.calls, findings.call_id == schema.calls.c.call_id))
    rows = connection.execute(select(group, decisions.decision, func.count()).select_from(joined).where(_when(query))
                              .group_by(group, decisions.decision))
    counts: dict[str | None, dict[str, int]] = {}
    for key, decision, n in rows:
        values = counts.setdefault(key, dict.fromkeys(DECISION_COLUMNS, 0))
        values["decided"] += int(n)
        if decision in values:
            values[decision] += int(n)
    return counts


def precision(values: dict) -> float | None:
    """Of the decided findings, the share a reviewer found right (None when none was decided)."""
    decided = values.get("decided", 0)
    return round((decided - values.get("false_positive", 0)) / decided, 3) if decided else None


Measure = Callable[[Connection, Query], dict]
MEASURES: list[Measure] = [call_counts, finding_counts, decision_counts]


@dataclass
class Table:
    by: str
    checks: list[str]
    rows: list[dict]  # one per group: {by, calls, failed, <check>..., findings, findings_per_100_calls[, decisions]}
    decisions: bool = False

    def csv_columns(self) -> list[str]:
        return [self.by, "calls", "failed", *self.checks, *((*DECISION_COLUMNS, "precision") if self.decisions else ())]


def stats(connection: Connection, query: Query, registered: list[str]) -> Table:
    merged: dict[str | None, dict] = {}
    for measure in MEASURES:
        for key, values in measure(connection, query).items():
            merged.setdefault(key, {}).update(values)
    seen = {name for values in merged.values() for name in values} - {"calls", "failed", *DECISION_COLUMNS}
    checks = list(registered) + sorted(seen - set(registered))
    rows = []
    for key in sorted(merged, key=lambda k: (k is None, k or "")):
        values = merged[key]
        row = {query.by: NONE if key is None else key, "calls": values.get("calls", 0), "failed": values.get("failed", 0)}
        row.update({check: values.get(check, 0) for check in checks})
        row["findings"] = sum(row[check] for check in checks)
        row["findings_per_100_calls"] = round(100.0 * row["findings"] / row["calls"], 1) if row["calls"] else 0.0
        if query.decisions:
            row.update({column: values.get(column, 0) for column in DECISION_COLUMNS}, precision=precision(values))
        rows.append(row)
    return Table(query.by, checks, rows, query.decisions)
