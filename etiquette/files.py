"""Writing files safely: atomic replaces, spooled outputs, and one run per output folder.

- `atomic_write_text`: a reader sees the old file or the new one, never half of one.
- `AtomicFile`: the same for a file written piece by piece (a long export).
- `Spool`: pieces written to a temporary file as they come and read back in any
  order at the end, so a batch's outputs never sit in memory.
- `RunLock`: an output folder is used by one run at a time; every temporary file
  a run makes has this module's prefix, so a new run removes only what a killed
  run left behind, never someone else's files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from etiquette.printable import encodable, shown

TEMP_PREFIX = ".etiquette-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temporary(folder: Path, mode: str = "w", buffering: int = -1) -> tuple[IO, Path]:
    # A short name of our own: a long final name plus a suffix could exceed NAME_MAX.
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
    os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes it private; an output is an ordinary file
    text = "b" not in mode  # a lone surrogate (never expected: inputs are checked) is written escaped, not a crash
    stream = os.fdopen(handle, mode, buffering, encoding="utf-8" if text else None,
                       errors="backslashreplace" if text else None, newline="" if text else None)
    return stream, Path(name)


def atomic_write_text(path: Path, text: str) -> None:
    with AtomicFile(path) as stream:
        stream.write(text)


def describe_os_error(error: OSError, path: Path | str | None = None) -> str:
    """"No space left on device: out/x.report.json": what went wrong, then where (escaped)."""
    where = error.filename if error.filename is not None else path
    reason = error.strerror or str(error) or type(error).__name__
    return f"{reason}: {shown(where)}" if where is not None else reason


class AtomicFile:
    """`with AtomicFile(path) as f: f.write(...)`: the file appears complete, or not at all.

    An OSError while writing (a full disk) removes the temporary file and names `path`."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream, self._temporary = _temporary(path.parent)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(path)) from None

    def write(self, text: str) -> None:
        try:
            self._stream.write(text)
        except OSError as error:
            self.discard()
            raise OSError(error.errno, error.strerror, str(self.path)) from None

    def commit(self) -> None:
        try:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            os.replace(self._temporary, self.path)
        except OSError as error:
            self.discard()
            raise OSError(error.errno, error.strerror, str(self.path)) from None

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # closing flushes what is left: on a full disk that fails too
            self._stream.close()
        with contextlib.suppress(OSError):
            self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> "AtomicFile":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()


class Spool:
    """Text pieces kept in a temporary file, each under a sort key, read back in key order."""

    def __init__(self, folder: Path):
        self._stream, self._path = _temporary(folder, "w+b", buffering=0)  # unbuffered: a full disk fails the add
        self._index: list[tuple[object, int, int]] = []  # (key, offset, length)
        self._end = 0

    def __len__(self) -> int:
        return len(self._index)

    def add(self, key: object, text: str) -> None:
        """Keep `text` under `key`; an OSError (a full disk) leaves the spool as it was."""
        data = memoryview(text.encode("utf-8", "backslashreplace"))
        self._stream.seek(self._end)
        done = 0
        while done < len(data):  # a raw write may write part of it, and raise on the next try
            done += self._stream.write(data[done:])
        self._index.append((key, self._end, len(data)))
        self._end += len(data)

    def pairs(self) -> Iterator[tuple[object, str]]:
        """(key, text) in key order."""
        for key, offset, length in sorted(self._index, key=lambda item: item[0]):  # type: ignore[arg-type, return-value]
            self._stream.seek(offset)
            yield key, self._stream.read(length).decode("utf-8")

    def in_order(self) -> Iterator[str]:
        for _, text in self.pairs():
            yield text

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()
        with contextlib.suppress(OSError):
            self._path.unlink(missing_ok=True)


class FolderBusy(Exception):
    """Another run holds the output folder."""


class RunLock:
    """An exclusive lock on an output folder for the length of a run, released when the run ends
    or dies. The folder itself is locked, so no lock file is left in it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusy(f"{self.folder} is being written by another etiquette run; "
                             "wait for it to finish or choose another --out") from None
        self._fd = fd
        remove_stale_temporaries(self.folder)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def remove_stale_temporaries(folder: Path) -> None:
    """Our temporaries a killed run left behind (called with the folder's lock held: none is in use)."""
    for stale in folder.glob(f"{TEMP_PREFIX}*.tmp"):
        stale.unlink(missing_ok=True)


def stored_path(path: Path | None) -> str | None:
    """Where a file is, for the results database (None for a name that is not UTF-8: it cannot be stored as text)."""
    if path is None:
        return None
    absolute = os.path.abspath(path)
    return absolute if encodable(absolute) else None


def same_text(path: Path, text: str) -> bool:
    """Whether the file holds exactly this text (an unreadable file does not)."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
