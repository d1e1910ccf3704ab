"""Reviewers' decisions on findings: confirmed, false positive or needs coaching, with a note, who and when.

A decision is stored against the finding's stable id (a digest of call, check, rule, speaker and start
second), not the finding's row: a re-run replaces a call's findings, and the same finding gets the same id,
so its decision is found again. A finding that a re-run no longer raises keeps its decision in the table
(the export marks it `gone`) but no longer counts for precision. Deciding again replaces the decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from etiquette.db import schema
from etiquette.db.store import now, upsert

NOTE_MAX = 4000  # characters
REVIEWER_MAX = 255


class Decision(str, enum.Enum):
    CONFIRMED = "confirmed"  # the finding is right
    FALSE_POSITIVE = "false_positive"  # the finding is wrong: the rule fired on something allowed
    NEEDS_COACHING = "needs_coaching"  # right, and the agent should be coached on it

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def finding_was_right(self) -> bool:
        return self is not Decision.FALSE_POSITIVE


class DecisionRefused(ValueError):
    """A decision that cannot be stored: the reason, one line."""


@dataclass(frozen=True)
class DecisionRecord:
    finding_id: str
    call_id: str
    check: str
    rule: str
    decision: Decision
    note: str
    reviewer: str
    decided_at: datetime  # UTC


def _record(row) -> DecisionRecord:
    return DecisionRecord(row.finding_id, row.call_id, row.check, row.rule, Decision(row.decision), row.note or "",
                          row.reviewer, row.decided_at)


def decide(connection: Connection, finding_id: str, decision: str, reviewer: str, note: str = "",
           at: datetime | None = None) -> DecisionRecord:
    """Store (or replace) the decision on a finding of the book; DecisionRefused says why it cannot be."""
    try:
        chosen = Decision(decision)
    except ValueError:
        raise DecisionRefused(f"{decision!r} is not one of {', '.join(d.value for d in Decision)}") from None
    reviewer, note = reviewer.strip(), note.strip()
    if not reviewer:
        raise DecisionRefused("the reviewer's name is missing")
    if len(reviewer) > REVIEWER_MAX or len(note) > NOTE_MAX:
        raise DecisionRefused(f"the name is longer than {REVIEWER_MAX} characters or the note than {NOTE_MAX}")
    findings = schema.findings.c
    finding = connection.execute(select(findings.call_id, findings.check, findings.rule)
                                 .where(findings.finding_id == finding_id)).first()
    if finding is None:
        raise DecisionRefused("no such finding in the results database (was the call checked again since?)")
    record = DecisionRecord(finding_id, finding.call_id, finding.check, finding.rule, chosen, note, reviewer, at or now())
    upsert(connection, schema.decisions, [{**record.__dict__, "decision": chosen.value}])
    return record


def decisions_of(connection: Connection, call_id: str) -> dict[str, DecisionRecord]:
    """The decisions on a call's findings, by finding id."""
    table = schema.decisions
    return {row.finding_id: _record(row) for row in connection.execute(select(table).where(table.c.call_id == call_id))}


EXPORT_COLUMNS = ["finding_id", "call_id", "check", "rule", "severity", "start", "end", "evidence", "decision", "note",
                  "reviewer", "decided_at", "agent", "team", "gone"]


def export(connection: Connection) -> Iterator[dict]:
    """Every decision with its finding and call (`gone`: a re-run no longer raises the finding), oldest first."""
    decisions, findings, calls = schema.decisions.c, schema.findings.c, schema.calls.c
    query = (select(decisions.finding_id, decisions.call_id, decisions.check, decisions.rule, findings.severity,
                    findings.start, findings.end, findings.evidence, decisions.decision, decisions.note,
                    decisions.reviewer, decisions.decided_at, calls.agent, calls.team,
                    (findings.finding_id.is_(None)).label("gone"))
             .select_from(schema.decisions.outerjoin(schema.findings, findings.finding_id == decisions.finding_id)
                          .outerjoin(schema.calls, calls.call_id == decisions.call_id))
             .order_by(decisions.decided_at, decisions.finding_id))
    for row in connection.execute(query):
        values = dict(row._mapping)
        values["decided_at"] = values["decided_at"].isoformat(timespec="seconds") + "Z"
        values["gone"] = "yes" if values["gone"] else ""
        yield values

