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

from etiquette.checks.evidence import clock, rule_finding
from etiquette.matching import fold
from etiquette.rulebook import Jurisdiction, Rule
from etiquette.types import Finding, Word


@dataclass(frozen=True)
class Stretch:
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


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


def measure_overlap(agent: Sequence[Word], other: Sequence[Word], settings: dict) -> OverlapMeasures:
    gap = float(settings["segment_gap_seconds"])
    agent_stretches, other_stretches = stretches(agent, gap), stretches(other, gap)
    backchannels = set(settings["backchannels"])
    interruptions = []
    overlap = 0.0
    for mine in agent_stretches:
        for theirs in other_stretches:
            both = min(mine.end, theirs.end) - max(mine.start, theirs.start)
            if both <= 0:
                continue
            overlap += both
            cut_in = theirs.start + float(settings["mid_sentence_seconds"]) <= mine.start < theirs.end
            listening = mine.end - mine.start < float(settings["backchannel_max_seconds"]) or all(
                fold(word.text) in backchannels for word in mine.words
            )
            if cut_in and not listening and both >= float(settings["min_overlap_seconds"]):
                interruptions.append((mine, theirs))
    talk = {"agent": sum(s.end - s.start for s in agent_stretches), "other": sum(s.end - s.start for s in other_stretches)}
    return OverlapMeasures(interruptions, overlap, talk)


def check_interruptions(measures: OverlapMeasures, speaker: str, rule: Rule, settings: dict, jurisdiction: Jurisdiction) -> list[Finding]:
    found = measures.interruptions
    if len(found) < int(settings["min_interruptions"]):
        return []
    moments = ", ".join(clock(mine.start) for mine, _ in found)
    evidence = " / ".join(" ".join(w.text for w in mine.words[:6]) for mine, _ in found[:5])
    return [
        rule_finding(
            rule, jurisdiction, speaker=speaker, start=round(found[0][0].start, 2), end=round(found[-1][0].end, 2),
            evidence=evidence,
            explanation=(
                f"the agent started speaking over the other party {len(found)} times (at {moments}),"
                f" both talking for at least {settings['min_overlap_seconds']:g} s each time"
            ),
        )
    ]
