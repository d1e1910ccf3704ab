"""speaking_rate: the agent speaks too fast for the listener to follow, sustained.

Rates are measured on the agent's own speech clock: the agent's words laid end
to end, keeping the short pauses between them (breathing is part of speaking)
but dropping any gap longer than `max_gap_seconds`, which is where the other
party talks or the line is silent. A window of `window_seconds` on that clock
flags when it averages at least the threshold and every `part_seconds` part of
it is fast too, so a short burst inside an otherwise normal stretch never
flags.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

from etiquette.checks.evidence import clock, rule_finding
from etiquette.rulebook import Jurisdiction, RateSettings, Rule
from etiquette.types import Word

EVIDENCE_WORDS = 16
TRIM_SECONDS = 3.0  # resolution of a finding's start and end: a few seconds of speech


@dataclass(frozen=True)
class SpeechClock:
    """Where each of the agent's words starts and ends on the agent's own speech clock."""

    words: tuple[Word, ...]
    starts: tuple[float, ...]
    ends: tuple[float, ...]

    @classmethod
    def of(cls, words: Sequence[Word], max_gap: float) -> "SpeechClock":
        starts, ends = [], []
        now = 0.0
        previous: Word | None = None
        for word in words:
            if previous is not None:
                gap = max(0.0, word.start - previous.end)
                now += gap if gap <= max_gap else 0.0
            starts.append(now)
            now += max(0.0, word.end - word.start)
            ends.append(now)
            previous = word
        return cls(tuple(words), tuple(starts), tuple(ends))

    @property
    def total(self) -> float:
        return self.ends[-1] if self.ends else 0.0

    def count(self, start: float, end: float) -> int:
        """Words wholly inside [start, end] on the clock."""
        first = bisect.bisect_left(self.starts, start - 1e-9)
        last = bisect.bisect_right(self.ends, end + 1e-9)
        return max(0, last - first)

    def wpm(self, start: float, end: float) -> float:
        return self.count(start, end) * 60.0 / (end - start) if end > start else 0.0


@dataclass(frozen=True)
class RateMetrics:
    words: int
    speaking_time: float
    wpm: float
    max_window_wpm: float

    def as_dict(self) -> dict[str, float]:
        return {
            "words": self.words,
            "speaking_time": round(self.speaking_time, 1),
            "wpm": round(self.wpm, 1),
            "max_window_wpm": round(self.max_window_wpm, 1),
        }


def measure_rate(speech: SpeechClock, settings: RateSettings) -> tuple[RateMetrics, list[tuple[float, float]]]:
    """The agent's rate metrics, and the clock windows that are fast enough, sustained, to flag."""
    words = len(speech.words)
    total = speech.total
    overall = words * 60.0 / total if total > 0 else 0.0
    width = settings.window_seconds
    if total <= width:  # no full window: report the rate, flag nothing
        return RateMetrics(words, total, overall, overall), []
    candidates = sorted({s for s in speech.starts if s + width <= total} | {max(0.0, e - width) for e in speech.ends})
    peak = 0.0
    flagged: list[tuple[float, float]] = []
    for start in candidates:
        end = start + width
        rate = speech.wpm(start, end)
        peak = max(peak, rate)
        if rate >= settings.threshold_wpm and _sustained(speech, start, end, settings):
            flagged.append((start, end))
    return RateMetrics(words, total, overall, peak), flagged


def _sustained(speech: SpeechClock, start: float, end: float, settings: RateSettings) -> bool:
    part = settings.part_seconds
    edges = [start + part * n for n in range(int(round((end - start) / part)) + 1)]
    return all(speech.wpm(a, b) >= settings.min_part_wpm for a, b in zip(edges, edges[1:]))


def check_rate(agent_words: Sequence[Word], speaker: str, rule: Rule, settings: RateSettings, jurisdiction: Jurisdiction):
    """Findings (one per fast stretch) and the metrics for the report."""
    speech = SpeechClock.of(agent_words, settings.max_gap_seconds)
    metrics, windows = measure_rate(speech, settings)
    findings = []
    for start, end in _merge(windows):
        start, end = _trim(speech, start, end, settings)
        first = bisect.bisect_left(speech.starts, start - 1e-9)
        last = max(first, bisect.bisect_right(speech.ends, end + 1e-9) - 1)
        stretch = speech.words[first : last + 1]
        rate = speech.wpm(start, end)
        evidence = " ".join(word.text for word in stretch[:EVIDENCE_WORDS]) + (" ..." if len(stretch) > EVIDENCE_WORDS else "")
        findings.append(
            rule_finding(
                rule, jurisdiction, speaker=speaker, start=stretch[0].start, end=stretch[-1].end, evidence=evidence,
                explanation=(
                    f"the agent averaged {rate:.0f} words a minute over {end - start:.0f} s of their own speech"
                    f" from {clock(stretch[0].start)} to {clock(stretch[-1].end)}"
                    f" (threshold {settings.threshold_wpm:.0f}, every {settings.part_seconds:.0f} s part"
                    f" at least {settings.min_part_wpm:.0f})"
                ),
            )
        )
    return findings, metrics


def _trim(speech: SpeechClock, start: float, end: float, settings: RateSettings) -> tuple[float, float]:
    """Narrow a flagged stretch to where the speech itself is fast, for the finding's times.

    A window that starts in slow speech can still average over the threshold;
    the finding should point at the fast part, not the lead-in.
    """
    part, threshold = TRIM_SECONDS, settings.threshold_wpm
    starts = [s for s in speech.starts if start <= s < end - part]
    for candidate in starts:
        if speech.wpm(candidate, candidate + part) >= threshold:
            start = candidate
            break
    ends = [e for e in speech.ends if start + part < e <= end]
    for candidate in reversed(ends):
        if speech.wpm(candidate - part, candidate) >= threshold:
            end = candidate
            break
    return start, end


def _merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]
