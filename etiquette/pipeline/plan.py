"""From the inputs given to the calls to check: folders searched, files classified, call ids paired.

Call ids. Every call writes `<call_id>.report.json`, so two inputs must never
share an id silently:
- an audio file and a transcript with the same call id are the same call. The
  transcript is checked (it is what the recording platform or an earlier run
  produced, and it is fast); the audio is listed as "paired" and not transcribed
  unless `retranscribe` is set;
- any other clash (two audio files, two transcripts) keeps the first input in
  path order and fails each later one with a one-line error.

A file is classified and named by the name it was given under (a link's own
name, not its target's), and only regular files are read: a FIFO or a device
is refused. The output folder is never searched for inputs, so a run's own
transcripts are not read back as calls.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from etiquette.errors import EtiquetteError, NothingToCheck
from etiquette.outcome import CallOutcome, Status
from etiquette.printable import encodable, shown
from etiquette.transcripts import SUFFIX as TRANSCRIPT_SUFFIX
from etiquette.transcripts import call_id_from_path, read_transcript

AUDIO_SUFFIXES = frozenset(
    ".wav .wave .mp3 .flac .ogg .oga .opus .m4a .aac .wma .amr .au .snd .aif .aiff .aifc .caf .gsm .webm .mka .mp4 .3gp .spx .vox".split()
)
NAME_MAX = 255  # bytes in a file name on the usual file systems
_LONGEST_SUFFIX = TRANSCRIPT_SUFFIX  # of what a call writes: <id>.transcript.json, <id>.report.json


@dataclass
class PlannedCall:
    call_id: str
    order: int  # position of its first input, for a stable summary
    transcript_path: Path | None = None
    audio_path: Path | None = None
    call_info: object = None  # the transcript's `call` object (call metadata), as given

    def uses_audio(self, retranscribe: bool) -> bool:
        return self.audio_path is not None and (self.transcript_path is None or retranscribe)

    def source(self, retranscribe: bool) -> Path:
        """The input this call's words come from."""
        return self.audio_path if self.uses_audio(retranscribe) else self.transcript_path  # type: ignore[return-value]


@dataclass
class Plan:
    calls: list[PlannedCall]
    problems: list[CallOutcome]  # inputs that fail before any work: missing, unreadable, clashing


def is_transcript(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() == ".json"


def is_input(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() in AUDIO_SUFFIXES


def find_inputs(paths: Iterable[Path], skip: Path | None = None) -> tuple[list[Path], list[CallOutcome]]:
    """Expand folders (recursively, not into `skip`) into audio and transcript files, sorted; report
    missing paths, special files and folders that cannot be listed."""
    found: list[Path] = []
    problems: list[CallOutcome] = []
    skip_real = os.path.realpath(skip) if skip is not None else None

    def problem(path: Path | str, error: str) -> None:
        problems.append(CallOutcome(shown(path), None, -1, Status.ERROR, error=error))

    for path in paths:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            problem(path, "no such file or folder")
            continue
        except OSError as error:
            problem(path, f"cannot read: {error.strerror or error}")
            continue
        if stat.S_ISDIR(mode):
            found += _scan(path, skip_real, problem)
        elif stat.S_ISREG(mode):
            found.append(path)
        else:
            problem(path, "not a regular file (a device, a FIFO or a socket): only files and folders are read")
    unique = list(dict.fromkeys(Path(os.path.abspath(p)) for p in found))
    return unique, problems


def _scan(folder: Path, skip_real: str | None, problem) -> list[Path]:
    files = []

    def unlistable(error: OSError) -> None:
        problem(error.filename or folder, f"cannot list this folder: {error.strerror or error}")

    for root, dirs, names in os.walk(folder, onerror=unlistable):
        dirs[:] = sorted(d for d in dirs if skip_real is None or os.path.realpath(os.path.join(root, d)) != skip_real)
        for name in sorted(names):
            path = Path(root) / name
            if not is_input(path):
                continue
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError:
                regular = False  # a dangling link
            if regular:
                files.append(path)
            else:
                problem(path, "not a regular file (a broken link, a device or a FIFO)")
    return sorted(files)


def plan_calls(files: list[Path]) -> Plan:
    """Group input files into calls by call id (see the module docstring)."""
    calls: dict[str, PlannedCall] = {}
    problems: list[CallOutcome] = []
    for order, path in enumerate(files):
        transcript = is_transcript(path)
        call_info = None
        try:
            if transcript:
                read = read_transcript(path)
                call_id, call_info = read.call_id, read.call
            else:
                call_id = path.stem
            _check_name(call_id)
        except EtiquetteError as error:
            problems.append(CallOutcome(shown(path), shown(call_id_from_path(path)), order, Status.ERROR, error=str(error)))
            continue
        except Exception as error:  # a bug reading one input fails that input, not the batch
            problems.append(CallOutcome(shown(path), shown(call_id_from_path(path)), order, Status.ERROR,
                                        error=f"internal error while reading it ({type(error).__name__})"))
            continue
        call = calls.setdefault(call_id, PlannedCall(call_id, order))
        taken = call.transcript_path if transcript else call.audio_path
        if taken is not None:
            message = (f"call id '{shown(call_id)}' is already taken by {shown(taken)}; skipped so that its report "
                       "is not overwritten (rename one of them)")
            problems.append(CallOutcome(shown(path), call_id, order, Status.ERROR, error=message))
            continue
        if transcript:
            call.transcript_path = path
            call.call_info = call_info
        else:
            call.audio_path = path
    return Plan(list(calls.values()), problems)


def _check_name(call_id: str) -> None:
    """A call id must make file names this system can hold."""
    size = len((call_id + _LONGEST_SUFFIX).encode("utf-8", "surrogateescape"))
    if size > NAME_MAX:
        raise EtiquetteError(
            f"the call id is too long for a file name ({len(call_id.encode('utf-8', 'surrogateescape'))} bytes; "
            f"at most {NAME_MAX - len(_LONGEST_SUFFIX)}): give the transcript a shorter call_id or rename the file"
        )
    if not encodable(call_id):
        raise EtiquetteError("the call id is not UTF-8 text (a file name in another encoding?): rename the file "
                             "or give the transcript a call_id")
    if not call_id.isprintable() or call_id in (".", ".."):
        raise EtiquetteError("the call id holds control characters or is '.' or '..'")


def plan(inputs: Iterable[Path], out_dir: Path) -> Plan:
    files, missing = find_inputs(inputs, skip=out_dir)
    planned = plan_calls(files)
    if not planned.calls and not planned.problems and not missing:
        raise NothingToCheck("no audio or transcript files found in the inputs")
    planned.problems = missing + planned.problems
    return planned
