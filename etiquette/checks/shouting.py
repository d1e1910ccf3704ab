"""Shouting (an aggressive_language rule): the agent's voice well above their own level.

Judged on the agent's own channel against the agent's own median loudness while
speaking, so a loud customer, a quiet line or a hot microphone never counts, and
only where the agent is saying words (a bang on the line is not shouting).
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from etiquette.checks.evidence import clock, rule_finding
from etiquette.rulebook import Explanations, Jurisdiction, Rule
from etiquette.types import Finding, Loudness, Word


@dataclass(frozen=True)
class ShoutingSettings:
    """audio.toml [shouting]."""

    rise_db: float  # above the agent's median level while speaking
    window_seconds: float  # averaged over this long
    speech_floor_lufs: float  # quieter blocks are pauses or line noise, not speech


def _power(lufs: float | None) -> float:
    return 0.0 if lufs is None else 10 ** (lufs / 10)


def _lufs(power: float) -> float | None:
    return 10 * math.log10(power) if power > 0 else None


def speech_blocks(loudness: Loudness, words: Sequence[Word], floor: float) -> list[int]:
    """Blocks where the speaker is talking: loud enough, and overlapping their words."""
    spoken = set()
    for word in words:
        first, last = int(word.start / loudness.step), int(word.end / loudness.step)
        spoken.update(range(first, last + 1))
    return [i for i, v in enumerate(loudness.values) if v is not None and v >= floor and i in spoken]


def loudness_metrics(loudness: Loudness, words: Sequence[Word], floor: float) -> dict[str, float]:
    blocks = speech_blocks(loudness, words, floor)
    if not blocks:
        return {}
    values = [loudness.values[i] for i in blocks]
    return {"loudness_median_lufs": round(statistics.median(values), 1), "loudness_peak_lufs": round(max(values), 1)}  # type: ignore[type-var, arg-type]


def check_shouting(
    loudness: Loudness, words: Sequence[Word], speaker: str, rule: Rule, settings: ShoutingSettings,
    jurisdiction: Jurisdiction, explain: Explanations,
) -> list[Finding]:
    blocks = speech_blocks(loudness, words, settings.speech_floor_lufs)
    if len(blocks) < 4:  # too little speech to know the agent's normal level
        return []
    median = statistics.median(loudness.values[i] for i in blocks)  # type: ignore[type-var]
    span = max(1, round(settings.window_seconds / loudness.step))
    spoken = set(blocks)
    spoken_before = list(itertools.accumulate((i in spoken for i in range(len(loudness.values))), initial=0))
    powers = [_power(value) for value in loudness.values]
    running = sum(powers[:span])  # the window's total power, slid one block at a time
    loud: list[tuple[int, float]] = []  # (first block of a loud window, its level)
    for first in range(0, len(powers) - span + 1):
        if first:
            running += powers[first + span - 1] - powers[first - 1]
        if spoken_before[first + span] == spoken_before[first]:  # no speech in the window
            continue
        level = _lufs(max(running, 0.0) / span)
        if level is not None and level - median >= settings.rise_db:
            loud.append((first, level))
    findings = []
    starts = [word.start for word in words]  # in time order
    reach = list(itertools.accumulate((word.end for word in words), max))  # the latest end so far
    for stretch in _stretches(loud, span):
        start, end = loudness.at(stretch[0][0]), loudness.at(stretch[-1][0] + span)
        peak = max(level for _, level in stretch)
        nearby = words[bisect.bisect_right(reach, start):bisect.bisect_left(starts, end)]  # no pass over the call
        said = [w for w in nearby if w.end > start and w.start < end]
        findings.append(
            rule_finding(
                rule, jurisdiction, speaker=speaker, start=round(start, 2), end=round(end, 2),
                evidence=" ".join(w.text for w in said[:20]) or "(no words recognised)",
                explanation=explain(
                    "shouting", rise=peak - median, median=median, seconds=end - start, start=clock(start), end=clock(end)
                ),
            )
        )
    return findings


def _stretches(loud: list[tuple[int, float]], span: int) -> list[list[tuple[int, float]]]:
    """Loud windows that overlap or touch, grouped."""
    groups: list[list[tuple[int, float]]] = []
    for first, level in loud:
        if groups and first <= groups[-1][-1][0] + span:
            groups[-1].append((first, level))
        else:
            groups.append([(first, level)])
    return groups
