"""What a run leaves besides the contract's files: findings.jsonl, summary.md, and the
batch view the HTML page and the console summary are made from.

Everything here reads the output folder after `run_batch` has returned (each
`<call_id>.report.json` and the transcript it was made from), so it sees exactly
what the run wrote and never touches the checks. With `redact`, every text that
comes from a call is masked again on the way out (masking is idempotent), so an
export is never less redacted than the reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from etiquette.errors import EtiquetteError
from etiquette.files import atomic_write_text
from etiquette.redact import redact_report_dict, redact_transcript
from etiquette.report import SummaryRow
from etiquette.rulebook import CHECKS
from etiquette.transcripts import SUFFIX as TRANSCRIPT_SUFFIX
from etiquette.transcripts import read_transcript
from etiquette.types import Transcript

FORMATS = ("jsonl", "md", "html")  # what --format adds; report.json and summary.csv are always written
JSONL_NAME = "findings.jsonl"
MARKDOWN_NAME = "summary.md"
HTML_NAME = "report.html"
FINDING_FIELDS = ("check", "rule", "severity", "speaker", "start", "end", "evidence", "reference", "message", "explanation")


@dataclass(frozen=True)
class CallOutput:
    """One checked call as the run wrote it: its report and the transcript it was made from."""

    call_id: str
    input: str
    report: dict[str, Any]
    transcript: Transcript | None

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.report.get("findings", []))

    @property
    def verdict(self) -> str:
        return str(self.report.get("verdict", ""))

    @property
    def language(self) -> str:
        return str(self.report.get("language", ""))

    @property
    def failing(self) -> bool:
        return self.verdict == "fail"

    def count(self, check: str) -> int:
        return sum(1 for finding in self.findings if finding.get("check") == check)

    def severity_count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.get("severity") == severity)

    @property
    def badness(self) -> tuple:
        """Sort key, worst call first: failing, then most high, medium and low findings."""
        return (not self.failing, -self.severity_count("high"), -self.severity_count("medium"),
                -len(self.findings), self.call_id)


@dataclass(frozen=True)
class BatchOutput:
    """Every call of a run that has a report, plus the inputs that could not be processed."""

    out_dir: Path
    calls: list[CallOutput]  # in the run's order
    errors: list[SummaryRow] = field(default_factory=list)
    redacted: bool = False

    @property
    def worst_first(self) -> list[CallOutput]:
        return sorted(self.calls, key=lambda call: call.badness)

    @property
    def failed(self) -> list[CallOutput]:
        return [call for call in self.calls if call.failing]

    @property
    def findings(self) -> int:
        return sum(len(call.findings) for call in self.calls)

    def by_check(self) -> dict[str, int]:
        counts = {check: 0 for check in CHECKS}
        for call in self.calls:
            for finding in call.findings:
                counts[finding.get("check", "?")] = counts.get(finding.get("check", "?"), 0) + 1
        return counts

    def languages(self) -> list[str]:
        return sorted({primary(call.language) for call in self.calls})

    def by_check_and_language(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for call in self.calls:
            for finding in call.findings:
                key = (str(finding.get("check")), primary(call.language))
                counts[key] = counts.get(key, 0) + 1
        return counts


def primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def load_batch(rows: Iterable[SummaryRow], out_dir: Path, redact: bool = False, transcripts: bool = True) -> BatchOutput:
    """Read back what a run wrote for its rows: their reports, and (with `transcripts`) the
    transcripts they were made from."""
    calls: list[CallOutput] = []
    errors: list[SummaryRow] = []
    seen: set[str] = set()
    for row in rows:
        if row.status in ("error", "interrupted"):
            errors.append(row)
            continue
        if row.summary is None or row.call_id is None or row.call_id in seen:
            continue  # a paired audio file: its call is its transcript's row
        seen.add(row.call_id)
        path = out_dir / f"{row.call_id}.report.json"
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(report, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            errors.append(SummaryRow(input=row.input, call_id=row.call_id, status="error", error=f"cannot read {path.name}"))
            continue
        transcript = _transcript_for(report, out_dir) if transcripts else None
        if redact:
            report = redact_report_dict(report, transcript=transcript)
            transcript = redact_transcript(transcript) if transcript is not None else None
        calls.append(CallOutput(row.call_id, row.input, report, transcript))
    return BatchOutput(out_dir, calls, errors, redact)


def _transcript_for(report: dict[str, Any], out_dir: Path) -> Transcript | None:
    """The transcript a report was made from: the one this run (or an earlier one) wrote, else its source."""
    call_id = report.get("call_id")
    candidates = [out_dir / f"{call_id}{TRANSCRIPT_SUFFIX}"]
    source = report.get("source")
    if isinstance(source, str) and source.endswith(".json"):
        candidates.append(Path(source))
    for path in candidates:
        try:
            transcript = read_transcript(path)
        except (EtiquetteError, OSError):
            continue
        if transcript.call_id == call_id:
            return transcript
    return None


# ------------------------------------------------------------------ findings.jsonl


def jsonl_records(batch: BatchOutput) -> list[dict[str, Any]]:
    records = []
    for call in batch.calls:
        for finding in call.findings:
            record: dict[str, Any] = {
                "call_id": call.call_id,
                "language": call.language,
                "jurisdiction": call.report.get("jurisdiction"),
                "verdict": call.verdict,
            }
            record.update({name: finding.get(name) for name in FINDING_FIELDS})
            record.update({k: v for k, v in finding.items() if k not in record})  # fields added later
            records.append(record)
    return records


def write_jsonl(batch: BatchOutput) -> Path:
    """DIR/findings.jsonl: one finding a line, with its call id and language."""
    lines = [json.dumps(record, ensure_ascii=False) for record in jsonl_records(batch)]
    path = batch.out_dir / JSONL_NAME
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path


# ------------------------------------------------------------------ summary.md

_MD_SPECIAL = set("\\`*_[]<>|~")  # with [ and ] escaped, ( ) ! cannot make a link or an image


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table cell: no markup, no links, no HTML, one line."""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in flat)


