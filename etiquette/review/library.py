"""The review app's side of the results database: opening it (and saying so when it cannot be), a call as its
page shows it, and decisions written back.

The database is opened once with `Book.open` (which migrates a database of an older etiquette, as a run does).
One that cannot be used (not a database, made by a newer etiquette, a server that is down) does not stop the
app: every page says what is wrong, and each request tries again, so fixing it needs no restart. Reads go
through an engine that never takes SQLite's write lock, so a run writing the same database is not held up.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from etiquette.db import Book, DatabaseError, schema
from etiquette.db.decisions import DecisionRecord, decisions_of
from etiquette.db.engine import HEAD, current_revision, make_engine, shown_url
from etiquette.errors import EtiquetteError
from etiquette.metadata import MetadataError, metadata_from
from etiquette.printable import shown
from etiquette.report import CallReport, FailOn
from etiquette.types import NO_METRICS, CheckResult, Finding, Metrics, Severity, Transcript


class Library:
    """The results database the app reviews: `problem` says why it cannot be used right now, else None."""

    def __init__(self, where: str):
        self.where = where
        self.book: Book | None = None
        self.reader: Engine | None = None
        self.problem: str | None = None
        self._lock = threading.Lock()
        self._open()

    @property
    def shown(self) -> str:
        return self.book.shown if self.book else shown_url(self.where)

    def _open(self) -> None:
        try:
            book = Book.open(self.where)
        except DatabaseError as error:
            self.problem = str(error)
            return
        self.book, self.reader, self.problem = book, make_engine(book.url, writer=False), None

    def check(self) -> str | None:
        """Why the database cannot be reviewed now (None when it can): tried again on every request."""
        with self._lock:
            if self.book is None:
                self._open()
                return self.problem
            try:
                revision = current_revision(self.reader)
            except SQLAlchemyError as error:
                return f"cannot read the results database {self.shown}: {str(getattr(error, 'orig', error)).splitlines()[0]}"
            if revision != HEAD:
                return (f"{self.shown} is at schema revision {revision or 'none'}, and this etiquette reads revision "
                        f"{HEAD}: it was changed by another etiquette since this review started; restart the review")
            return None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        assert self.reader is not None
        with self.reader.connect() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        assert self.book is not None
        with self.book.engine.begin() as connection:
            yield connection

    def close(self) -> None:
        for engine in (self.reader, self.book.engine if self.book else None):
            if engine is not None:
                engine.dispose()


@dataclass(frozen=True)
class CallPage:
    """A call as the review page shows it: its row, a report rebuilt from the book, its findings' ids and decisions."""

    call: Row
    report: CallReport
    finding_ids: list[str]
    decisions: dict[str, DecisionRecord]
    transcript_problem: str | None  # why the words cannot be shown

    @property
    def decided(self) -> int:
        return sum(1 for finding_id in self.finding_ids if finding_id in self.decisions)


def call_page(connection: Connection, call_id: str) -> CallPage | None:
    """The call's page from the book (None when the book has no such call); its words from its transcript file."""
    call = connection.execute(select(schema.calls).where(schema.calls.c.call_id == call_id)).first()
    if call is None:
        return None
    rows = list(connection.execute(select(schema.findings).where(schema.findings.c.call_id == call_id)
                                   .order_by(schema.findings.c.position)))
    findings = tuple(Finding(row.check, row.rule, Severity(row.severity), row.speaker or "", row.start or 0.0,
                             row.end or 0.0, row.evidence or "", row.reference or "", row.message or "",
                             row.explanation or "") for row in rows)
    transcript, metrics, problem = _transcript(call)
    result = CheckResult(findings, metrics, notes=tuple(_reasons(call.verdict_reason)))
    report = CallReport(transcript, result, source=call.source or "", fail_on=FailOn(Severity(call.fail_on or "medium")),
                        jurisdiction=call.jurisdiction, metadata=_metadata(call), redacted=bool(call.redacted))
    return CallPage(call, report, [row.finding_id for row in rows], decisions_of(connection, call_id), problem)


def _transcript(call: Row) -> tuple[Transcript, Metrics, str | None]:
    """The words of the call from the transcript file the book names (masked when the call was checked with
    --redact) and the agent's speaking rate over them, or no words and why."""
    empty = Transcript(call.call_id, call.language or "und", call.duration or 0.0, {}, ())
    if not call.transcript_file:
        return empty, NO_METRICS, ("The results database does not say where this call's transcript is (checked by an "
                                   "older etiquette?).")
    try:
        status = Path(call.transcript_file).stat()
        transcript, metrics = _words(call.transcript_file, status.st_size, status.st_mtime_ns, status.st_ctime_ns,
                                     bool(call.redacted))
    except (EtiquetteError, OSError) as error:
        reason = getattr(error, "strerror", None) if isinstance(error, OSError) else None
        return empty, NO_METRICS, f"The transcript {shown(call.transcript_file)} cannot be read: {reason or error}"
    return transcript, metrics, None


@lru_cache(maxsize=8)
def _words(path: str, size: int, modified: int, changed: int, redacted: bool) -> tuple[Transcript, Metrics]:
    """A transcript file read, masked and measured, kept for as long as the file is unchanged (its size and times are
    part of the key): a decision reloads its call's page, and a two-hour call's 16,000 words take a second to read
    and measure again. A file that cannot be read raises, and is not kept."""
    from etiquette.redact import is_redacted, redact_transcript
    from etiquette.transcripts import read_transcript

    transcript = read_transcript(Path(path))
    if redacted and not is_redacted(transcript):
        transcript = redact_transcript(transcript)
    return transcript, _rate_metrics(transcript)


def _rate_metrics(transcript: Transcript) -> Metrics:
    """The agent's speaking rate over the call, as the rate check measures it (for the chart): nothing else is
    checked again; the findings are the book's."""
    from etiquette.checks import run_checks
    from etiquette.registry import REGISTRY
    from etiquette.rulebook import load_rules

    rules = load_rules(transcript.language) if transcript.words and transcript.has_attribution else None
    if rules is None or "speaking_rate" not in REGISTRY:
        return NO_METRICS
    return run_checks(transcript, rules, checks=[REGISTRY.get("speaking_rate")]).metrics


def _reasons(verdict_reason: str | None) -> list[str]:
    """The checks that did not run, as the book says ("check: why; check: why")."""
    return [f"Not checked: {part}" for part in (verdict_reason or "").split("; ") if part]


def _metadata(call: Row):
    try:
        return metadata_from({"call_id": call.call_id, "agent": call.agent, "team": call.team,
                              "started_at": call.local_start}, "results database")
    except MetadataError:
        return None
