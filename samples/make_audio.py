#!/usr/bin/env python3
"""Speak a call transcript into a stereo WAV: the agent on the left, the customer on the right.

    python samples/make_audio.py OUT.wav TRANSCRIPT.json [--rate 16000]

TRANSCRIPT.json is a transcript in the contract's schema (what
shared/eval/scenario.py writes from a .call file). Each turn (a run of one
speaker's words) is said with espeak-ng, trimmed, sped up or slowed down with sox
to fill the time its words take in the transcript, and placed at its start time,
so speaking rates and pauses in the audio follow the transcript.

Needs espeak-ng and sox on PATH; uses nothing else outside the standard library.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

TURN_GAP = 1.0  # seconds of silence that split one speaker's words into two turns
MIN_WPM, MAX_WPM = 80, 450  # espeak-ng's usable speed range


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float
    text: str


def voices(language: str) -> tuple[str, str]:
    """espeak-ng voices (agent, customer) for a BCP-47 tag: a male and a female variant."""
    primary, _, region = language.lower().partition("-")
    if primary == "en":
        base = "en-gb" if region in ("gb", "uk") else "en-us"
    elif primary == "es":
        base = "es" if region == "es" else "es-419"
    else:
        base = primary
    return base, f"{base}+f3"


def turns(words: list[dict]) -> list[Turn]:
    """Runs of one speaker's words in time order, split at pauses longer than TURN_GAP."""
    result: list[Turn] = []
    current: list[dict] = []
    for word in sorted(words, key=lambda w: float(w["start"])):
        if current and (
            word["speaker"] != current[-1]["speaker"] or float(word["start"]) - float(current[-1]["end"]) > TURN_GAP
        ):
            result.append(_turn(current))
            current = []
        current.append(word)
    if current:
        result.append(_turn(current))
    return result


def _turn(words: list[dict]) -> Turn:
    return Turn(
        speaker=words[0]["speaker"],
        start=float(words[0]["start"]),
        end=max(float(w["end"]) for w in words),
        text=" ".join(str(w["word"]) for w in words),
    )


def render(turn: Turn, voice: str, rate: int, workdir: Path) -> array:
    """The turn spoken by espeak-ng as 16-bit mono samples at `rate`, fitted to its time span."""
    span = max(0.2, turn.end - turn.start)
    wpm = round(len(turn.text.split()) / span * 60)
    raw, trimmed, fitted = workdir / "raw.wav", workdir / "trimmed.wav", workdir / "fitted.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(min(MAX_WPM, max(MIN_WPM, wpm))), "-w", str(raw), "--stdin"],
        input=turn.text.encode("utf-8"),
        check=True,
        capture_output=True,
    )
    # Trim espeak's leading and trailing silence so the speech itself fills the span.
    trim = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(trimmed), *trim], check=True, capture_output=True
    )
    factor = _seconds(trimmed) / span
    if abs(factor - 1) > 0.01:
        factor = min(4.0, max(0.25, factor))
        subprocess.run(["sox", str(trimmed), str(fitted), "tempo", "-s", f"{factor:.4f}"], check=True, capture_output=True)
    else:
        fitted = trimmed
    with wave.open(str(fitted)) as w:
        samples = array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def mix_into(track: array, samples: array, at: int) -> None:
    """Add `samples` into `track` from sample index `at`, growing the track and clipping."""
    if len(track) < at + len(samples):
        track.extend([0] * (at + len(samples) - len(track)))
    for i, s in enumerate(samples):
        track[at + i] = max(-32768, min(32767, track[at + i] + s))


def make_audio(transcript: dict, out: Path, rate: int = 16000) -> tuple[int, float]:
    """Write the stereo WAV; returns (turns spoken, seconds of audio)."""
    roles = {key: (info or {}).get("role", key) for key, info in transcript.get("speakers", {}).items()}
    agent_voice, customer_voice = voices(str(transcript.get("language", "en")))
    left, right = array("h"), array("h")
    spoken = turns(transcript.get("words", []))
    with tempfile.TemporaryDirectory(prefix="make_audio-") as tmp:
        for turn in spoken:
            is_agent = roles.get(turn.speaker, turn.speaker) == "agent"
            samples = render(turn, agent_voice if is_agent else customer_voice, rate, Path(tmp))
            mix_into(left if is_agent else right, samples, round(turn.start * rate))

    length = max(len(left), len(right), round(float(transcript.get("duration", 0)) * rate)) + rate // 2
    for track in (left, right):
        track.extend([0] * (length - len(track)))
    frames = array("h", [0]) * (2 * length)
    frames[0::2], frames[1::2] = left, right
    if sys.byteorder == "big":
        frames.byteswap()
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return len(spoken), length / rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the stereo WAV to write")
    parser.add_argument("transcript", type=Path, help="a *.transcript.json file")
    parser.add_argument("--rate", type=int, default=16000, help="sample rate (default 16000)")
    args = parser.parse_args(argv)

    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        print(f"make_audio: needs {' and '.join(missing)} on PATH", file=sys.stderr)
        return 2
    try:
        transcript = json.loads(args.transcript.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{args.transcript}: cannot read the transcript: {exc}", file=sys.stderr)
        return 2
    try:
        count, seconds = make_audio(transcript, args.out, args.rate)
    except subprocess.CalledProcessError as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        print(f"{args.transcript}: {exc.cmd[0]} failed: {stderr[-1] if stderr else exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {count} turns, {seconds:.1f} s, agent left / customer right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
