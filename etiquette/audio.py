"""Audio in: find ffmpeg, probe a file, and stream one channel as 16 kHz mono PCM.

Everything goes through an ffmpeg subprocess (an argument list, never a shell), so
any format ffmpeg reads is accepted. Failures become one-line `AudioError`s that
quote the last useful line of ffmpeg's stderr.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from etiquette.containers import check_complete
from etiquette.errors import AudioError, CallTimeout, Interrupted

SAMPLE_WIDTH = 2  # bytes per sample: signed 16-bit little-endian
PROBE_TIMEOUT = 60.0  # seconds; reading a header should never take this long
WATCH_INTERVAL = 0.1  # seconds between a watchdog's looks at a call's time limit

# Channel counts of the layout names ffmpeg prints in its "Audio:" stream line.
_LAYOUT_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "downmix": 2,
    "quad": 4,
    "hexagonal": 6,
    "octagonal": 8,
    "hexadecagonal": 16,
    "cube": 8,
}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What ffmpeg says about a file's first audio stream."""

    duration: float | None  # seconds; None when the container does not say
    channels: int
    sample_rate: int
    codec: str
    duration_estimated: bool = False  # ffmpeg guessed the duration from the bitrate


def ffmpeg_exe() -> str:
    """The ffmpeg to run: a system `ffmpeg` on PATH, else the one imageio-ffmpeg ships.

    Also points pydub's `AudioSegment.converter` at it, so pydub can *write* audio
    (pydub is never used to read: its `from_file` needs ffprobe).
    """
    exe = shutil.which("ffmpeg")
    if exe is None:
        try:
            import imageio_ffmpeg

            exe = imageio_ffmpeg.get_ffmpeg_exe()
        except (ImportError, RuntimeError) as exc:
            raise AudioError(
                "ffmpeg not found: install ffmpeg on PATH or the imageio-ffmpeg package"
            ) from exc
    _point_pydub_at(exe)
    return exe


def _point_pydub_at(exe: str) -> None:
    try:
        with warnings.catch_warnings():
            # pydub warns at import when ffmpeg is not on PATH (we are about to tell
            # it where ffmpeg is) and Python 3.11+ warns about its audioop import.
            warnings.simplefilter("ignore")
            from pydub import AudioSegment
    except ImportError:
        return
    AudioSegment.converter = exe


def probe(path: str | Path) -> AudioInfo:
    """Duration, channels, sample rate and codec of the file's first audio stream."""
    path = Path(path)
    _check_readable(path)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", _ffmpeg_input(path)]
    try:
        # With no output file ffmpeg always exits non-zero: the banner is what we want.
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=PROBE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"ffmpeg took more than {PROBE_TIMEOUT:.0f} s to read the header") from exc
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg: {exc.strerror or exc}") from exc
    info = parse_ffmpeg_banner(proc.stderr.decode("utf-8", errors="replace"))
    try:
        check_complete(path)  # a cut WAV or Ogg decodes without complaint: its container tells
    except OSError as exc:
        raise AudioError(f"cannot read: {exc.strerror or exc}") from exc
    return info


def parse_ffmpeg_banner(banner: str) -> AudioInfo:
    """Read an `ffmpeg -i FILE` banner; AudioError when it shows no usable audio stream."""
    if "Input #0" not in banner:
        raise AudioError(f"ffmpeg cannot read it: {_last_error_line(banner)}")
    stream = re.search(r"^\s*Stream #\d+:\d+\S*: Audio: (.*)$", banner, re.MULTILINE)
    if stream is None:
        raise AudioError("the file has no audio stream")
    fields = [f.strip() for f in stream.group(1).split(",")]
    codec = fields[0].split()[0] if fields[0] else "unknown"

    rate_index = next((i for i, f in enumerate(fields) if re.fullmatch(r"\d+ Hz", f)), None)
    if rate_index is None or rate_index + 1 >= len(fields):
        raise AudioError(f"cannot read the audio stream's sample rate and channels: {codec}")
    sample_rate = int(fields[rate_index].split()[0])
    channels = _channel_count(fields[rate_index + 1])
    if channels is None or channels < 1 or sample_rate < 1:
        raise AudioError(f"cannot tell how many channels the audio has: {fields[rate_index + 1]!r}")

    duration = None
    match = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", banner)
    if match:
        hours, minutes, seconds = match.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return AudioInfo(
        duration=duration,
        channels=channels,
        sample_rate=sample_rate,
        codec=codec,
        duration_estimated="Estimating duration from bitrate" in banner,
    )


