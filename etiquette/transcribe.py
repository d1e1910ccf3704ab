"""Audio -> Transcript with Vosk: load a model once, decode each channel.

Stereo calls are decoded one channel at a time (left = agent by default), which is
what tells the agent's words from the customer's. Mono calls get one speaker,
`MIXED_SPEAKER`, whose role is unknown.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from etiquette.audio import AudioInfo, Limit, LoudnessMeter, decoded_seconds, ensure_complete, pcm_chunks, probe
from etiquette.errors import ModelError
from etiquette.models.locate import model_layout_problem
from etiquette.types import MIXED_SPEAKER, Loudness, Role, Speaker, Transcript, Word

if TYPE_CHECKING:
    import vosk

SAMPLE_RATE = 16000
LOUDNESS_STEP = 0.5  # seconds: the PCM chunk size, and the resolution of the loudness measure
PROGRESS_BYTES = 16000 * 2 * 5  # tell the progress bar every five seconds of audio decoded


@dataclass(frozen=True, slots=True)
class ChannelTranscript:
    """The words decoded from one channel, how much audio it held, and how loud it was."""

    words: tuple[Word, ...]
    seconds: float
    loudness: tuple[float | None, ...] = ()  # LUFS every LOUDNESS_STEP seconds
    speaker: str = ""


# ---------------------------------------------------------------- model loading

_model_cache: dict[Path, vosk.Model] = {}
_model_lock = threading.Lock()


def load_model(path: str | Path) -> vosk.Model:
    """Load the Vosk model at `path`, once per process (thread-safe)."""
    key = Path(path).resolve()
    with _model_lock:
        cached = _model_cache.get(key)
        if cached is not None:
            return cached
        problem = model_layout_problem(key)
        if problem is not None:
            raise ModelError(f"{key} is not a Vosk model: {problem}")
        import vosk

        with kaldi_messages() as said:
            vosk.SetLogLevel(-1)  # errors and warnings only, and those into `said`, never onto the terminal
            try:
                model = vosk.Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                why = said()
                raise ModelError(f"Vosk could not load the model in {key}: {exc}" + (f" ({why})" if why else "")) from exc
            finally:
                vosk.SetLogLevel(-10)  # and nothing at all while decoding
        _model_cache[key] = model
        return model


_KALDI_LINE = re.compile(r"^(?:LOG|VLOG\[\d+\]|WARNING|ERROR|ASSERTION_FAILED) \((?:VoskAPI|Kaldi)\S*\) ?(.*)$")


@contextlib.contextmanager
def kaldi_messages() -> Iterator[Callable[[], str]]:
    """Kaldi writes its log from C++ straight to file descriptor 2, beside our one-line errors.
    For the block, fd 2 goes to a temporary file; the block can ask what Kaldi's last error said
    (`said()`), and anything else written there meanwhile is passed on to stderr afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)

        def said() -> str:
            capture.seek(0)
            found = [m.group(1) for line in capture.read().decode("utf-8", "replace").splitlines()
                     if (m := _KALDI_LINE.match(line.strip()))]
            return " ".join(found[-1].split())[:200] if found else ""

        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            others = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                      if not _KALDI_LINE.match(line.strip())]
            if others:
                sys.stderr.write("".join(others))


# ---------------------------------------------------------------- decoding


def transcribe_channel(model: vosk.Model, path: str | Path, channel: int | None, speaker: str) -> list[Word]:
    """The words Vosk hears on one channel (None = all channels mixed), in time order."""
    return list(decode_channel(model, path, channel, speaker).words)


