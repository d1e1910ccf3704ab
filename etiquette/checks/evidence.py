"""Turning a matched span of a turn into a finding: the words said, their times."""

from __future__ import annotations

from etiquette.checks.conversation import Turn
from etiquette.rulebook import Jurisdiction, Rule
from etiquette.types import Finding

CONTEXT_WORDS = 4  # words of context kept on each side of the matched words
MAX_EVIDENCE_WORDS = 30


def clock(seconds: float) -> str:
    """00:41 style time, for explanations a person reads."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes:02d}:{secs:02d}"


def rule_finding(
    rule: Rule, jurisdiction: Jurisdiction, *, speaker: str, start: float, end: float, evidence: str, explanation: str
) -> Finding:
    """A finding under `rule`, citing the reference for the call's jurisdiction."""
    return Finding(
        check=rule.check,
        rule=rule.id,
        severity=rule.severity,
        speaker=speaker,
        start=start,
        end=end,
        evidence=evidence,
        reference=rule.reference(jurisdiction),
        message=rule.message,
        explanation=explanation,
    )


def finding_for_span(
    rule: Rule, jurisdiction: Jurisdiction, turn: Turn, first_token: int, last_token: int, explanation: str
) -> Finding:
    utterance = turn.utterance
    first_word = max(0, utterance.word_index(first_token) - CONTEXT_WORDS)
    last_word = min(len(turn.words) - 1, utterance.word_index(last_token) + CONTEXT_WORDS)
    last_word = min(last_word, first_word + MAX_EVIDENCE_WORDS - 1)
    said = turn.words[first_word : last_word + 1]
    return rule_finding(
        rule, jurisdiction, speaker=turn.speaker, start=said[0].start, end=said[-1].end,
        evidence=" ".join(word.text for word in said), explanation=explanation,
    )
