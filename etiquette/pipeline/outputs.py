"""Handing each finished call to the writers, and what happens when the disk says no.

A full disk or a read-only output folder must not end the batch. A call whose
own report cannot be written fails with one line (`cannot write its report: No
space left on device: out/x.report.json`) and its summary row says so; an
export that cannot be written (findings.jsonl, summary.md, report.html) is
dropped with one line at the end, its temporary files removed to free the
space for the rest; `summary.csv` keeps its rows in memory when its spool
cannot be written, and is the first file written at the end.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from etiquette.files import describe_os_error
from etiquette.outcome import BatchTotals, CallOutcome, ExitStatus, Status
from etiquette.writers import Writer


class Outputs:
    def __init__(self, writers: list[Writer], status: ExitStatus):
        # A call's own files first: when they cannot be written, the others hear that the call failed.
        self.writers = sorted(writers, key=lambda writer: not writer.per_call)
        self.status = status
        self.errors: list[str] = []  # one line per output that could not be written
        self._failed: set[int] = set()

    def add(self, outcome: CallOutcome) -> CallOutcome:
        """Give the call to every writer; the outcome as written (an error if its report was not)."""
        for writer in self.writers:
            if id(writer) in self._failed:
                continue
            try:
                writer.add(outcome)
            except OSError as error:
                self.status.output_failed = True
                if writer.per_call:
                    outcome = replace(outcome, status=Status.ERROR, report=None, note=None,
                                      error=f"cannot write its report ({describe_os_error(error)})")
                else:
                    self._drop(writer, error)
        return outcome

    def finish(self, totals: BatchTotals) -> list:
        """Write what the writers keep for the end; the files written."""
        written = []
        for writer in self.writers:
            if id(writer) in self._failed:
                continue
            try:
                path = writer.finish(totals)
                if path is not None:
                    written.append(path)
            except OSError as error:
                self.status.output_failed = True
                self.errors.append(describe_os_error(error, writer.path))
            finally:
                with contextlib.suppress(OSError):
                    writer.close()
        return written

    def close(self) -> None:
        for writer in self.writers:
            with contextlib.suppress(OSError):
                writer.close()

    def _drop(self, writer: Writer, error: OSError) -> None:
        self._failed.add(id(writer))
        self.errors.append(describe_os_error(error, writer.path))
        with contextlib.suppress(OSError):
            writer.close()  # its temporaries go: room for the reports and summary.csv
