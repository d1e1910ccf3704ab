"""dead_air: long silences on the line once the call has started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from etiquette.checks.context import CallContext
from etiquette.checks.evidence import clock, rule_finding
from etiquette.registry import Check, register
from etiquette.types import CheckOutput, Metrics, Word


@dataclass(frozen=True)
class DeadAirSettings:
    """audio.toml [dead_air]."""

    min_seconds: float  # no words on either channel for this long, between the first word and the last


def silences(words: Sequence[Word]) -> list[tuple[float, float]]:
    """Stretches with no word from anyone, between the first word of the call and the last."""
    gaps = []
    spoken_until = None
    for word in sorted(words, key=lambda w: w.start):
        if spoken_until is not None and word.start > spoken_until:
            gaps.append((spoken_until, word.start))
        spoken_until = word.end if spoken_until is None else max(spoken_until, word.end)
    return gaps


@register
class DeadAir(Check):
    """Silences on the line once the call has started."""

    name = "dead_air"
    title = "Dead air"
    short = "dead air"
    order = 50
    settings = {"dead_air": DeadAirSettings}
    explanations = ("dead_air",)
    audio_explanations = ("dead_air", "silence")  # the evidence of a silence is said the same in every language
    description = "long silences on the line once the call has started"

    def run(self, context: CallContext) -> CheckOutput:
        settings: DeadAirSettings = context.audio_rules.settings["dead_air"]
        words = context.transcript.words
        responsible = context.agents[0] if context.agents else next(iter(context.transcript.speakers), "")
        gaps = silences(words)
        findings = tuple(
            rule_finding(
                context.audio_rules.rule("dead-air"), context.jurisdiction, speaker=responsible,
                start=round(start, 2), end=round(end, 2), evidence=context.audio_rules.explain("silence", seconds=end - start),
                explanation=context.explain("dead_air", seconds=end - start, start=clock(start), end=clock(end)),
            )
            for start, end in gaps
            if end - start >= settings.min_seconds
        )
        longest = max((end - start for start, end in gaps), default=0.0)
        return CheckOutput(findings, Metrics(call={"longest_silence": round(longest, 1)}))
