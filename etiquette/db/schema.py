"""The results database's tables (SQLAlchemy Core). Migrations in `migrations/versions/` build them; a change
here needs a new migration there (tests/test_book_db.py compares the two).

Times are stored in UTC without a zone (the same on SQLite and PostgreSQL); `local_start` keeps the start as
the call log gave it, with its offset, and `day` its local date.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(16), nullable=False),  # running, finished, interrupted (a killed run stays running)
    Column("etiquette_version", String(32)),
    Column("settings", String(32)),  # fingerprint of the rules and options
    Column("out_dir", Text),
    Column("manifest", Text),
    Column("calls", Integer),
    Column("failed", Integer),
    Column("redacted", Boolean, nullable=False, default=False),
)

calls = Table(
    "calls", metadata,
    Column("call_id", String(255), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.run_id"), nullable=False, index=True),
    Column("checked_at", DateTime, nullable=False),
    Column("input", Text),
    Column("source", Text),
    Column("audio", Text),
    Column("input_sha256", String(64)),
    Column("report_sha256", String(64)),
    Column("settings", String(32)),
    Column("language", String(35)),
    Column("jurisdiction", Text),
    Column("duration", Float),
    Column("verdict", String(16), nullable=False),
    Column("verdict_reason", Text),
    Column("fail_on", String(8)),
    Column("findings", Integer, nullable=False),
    Column("high", Integer),  # findings per severity (the review app sorts the calls worst first by them)
    Column("medium", Integer),
    Column("low", Integer),
    Column("agent", String(255), index=True),
    Column("team", String(255), index=True),
    Column("account", String(255)),
    Column("account_key", String(64), index=True),
    Column("direction", String(16)),
    Column("started_at", DateTime, index=True),
    Column("local_start", String(40)),
    Column("day", String(10), index=True),  # local date of the start, else of the check (UTC)
    Column("phone", String(64)),
    Column("timezone", String(64)),
    Column("region", String(16)),
    Column("outcome", String(64)),
    Column("redacted", Boolean, nullable=False, default=False),
    Column("recording", Text),  # the recording's absolute path, when the call has one (what `review` may serve)
    Column("transcript_file", Text),  # the absolute path of a transcript file holding the call's words
)

call_texts = Table(  # a call's words as one folded text, for search (kept apart: listing calls never reads it)
    "call_texts", metadata,
    Column("call_id", String(255), ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("finding_id", String(32), primary_key=True),  # stable: the same finding keeps its id on a re-run
    Column("call_id", String(255), ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # its place in the report's findings
    Column("check", String(64), nullable=False, index=True),
    Column("rule", String(128), nullable=False, index=True),
    Column("severity", String(8), nullable=False),
    Column("speaker", String(255)),
    Column("start", Float),
    Column("end", Float),
    Column("evidence", Text),
    Column("reference", Text),
    Column("message", Text),
    Column("explanation", Text),
)

attempts = Table(
    "attempts", metadata,
    Column("attempt_id", String(32), primary_key=True),  # the call id's digest, else account, time and number's
    Column("account_key", String(64), nullable=False),
    Column("account", String(255)),
    Column("started_at", DateTime, nullable=False),
    Column("local_start", String(40)),
    Column("call_id", String(255)),
    Column("agent", String(255)),
    Column("team", String(255)),
    Column("direction", String(16)),
    Column("outcome", String(64)),
    Column("phone", String(64)),
    Column("timezone", String(64)),
    Column("region", String(16)),
    Column("origin", Text),  # the manifest's file and line, or the transcript
    Column("recorded", Boolean, nullable=False, default=False),
    Column("run_id", String(32)),
    Index("ix_attempts_account_time", "account_key", "started_at"),
)

decisions = Table(  # a reviewer's decision on a finding, by its stable id: kept when a re-run replaces the findings
    "decisions", metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("call_id", String(255), nullable=False, index=True),
    Column("check", String(64), nullable=False),  # the finding's check and rule when it was decided
    Column("rule", String(128), nullable=False),
    Column("decision", String(16), nullable=False),  # confirmed, false_positive, needs_coaching
    Column("note", Text),
    Column("reviewer", String(255), nullable=False),
    Column("decided_at", DateTime, nullable=False),  # UTC
)
