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
    input_sha256: str | None = None  # content of `source`, so a later run can skip an unchanged call
    settings: str | None = None  # fingerprint of the rules and options that produced it

    @property
    def call_id(self) -> str:
        return self.transcript.call_id

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.result.findings if f.severity >= self.fail_on)

    @property
    def verdict(self) -> str:
        return "fail" if self.failing else "pass"

    def summary(self) -> "ReportSummary":
        counts = {check: sum(1 for f in self.result.findings if f.check == check) for check in CHECKS}
        return ReportSummary(self.verdict, self.transcript.language, self.transcript.duration, len(self.result.findings), counts)


@dataclass(frozen=True)
class ReportSummary:
    """What the summary and the terminal table show of a report (fresh or from an earlier run)."""

    verdict: str
    language: str
    duration: float
    findings: int
    per_check: dict[str, int]

    def count(self, check: str) -> int:
        return self.per_check.get(check, 0)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ReportSummary":
        findings = data.get("findings", [])
        counts = {check: sum(1 for f in findings if f.get("check") == check) for check in CHECKS}
        return cls(data["verdict"], data["language"], float(data["duration"]), len(findings), counts)


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
    if report.input_sha256:
        data["input_sha256"] = report.input_sha256
    if report.settings:
        data["settings"] = report.settings
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


def write_report(report: CallReport, out_dir: Path, redact: bool = False) -> Path:
    """Write `<call_id>.report.json` atomically; with `redact`, personal data in the evidence is masked."""
    data = report_to_dict(report)
    if redact:
        from etiquette.redact import redact_report_dict

        data = redact_report_dict(data)
    path = out_dir / f"{report.call_id}.report.json"
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class SummaryRow:
    """One input of the run and what became of it.

    status: "ok" (checked now), "unchanged" (its report from an earlier run is
    still valid), "paired" (an audio file checked through its transcript),
    "error" (the one-line reason is in `error`) or "interrupted".
    """

    input: str
    call_id: str | None
    status: str = "ok"
    summary: ReportSummary | None = None
    error: str | None = None
    note: str | None = None


SUMMARY_COLUMNS = ["input", "call_id", "status", "verdict", "language", "duration", "findings",
                   *CHECKS, "report", "error"]


def write_summary(rows: Iterable[SummaryRow], out_dir: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        summary = row.summary
        writer.writerow(
            [
                row.input,
                row.call_id or "",
                row.status,
                summary.verdict if summary else "",
                summary.language if summary else "",
                f"{summary.duration:.1f}" if summary else "",
                summary.findings if summary else "",
                *[(summary.count(check) if summary else "") for check in CHECKS],
                f"{row.call_id}.report.json" if summary or row.status == "paired" else "",
                row.error or row.note or "",
            ]
        )
    path = out_dir / "summary.csv"
    atomic_write_text(path, buffer.getvalue())
    return path
