"""Masking personal data in what etiquette writes (`check --redact`).

The checks always run on the words as said; only what is written is masked,
once, at the write boundary: the pipeline hands every writer a redacted report.
Masking is per word: a word that is personal data has its text replaced by a
mask naming its kind ("[phone]", "[card]", "[date]"...) and keeps its times, so
every finding's start and end still point at the same moment. What counts as
personal data is data: `etiquette/redaction.toml` (see `finder` for the rules).
Names and street addresses are not masked (see the README).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import re
from typing import Any, Sequence

from etiquette.redact.finder import Finder
from etiquette.redact.vocabulary import KINDS, RULES_FILE
from etiquette.report import CallReport
from etiquette.types import CheckResult, Finding, Transcript, Word

_MASK = re.compile(r"^\[(card|account|id|phone|date|email|number)\]$")


def mask(kind: str) -> str:
    return f"[{kind}]"


def is_mask(text: str) -> bool:
    """True for the text of a masked word."""
    return bool(_MASK.match(text))


def mask_kind(text: str) -> str | None:
    found = _MASK.match(text)
    return found.group(1) if found else None


def find_personal(
    words: Sequence[str], language: str, speakers: Sequence[str] | None = None, edges: bool = False
) -> dict[int, str]:
    """Which words are personal data, and of what kind: {word index: kind}.

    `speakers` (one per word) keeps each speaker's numbers apart when their words
    interleave; `edges` treats numbers at either end as possibly cut short.
    Words that are masks already stay as they are.
    """
    plain = ["" if is_mask(word) else word for word in words]
    found = Finder(plain, language, speakers, edges).run()
    return {index: kind for index, kind in found.items() if not is_mask(words[index])}


def redact_transcript(transcript: Transcript) -> Transcript:
    """The transcript with each word of personal data replaced by its mask; times unchanged."""
    found = find_personal([w.text for w in transcript.words], transcript.language, [w.speaker for w in transcript.words])
    if not found:
        return transcript
    words = tuple(
        dataclasses.replace(word, text=mask(found[index])) if index in found else word
        for index, word in enumerate(transcript.words)
    )
    return dataclasses.replace(transcript, words=words)


def collapse(tokens: Sequence[str]) -> str:
    """Words joined, each run of the same mask said once ("[phone] [phone]" is "[phone]")."""
    out: list[str] = []
    for token in tokens:
        if not (out and is_mask(token) and out[-1] == token):
            out.append(token)
    return " ".join(out)


def redact_text(text: str, language: str, edges: bool = True) -> str:
    """A piece of a call's text (evidence, a quote) with personal data masked.

    Without the rest of the call there is less context, so with `edges` a number
    cut off at either end of the text is masked when it could be a digit string.
    """
    tokens = text.split()
    found = find_personal(tokens, language, edges=edges)
    return collapse([mask(found[i]) if i in found else token for i, token in enumerate(tokens)])


def redact_report(report: CallReport) -> CallReport:
    """The report as it may be written with --redact: its transcript, evidence,
    explanations and notes masked. Evidence is masked word by word as the same
    words of the whole call are, so a number the evidence shows only in part is
    still masked."""
    language = report.transcript.language
    masked = redact_transcript(report.transcript)
    findings = tuple(
        dataclasses.replace(
            finding,
            evidence=redact_text(aligned(finding.evidence, finding.speaker, finding.start, finding.end, masked.words), language),
            explanation=redact_text(finding.explanation, language, edges=False),
        )
        for finding in report.findings
    )
    result: CheckResult = dataclasses.replace(
        report.result, findings=findings, notes=tuple(redact_text(note, language, edges=False) for note in report.result.notes)
    )
    metadata = report.metadata.redacted() if report.metadata is not None else None
    return dataclasses.replace(report, transcript=masked, result=result, redacted=True, metadata=metadata)


def redact_report_dict(data: dict[str, Any], transcript: Transcript | None = None) -> dict[str, Any]:
    """A report as JSON data, masked the same way (the transcript, when given, for the evidence)."""
    redacted = copy.deepcopy(data)
    language = str(data.get("language") or "")
    masked = redact_transcript(transcript) if transcript is not None else None
    for finding in redacted.get("findings", []):
        evidence = finding.get("evidence")
        if isinstance(evidence, str):
            if masked is not None:
                try:
                    evidence = aligned(evidence, finding.get("speaker"), float(finding["start"]), float(finding["end"]),
                                       masked.words)
                except (KeyError, TypeError, ValueError):
                    pass
            finding["evidence"] = redact_text(evidence, language, edges=masked is None)
        if isinstance(finding.get("explanation"), str):
            finding["explanation"] = redact_text(finding["explanation"], language, edges=False)
    call = redacted.get("call")
    if isinstance(call, dict):
        call.update({key: mask(kind) for key, kind in (("phone", "phone"), ("account", "account")) if call.get(key)})
    if isinstance(redacted.get("notes"), list):
        redacted["notes"] = [redact_text(n, language, edges=False) if isinstance(n, str) else n for n in redacted["notes"]]
    redacted["redacted"] = True
    return redacted


def is_redacted(transcript: Transcript) -> bool:
    """True when some word of the transcript is a mask (it was written with --redact)."""
    return any(is_mask(word.text) for word in transcript.words)


def _start(word: Word) -> float:
    return word.start


def aligned(evidence: str, speaker: object, start: float, end: float, masked: Sequence[Word]) -> str:
    """The evidence with every word that is masked in the transcript masked too.

    The evidence is the speaker's words between the finding's start and end, in
    order (perhaps cut short with "..."), so they are matched one by one.
    """
    # the words are in time order: the finding's by bisection, not a pass over the call
    window = masked[bisect.bisect_left(masked, start - 0.06, key=_start):bisect.bisect_right(masked, end + 0.06, key=_start)]
    said = [w for w in window if w.speaker == speaker and w.end <= end + 0.06]
    out: list[str] = []
    position = 0
    for token in evidence.split():
        if position < len(said) and (said[position].text == token or is_mask(said[position].text)):
            match: int | None = position
        else:  # a word the evidence left out: look a little further
            match = next((c for c in range(position + 1, min(position + 4, len(said))) if said[c].text == token), None)
        if match is None:
            out.append(token)
            continue
        out.append(said[match].text)
        position = match + 1
    return " ".join(out)


__all__ = ["KINDS", "RULES_FILE", "Finding", "collapse", "find_personal", "is_mask", "is_redacted", "mask",
           "mask_kind", "redact_report", "redact_report_dict", "redact_text", "redact_transcript"]
