"""`etiquette.cli.main` end to end: reports, summary.csv, exit statuses and usage errors.

Everything here checks transcripts, so no speech model is loaded; the tests that
transcribe audio are in test_korean_cli.py and test_bad_input.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

import etiquette
from etiquette.cli import main
from etiquette.errors import ModelError
from etiquette.models import resolve_model

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import (
        DEV, SAMPLES, assert_valid_report, files_left, read_report, read_summary, run, transcript_call_id,
    )
except ImportError:
    from tests.cli_helpers import (
        DEV, SAMPLES, assert_valid_report, files_left, read_report, read_summary, run, transcript_call_id,
    )

CLEAN = SAMPLES / "transcripts" / "en-sample-clean.transcript.json"


# ================================================================== the labelled dev calls


@pytest.fixture(scope="module")
def dev_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, str]:
    """`etiquette check DEV --out DIR` once for the module: (exit status, DIR, stderr)."""
    if not DEV.is_dir():
        pytest.skip(f"no labelled calls at {DEV}")
    out = tmp_path_factory.mktemp("dev-reports")
    err = io.StringIO()  # module fixtures cannot use capsys
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["check", str(DEV), "--out", str(out), "--quiet"])
    return code, out, err.getvalue()


def test_dev_set_writes_a_valid_report_for_every_call(dev_run: tuple[int, Path, str]) -> None:
    code, out, err = dev_run
    transcripts = sorted(DEV.glob("*.transcript.json"))
    assert len(transcripts) >= 10
    assert err == ""
    for path in transcripts:
        transcript = json.loads(path.read_text(encoding="utf-8"))
        transcript.setdefault("call_id", transcript_call_id(path))
        report = read_report(out, transcript["call_id"])
        assert_valid_report(report, transcript)
        assert report["fail_on"] == "medium"
        assert Path(report["source"]).resolve() == path.resolve()
    # The dev set holds calls that break the rules: the run as a whole fails.
    assert code == 1


def test_dev_summary_has_one_row_per_input(dev_run: tuple[int, Path, str]) -> None:
    _, out, _ = dev_run
    rows = read_summary(out)
    transcripts = sorted(DEV.glob("*.transcript.json"))
    assert len(rows) == len(transcripts)
    assert {Path(row["input"]).resolve() for row in rows} == {p.resolve() for p in transcripts}
    for row in rows:
        report = read_report(out, row["call_id"])
        assert row["status"] == "ok"
        assert row["verdict"] == report["verdict"]
        assert row["language"] == report["language"]
        assert row["report"] == f"{row['call_id']}.report.json"
        assert int(row["findings"]) == len(report["findings"])
        for check in ("speaking_rate", "third_party_disclosure", "aggressive_language"):
            assert int(row[check]) == sum(f["check"] == check for f in report["findings"]), (row["call_id"], check)
    assert any(row["verdict"] == "fail" for row in rows) and any(row["verdict"] == "pass" for row in rows)
    assert files_left(out) == sorted([f"{row['call_id']}.report.json" for row in rows] + ["summary.csv"])


# ================================================================== version, help, exit statuses


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--version")
    assert result.code == 0
    assert result.out.strip() == f"etiquette {etiquette.__version__}"


def test_check_help_explains_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    assert "Exit status" in text
    for status in ("0 all processed and no failing finding", "1 failing findings", "2 bad usage or no speech model",
                   "3 at least one input could not be processed"):
        assert status in text, status
    for option in ("--out", "--language", "--model", "--agent-channel", "--fail-on", "--retranscribe"):
        assert option in text, option


def test_clean_transcript_alone_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run(capsys, "check", CLEAN, "--out", tmp_path)
    assert result.code == 0, result.err
    assert result.err == ""
    report = read_report(tmp_path, "en-sample-clean")
    assert_valid_report(report, json.loads(CLEAN.read_text(encoding="utf-8")))
    assert report["verdict"] == "pass" and report["findings"] == []
    assert [row["call_id"] for row in read_summary(tmp_path)] == ["en-sample-clean"]
    assert "1 checked, 0 failed, 0 could not be processed" in " ".join(result.out.split())


def test_fail_on_sets_which_findings_fail_a_call(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    transcripts = SAMPLES / "transcripts"
    verdicts: dict[str, dict[str, str]] = {}
    codes = {}
    for level in ("low", "high"):
        out = tmp_path / level
        result = run(capsys, "check", transcripts, "--out", out, "--fail-on", level, "--quiet")
        codes[level] = result.code
        for path in sorted(transcripts.glob("*.transcript.json")):
            report = read_report(out, path.name.removesuffix(".transcript.json"))
            assert report["fail_on"] == level
            assert_valid_report(report, json.loads(path.read_text(encoding="utf-8")), fail_on=level)
            verdicts.setdefault(report["call_id"], {})[level] = report["verdict"]
    # Raising the bar only ever turns fails into passes, and some sample has only findings below "high".
    assert all(not (v["high"] == "fail" and v["low"] == "pass") for v in verdicts.values())
    assert any(v["low"] == "fail" and v["high"] == "pass" for v in verdicts.values()), verdicts
    assert codes["low"] == 1
    assert codes["high"] == (1 if any(v["high"] == "fail" for v in verdicts.values()) else 0)


def test_only_passing_calls_with_high_bar_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A speaking_rate finding is a failure at "medium" but not at "high".
    fast = SAMPLES / "transcripts" / "en-sample-fast.transcript.json"
    assert run(capsys, "check", fast, "--out", tmp_path / "m").code == 1
    report = read_report(tmp_path / "m", "en-sample-fast")
    assert {f["severity"] for f in report["findings"]} == {"medium"}, "this test assumes medium rate findings"
    assert run(capsys, "check", fast, "--out", tmp_path / "h", "--fail-on", "high").code == 0
    assert read_report(tmp_path / "h", "en-sample-fast")["verdict"] == "pass"


# ================================================================== bad usage: exit 2, nothing checked


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", CLEAN, "--out", "{out}", "--bogus"], "No such option: --bogus"),
        (["check", CLEAN], "Missing option '--out'"),
        (["check", "--out", "{out}"], "Missing argument"),
        (["check", CLEAN, "--out", "{out}", "--fail-on", "extreme"], "--fail-on"),
        (["check", CLEAN, "--out", "{out}", "--agent-channel", "middle"], "--agent-channel"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[object], message: str) -> None:
    out = tmp_path / "out"
    result = run(capsys, *[str(a).replace("{out}", str(out)) for a in args])
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not out.exists() or files_left(out) == []


def test_a_model_that_does_not_exist_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run(capsys, "check", CLEAN, "--out", tmp_path / "out", "--model", "/nonexistent/model")
    assert result.code == 2
    assert "--model" in result.err and "/nonexistent/model does not exist" in result.err
    assert not (tmp_path / "out").exists()


def test_an_out_folder_that_cannot_be_made_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a_file = tmp_path / "reports.txt"
    a_file.write_text("not a folder")
    result = run(capsys, "check", CLEAN, "--out", a_file)
    assert result.code == 2
    assert f"{a_file} is a file, not a folder" in " ".join(result.err.split())
    assert a_file.read_text() == "not a folder"
    result = run(capsys, "check", CLEAN, "--out", a_file / "reports")
    assert result.code == 2
    assert "cannot create" in result.err and "internal error" not in result.err


def test_a_folder_without_calls_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a call")
    result = run(capsys, "check", tmp_path / "empty", "--out", tmp_path / "out")
    assert result.code == 2
    assert "no audio or transcript files found" in result.err


# ================================================================== no speech model for the audio's language


def test_audio_without_a_model_exits_2_and_transcripts_are_still_reported(
    capsys: pytest.CaptureFixture[str], clean_env: Path, tmp_path: Path
) -> None:
    try:
        found = resolve_model("en")
    except ModelError:
        pass
    else:
        pytest.skip(f"an English model is installed ({found.path}): this test needs a language without one")
    batch = tmp_path / "batch"
    batch.mkdir()
    audio = batch / "en-call-without-model.flac"
    shutil.copy(SAMPLES / "audio" / "en-sample-threat.flac", audio)
    shutil.copy(CLEAN, batch / CLEAN.name)
    out = tmp_path / "out"

    result = run(capsys, "check", batch, "--language", "en", "--out", out)

    assert result.code == 2
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith(f"{audio}: no Vosk model for language 'en'")
    for place in ("--model", "ETIQUETTE_MODEL", str(clean_env / "models" / "en"), "vosk_model_en",
                  "https://alphacephei.com/vosk/models"):
        assert place in line, place
    assert "Traceback" not in result.err
    # The transcript in the same batch is fully reported; the audio is listed with its error.
    assert read_report(out, "en-sample-clean")["verdict"] == "pass"
    rows = {row["call_id"]: row for row in read_summary(out)}
    assert rows["en-sample-clean"]["status"] == "ok"
    assert rows["en-call-without-model"]["status"] == "error"
    assert rows["en-call-without-model"]["error"].startswith("no Vosk model for language 'en'")
    assert files_left(out) == ["en-sample-clean.report.json", "summary.csv"]
