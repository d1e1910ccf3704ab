"""interruptions: the agent talks over the other party, again and again.

From the word times of a stereo recording: each speaker's speech is grouped into
stretches (words closer than `segment_gap_seconds`). An interruption is an agent
stretch that starts while a stretch of the other party has been going for a
moment already and goes on past it, both talking for at least
`min_overlap_seconds`. Short agent utterances and backchannels ("mm-hm", "ajá")
are listening, not interrupting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from etiquette.checks.context import CallContext
from etiquette.checks.evidence import clock, rule_finding
from etiquette.matching import fold
from etiquette.registry import Check, Need, register
from etiquette.types import CheckOutput, Metrics, SpanOfWords, Word


@dataclass(frozen=True)
class InterruptionSettings:
    """audio.toml [interruptions]."""

    min_overlap_seconds: float
    segment_gap_seconds: float  # a pause this long ends a speaker's stretch of speech
    mid_sentence_seconds: float  # the other party must have been speaking this long already
    backchannel_max_seconds: float
    backchannels: frozenset[str]
    min_interruptions: int  # in one call, to raise a finding


@dataclass(frozen=True)
class Stretch(SpanOfWords):
    words: tuple[Word, ...]


def stretches(words: Sequence[Word], gap: float) -> list[Stretch]:
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start - groups[-1][-1].end <= gap:
            groups[-1].append(word)
        else:
            groups.append([word])
    return [Stretch(tuple(group)) for group in groups]


@dataclass(frozen=True)
class OverlapMeasures:
    interruptions: list[tuple[Stretch, Stretch]]  # (agent stretch, the other party's stretch it cut into)
    overlap_seconds: float
    talk_seconds: dict[str, float]


def measure_overlap(agent: Sequence[Word], other: Sequence[Word], settings: InterruptionSettings) -> OverlapMeasures:
    """One sweep over both speakers' stretches in time order: linear in the number of words."""
    mine_all = stretches(agent, settings.segment_gap_seconds)
    theirs_all = stretches(other, settings.segment_gap_seconds)
    interruptions = []
    overlap = 0.0
    low = 0  # the first of their stretches that may still overlap the current agent stretch
    for mine in mine_all:
        while low < len(theirs_all) and theirs_all[low].end <= mine.start:
            low += 1
        index = low
        while index < len(theirs_all) and theirs_all[index].start < mine.end:
            theirs = theirs_all[index]
            index += 1
            both = min(mine.end, theirs.end) - max(mine.start, theirs.start)
            if both <= 0:
                continue
            overlap += both
            cut_in = theirs.start + settings.mid_sentence_seconds <= mine.start < theirs.end
            listening = mine.end - mine.start < settings.backchannel_max_seconds or all(
                fold(word.text) in settings.backchannels for word in mine.words
            )
            if cut_in and not listening and both >= settings.min_overlap_seconds:
                interruptions.append((mine, theirs))
    talk = {"agent": sum(s.end - s.start for s in mine_all), "other": sum(s.end - s.start for s in theirs_all)}
    return OverlapMeasures(interruptions, overlap, talk)


@register
class Interruptions(Check):
    """The agent cutting in while the other party is mid-sentence, again and again."""

    name = "interruptions"
    title = "Talking over"
    short = "talk-over"
    order = 40
    needs = frozenset({Need.ATTRIBUTION})
    settings = {"interruptions": InterruptionSettings}
    explanations = audio_explanations = ("interruptions",)
    description = "the agent repeatedly starts talking while the other party is mid-sentence"

    def run(self, context: CallContext) -> CheckOutput:
        if not context.others:
            return CheckOutput(notes=("no other party on the call: talking over not measured",))
        settings: InterruptionSettings = context.audio_rules.settings["interruptions"]
        agent = context.agents[0]
        agent_words = sorted((w for a in context.agents for w in context.words_by_speaker.get(a, ())), key=lambda w: w.start)
        other_words = sorted((w for o in context.others for w in context.words_by_speaker.get(o, ())), key=lambda w: w.start)
        measures = measure_overlap(agent_words, other_words, settings)
        speakers: dict[str, dict[str, float]] = {}
        total = sum(measures.talk_seconds.values())
        if total > 0:
            speakers[agent] = {"talk_share": round(measures.talk_seconds["agent"] / total, 3)}
            for other in context.others:
                speakers[other] = {"talk_share": round(measures.talk_seconds["other"] / total, 3)}
        metrics = Metrics(
            speakers=speakers,
            call={"overlap_seconds": round(measures.overlap_seconds, 1), "interruptions": len(measures.interruptions)},
        )
        found = measures.interruptions
        if len(found) < settings.min_interruptions:
            return CheckOutput(metrics=metrics)
        moments = ", ".join(clock(mine.start) for mine, _ in found)
        evidence = " / ".join(" ".join(w.text for w in mine.words[:6]) for mine, _ in found[:5])
        finding = rule_finding(
            context.audio_rules.rule("talking-over"), context.jurisdiction, speaker=agent,
            start=round(found[0][0].start, 2), end=round(found[-1][0].end, 2), evidence=evidence,
            explanation=context.explain(
                "interruptions", count=len(found), moments=moments, overlap=settings.min_overlap_seconds
            ),
        )
        return CheckOutput((finding,), metrics)
