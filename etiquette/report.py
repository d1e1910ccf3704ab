"""Report writers: one JSON report per call, one summary.csv per run."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from etiquette.files import atomic_write_text
from etiquette.rulebook import CHECKS
from etiquette.types import CheckResult, Finding, Severity, Transcript

SCHEMA = "etiquette.report/1"


@dataclass(frozen=True)
class CallReport:
    transcript: Transcript
    result: CheckResult
    source: str  # the input the words came from
    fail_on: Severity
    jurisdiction: str | None = None
    audio: str | None = None  # a paired audio file that was not transcribed
    transcript_path: str | None = None  # where this run saved the transcript

    @property
    def call_id(self) -> str:
        return self.transcript.call_id

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.result.findings if f.severity >= self.fail_on)

    @property
    def verdict(self) -> str:
        return "fail" if self.failing else "pass"

    def count(self, check: str) -> int:
        return sum(1 for finding in self.result.findings if finding.check == check)


def report_to_dict(report: CallReport) -> dict[str, Any]:
    transcript = report.transcript
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "call_id": transcript.call_id,
        "source": report.source,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "verdict": report.verdict,
        "fail_on": report.fail_on.value,
        "metrics": report.result.metrics,
        "findings": [finding_to_dict(finding) for finding in report.result.findings],
        "skipped_checks": [{"check": s.check, "reason": s.reason} for s in report.result.skipped],
        "notes": list(report.result.notes),
        "speaker_attribution": transcript.has_attribution,
    }
    if report.jurisdiction:
        data["jurisdiction"] = report.jurisdiction
    if report.audio:
        data["audio"] = report.audio
    if report.transcript_path:
        data["transcript"] = report.transcript_path
    return data


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "speaker": finding.speaker,
        "start": round(finding.start, 2),
        "end": round(finding.end, 2),
        "evidence": finding.evidence,
        "reference": finding.reference,
        "message": finding.message,
        "explanation": finding.explanation,
    }


def write_report(report: CallReport, out_dir: Path) -> Path:
    path = out_dir / f"{report.call_id}.report.json"
    atomic_write_text(path, json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class SummaryRow:
    """One input of the run: either a report or the one-line reason it failed."""

    input: str
    call_id: str | None
    report: CallReport | None = None
    error: str | None = None
    note: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.report else "error"


SUMMARY_COLUMNS = ["input", "call_id", "status", "verdict", "language", "duration", "findings",
                   *CHECKS, "report", "error"]


def write_summary(rows: Iterable[SummaryRow], out_dir: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        report = row.report
        writer.writerow(
            [
                row.input,
                row.call_id or "",
                row.status,
                report.verdict if report else "",
                report.transcript.language if report else "",
                f"{report.transcript.duration:.1f}" if report else "",
                len(report.result.findings) if report else "",
                *[(report.count(check) if report else "") for check in CHECKS],
                f"{row.call_id}.report.json" if report else "",
                row.error or row.note or "",
            ]
        )
    path = out_dir / "summary.csv"
    atomic_write_text(path, buffer.getvalue())
    return path
