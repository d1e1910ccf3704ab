"""The pattern index (etiquette.patterns) only ever rules patterns out: every pattern that
matches a turn is among the candidates RE2's filter returns for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from etiquette.checks.conversation import turns_of
from etiquette.patterns import Pattern, PatternIndex, for_re2
from etiquette.rulebook import load_rules
from etiquette.scenarios import read_call

HERE = Path(__file__).parent
CALLS = sorted([*HERE.glob("cases/*/*.call"), *HERE.glob("corpus/realword/*/*/*.call")])


def _patterns(rules) -> list[Pattern]:
    sets = [*rules.cues.values(), *(rule.patterns for rule in rules.rules if rule.patterns)]
    found = [pattern for each in sets for pattern, _ in each.each_pattern()]
    return found + [exception for rule in rules.rules for exception in rule.exceptions]


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_pattern_that_matches_is_ruled_out(language):
    rules = load_rules(language)
    patterns = _patterns(rules)
    assert all(pattern.index is not None for pattern in patterns)
    checked = matched = 0
    for call in (c for c in CALLS if c.parent.name == language):
        transcript, _ = read_call(call)
        for turn in turns_of(transcript, rules):
            utterance = turn.utterance
            for pattern in patterns:
                text = utterance.lemma_text if pattern.reading == "lemma" else utterance.text
                if pattern.search(text):
                    matched += 1
                    assert pattern.may_match(utterance, pattern.reading), f"{call.stem}: {pattern.pattern[:120]} on {text!r}"
            checked += 1
    assert checked > 1000 and matched > 1000  # the test saw real matches, not an empty corpus


def test_the_index_rules_out_what_cannot_match():
    index = PatternIndex()
    police = index.add(r"(?<![\w'])(?:police|sheriff)(?![\w'])")
    court = index.add(r"(?<![\w'])(?:take you to court)(?![\w'])")

    class Said:
        def __init__(self, text):
            self.text, self.lemma_text, self.prefiltered = text, text, {}

    said = Said("we will call the police")
    assert police.may_match(said, "text") and not court.may_match(said, "text")
    assert police.may_match(Said("la policía"), "text")  # text RE2 reads differently is never filtered


def test_what_re2_is_given_matches_at_least_as_much():
    assert for_re2(r"(?<![\w'])(?:go (?:[\w']+ ){0,3}jail)(?:(?<= )|(?![\w']))") == r"(?:go (?:[\w']+ )*jail)(?:|)"
    assert for_re2(r"[(?!]x\bq{2}") == r"[(?!]xq*"
