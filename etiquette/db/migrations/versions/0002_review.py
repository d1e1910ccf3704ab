"""Review: where each call's recording and words are, its findings per severity, its words as text for search, and
reviewers' decisions.

Revision ID: 0002
Revises: 0001

Written like 0001, one line a column: (name, type, flags) with flags pk, req, ix and fk:table.column.
Decisions have no foreign key to findings: a re-run replaces a call's findings, and its decisions must stay
(a finding keeps its id, so they find it again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID, NAME = sa.String(32), sa.String(255)
CALL_COLUMNS = [sa.Column("recording", sa.Text), sa.Column("transcript_file", sa.Text)]
SEVERITIES = ("high", "medium", "low")  # columns of calls: its findings of each severity
TABLES: dict[str, list[tuple]] = {
    "call_texts": [("call_id", NAME, "pk", "fk:calls.call_id"), ("text", sa.Text, "req")],
    "decisions": [
        ("finding_id", ID, "pk"), ("call_id", NAME, "req", "ix"), ("check", sa.String(64), "req"),
        ("rule", sa.String(128), "req"), ("decision", sa.String(16), "req"), ("note", sa.Text),
        ("reviewer", NAME, "req"), ("decided_at", sa.DateTime, "req"),
    ],
}


def _column(name: str, kind, *flags: str) -> sa.Column:
    keys = [sa.ForeignKey(flag[3:], ondelete="CASCADE") for flag in flags if flag.startswith("fk:")]
    return sa.Column(name, kind, *keys, primary_key="pk" in flags, nullable="req" not in flags and "pk" not in flags,
                     index="ix" in flags)


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for column in CALL_COLUMNS + [sa.Column(name, sa.Integer) for name in SEVERITIES]:
            batch.add_column(column)
    for severity in SEVERITIES:  # the calls a book already holds
        op.execute(f"UPDATE calls SET {severity} = (SELECT count(*) FROM findings WHERE findings.call_id = calls.call_id "
                   f"AND findings.severity = '{severity}')")
    for table, columns in TABLES.items():
        op.create_table(table, *[_column(*spec) for spec in columns])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table("calls") as batch:
        for name in [*reversed(SEVERITIES), *(column.name for column in reversed(CALL_COLUMNS))]:
            batch.drop_column(name)
