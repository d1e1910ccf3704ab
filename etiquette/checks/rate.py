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

from etiquette.checks.context import CallContext
from etiquette.checks.evidence import clock, rule_finding
from etiquette.registry import Check, Need, register
from etiquette.rulebook import Explanations, Jurisdiction, Rule
from etiquette.types import CheckOutput, Finding, Metrics, Series, Word

EVIDENCE_WORDS = 16
TRIM_SECONDS = 3.0  # resolution of a finding's start and end: a few seconds of speech
MAX_SERIES_POINTS = 400  # the rate line a chart draws; more points would not show


@dataclass(frozen=True)
class RateSettings:
    """A language file's [speaking_rate]."""

    threshold_wpm: float  # over a window of the agent's own speech
    window_seconds: float
    part_seconds: float  # every part of a flagged window must be fast too...
    min_part_wpm: float  # ...at least this fast
    max_gap_seconds: float  # longer gaps are the other party or silence, not speech


@register
class SpeakingRate(Check):
    """Words a minute on the agent's own speech clock, over windows of their speech."""

    name = "speaking_rate"
    title = "Speaking rate"
    short = "rate"
    order = 10
    needs = frozenset({Need.WORD_RULES, Need.ATTRIBUTION})
    settings = {"speaking_rate": RateSettings}
    explanations = ("speaking_rate", "rate_series")
    description = "the agent speaks too fast for a listener to follow, sustained"

    def run(self, context: CallContext) -> CheckOutput:
        rules = context.rules
        assert rules is not None  # Need.WORD_RULES
        settings: RateSettings = rules.settings["speaking_rate"]
        rule = rules.rules_for(self.name)[0]
        findings: list[Finding] = []
        speakers: dict[str, dict[str, float]] = {}
        series = []
        for agent in context.agents:
            speech = SpeechClock.of(context.words_by_speaker.get(agent, ()), settings.max_gap_seconds)
            agent_findings, metrics = check_rate(speech, agent, rule, settings, context.jurisdiction, rules.explain)
            findings += agent_findings
            speakers[agent] = metrics.as_dict()
            series.append(Series(
                self.name, agent, "wpm", tuple(rate_series(speech, settings)), settings.threshold_wpm,
                rules.explain("rate_series", window=settings.window_seconds, threshold=settings.threshold_wpm),
            ))
        return CheckOutput(tuple(findings), Metrics(speakers=speakers, series=tuple(series)))


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


def check_rate(
    speech: SpeechClock, speaker: str, rule: Rule, settings: RateSettings, jurisdiction: Jurisdiction, explain: Explanations
) -> tuple[list[Finding], RateMetrics]:
    """Findings (one per fast stretch) and the metrics for the report."""
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
                explanation=explain(
                    "speaking_rate", rate=rate, seconds=end - start, start=clock(stretch[0].start),
                    end=clock(stretch[-1].end), threshold=settings.threshold_wpm, part=settings.part_seconds,
                    min_part=settings.min_part_wpm,
                ),
            )
        )
    return findings, metrics


def rate_series(speech: SpeechClock, settings: RateSettings) -> list[tuple[float, float]]:
    """(call time, words a minute over the agent's last window of speech) at each of the agent's words.

    The window is on the agent's own speech clock, as the check measures it;
    before a full window of speech the rate so far is used (once there are ten
    seconds of it). Thinned to at most MAX_SERIES_POINTS points.
    """
    width = settings.window_seconds
    points = []
    for word, end in zip(speech.words, speech.ends):
        low = max(0.0, end - width)
        if end - low < min(width, 10.0):
            continue
        points.append((round(word.end, 2), round(speech.wpm(low, end), 1)))
    if len(points) > MAX_SERIES_POINTS:
        step = len(points) / MAX_SERIES_POINTS
        points = [points[int(i * step)] for i in range(MAX_SERIES_POINTS)] + [points[-1]]
    return points


def _trim(speech: SpeechClock, start: float, end: float, settings: RateSettings) -> tuple[float, float]:
    """Narrow a flagged stretch to where the speech itself is fast, for the finding's times.

    A window that starts in slow speech can still average over the threshold;
    the finding should point at the fast part, not the lead-in.
    """
    part, threshold = TRIM_SECONDS, settings.threshold_wpm
    # the clock's starts and ends are sorted: the stretch's own words by bisection, not a pass over the call
    starts = speech.starts[bisect.bisect_left(speech.starts, start):bisect.bisect_left(speech.starts, end - part)]
    for candidate in starts:
        if speech.wpm(candidate, candidate + part) >= threshold:
            start = candidate
            break
    ends = speech.ends[bisect.bisect_right(speech.ends, start + part):bisect.bisect_right(speech.ends, end)]
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
