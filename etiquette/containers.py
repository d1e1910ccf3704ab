"""Is an audio file whole? What its container says, read without decoding it.

ffmpeg decodes a cut WAV or Ogg file without complaint and reports the length
of what is left, so a call cut to 30% would be checked as a short, complete
call. The containers know better:

- WAV (RIFF): the `data` chunk's header gives its size; divided by the `fmt `
  chunk's byte rate it is the recording's length. A file holding far fewer
  bytes than that was cut.
- Ogg (Vorbis, Opus, Speex, FLAC in Ogg): a stream ends with a page flagged
  end-of-stream. A file whose last page lacks the flag, or is itself cut
  short, was cut.

Other formats (FLAC, MP3...) declare their length in ways ffmpeg reads, and are
checked against the decoded length after decoding (`audio.ensure_complete`).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from etiquette.errors import AudioError

_OGG_TAIL = 256 * 1024  # bytes read from the end of an Ogg file: more than its largest page (65,307 bytes)
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # written by recorders that never went back to fill the size in


def check_complete(path: Path) -> None:
    """AudioError when the container says the file was cut short; nothing when it cannot tell."""
    with path.open("rb") as stream:
        head = stream.read(12)
        size = os.fstat(stream.fileno()).st_size
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            _check_wav(stream, size)
        elif head[:4] == b"OggS":
            _check_ogg(stream, size)


def _check_wav(stream, size: int) -> None:
    byte_rate = None
    offset = 12
    while offset + 8 <= size:
        stream.seek(offset)
        chunk, length = struct.unpack("<4sI", stream.read(8))
        if chunk == b"fmt ":
            fmt = stream.read(min(length, 16))
            if len(fmt) >= 12:
                byte_rate = struct.unpack_from("<I", fmt, 8)[0]
        elif chunk == b"data":
            if byte_rate and length not in _UNKNOWN_SIZES:
                _compare(length / byte_rate, (size - offset - 8) / byte_rate, "its WAV header declares")
            return
        offset += 8 + length + (length & 1)  # chunks are padded to an even length


def _check_ogg(stream, size: int) -> None:
    start = max(0, size - _OGG_TAIL)
    stream.seek(start)
    tail = stream.read()
    at = tail.rfind(b"OggS")
    while at > 0 and not _page_header(tail, at):  # "OggS" inside a packet's data is not a page
        at = tail.rfind(b"OggS", 0, at)
    page = _page_header(tail, at) if at >= 0 else None
    if page is None:
        return  # no page in the tail: not something this check can read
    flags, length = page
    if at + length > len(tail):
        raise AudioError("the audio ends early: its last Ogg page is cut short (truncated or damaged file?)")
    if not flags & 0x04:
        raise AudioError("the audio ends early: the Ogg stream has no end-of-stream page (truncated or damaged file?)")


def _page_header(data: bytes, at: int) -> tuple[int, int] | None:
    """(header flags, whole page length) of the Ogg page at `at`, or None if it is not one."""
    if len(data) < at + 27 or data[at + 4] != 0 or data[at + 5] & ~0x07:
        return None
    segments = data[at + 26]
    table = data[at + 27 : at + 27 + segments]
    if len(table) < segments:
        return None
    return data[at + 5], 27 + segments + sum(table)


def _compare(declared: float, present: float, source: str) -> None:
    missing = declared - present
    if missing > max(1.0, 0.01 * declared):
        raise AudioError(f"the audio ends early: {source} {declared:.1f} s but the file holds only "
                         f"{max(0.0, present):.1f} s (truncated or damaged file?)")
