"""The book of calls: runs, calls, findings, attempts.

Revision ID: 0001
Revises:

Frozen as this revision made them (later changes are later revisions), written as one line a column:
(name, type, flags) with flags pk (primary key), req (not null), ix (indexed) and fk:table.column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID, KEY, NAME, SHORT, TEXT = sa.String(32), sa.String(64), sa.String(255), sa.String(16), sa.Text
TABLES: dict[str, list[tuple]] = {
    "runs": [
        ("run_id", ID, "pk"), ("started_at", sa.DateTime, "req"), ("finished_at", sa.DateTime),
        ("status", SHORT, "req"), ("etiquette_version", ID), ("settings", ID), ("out_dir", TEXT), ("manifest", TEXT),
        ("calls", sa.Integer), ("failed", sa.Integer), ("redacted", sa.Boolean, "req"),
    ],
    "calls": [
        ("call_id", NAME, "pk"), ("run_id", ID, "req", "ix", "fk:runs.run_id"), ("checked_at", sa.DateTime, "req"),
        ("input", TEXT), ("source", TEXT), ("audio", TEXT), ("input_sha256", KEY), ("report_sha256", KEY),
        ("settings", ID), ("language", sa.String(35)), ("jurisdiction", TEXT), ("duration", sa.Float),
        ("verdict", SHORT, "req"), ("verdict_reason", TEXT), ("fail_on", sa.String(8)), ("findings", sa.Integer, "req"),
        ("agent", NAME, "ix"), ("team", NAME, "ix"), ("account", NAME), ("account_key", KEY, "ix"),
        ("direction", SHORT), ("started_at", sa.DateTime, "ix"), ("local_start", sa.String(40)),
        ("day", sa.String(10), "ix"), ("phone", KEY), ("timezone", KEY), ("region", SHORT), ("outcome", KEY),
        ("redacted", sa.Boolean, "req"),
    ],
    "findings": [
        ("finding_id", ID, "pk"), ("call_id", NAME, "req", "ix", "fk:calls.call_id"), ("position", sa.Integer, "req"),
        ("check", KEY, "req", "ix"), ("rule", sa.String(128), "req", "ix"), ("severity", sa.String(8), "req"),
        ("speaker", NAME), ("start", sa.Float), ("end", sa.Float), ("evidence", TEXT), ("reference", TEXT),
        ("message", TEXT), ("explanation", TEXT),
    ],
    "attempts": [
        ("attempt_id", ID, "pk"), ("account_key", KEY, "req"), ("account", NAME), ("started_at", sa.DateTime, "req"),
        ("local_start", sa.String(40)), ("call_id", NAME), ("agent", NAME), ("team", NAME), ("direction", SHORT),
        ("outcome", KEY), ("phone", KEY), ("timezone", KEY), ("region", SHORT), ("origin", TEXT),
        ("recorded", sa.Boolean, "req"), ("run_id", ID),
    ],
}


def _column(name: str, kind, *flags: str) -> sa.Column:
    keys = [sa.ForeignKey(flag[3:], ondelete="CASCADE" if flag == "fk:calls.call_id" else None)
            for flag in flags if flag.startswith("fk:")]
    return sa.Column(name, kind, *keys, primary_key="pk" in flags, nullable="req" not in flags and "pk" not in flags,
                     index="ix" in flags)


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.create_table(table, *[_column(*spec) for spec in columns])
    op.create_index("ix_attempts_account_time", "attempts", ["account_key", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_account_time", table_name="attempts")
    for table in reversed(TABLES):
        op.drop_table(table)
