"""The recordings the review app plays: only those the results database lists, each checked before it is served.

A call's audio is asked for by its call id (`/audio/<call id>`), never by a path, so no URL can name a file
the book does not list. The listed file is then held to three things: it exists, it is a regular file, and it
is not a link out of its own folder (a recording replaced by a link to /etc/shadow is refused, not followed).
What ffmpeg cannot read is said on the page instead of a player. A recording the browser plays as it is
(WAV, FLAC, Ogg, MP3, AAC) is sent as it is, with HTTP range requests (seeking in a two-hour call reads only
what is played); any other (AMR, mu-law, GSM...) is converted once to FLAC, both channels kept, into a
temporary folder that lives as long as the app.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from etiquette.audio import ffmpeg_exe, probe
from etiquette.errors import AudioError
from etiquette.printable import shown

# What Chromium, Firefox and Safari decode natively (ffmpeg's codec names); anything else is converted.
BROWSER_CODECS = frozenset({"pcm_s16le", "pcm_s24le", "pcm_f32le", "pcm_u8", "flac", "vorbis", "opus", "mp3", "aac"})
CONVERT_TIMEOUT = 600.0  # seconds: converting a long AMR recording takes seconds, never minutes


@dataclass(frozen=True)
class Playable:
    """A recording that can be served: the file to send and what the page says about it."""

    file: Path
    channels: int
    duration: float | None
    codec: str


class NotPlayable(Exception):
    """Why a listed recording is not served (one line, shown on the call's page)."""


class Recordings:
    def __init__(self) -> None:
        self._folder: Path | None = None  # for converted copies, made when first needed
        self._known: dict[tuple, Playable | str] = {}  # by (path, size, mtime): a probe costs an ffmpeg run
        self._lock = threading.Lock()

    def playable(self, listed: str | None, convert: bool = False) -> Playable:
        """The recording the book lists for a call, checked (and, with `convert`, converted if the browser needs
        it); NotPlayable says why it cannot be played."""
        if not listed:
            raise NotPlayable("Checked from a transcript alone: there is no recording to play.")
        path = Path(listed)
        try:
            real = path.resolve(strict=True)
            status = real.stat()
        except (OSError, RuntimeError):
            raise NotPlayable(f"The recording {shown(listed)} is missing.") from None
        if not path.is_absolute() or not real.is_relative_to(path.parent.resolve()):
            raise NotPlayable(f"The recording {shown(listed)} is a link out of its folder: it is not played.")
        if not real.is_file():
            raise NotPlayable(f"The recording {shown(listed)} is not a regular file.")
        key = (str(real), status.st_size, status.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
        if known is None:
            known = self._probe(real)
            with self._lock:
                self._known[key] = known
        if isinstance(known, str):
            raise NotPlayable(known)
        if convert and known.codec not in BROWSER_CODECS:
            return Playable(self._converted(real, key), known.channels, known.duration, "flac")
        return known

    def _probe(self, real: Path) -> Playable | str:
        try:
            info = probe(real)
        except AudioError as error:
            return f"The recording {shown(real)} cannot be played: {error}"
        return Playable(real, info.channels, info.duration, info.codec)

    def _converted(self, real: Path, key: tuple) -> Path:
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="etiquette-review-"))
            target = self._folder / (hashlib.sha256(repr(key).encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".flac")
            if target.exists():
                return target
            partial = target.with_suffix(".part.flac")
            command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(real), "-vn",
                       "-c:a", "flac", str(partial)]
            try:
                done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=CONVERT_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired) as error:
                partial.unlink(missing_ok=True)
                raise NotPlayable(f"The recording {shown(real)} could not be converted for the browser: {error}") from None
            if done.returncode != 0:
                partial.unlink(missing_ok=True)
                last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["ffmpeg failed"])[-1]
                raise NotPlayable(f"The recording {shown(real)} could not be converted for the browser: {last}")
            os.replace(partial, target)
            return target

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