def _channel_count(layout: str) -> int | None:
    """Channels in an ffmpeg layout name: "mono", "stereo", "2 channels", "5.1(side)", "FL+FR"..."""
    layout = layout.strip().lower()
    if match := re.match(r"(\d+) channels?\b", layout):
        return int(match.group(1))
    base = layout.split("(")[0].strip()
    if base in _LAYOUT_CHANNELS:
        return _LAYOUT_CHANNELS[base]
    if match := re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", base):  # 5.1, 7.1, 2.1, 5.1.4
        return sum(int(g) for g in match.groups() if g)
    if "+" in base:  # an explicit channel list such as "fl+fr+lfe"
        return len(base.split("+"))
    return None


class Limit:
    """When a call's decoding must stop: past its time limit, or on request (Ctrl-C).

    One Limit is shared by the channels of a call; its clock runs while at least
    one of them is decoding, so time spent waiting for a worker is free, for the
    call's first channel and for its others (a channel that waits for a decoding
    slot held by another call's long channel does not eat into its call's time).
    """

    def __init__(self, timeout: float | None = None, cancel: threading.Event | None = None):
        self.timeout = timeout
        self.cancel = cancel or threading.Event()  # shared by the whole run (Ctrl-C)
        self._call_cancelled = threading.Event()  # this call only (another channel failed)
        self._decoding = 0  # channels decoding now
        self._spent = 0.0  # seconds of decoding before `_since`
        self._since: float | None = None  # when the channels decoding now began, None when none is
        self._lock = threading.Lock()

    def cancel_call(self) -> None:
        self._call_cancelled.set()

    def start(self) -> None:
        """A channel begins decoding."""
        with self._lock:
            self._decoding += 1
            if self._since is None:
                self._since = time.monotonic()

    def stop(self) -> None:
        """A channel is done decoding."""
        with self._lock:
            self._decoding -= 1
            if self._decoding == 0 and self._since is not None:
                self._spent += time.monotonic() - self._since
                self._since = None

    def _elapsed(self) -> float:
        with self._lock:
            return self._spent + (0.0 if self._since is None else time.monotonic() - self._since)

    def remaining(self) -> float | None:
        """Seconds left of the time limit (all of it before the call started), or None without one."""
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - self._elapsed())

    def exceeded(self) -> str | None:
        """Why decoding must stop now, or None."""
        if self.cancel.is_set() or self._call_cancelled.is_set():
            return "interrupted"
        if self.timeout is not None and self._elapsed() > self.timeout:
            return "timeout"
        return None

    def raise_if_exceeded(self) -> None:
        why = self.exceeded()
        if why == "interrupted":
            raise Interrupted("interrupted before this call finished")
        if why == "timeout":
            raise CallTimeout(f"stopped: took longer than the {self.timeout:g} s limit (--timeout)")


