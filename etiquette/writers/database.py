"""The results database: every checked call's rows (the call with its metadata and verdict, its findings,
its attempt), written as calls finish. Fed the same outcomes as the other writers, so with --redact it
stores the masked report. The pipeline opens the database (it also reads the call history from it) and
hands it over in the writer options.

Calls are committed together, at most FLUSH_CALLS at a time and at least every FLUSH_SECONDS: a commit per
call would cost more than everything else a call needs (10,000 calls took a minute). A transaction only ever
holds whole calls, so a killed run leaves each call whole or absent, and loses at most the last second's
calls, which the same command writes again."""

from __future__ import annotations

import time
from pathlib import Path

from etiquette.db import DatabaseError
from etiquette.outcome import BatchTotals, CallOutcome, Status
from etiquette.types import Verdict
from etiquette.writers import Writer, WriterOptions, register


FLUSH_CALLS = 200
FLUSH_SECONDS = 1.0


class DatabaseWriteError(OSError):
    """A call's rows could not be written: the call is reported as an output failure (exit status 3)."""


@register
class DatabaseWriter(Writer):
    name = ""
    filename = "results.db"
    always = True

    def __init__(self, options: WriterOptions):
        super().__init__(options)
        self.book = options.book
        self.pending: list[CallOutcome] = []
        self.since = 0.0  # when the oldest pending call came

    @property
    def path(self) -> Path:
        return (self.book.file if self.book is not None else None) or self.options.out_dir / self.filename

    def add(self, outcome: CallOutcome) -> None:
        if self.book is None or not outcome.checked or outcome.call_id is None:
            return
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(outcome)
        if len(self.pending) >= FLUSH_CALLS or time.monotonic() - self.since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        try:
            self.book.record_calls(pending)  # type: ignore[union-attr]
        except DatabaseError as error:
            raise DatabaseWriteError(str(error)) from None

    def finish(self, totals: BatchTotals) -> Path | None:
        if self.book is None or self.book.run_id is None:
            return None
        interrupted = bool(totals.statuses[Status.INTERRUPTED])
        self.flush()
        try:
            self.book.finish_run(totals.calls, totals.verdicts[Verdict.FAIL], interrupted)
        except DatabaseError as error:
            raise DatabaseWriteError(str(error)) from None
        return self.book.file
