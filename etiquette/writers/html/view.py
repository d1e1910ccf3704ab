"""What the HTML templates draw, worked out from a call's report: lanes, marks, the rate line,
the transcript with each finding's words highlighted. Geometry only; the markup is in templates/."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

from markupsafe import Markup, escape

from etiquette.redact import mask_kind
from etiquette.report import CallReport
from etiquette.types import Finding, Role, Series, Transcript, Word

VIEW_WIDTH = 1000  # SVG user units across; the charts stretch to the page width
CHART_HEIGHT = 200
BLOCK_GAP = 0.8  # seconds of silence that split a speaker's speech into separate blocks on the timeline
_SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(float(seconds))), 60)
    return f"{minutes:02d}:{secs:02d}"


def anchor_of(call_id: str) -> str:
    """A page anchor for a call: stable, and safe whatever the call id holds."""
    return "call-" + hashlib.sha1(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class Token(NamedTuple):
    """A word as shown: its text, the kind of mask it is (None for a word), and its time when known."""

    text: str
    kind: str | None
    start: float | None = None
    end: float | None = None


def tokens(text: str) -> list[Token]:
    """Words with masks marked: [("owes", None), ("phone", "phone")...], a run of one mask said once."""
    out: list[Token] = []
    previous = None
    for token in text.split():
        kind = mask_kind(token)
        if kind is None or token != previous:
            out.append(Token(token, kind))
        previous = token
    return out


def timed_tokens(words: Sequence[Word]) -> list[Token]:
    """Tokens of a run of words with their times (for playing from a word); a run of one mask is one token."""
    out: list[Token] = []
    for word in words:
        kind = mask_kind(word.text)
        if kind is not None and out and out[-1].kind == kind and out[-1].text == word.text:
            out[-1] = out[-1]._replace(end=word.end)
        else:
            out.append(Token(word.text, kind, round(word.start, 2), round(word.end, 2)))
    return out


def words_html(tokens: Sequence[Token], interactive: bool) -> Markup:
    """A run of words as HTML, each escaped; a mask as its kind; on the review app's page, each word with its time
    (`<span class="w" data-s=START data-e=END>`, to play from it and highlight it). Built here rather than in a
    template macro: a two-hour call has tens of thousands of words, and a macro call per word costs ten times more."""
    out = []
    for token in tokens:
        shown = f'<span class="redacted" title="redacted">{escape(token.kind)}</span>' if token.kind else str(escape(token.text))
        if interactive and token.start is not None:
            shown = f'<span class="w" data-s="{token.start}" data-e="{token.end}">{shown}</span>'
        out.append(shown)
    return Markup(" ".join(out))


def page_name(call_id: str) -> str:
    """The file name of a call's own page: readable where the call id allows, unique by its digest."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", call_id).strip(".-")[:60]
    return f"{readable}-{anchor_of(call_id)[5:13]}.html" if readable else f"{anchor_of(call_id)}.html"


@dataclass(frozen=True)
class Player:
    """A call's recording as a page plays it."""

    src: str | None  # its URL (relative, on a static page); None when there is nothing to play
    note: str = ""  # what the page says about it: why there is no player, or what to know about the recording


def duration_of(report: CallReport) -> float:
    transcript = report.transcript
    values = [transcript.duration] + [word.end for word in transcript.words[-1:]] + [f.end for f in report.findings]
    return max(values) or 1.0


def x(seconds: float, duration: float) -> float:
    return round(min(max(seconds / duration, 0.0), 1.0) * VIEW_WIDTH, 2)


def pct(seconds: float, duration: float) -> str:
    return f"{min(max(seconds / duration, 0.0), 1.0) * 100:.2f}%"


