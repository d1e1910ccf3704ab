"""The real-wording corpus: calls built around what real collectors said (court records,
regulators' orders, news reports, consumers' accounts; tests/corpus/realword/SOURCES-*.md),
labelled from the check definitions by two readers; and blind16, written from the definitions of
the two newer checks by someone who never saw the rules (tests/corpus/blind16/).

Each call must raise exactly the checks its label expects, among the checks the labels were
written for; the few the rules still get wrong are listed, with the reason, in
known-misses.toml, and are expected to fail: a fix makes the test say the list is stale.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from etiquette.checks import run_checks
from etiquette.rulebook import CHECKS, load_rules
from etiquette.scenarios import read_call

CORPUS = Path(__file__).parent / "corpus" / "realword"
BLIND16 = Path(__file__).parent / "corpus" / "blind16"
CALLS = sorted([*CORPUS.glob("*/*/*.call"), *BLIND16.glob("*/*.call")])
LABELLED = set(CHECKS) | {"required_disclosure", "ignored_request"}  # what these labels speak for
KNOWN_MISSES = tomllib.loads((CORPUS / "known-misses.toml").read_text(encoding="utf-8"))


def test_the_corpus_is_there_in_both_languages_and_parts():
    for part in ("dev", "blind"):
        for language in ("en", "es"):
            assert len(list((CORPUS / part / language).glob("*.call"))) >= 25


def test_every_known_miss_is_a_call_of_the_corpus():
    assert set(KNOWN_MISSES) <= {call.stem for call in CALLS}


def _case(call: Path):
    miss = KNOWN_MISSES.get(call.stem)
    marks = [pytest.mark.xfail(strict=True, reason=miss["why"])] if miss else []
    return pytest.param(call, id=f"{call.parent.parent.name}-{call.stem}", marks=marks)


def test_blind16_has_enough_calls_for_the_newer_checks():
    for language in ("en", "es"):
        assert len(list((BLIND16 / language).glob("*.call"))) >= 40


@pytest.mark.parametrize("call", [_case(call) for call in CALLS])
def test_call_raises_exactly_the_expected_checks(call):
    transcript, scenario = read_call(call)
    result = run_checks(transcript, load_rules(transcript.language))
    raised = {finding.check for finding in result.findings if finding.check in LABELLED}
    assert raised == set(scenario.expect) & LABELLED, f"{call.stem}: {scenario.meta.get('note', '')}\n" + "\n".join(
        f"  {f.check} {f.rule} @{f.start:.1f}: {f.evidence}" for f in result.findings
    )