def decode_channel(
    model: vosk.Model, path: str | Path, channel: int | None, speaker: str, *, limit: Limit | None = None,
    on_seconds: Callable[[float], None] | None = None,
) -> ChannelTranscript:
    """Decode one channel with its own recogniser; safe to run channels in parallel threads.

    With a `limit`, decoding stops (CallTimeout, Interrupted) when the call runs
    out of time or the run is interrupted. `on_seconds` hears how much audio was
    decoded, every few seconds of it (a progress bar).
    """
    import vosk

    recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    recognizer.SetWords(True)
    meter = LoudnessMeter(SAMPLE_RATE)
    words: list[Word] = []
    levels: list[float | None] = []
    byte_count = reported = 0
    for chunk in pcm_chunks(path, channel, sample_rate=SAMPLE_RATE, chunk_seconds=LOUDNESS_STEP, limit=limit):
        byte_count += len(chunk)
        levels.append(meter.measure(chunk))
        if recognizer.AcceptWaveform(chunk):
            words.extend(_words(recognizer.Result(), speaker))
        if on_seconds is not None and byte_count - reported >= PROGRESS_BYTES:
            on_seconds(decoded_seconds(byte_count - reported, SAMPLE_RATE))
            reported = byte_count
    words.extend(_words(recognizer.FinalResult(), speaker))
    if on_seconds is not None and byte_count > reported:
        on_seconds(decoded_seconds(byte_count - reported, SAMPLE_RATE))
    return ChannelTranscript(tuple(words), decoded_seconds(byte_count, SAMPLE_RATE), tuple(levels), speaker)


def _words(result_json: str, speaker: str) -> Iterable[Word]:
    for item in json.loads(result_json).get("result", []):
        yield Word(
            text=str(item["word"]),
            start=float(item["start"]),
            end=float(item["end"]),
            conf=min(1.0, max(0.0, float(item.get("conf", 1.0)))),
            speaker=speaker,
        )


def channel_plan(info: AudioInfo, agent_channel: str = "left") -> tuple[dict[str, Speaker], list[tuple[int | None, str]]]:
    """Which channels to decode and who speaks on each.

    Stereo (2+ channels): channels 0 and 1 are decoded separately, the left one is
    the agent unless `agent_channel="right"`; further channels are ignored. Mono:
    one pass over the mixed audio, every word said by `MIXED_SPEAKER`.
    """
    if agent_channel not in ("left", "right"):
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    if info.channels >= 2:
        agent, customer = (0, 1) if agent_channel == "left" else (1, 0)
        speakers = {"agent": Speaker(Role.AGENT, channel=agent), "customer": Speaker(Role.CUSTOMER, channel=customer)}
        return speakers, [(agent, "agent"), (customer, "customer")]
    return {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}, [(None, MIXED_SPEAKER)]


def assemble(
    parts: list[ChannelTranscript], info: AudioInfo, speakers: dict[str, Speaker], *, call_id: str, language: str, source: str | Path
) -> Transcript:
    """One transcript from the decoded channels: words merged in time order.

    A file that decoded to far less audio than it declares is an AudioError. The
    duration is the file's own, or the decoded length when ffmpeg only guessed it.
    """
    seconds = max(part.seconds for part in parts)
    ensure_complete(info, seconds)
    words = sorted((w for part in parts for w in part.words), key=lambda w: (w.start, w.end, w.speaker))
    loudness = {part.speaker: Loudness(LOUDNESS_STEP, part.loudness) for part in parts if part.loudness}
    notes = (f"the recording has {info.channels} channels: only the first two were transcribed",) if info.channels > 2 else ()
    return Transcript(
        call_id=call_id,
        language=language,
        duration=seconds if info.duration is None or info.duration_estimated else info.duration,
        speakers=speakers,
        words=tuple(words),
        source=str(source),
        loudness=loudness,
        notes=notes,
    )


def transcribe_audio(
    path: str | Path,
    *,
    call_id: str,
    language: str,
    model: vosk.Model,
    agent_channel: Literal["left", "right"] = "left",
) -> Transcript:
    """Transcribe a call recording, one channel after the other (see `channel_plan`).

    Silence gives zero words, not an error. The batch pipeline runs the same
    steps with the channels in parallel.
    """
    if agent_channel not in ("left", "right"):  # before touching the file
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    info = probe(path)
    speakers, plan = channel_plan(info, agent_channel)
    parts = [decode_channel(model, path, channel, speaker) for channel, speaker in plan]
    return assemble(parts, info, speakers, call_id=call_id, language=language, source=path)
