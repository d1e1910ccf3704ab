"""Phrase matching over recognised speech: what a doubtful word can and cannot prove."""

from __future__ import annotations

from etiquette.checks.conversation import cue_spans
from etiquette.matching import Utterance
from etiquette.rulebook import load_rules
from etiquette.types import Word


def _heard(text: str, doubtful: set[str], language: str) -> tuple[Utterance, object]:
    """Words one per 0.4 s; those in `doubtful` heard with confidence 0.45 (a likely mishearing)."""
    rules = load_rules(language)
    words = [Word(token, i * 0.4, i * 0.4 + 0.3, 0.45 if token in doubtful else 0.95, "agent")
             for i, token in enumerate(text.split())]
    return Utterance(words, rules.hearing), rules


def test_a_cue_that_accuses_needs_a_clearly_heard_word_beyond_the_function_words():
    # "le apunto la preferencia del..." or any word misheard as "referencia": doubtful, beside a clear "del"
    text = "pues le apunto la referencia del senor vega para el viernes"
    said, rules = _heard(text, {"referencia"}, "es")
    assert rules.cue("debt_of_someone_else").clear_words
    assert not cue_spans(rules.cue("debt_of_someone_else"), said, rules)
    said, rules = _heard(text, set(), "es")
    assert cue_spans(rules.cue("debt_of_someone_else"), said, rules)  # heard clearly, it would count


def test_a_doubtful_word_beside_clear_ones_still_counts_where_the_cue_does_not_accuse():
    # "this is she" with "she" doubtful: a confirmation may rest on the clear words around it
    said, rules = _heard("yes this is she", {"she"}, "en")
    assert not rules.cue("confirms_identity").clear_words
    assert cue_spans(rules.cue("confirms_identity"), said, rules)


def test_a_match_of_doubtful_words_only_is_no_evidence_for_any_cue():
    said, rules = _heard("yes this is she", {"yes", "this", "is", "she"}, "en")
    assert not cue_spans(rules.cue("confirms_identity"), said, rules)