def ticks(duration: float) -> list[tuple[str, str]]:
    """(left %, label) for the time axis: at most about eight."""
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= 8:
            break
    return [(pct(step * n, duration), clock(step * n)) for n in range(int(duration // step) + 1)]


def speaker_order(transcript: Transcript) -> list[str]:
    rank = {Role.AGENT: 0, Role.CUSTOMER: 1, Role.UNKNOWN: 2}
    return sorted(transcript.speakers, key=lambda key: (rank.get(transcript.speakers[key].role, 3), key))


def speaker_label(transcript: Transcript, key: str) -> str:
    speaker = transcript.speakers.get(key)
    if speaker is None:
        return key
    if speaker.role is Role.AGENT:
        return "agent" if key == "agent" else f"agent ({key})"
    if speaker.role is Role.CUSTOMER:
        return "other party" if key == "customer" else f"other party ({key})"
    return "both (mono)" if key == "mixed" else key


def blocks(words: Iterable[Word]) -> list[tuple[float, float]]:
    spans: list[list[float]] = []
    for word in words:
        if spans and word.start - spans[-1][1] <= BLOCK_GAP:
            spans[-1][1] = max(spans[-1][1], word.end)
        else:
            spans.append([word.start, word.end])
    return [(a, b) for a, b in spans]


@dataclass(frozen=True)
class Lane:
    role: str
    label: str
    speech: list[tuple[float, float]]  # (x, width)
    bands: list[tuple[str, float, float]]  # (severity, x, width)


def lanes(report: CallReport, duration: float) -> list[Lane]:
    transcript = report.transcript
    words_of: dict[str, list[Word]] = {}
    for word in transcript.words:
        words_of.setdefault(word.speaker, []).append(word)
    out = []
    for key in speaker_order(transcript):
        speech = [(x(a, duration), max(x(b, duration) - x(a, duration), 1.5)) for a, b in blocks(words_of.get(key, []))]
        bands = [(f.severity.value, x(f.start, duration), max(x(f.end, duration) - x(f.start, duration), 4.0))
                 for f in report.findings if f.speaker == key]
        out.append(Lane(transcript.speakers[key].role.value, speaker_label(transcript, key), speech, bands))
    return out


@dataclass(frozen=True)
class RateChart:
    lines: list[str]  # polyline points, one per agent
    threshold: float
    threshold_y: float
    threshold_pct: float
    grid: list[float]
    labels: list[tuple[int, float]]  # (wpm, bottom %)
    bands: list[tuple[str, float, float]]
    caption: str


def rate_chart(report: CallReport, duration: float, check: str = "speaking_rate") -> RateChart | None:
    series: Sequence[Series] = [s for s in report.result.metrics.series if s.name == check and s.points]
    if not series:
        return None
    threshold = series[0].threshold or 0.0
    peak = max(value for s in series for _, value in s.points)
    top = max(threshold * 1.25, peak * 1.08, 60.0)
    top = float(int((top + 49) // 50) * 50)

    def y(value: float) -> float:
        return round(CHART_HEIGHT - min(value, top) / top * CHART_HEIGHT, 2)

    return RateChart(
        lines=[" ".join(f"{x(t, duration)},{y(v)}" for t, v in s.points) for s in series],
        threshold=threshold,
        threshold_y=y(threshold),
        threshold_pct=round(threshold / top * 100, 2),
        grid=[y(v) for v in range(50, int(top), 50)],
        labels=[(v, round(v / top * 100, 2)) for v in range(0, int(top) + 1, 100)],
        bands=[(f.severity.value, x(f.start, duration), max(x(f.end, duration) - x(f.start, duration), 4.0))
               for f in report.findings if f.check == check],
        caption=series[0].caption,
    )


@dataclass(frozen=True)
class Piece:
    """A run of words in a turn, highlighted when findings cover it."""

    words: list[Token]
    findings: list[int]  # indices of the findings covering it
    severity: str
    starts: list[int]  # findings whose first words these are (an anchor and a number go here)


@dataclass(frozen=True)
class TurnView:
    role: str
    label: str
    start: str
    pieces: list[Piece]


def transcript_turns(report: CallReport) -> list[TurnView]:
    transcript = report.transcript
    findings = report.findings
    spans = [(n, f.speaker, f.start - 0.01, f.end + 0.01) for n, f in enumerate(findings)]
    words = transcript.words
    covering = [tuple(n for n, speaker, a, b in spans if speaker == w.speaker and a <= w.start and w.end <= b) for w in words]
    first_word: dict[int, int] = {}
    for index, ns in enumerate(covering):
        for n in ns:
            first_word.setdefault(n, index)
    turns: list[list[int]] = []
    for index, word in enumerate(words):
        if turns and words[turns[-1][-1]].speaker == word.speaker:
            turns[-1].append(index)
        else:
            turns.append([index])
    out = []
    for indices in turns:
        pieces: list[Piece] = []
        group: list[int] = []
        for index in indices + [-1]:
            if group and (index == -1 or covering[index] != covering[group[-1]]):
                ns = list(covering[group[0]])
                severity = max((findings[n].severity.value for n in ns), key=_SEVERITY_ORDER.get, default="")
                starts = [n for n in ns if first_word.get(n) == group[0]]
                pieces.append(Piece(timed_tokens([words[i] for i in group]), ns, severity, starts))
                group = []
            if index != -1:
                group.append(index)
        key = words[indices[0]].speaker
        speaker = transcript.speakers.get(key)
        out.append(TurnView(speaker.role.value if speaker else "unknown", speaker_label(transcript, key),
                            clock(words[indices[0]].start), pieces))
    return out


def finding_marks(findings: Sequence[Finding], duration: float) -> list[tuple[int, str, str]]:
    """(index, severity, left position) for each finding's numbered mark on the timeline."""
    return [(n, f.severity.value, pct(f.start, duration)) for n, f in enumerate(findings)]
