"""A call's report (typed) and its JSON form, `<call_id>.report.json`.

The report is what every writer receives: the summary CSV, the exports, the
HTML page and the database all read this object, never the JSON file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from etiquette.registry import REGISTRY
from etiquette.types import CheckResult, Finding, Severity, Transcript, Verdict

if TYPE_CHECKING:
    from etiquette.metadata import CallMetadata

SCHEMA = "etiquette.report/1"


@dataclass(frozen=True)
class FailOn:
    """What fails a call: findings at or above `severity`; with `incomplete`, unchecked calls too (exit status)."""

    severity: Severity = Severity.MEDIUM
    incomplete: bool = False

    @classmethod
    def parse(cls, values: list[str] | str | None) -> "FailOn":
        """`--fail-on high`, `--fail-on medium,incomplete`: a severity and/or `incomplete`."""
        severity, incomplete = None, False
        items = [values] if isinstance(values, str) else (values or [])
        for item in (part.strip().lower() for value in items for part in value.split(",")):
            if item == "incomplete":
                incomplete = True
            elif item in {s.value for s in Severity} and severity is None:
                severity = Severity(item)
            elif item:
                raise ValueError(f"{item!r} is not low, medium, high or incomplete (one severity, and/or incomplete)")
        return cls(severity or Severity.MEDIUM, incomplete)


@dataclass(frozen=True)
class CallReport:
    transcript: Transcript
    result: CheckResult
    source: str  # the input the words came from
    fail_on: FailOn = field(default_factory=FailOn)
    jurisdiction: str | None = None
    audio: str | None = None  # a paired audio file that was not transcribed
    transcript_path: str | None = None  # where this run saved the transcript
    input_sha256: str | None = None  # content of `source`
    settings: str | None = None  # fingerprint of the rules and options that produced it
    redacted: bool = False
    metadata: "CallMetadata | None" = None  # the call log's row for it (agent, team, account, start...), when given

    @property
    def call_id(self) -> str:
        return self.transcript.call_id

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.result.findings

    @property
    def verdict(self) -> Verdict:
        return self.result.verdict(self.fail_on.severity)

    @property
    def verdict_reason(self) -> str:
        """Why a call is `incomplete`: the checks that did not (fully) run."""
        if self.verdict is not Verdict.INCOMPLETE:
            return ""
        return "; ".join(f"{skipped.check}: {skipped.reason}" for skipped in self.result.skipped)

    def counts(self) -> dict[str, int]:
        """Findings per check, every registered check present (and any other check a finding names)."""
        counts = {name: 0 for name in REGISTRY.names()}
        for finding in self.result.findings:
            counts[finding.check] = counts.get(finding.check, 0) + 1
        return counts

    def severities(self) -> dict[str, int]:
        counts = {severity.value: 0 for severity in Severity}
        for finding in self.result.findings:
            counts[finding.severity.value] += 1
        return counts

    def without_transcript_words(self) -> "CallReport":
        """The report with an empty word list: for what outlives the writers (summaries)."""
        return replace(self, transcript=replace(self.transcript, words=(), loudness={}))


def report_to_dict(report: CallReport) -> dict[str, Any]:
    transcript = report.transcript
    result = report.result
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "call_id": transcript.call_id,
        "source": report.source,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "verdict": report.verdict.value,
        "fail_on": report.fail_on.severity.value,
        "metrics": {speaker: dict(values) for speaker, values in result.metrics.speakers.items()},
        "call_metrics": dict(result.metrics.call),
        "findings": [finding_to_dict(finding) for finding in result.findings],
        "skipped_checks": [{"check": s.check, "reason": s.reason} for s in result.skipped],
        "notes": list(result.notes),
        "speaker_attribution": transcript.has_attribution,
    }
    if report.verdict_reason:
        data["verdict_reason"] = report.verdict_reason
    optional = {
        "jurisdiction": report.jurisdiction,
        "audio": report.audio,
        "transcript": report.transcript_path,
        "input_sha256": report.input_sha256,
        "settings": report.settings,
    }
    data.update({key: value for key, value in optional.items() if value})
    if report.metadata is not None:
        data["call"] = report.metadata.to_dict()
    if report.redacted:
        data["redacted"] = True
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


def render_report(report: CallReport) -> str:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n"
