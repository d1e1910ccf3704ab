"""`summary.csv`: one row per input, in the order the inputs were given.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab
or a carriage return) are prefixed with a quote, as OWASP advises: a call id
or a file name can come from anywhere.
"""

from __future__ import annotations

import csv
import heapq
import io
from pathlib import Path

from etiquette.files import Spool, atomic_write_text
from etiquette.outcome import BatchTotals, CallOutcome, Status
from etiquette.registry import REGISTRY
from etiquette.writers import Writer, WriterOptions, register
from etiquette.writers.report_json import SUFFIX

NAME = "summary.csv"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_line(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()


@register
class SummaryCsvWriter(Writer):
    """summary.csv: one row per input, always written."""

    name = ""
    filename = NAME
    always = True

    def __init__(self, options: WriterOptions):
        super().__init__(options)
        self.checks = list(REGISTRY.names())
        self.columns = ["input", "call_id", "status", "verdict", "language", "duration", "findings",
                        *self.checks, "report", "error"]
        self.rows = Spool(options.out_dir)
        self.kept: list[tuple[int, str]] = []  # rows the spool could not take (a full disk): every input keeps its row

    def add(self, outcome: CallOutcome) -> None:
        report = outcome.report if outcome.checked else None
        counts = report.counts() if report else {}
        has_report = report is not None or outcome.status is Status.PAIRED
        note = outcome.error or outcome.note or (report.verdict_reason if report else "")
        cells: list[object] = [
            outcome.input,
            outcome.call_id or "",
            outcome.status.value,
            report.verdict.value if report else "",
            report.transcript.language if report else "",
            f"{report.transcript.duration:.1f}" if report else "",
            len(report.findings) if report else "",
            *[(counts.get(check, 0) if report else "") for check in self.checks],
            f"{outcome.call_id}{SUFFIX}" if has_report else "",
            note,
        ]
        line = csv_line(cells)
        try:
            self.rows.add(outcome.order, line)
        except OSError:
            self.kept.append((outcome.order, line))

    def finish(self, totals: BatchTotals) -> Path:
        rows = heapq.merge(self.rows.pairs(), sorted(self.kept), key=lambda row: row[0])  # type: ignore[arg-type]
        text = csv_line(self.columns) + "".join(line for _, line in rows)
        atomic_write_text(self.path, text)
        return self.path

    def close(self) -> None:
        self.rows.close()
