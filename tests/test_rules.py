"""The rule files document themselves: every example in them is run here."""

from __future__ import annotations

import pytest

from etiquette.checks import run_checks
from etiquette.checks.conversation import has_cue
from etiquette.matching import Utterance
from etiquette.registry import REGISTRY
from etiquette.rulebook import CHECKS, available_languages, example_transcript, load_rules
from etiquette.types import Word

LANGUAGES = available_languages()


def _rules_and_examples(kind: str):
    for language in LANGUAGES:
        for rule in load_rules(language).rules:
            for example in rule.fire if kind == "fire" else rule.pass_:
                yield pytest.param(language, rule, example, id=f"{language}:{rule.id}:{example[:40]}")


def _cue_examples(kind: str):
    for language in LANGUAGES:
        for name, cue in load_rules(language).cues.items():
            for example in cue.matches if kind == "match" else cue.no_matches:
                yield pytest.param(language, name, example, id=f"{language}:{name}:{example[:40]}")


def test_both_languages_have_rule_files():
    assert {"en", "es"} <= set(LANGUAGES)


@pytest.mark.parametrize("language, rule, example", list(_rules_and_examples("fire")))
def test_rule_example_fires(language, rule, example):
    findings = run_checks(example_transcript(example, language), load_rules(language)).findings
    assert rule.id in {finding.rule for finding in findings}, f"{rule.id} did not fire on: {example}"


@pytest.mark.parametrize("language, rule, example", list(_rules_and_examples("pass")))
def test_rule_example_does_not_fire(language, rule, example):
    findings = run_checks(example_transcript(example, language), load_rules(language)).findings
    assert rule.check not in {finding.check for finding in findings}, f"{rule.check} fired on: {example}"


def _utterance(text: str, language: str) -> Utterance:
    words = [Word(token, i * 0.4, i * 0.4 + 0.3, 1.0, "x") for i, token in enumerate(text.split())]
    return Utterance(words, load_rules(language).fillers)


@pytest.mark.parametrize("language, cue, example", list(_cue_examples("match")))
def test_cue_example_matches(language, cue, example):
    assert has_cue(load_rules(language), cue, _utterance(example, language))


@pytest.mark.parametrize("language, cue, example", list(_cue_examples("no_match")))
def test_cue_example_does_not_match(language, cue, example):
    assert not has_cue(load_rules(language), cue, _utterance(example, language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rule_is_documented_and_cited_for_every_jurisdiction(language):
    rules = load_rules(language)
    ids = [rule.id for rule in rules.rules]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    # the contract's three and the two that the labels also know have their rules here, and every
    # rule belongs to a registered check
    assert set(CHECKS) | {"required_disclosure", "ignored_request"} <= {rule.check for rule in rules.rules} <= set(REGISTRY.names())
    for rule in rules.rules:
        assert rule.message and rule.why, rule.id
        for jurisdiction in rules.jurisdictions.values():
            assert rule.reference(jurisdiction), f"{rule.id} has no citation for {jurisdiction.code}"
        if rule.patterns is not None or rule.check in {"third_party_disclosure", "required_disclosure", "ignored_request"}:
            assert rule.fire and rule.pass_, f"{rule.id} needs examples that fire and that do not"


def test_languages_share_rule_ids():
    """A report reads the same whatever the call's language."""
    assert {r.id for r in load_rules("en").rules} == {r.id for r in load_rules("es").rules}


@pytest.mark.parametrize("language, low, high", [("en", 185, 210), ("es", 185, 220)])
def test_rate_threshold_sits_in_the_labelled_gap(language, low, high):
    assert low < load_rules(language).rate.threshold_wpm < high


@pytest.mark.parametrize(
    "tag, jurisdiction",
    [("en", "US"), ("en-US", "US"), ("es", "GENERAL"), ("es-MX", "MX"), ("es-co", "CO"), ("es-PE", "PE"),
     ("es-CL", "CL"), ("es-AR", "AR"), ("es-ES", "ES"), ("es-419", "GENERAL")],
)
def test_language_tags_map_to_jurisdictions(tag, jurisdiction):
    assert load_rules(tag).jurisdiction_for(tag).code == jurisdiction


def test_no_rule_file_for_korean():
    assert load_rules("ko") is None
