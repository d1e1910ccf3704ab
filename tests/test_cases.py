"""Hard cases written from the check definitions, independent of the rules.

Each `.call` scenario under tests/cases/ (and tests/holdout*/, later blind
batches, measured before the rules were tuned on them) names the checks a compliance officer would raise for it; the checks
must raise exactly those. Scenarios become transcripts with the project's
shared scenario tool (../shared/eval/scenario.py), as the dev set did.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from etiquette.checks import run_checks
from etiquette.rulebook import CHECKS, load_rules
from etiquette.transcripts import transcript_from_dict

HERE = Path(__file__).parent
SCENARIO_TOOL = HERE.parents[1] / "shared" / "eval" / "scenario.py"
CALLS = sorted([*HERE.glob("cases/*/*.call"), *HERE.glob("holdout*/*/*.call")])


@pytest.fixture(scope="module")
def scenario():
    if not SCENARIO_TOOL.is_file():
        pytest.skip(f"the scenario tool is not at {SCENARIO_TOOL}")
    spec = importlib.util.spec_from_file_location("scenario", SCENARIO_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_enough_hard_cases():
    for language in ("en", "es"):
        assert len([c for c in CALLS if c.parent.name == language]) >= 40


@pytest.mark.parametrize("call", CALLS, ids=[c.stem for c in CALLS])
def test_case_raises_exactly_the_expected_checks(scenario, call):
    data, expected, note = scenario.build(call)
    transcript = transcript_from_dict(json.loads(json.dumps(data)), default_call_id=call.stem)
    result = run_checks(transcript, load_rules(transcript.language))
    raised = {finding.check for finding in result.findings if finding.check in CHECKS}  # labels know these three
    assert raised == set(expected), f"{call.stem}: {note}\n" + "\n".join(
        f"  {f.check} {f.rule} @{f.start:.1f}: {f.evidence}" for f in result.findings
    )