def clock(seconds: float | int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(float(seconds))), 60)
    return f"{minutes:02d}:{secs:02d}"


def _check_title(check: str) -> str:
    return check.replace("_", " ")


def markdown(batch: BatchOutput) -> str:
    calls = batch.worst_first
    lines = [f"# etiquette: {len(batch.calls)} calls checked, {len(batch.failed)} failed", ""]
    notes = []
    if batch.calls:
        fail_on = sorted({str(call.report.get("fail_on", "")) for call in batch.calls} - {""})
        if fail_on:
            notes.append(f"failing severity: {', '.join(fail_on)}")
    notes.append(f"{batch.findings} findings")
    if batch.errors:
        notes.append(f"{len(batch.errors)} inputs could not be processed")
    if batch.redacted:
        notes.append("personal data redacted")
    lines += ["; ".join(notes) + ".", ""]
    if calls:
        header = ["call", "language", "verdict", "findings", *[_check_title(c) for c in CHECKS]]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---", "---", "---", "---:", *["---:" for _ in CHECKS]]) + "|")
        for call in calls:
            verdict = "**fail**" if call.failing else "pass"
            cells = [md_escape(call.call_id), md_escape(call.language), verdict, str(len(call.findings)),
                     *[str(call.count(check)) for check in CHECKS]]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if batch.errors:
        lines += ["## Could not be processed", ""]
        lines += [f"- {md_escape(row.input)}: {md_escape(row.error or row.status)}" for row in batch.errors]
        lines.append("")
    for call in calls:
        if not call.failing:
            continue
        jurisdiction = call.report.get("jurisdiction")
        where = f", {md_escape(jurisdiction)}" if jurisdiction else ""
        lines += [f"## {md_escape(call.call_id)} ({md_escape(call.language)}{where}): fail", ""]
        lines.append("| time | severity | check | rule | evidence | citation |")
        lines.append("|---|---|---|---|---|---|")
        for finding in call.findings:
            cells = [
                f"{clock(finding.get('start'))}–{clock(finding.get('end'))}",
                md_escape(finding.get("severity", "")),
                md_escape(_check_title(str(finding.get("check", "")))),
                md_escape(finding.get("rule", "")),
                "“" + md_escape(finding.get("evidence", "")) + "”",
                md_escape(finding.get("reference", "")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(batch: BatchOutput) -> Path:
    """DIR/summary.md: the batch as a Markdown table, then each failing call's findings."""
    path = batch.out_dir / MARKDOWN_NAME
    atomic_write_text(path, markdown(batch))
    return path


# ------------------------------------------------------------------ all of them


def parse_formats(values: Sequence[str] | None) -> list[str]:
    """`--format jsonl,md --format html` -> ["jsonl", "md", "html"]; ValueError names an unknown one.

    "json" and "csv" are accepted and ignored: the reports and summary.csv are always written.
    """
    chosen: list[str] = []
    for value in values or []:
        for name in value.split(","):
            name = name.strip().lower()
            if not name or name in ("json", "csv"):
                continue
            if name not in FORMATS:
                raise ValueError(f"unknown format {name!r} (choose from {', '.join(FORMATS)})")
            if name not in chosen:
                chosen.append(name)
    return chosen


def write_outputs(batch: BatchOutput, formats: Sequence[str], rules_dir: Path | None = None) -> list[Path]:
    """Write each chosen format; the paths written."""
    written = []
    if "jsonl" in formats:
        written.append(write_jsonl(batch))
    if "md" in formats:
        written.append(write_markdown(batch))
    if "html" in formats:
        from etiquette.html_report import write_html

        written.append(write_html(batch, rules_dir=rules_dir))
    return written

