"""The results database: every checked call's rows (the call with its metadata and verdict, its findings,
its attempt), written as the call finishes, one transaction a call. Fed the same outcomes as the other
writers, so with --redact it stores the masked report. The pipeline opens the database (it also reads the
call history from it) and hands it over in the writer options."""

from __future__ import annotations

from pathlib import Path

from etiquette.db import DatabaseError
from etiquette.outcome import BatchTotals, CallOutcome, Status
from etiquette.types import Verdict
from etiquette.writers import Writer, WriterOptions, register


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

    @property
    def path(self) -> Path:
        return (self.book.file if self.book is not None else None) or self.options.out_dir / self.filename

    def add(self, outcome: CallOutcome) -> None:
        if self.book is None or not outcome.checked or outcome.call_id is None:
            return
        try:
            self.book.record_call(outcome)
        except DatabaseError as error:
            raise DatabaseWriteError(str(error)) from None

    def finish(self, totals: BatchTotals) -> Path | None:
        if self.book is None or self.book.run_id is None:
            return None
        interrupted = bool(totals.statuses[Status.INTERRUPTED])
        try:
            self.book.finish_run(totals.calls, totals.verdicts[Verdict.FAIL], interrupted)
        except DatabaseError as error:
            raise DatabaseWriteError(str(error)) from None
        return self.book.file
