"""The book of calls: what a run writes into the results database, and the history it reads back.

Each call's rows (the call, its findings, its attempt) are written in one transaction (a few calls share
one): a run killed at any moment leaves every call either as it was or as it is now, and running the same
command again completes the book. A re-run replaces a call's rows (the call id is the key), never adds a second copy. A finding's id is a
digest of the call, check, rule, speaker and start (to the second), so the same finding keeps its id.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Sequence

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from etiquette import __version__
from etiquette.db import schema
from etiquette.db.engine import DatabaseError, database_url, make_engine, shown_url, upgrade
from etiquette.matching import fold
from etiquette.metadata import Attempt, CallMetadata
from etiquette.outcome import CallOutcome
from etiquette.report import CallReport, render_report
from etiquette.types import Finding, Verdict, Word

CHUNK = 500  # accounts per history query, rows per insert


def utc(moment: datetime) -> datetime:
    """A time as stored: UTC, without a zone."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def now() -> datetime:
    return utc(datetime.now(timezone.utc))


def finding_id(call_id: str, finding: Finding, occurrence: int = 0) -> str:
    """Stable across re-runs: the same call, check, rule, speaker and start second give the same id
    (`occurrence` tells apart two such findings of one call)."""
    key = "\0".join((call_id, finding.check, finding.rule, finding.speaker, str(round(finding.start)), str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def local_day(metadata: CallMetadata | None) -> str | None:
    """The call's date where the consumer is (its time zone, else the offset it was logged with)."""
    if metadata is None or metadata.started_at is None:
        return None
    moment = metadata.started_at
    if metadata.timezone:
        from zoneinfo import ZoneInfo

        moment = moment.astimezone(ZoneInfo(metadata.timezone))
    return moment.date().isoformat()


def _metadata_columns(metadata: CallMetadata | None) -> dict:
    if metadata is None:
        return {}
    return {
        "agent": metadata.agent, "team": metadata.team, "account": metadata.account,
        "account_key": metadata.account_key, "direction": metadata.direction,
        "started_at": utc(metadata.started_at) if metadata.started_at else None,
        "local_start": metadata.started_at.isoformat() if metadata.started_at else None,
        "phone": metadata.phone, "timezone": metadata.timezone, "region": metadata.region, "outcome": metadata.outcome,
    }


def attempt_row(metadata: CallMetadata, run_id: str, recorded: bool) -> dict | None:
    if metadata.account_key is None or metadata.started_at is None:
        return None
    columns = _metadata_columns(metadata)
    columns.pop("account_key")
    return {**columns, "attempt_id": metadata.key, "account_key": metadata.account_key, "call_id": metadata.call_id,
            "origin": metadata.origin, "recorded": recorded, "run_id": run_id}


def upsert(connection: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert rows, replacing any with the same primary key (one statement on SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect in ("sqlite", "postgresql"):
        connection.execute(_upsert_statement(dialect, table, tuple(sorted(set().union(*rows)))), list(rows))
        return
    key = [column.name for column in table.primary_key.columns]
    for row in rows:  # any other database: delete and insert, in the caller's transaction
        connection.execute(delete(table).where(*[table.c[name] == row[name] for name in key]))
    connection.execute(insert(table), list(rows))


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, names: tuple[str, ...]):
    """INSERT ... ON CONFLICT (key) DO UPDATE, built once per table and set of columns."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    key = [column.name for column in table.primary_key.columns]
    statement = dialect_insert(table)
    return statement.on_conflict_do_update(
        index_elements=key, set_={name: statement.excluded[name] for name in names if name not in key})


@dataclass
class Book:
    url: str
    engine: Engine
    run_id: str | None = None

    @classmethod
    def open(cls, where: str) -> "Book":
        """The database at a URL or file path, migrated to this version's schema."""
        url = database_url(where)
        engine = make_engine(url)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(url, engine)

    @property
    def shown(self) -> str:
        return shown_url(self.url)

    @property
    def file(self):
        """The SQLite file, or None for a database server."""
        from pathlib import Path

        database = self.engine.url.database
        return Path(database) if self.engine.url.get_backend_name() == "sqlite" and database else None

    def close(self) -> None:
        self.engine.dispose()  # on SQLite the last connection checkpoints the WAL and removes it

    def _write(self, work) -> None:
        try:
            with self.engine.begin() as connection:
                work(connection)
        except SQLAlchemyError as error:
            raise DatabaseError(f"results database {self.shown}: {str(getattr(error, 'orig', error)).splitlines()[0]}") from None

    # -- a run

    def start_run(self, settings: str, out_dir: str, manifest: str | None, redacted: bool) -> str:
        self.run_id = uuid.uuid4().hex
        row = {"run_id": self.run_id, "started_at": now(), "status": "running", "etiquette_version": __version__,
               "settings": settings, "out_dir": out_dir, "manifest": manifest, "redacted": redacted}
        self._write(lambda connection: connection.execute(insert(schema.runs), [row]))
        return self.run_id

    def finish_run(self, calls: int, failed: int, interrupted: bool) -> None:
        values = {"finished_at": now(), "status": "interrupted" if interrupted else "finished", "calls": calls,
                  "failed": failed}
        self._write(lambda connection: connection.execute(
            update(schema.runs).where(schema.runs.c.run_id == self.run_id).values(**values)))

    def record_attempts(self, rows: Iterable[CallMetadata], recorded: set[str] = frozenset()) -> int:
        """The manifest's rows, as attempts (one transaction); `recorded` holds the keys of those with a recording."""
        found = [row for metadata in rows if (row := attempt_row(metadata, self.run_id or "", metadata.key in recorded))]

        def work(connection: Connection) -> None:
            for start in range(0, len(found), CHUNK):
                upsert(connection, schema.attempts, found[start:start + CHUNK])

        self._write(work)
        return len(found)

    def record_calls(self, outcomes: Sequence[CallOutcome]) -> None:
        """Checked calls' rows, replacing any earlier ones, in one transaction: each call is there whole or not
        at all. (The writer groups a few calls a transaction: one commit per call would cost more than the rest.)"""
        calls, texts, findings, attempts = [], [], [], []
        for outcome in outcomes:
            report = outcome.report
            assert report is not None and outcome.call_id is not None
            calls.append({**call_row(outcome.call_id, outcome.input, report, self.run_id or "", outcome.report_sha256),
                          "recording": outcome.recording, "transcript_file": outcome.transcript_file})
            texts.append({"call_id": outcome.call_id, "text": searchable(report.transcript.words)})
            findings += finding_rows(outcome.call_id, report.findings)
            if report.metadata is not None and (row := attempt_row(report.metadata, self.run_id or "", True)):
                attempts.append(row)
        ids = [row["call_id"] for row in calls]

        def work(connection: Connection) -> None:
            upsert(connection, schema.calls, calls)  # first: on a server, this locks the calls' rows
            upsert(connection, schema.call_texts, texts)
            for start in range(0, len(ids), CHUNK):
                connection.execute(delete(schema.findings).where(schema.findings.c.call_id.in_(ids[start:start + CHUNK])))
            if findings:
                connection.execute(insert(schema.findings), findings)
            upsert(connection, schema.attempts, attempts)

        if calls:
            self._write(work)

    def record_call(self, outcome: CallOutcome) -> None:
        self.record_calls([outcome])

    # -- reading back

    def history(self, account_keys: Iterable[str], since: datetime, until: datetime) -> list[Attempt]:
        """Every attempt recorded for these accounts between two times."""
        keys = sorted(set(account_keys))
        table = schema.attempts
        found: list[Attempt] = []
        try:
            with self.engine.connect() as connection:
                for start in range(0, len(keys), CHUNK):
                    query = select(table.c.attempt_id, table.c.account_key, table.c.started_at, table.c.direction,
                                   table.c.outcome, table.c.call_id).where(
                        table.c.account_key.in_(keys[start:start + CHUNK]),
                        table.c.started_at >= utc(since), table.c.started_at <= utc(until))
                    for row in connection.execute(query):
                        found.append(Attempt(row.attempt_id, row.account_key, row.started_at.replace(tzinfo=timezone.utc),
                                             row.direction, row.outcome, row.call_id))
        except SQLAlchemyError as error:
            raise DatabaseError(f"results database {self.shown}: {str(getattr(error, 'orig', error)).splitlines()[0]}") from None
        return found


def call_row(call_id: str, input_path: str, report: CallReport, run_id: str, report_sha256: str | None = None) -> dict:
    checked = now()
    metadata = report.metadata
    verdict = report.verdict
    return {
        "call_id": call_id, "run_id": run_id, "checked_at": checked, "input": input_path, "source": report.source,
        "audio": report.audio, "input_sha256": report.input_sha256,
        "report_sha256": report_sha256 or hashlib.sha256(render_report(report).encode("utf-8")).hexdigest(),
        "settings": report.settings, "language": report.transcript.language, "jurisdiction": report.jurisdiction,
        "duration": report.transcript.duration, "verdict": verdict.value,
        "verdict_reason": (report.verdict_reason or None) if verdict is Verdict.INCOMPLETE else None,
        "fail_on": report.fail_on.severity.value,
        "findings": len(report.findings), **report.severities(), "redacted": report.redacted,
        "agent": None, "team": None, "account": None, "account_key": None, "direction": None, "started_at": None,
        "local_start": None, "phone": None, "timezone": None, "region": None, "outcome": None,
        **_metadata_columns(metadata), "day": local_day(metadata) or checked.date().isoformat(),
    }


def searchable(words: Iterable[Word]) -> str:
    """A call's words as the text `review` searches: folded as the rules see them (no case, accents or punctuation)."""
    return " ".join(folded for word in words if (folded := fold(word.text)))


def finding_rows(call_id: str, findings: Sequence[Finding]) -> list[dict]:
    rows = []
    seen: dict[tuple, int] = {}
    for position, finding in enumerate(findings):
        key = (finding.check, finding.rule, finding.speaker, round(finding.start))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        rows.append({
            "finding_id": finding_id(call_id, finding, occurrence), "call_id": call_id, "position": position,
            "check": finding.check, "rule": finding.rule, "severity": finding.severity.value,
            "speaker": finding.speaker, "start": finding.start, "end": finding.end, "evidence": finding.evidence,
            "reference": finding.reference, "message": finding.message, "explanation": finding.explanation,
        })
    return rows


__all__ = ["Book", "DatabaseError", "finding_id", "upsert"]
