"""dead_air: long silences on the line once the call has started."""

from __future__ import annotations

from typing import Sequence

from etiquette.checks.evidence import clock, rule_finding
from etiquette.rulebook import Jurisdiction, Rule
from etiquette.types import Finding, Word


def silences(words: Sequence[Word]) -> list[tuple[float, float]]:
    """Stretches with no word from anyone, between the first word of the call and the last."""
    gaps = []
    spoken_until = None
    for word in sorted(words, key=lambda w: w.start):
        if spoken_until is not None and word.start > spoken_until:
            gaps.append((spoken_until, word.start))
        spoken_until = word.end if spoken_until is None else max(spoken_until, word.end)
    return gaps


def check_dead_air(words: Sequence[Word], speaker: str, rule: Rule, settings: dict, jurisdiction: Jurisdiction) -> list[Finding]:
    """Silences long enough to flag; `speaker` is whoever answers for the line (the agent)."""
    minimum = float(settings["min_seconds"])
    return [
        rule_finding(
            rule, jurisdiction, speaker=speaker, start=round(start, 2), end=round(end, 2),
            evidence=f"({end - start:.0f} s of silence)",
            explanation=f"nobody said anything for {end - start:.1f} s, from {clock(start)} to {clock(end)}",
        )
        for start, end in silences(words)
        if end - start >= minimum
    ]


def longest_silence(words: Sequence[Word]) -> float:
    return max((end - start for start, end in silences(words)), default=0.0)
