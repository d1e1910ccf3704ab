"""The project's own `.call` reader gives the transcripts the shared scenario tool gives."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from etiquette.scenarios import ScenarioError, conversation, parse, read_call
from etiquette.transcripts import transcript_from_dict, transcript_to_dict

HERE = Path(__file__).parent
SHARED_TOOL = HERE.parents[1] / "shared" / "eval" / "scenario.py"
SOME_CALLS = sorted(HERE.glob("cases/*/*.call"))[:6] + sorted(HERE.glob("holdout/es/*.call"))[:6] + sorted(
    (HERE.parent / "samples" / "scenarios").glob("*.call"))


@pytest.mark.parametrize("call", SOME_CALLS, ids=[c.stem for c in SOME_CALLS])
def test_same_transcript_as_the_shared_tool(call: Path) -> None:
    if not SHARED_TOOL.is_file():
        pytest.skip(f"the shared tool is not at {SHARED_TOOL} (the cases themselves still run: test_cases.py)")
    spec = importlib.util.spec_from_file_location("scenario", SHARED_TOOL)
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    data, expected, note = shared.build(call)
    theirs = transcript_from_dict(json.loads(json.dumps(data)), default_call_id=call.stem)
    ours, scenario = read_call(call)
    assert transcript_to_dict(ours) == transcript_to_dict(theirs)
    assert scenario.expect == expected and scenario.meta.get("note", "") == note


def test_turns_separated_by_slashes_and_a_bare_line() -> None:
    typed = conversation("C: hello / A: is this ana / C: yes", "en")
    assert [w.speaker for w in typed.words] == ["customer", "agent", "agent", "agent", "customer"]
    bare = conversation("you owe the balance", "en")
    assert {w.speaker for w in bare.words} == {"agent"}


def test_audio_markers_overlap_and_loudness() -> None:
    typed = conversation("C: one two three four five six seven eight\nA>: nine ten eleven\nA+12dB: louder now please", "en")
    customer_end = max(w.end for w in typed.words if w.speaker == "customer")
    agent_start = min(w.start for w in typed.words if w.speaker == "agent")
    assert agent_start < customer_end  # the agent started while the customer was still talking
    levels = [v for v in typed.loudness["agent"].values if v is not None]
    assert max(levels) - min(levels) == pytest.approx(12.0)


def test_a_line_that_is_not_a_turn_is_refused() -> None:
    with pytest.raises(ScenarioError):
        parse("A: hello\nB: who is B")