def pcm_chunks(
    path: str | Path,
    channel: int | None,
    *,
    sample_rate: int = 16000,
    chunk_seconds: float = 0.5,
    limit: Limit | None = None,
) -> Iterator[bytes]:
    """Stream the audio as 16-bit little-endian mono PCM, `chunk_seconds` at a time.

    `channel` picks one channel (0 = left); None downmixes all channels. Every chunk
    but the last holds exactly `chunk_seconds` of audio. The ffmpeg process is killed
    if the caller stops early; a failed decode raises AudioError when the stream ends.
    With a `limit`, a watchdog kills ffmpeg when the call runs out of time or is
    interrupted, even if ffmpeg hangs without output (CallTimeout, Interrupted).
    """
    path = Path(path)
    if channel is not None:
        # pan silently outputs silence for a channel that does not exist: check first.
        channels = probe(path).channels
        if not 0 <= channel < channels:
            raise AudioError(f"no channel {channel}: the audio has {channels} channel(s)")
    else:
        _check_readable(path)
    chunk_bytes = max(1, round(chunk_seconds * sample_rate)) * SAMPLE_WIDTH

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    cmd += ["-i", _ffmpeg_input(path), "-map", "0:a:0"]
    if channel is not None:
        cmd += ["-af", f"pan=mono|c0=c{channel}"]
    cmd += ["-ac", "1", "-ar", str(sample_rate), "-acodec", "pcm_s16le", "-f", "s16le", "pipe:1"]

    # stderr goes to a temp file, not a pipe: nobody reads it while we read stdout,
    # and a full stderr pipe would stall ffmpeg (and us) forever.
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
            )
        except OSError as exc:
            raise AudioError(f"cannot run ffmpeg: {exc.strerror or exc}") from exc
        assert proc.stdout is not None
        finished = threading.Event()
        if limit is not None:
            limit.start()
            threading.Thread(target=_watch, args=(proc, limit, finished), daemon=True).start()
        total = 0
        try:
            while chunk := proc.stdout.read(chunk_bytes):
                total += len(chunk)
                yield chunk
            returncode = proc.wait()
        finally:
            # Runs on normal end, on an exception and when the caller closes us early.
            finished.set()
            if limit is not None:
                limit.stop()
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.wait()
        if limit is not None:
            limit.raise_if_exceeded()
        if returncode != 0:
            raise AudioError(f"ffmpeg failed to decode it: {_tail(stderr)}")
        if total == 0:
            raise AudioError("no audio could be decoded from the file")


def _watch(proc: subprocess.Popen, limit: Limit, finished: threading.Event) -> None:
    """Kill ffmpeg when the call is out of time or interrupted (a blocked read then ends)."""
    while not finished.wait(WATCH_INTERVAL):
        if limit.exceeded():
            proc.kill()
            return


class LoudnessMeter:
    """ITU-R BS.1770 loudness (LUFS) of successive blocks of 16-bit mono PCM, via pyloudnorm.

    Each block is measured on its own as it streams past, so no second copy of
    the call is ever held. A block below the standard's absolute gate (-70 LUFS),
    or too short to measure, is None.
    """

    def __init__(self, sample_rate: int):
        import pyloudnorm

        self.sample_rate = sample_rate
        self._meter = pyloudnorm.Meter(sample_rate, block_size=0.4)

    def measure(self, chunk: bytes) -> float | None:
        import numpy

        samples = numpy.frombuffer(chunk, dtype="<i2").astype(numpy.float64) / 32768.0
        if len(samples) < 0.4 * self.sample_rate:
            return None
        value = self._meter.integrated_loudness(samples)
        return float(value) if numpy.isfinite(value) else None


def decoded_seconds(byte_count: int, sample_rate: int = 16000) -> float:
    """Length of `byte_count` bytes of 16-bit mono PCM."""
    return byte_count / (SAMPLE_WIDTH * sample_rate)


def ensure_complete(info: AudioInfo, seconds_decoded: float) -> None:
    """AudioError when far less audio decoded than the file declares (a truncated file).

    Checking the part of a call that survived and reporting it as the whole call
    could pass a call whose missing part broke the rules, so this is an error. When
    ffmpeg only estimated the duration from the bitrate the check is skipped: the
    estimate can be far off for variable-bitrate files.
    """
    if info.duration is None or info.duration_estimated:
        return
    missing = info.duration - seconds_decoded
    if missing > max(1.0, 0.01 * info.duration):
        raise AudioError(
            f"the audio ends early: the file declares {info.duration:.1f} s but only "
            f"{seconds_decoded:.1f} s could be decoded (truncated or damaged file?)"
        )


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise AudioError("no such file")
    if not path.is_file():
        raise AudioError("not a file")
    if path.stat().st_size == 0:
        raise AudioError("the file is empty (0 bytes)")


def _ffmpeg_input(path: Path) -> str:
    # "file:" stops ffmpeg from reading names such as "pipe:0" or "concat:a|b" as protocols.
    return "file:" + str(path.resolve())


def _tail(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    return _last_error_line(stderr.read().decode("utf-8", errors="replace"))


def _last_error_line(text: str) -> str:
    """The last line of ffmpeg output that says something, without the `[demuxer @ 0x..]` tag."""
    for line in reversed(text.splitlines()):
        line = re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", line.strip())
        if line and not line.startswith("At least one output file must be specified"):
            return line[:300]
    return "no error message from ffmpeg"
