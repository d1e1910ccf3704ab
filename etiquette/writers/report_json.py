"""`<call_id>.report.json`: one per checked call (the contract's report), written as each call finishes."""

from __future__ import annotations

from pathlib import Path

from etiquette.files import atomic_write_text
from etiquette.outcome import CallOutcome, Status
from etiquette.report import render_report
from etiquette.writers import Writer, register

SUFFIX = ".report.json"


def report_path(out_dir: Path, call_id: str) -> Path:
    return out_dir / f"{call_id}{SUFFIX}"


@register
class ReportWriter(Writer):
    """<call_id>.report.json: one report per checked call, always written."""

    name = ""
    filename = f"<call_id>{SUFFIX}"
    always = True
    per_call = True

    def add(self, outcome: CallOutcome) -> None:
        # An unchanged call's report already says exactly this: leave the file alone.
        if outcome.status is Status.OK and outcome.report is not None:
            atomic_write_text(report_path(self.options.out_dir, outcome.report.call_id), render_report(outcome.report))
