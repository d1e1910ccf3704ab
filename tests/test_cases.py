"""Hard cases written from the check definitions, independent of the rules.

Each `.call` scenario under tests/cases/ (and tests/holdout*/, later blind
batches, measured before the rules were tuned on them) names the checks a
compliance officer would raise for it; the checks must raise exactly those,
among the checks its labels speak for: the contract's three, and under
tests/cases/five/ all five labelled checks (required_disclosure and
ignored_request too).
Scenarios become transcripts with the project's own reader
(`etiquette.scenarios`), which times words the way ../shared/eval/scenario.py
does (tests/test_scenarios.py holds them to that).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from etiquette.checks import run_checks
from etiquette.rulebook import CHECKS, load_rules
from etiquette.scenarios import read_call

HERE = Path(__file__).parent
CALLS = sorted([*HERE.glob("cases/*/*.call"), *HERE.glob("cases/five/*/*.call"), *HERE.glob("holdout*/*/*.call")])
FIVE = set(CHECKS) | {"required_disclosure", "ignored_request"}


def _labelled(call: Path) -> set[str]:
    return FIVE if call.parent.parent.name == "five" else set(CHECKS)


def test_there_are_enough_hard_cases():
    for language in ("en", "es"):
        assert len([c for c in CALLS if c.parent.name == language]) >= 40


@pytest.mark.parametrize("call", CALLS, ids=[c.stem for c in CALLS])
def test_case_raises_exactly_the_expected_checks(call):
    transcript, scenario = read_call(call)
    result = run_checks(transcript, load_rules(transcript.language))
    labelled = _labelled(call)
    raised = {finding.check for finding in result.findings if finding.check in labelled}
    assert raised == set(scenario.expect) & labelled, f"{call.stem}: {scenario.meta.get('note', '')}\n" + "\n".join(
        f"  {f.check} {f.rule} @{f.start:.1f}: {f.evidence}" for f in result.findings
    )
