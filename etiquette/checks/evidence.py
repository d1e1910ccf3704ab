"""Turning a matched span of a turn into a finding: the words said, their times."""

from __future__ import annotations

from etiquette.checks.conversation import Turn
from etiquette.matching import fold
from etiquette.rulebook import Jurisdiction, Rule
from etiquette.types import Finding

CONTEXT_WORDS = 2  # words of context kept on each side of the matched words, inside their clause
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
    rule: Rule,
    jurisdiction: Jurisdiction,
    turn: Turn,
    first_token: int,
    last_token: int,
    explanation: str,
    clause_starts: frozenset[str] = frozenset(),
) -> Finding:
    """A finding quoting the matched words with a word or two of their clause around them.

    `clause_starts` are the words that open a new clause ("but", "so", "i'm"):
    context never reaches across one, so the quote is the phrase that matched,
    not the middle of the next sentence.
    """
    words = turn.words
    first = turn.utterance.word_index(first_token)
    last = turn.utterance.last_word_index(last_token)
    if first > 0 and fold(words[first].text) not in clause_starts:
        for step in range(1, CONTEXT_WORDS + 2):  # a clause opener just out of reach still starts the quote
            if first - step < 0:
                break
            if fold(words[first - step].text) in clause_starts:
                first -= step
                break
        else:
            first = max(0, first - CONTEXT_WORDS)
    for _ in range(CONTEXT_WORDS):
        if last + 1 >= len(words) or fold(words[last + 1].text) in clause_starts:
            break
        last += 1
    last = min(last, first + MAX_EVIDENCE_WORDS - 1)
    said = words[first : last + 1]
    return rule_finding(
        rule, jurisdiction, speaker=turn.speaker, start=said[0].start, end=said[-1].end,
        evidence=" ".join(word.text for word in said), explanation=explanation,
    )
