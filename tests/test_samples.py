"""The sample calls in samples/: they hang together, and `etiquette check samples`
raises on each exactly the checks samples/labels.json expects (this ties the
samples, which the README shows off, to what the checks really do)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from etiquette.audio import probe
from etiquette.cli import main
from etiquette.errors import ModelError
from etiquette.models import resolve_model

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import SAMPLES, assert_valid_report, read_report, read_summary, run
except ImportError:
    from tests.cli_helpers import SAMPLES, assert_valid_report, read_report, read_summary, run

LABELS = json.loads((SAMPLES / "labels.json").read_text(encoding="utf-8"))
IDS = sorted(LABELS)
SCENARIO_PY = Path(__file__).resolve().parents[2] / "shared" / "eval" / "scenario.py"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """`etiquette check samples --out DIR`, once: (exit status, DIR)."""
    out = tmp_path_factory.mktemp("samples-out")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["check", str(SAMPLES), "--out", str(out), "--quiet"])
    return code, out


def test_the_eight_samples_are_all_there() -> None:
    assert IDS == [
        "en-sample-clean", "en-sample-disclosure", "en-sample-fast", "en-sample-threat",
        "es-sample-amenaza", "es-sample-limpia", "es-sample-rapida", "es-sample-tercero",
    ]
    for call_id in IDS:
        assert (SAMPLES / "scenarios" / f"{call_id}.call").is_file()
        assert (SAMPLES / "transcripts" / f"{call_id}.transcript.json").is_file()
        assert (SAMPLES / "audio" / f"{call_id}.flac").is_file()
    assert sorted(p.name for p in (SAMPLES / "transcripts").iterdir()) == [f"{i}.transcript.json" for i in IDS]
    assert sorted(p.name for p in (SAMPLES / "audio").iterdir()) == [f"{i}.flac" for i in IDS]


@pytest.mark.parametrize("call_id", IDS)
def test_labels_match_the_scenario_headers(call_id: str) -> None:
    header = dict(
        line[1:].split(":", 1) for line in (SAMPLES / "scenarios" / f"{call_id}.call").read_text(encoding="utf-8").splitlines()
        if line.startswith("#") and ":" in line
    )
    header = {key.strip(): value.strip() for key, value in header.items()}
    assert header["id"] == call_id
    assert header["lang"] == LABELS[call_id]["language"]
    assert sorted(c.strip() for c in header["expect"].split(",") if c.strip()) == sorted(LABELS[call_id]["expect"])


@pytest.mark.parametrize("call_id", IDS)
def test_each_sample_raises_exactly_its_expected_checks(checked: tuple[int, Path], call_id: str) -> None:
    _, out = checked
    report = read_report(out, call_id)
    raised = {finding["check"] for finding in report["findings"]}
    expected = set(LABELS[call_id]["expect"])
    found = [f"{f['check']}/{f['rule']} at {f['start']} s: {f['evidence']!r}" for f in report["findings"]]
    assert raised == expected, f"{call_id} ({LABELS[call_id]['note']}): expected {sorted(expected)}, found {found}"


def test_check_samples_uses_the_transcripts_and_names_the_audio(checked: tuple[int, Path]) -> None:
    """One summary row per input: the transcript is checked, its audio is listed as paired."""
    code, out = checked
    rows = read_summary(out)
    assert sorted(row["call_id"] for row in rows) == sorted(IDS * 2)
    for row in rows:
        transcript_path = SAMPLES / "transcripts" / f"{row['call_id']}.transcript.json"
        audio_path = SAMPLES / "audio" / f"{row['call_id']}.flac"
        if row["status"] == "paired":
            assert Path(row["input"]).resolve() == audio_path.resolve()
            assert "transcript" in row["error"] and "--retranscribe" in row["error"]
            continue
        assert row["status"] == "ok"
        assert Path(row["input"]).resolve() == transcript_path.resolve()
        report = read_report(out, row["call_id"])
        assert_valid_report(report, json.loads(transcript_path.read_text(encoding="utf-8")))
        assert Path(report["audio"]).resolve() == audio_path.resolve()
        assert "transcript" not in report  # nothing was transcribed, so no transcript was written
    assert sum(row["status"] == "paired" for row in rows) == len(IDS)
    assert code == 1


def test_retranscribe_without_an_english_model_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETIQUETTE_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    try:
        found = resolve_model("en")
    except ModelError:
        pass
    else:
        pytest.skip(f"an English model is installed ({found.path})")
    result = run(capsys, "check", SAMPLES, "--retranscribe", "--out", tmp_path / "out", "--quiet")
    assert result.code == 2
    assert len(result.err_lines) == len(IDS)
    for call_id, line in zip(IDS, sorted(result.err_lines)):
        audio = (SAMPLES / "audio" / f"{call_id}.flac").resolve()
        assert line.startswith(f"{audio}: no Vosk model for language 'en'"), line
        assert "https://alphacephei.com/vosk/models" in line


@pytest.mark.parametrize("call_id", IDS)
def test_audio_is_stereo_16k_and_as_long_as_the_transcript(call_id: str) -> None:
    info = probe(SAMPLES / "audio" / f"{call_id}.flac")
    transcript = json.loads((SAMPLES / "transcripts" / f"{call_id}.transcript.json").read_text(encoding="utf-8"))
    assert (info.codec, info.channels, info.sample_rate) == ("flac", 2, 16000)
    assert info.duration is not None
    assert transcript["duration"] <= info.duration <= transcript["duration"] + 1.5


def test_samples_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 15_000_000, f"samples/ holds {total / 1e6:.1f} MB"


def test_transcripts_are_what_scenario_py_makes(tmp_path: Path) -> None:
    """The committed transcripts and labels are scenario.py's output for the committed .call files."""
    if not SCENARIO_PY.is_file():
        pytest.skip(f"no {SCENARIO_PY}")
    calls = sorted(str(p) for p in (SAMPLES / "scenarios").glob("*.call"))
    subprocess.run([sys.executable, str(SCENARIO_PY), str(tmp_path), *calls], check=True, capture_output=True)
    for call_id in IDS:
        made = (tmp_path / f"{call_id}.transcript.json").read_text(encoding="utf-8")
        assert made == (SAMPLES / "transcripts" / f"{call_id}.transcript.json").read_text(encoding="utf-8"), call_id
    assert json.loads((tmp_path / "labels.json").read_text(encoding="utf-8")) == LABELS
