"""`findings.jsonl`: one finding a line, with its call, for a data warehouse."""

from __future__ import annotations

import json
from pathlib import Path

from etiquette.files import AtomicFile
from etiquette.outcome import BatchTotals, CallOutcome
from etiquette.report import finding_to_dict
from etiquette.writers import Writer, WriterOptions, register


@register
class JsonlWriter(Writer):
    """findings.jsonl: one finding a line."""

    name = "jsonl"
    filename = "findings.jsonl"

    def __init__(self, options: WriterOptions):
        super().__init__(options)
        self.file = AtomicFile(self.path)

    def add(self, outcome: CallOutcome) -> None:
        report = outcome.report
        if not outcome.checked or report is None:
            return
        for finding in report.findings:
            record = {
                "call_id": report.call_id,
                "language": report.transcript.language,
                "jurisdiction": report.jurisdiction,
                "verdict": report.verdict.value,
                **finding_to_dict(finding),
            }
            self.file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def finish(self, totals: BatchTotals) -> Path:
        self.file.commit()
        return self.path

    def close(self) -> None:
        self.file.discard()
