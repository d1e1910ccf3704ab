"""aggressive_language: the agent threatens, insults, shames or swears at the person.

Only the agent's words count: the customer's swearing is not the agent's
violation. A rule marked negatable does not fire on a negated phrase ("you will
not be arrested", "nadie lo va a meter preso").
"""

from __future__ import annotations

from typing import Sequence

from etiquette.checks.conversation import Turn
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.rulebook import Jurisdiction, Rule, RuleSet
from etiquette.types import Finding, Role

CHECK = "aggressive_language"


def check_aggression(
    turns: Sequence[Turn], rules: RuleSet, jurisdiction: Jurisdiction, roles: frozenset[Role] = frozenset({Role.AGENT})
) -> list[Finding]:
    """One finding per rule and turn, for turns by speakers of the given roles."""
    findings: list[Finding] = []
    for turn in turns:
        if turn.role not in roles:
            continue
        for rule in rules.rules_for(CHECK):
            if rule.patterns is None:
                continue
            span = _first_match(turn, rule, rules)
            if span is not None:
                first, last = span
                at = turn.utterance.words_for(first, last)[0].start
                findings.append(
                    finding_for_span(rule, jurisdiction, turn, first, last, f"{rule.message.lower()} at {clock(at)}")
                )
    return findings


def _first_match(turn: Turn, rule: Rule, rules: RuleSet) -> tuple[int, int] | None:
    utterance = turn.utterance
    excepted = {token for pattern in rule.exceptions for a, b in utterance.find(pattern) for token in range(a, b + 1)}
    best = None
    for pattern in rule.patterns.patterns:
        for first, last in utterance.find(pattern):
            if excepted & set(range(first, last + 1)):
                continue
            if rule.negatable and rules.negation.negates(
                utterance.tokens, first, last if rule.negation_inside else None
            ):
                continue
            if best is None or first < best[0]:
                best = (first, last)
            break
    return best
