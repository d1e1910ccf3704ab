"""Safe installation of a model from a zip file or an unpacked folder.

The model is unpacked (or copied) into a hidden temporary folder inside the models
folder, checked, and made visible by one `os.rename`: an interrupted install never
leaves something that looks usable. Zips are checked before anything is written:
no entry may leave the folder or be a link or a special file, and neither any entry
nor the whole archive may inflate like a zip bomb.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from etiquette.errors import ModelArchiveError, ModelError
from etiquette.models.catalogue import format_size, model_language
from etiquette.models.layout import model_layout_problem, os_reason

DEFAULT_MAX_UNPACKED_BYTES = 5 * 1024**3  # the biggest official models unpack to about 4 GB
MAX_ENTRY_RATIO = 250  # real model files compress at most ~10:1; deflate bombs reach ~1000:1
MAX_TOTAL_RATIO = 250  # the same for the whole archive: many entries that each pass add up
RATIO_MIN_BYTES = 1024**2  # tiny entries (config files) may compress well without being bombs
MAX_ENTRIES = 100_000
STALE_TEMP_SECONDS = 24 * 3600

CHUNK = 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_TEMP_PREFIX = ".install-"


class Progress(Protocol):
    """Called as work advances: `stage` is "download", "verify" or "extract"; sizes in bytes."""

    def __call__(self, stage: str, done: int, total: int | None) -> None: ...


def no_progress(stage: str, done: int, total: int | None) -> None:
    pass


def install(
    source: str | Path,
    dest_dir: Path,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    label: str | None = None,
) -> Path:
    """Install a model from a zip file or a folder into `dest_dir/<name>` and return that folder.

    The model is unpacked (or copied) into a hidden temporary folder inside `dest_dir`,
    checked with `model_layout_problem`, and only then renamed into place. `name` defaults
    to the zip's top folder (or the zip's or folder's own name); it must tell the model's
    language (vosk-model-small-ko-0.22, or a tag such as "ko"), since that is how `check`
    finds it. An existing model of the same name is never replaced. `label` is how
    messages name the source (default: its path). Only regular files and folders are
    accepted: a device or a FIFO (which would never end, or never start) is refused at once.
    """
    report = progress or no_progress
    source = Path(source)
    label = label or str(source)
    is_dir = _source_kind(source, label)
    if name is not None:
        check_name(name)
    make_dir(dest_dir)
    _remove_stale_temps(dest_dir)

    if is_dir:
        root = _folder_model_root(source)
        final_name = name or root.name
        check_name(final_name)
        _refuse_existing(dest_dir / final_name)
        with _temporary(dest_dir) as temp:
            unpacked = temp / "unpacked"
            _copy_folder(root, unpacked, report)
            return _publish(unpacked, dest_dir / final_name, label)

    try:
        is_zip = zipfile.is_zipfile(source)
    except OSError as exc:
        raise ModelError(f"cannot read {label}: {os_reason(exc)}") from exc
    if not is_zip:
        raise ModelArchiveError(f"{label} is neither a folder nor a zip archive")
    with _temporary(dest_dir) as temp:
        unpacked = temp / "unpacked"
        unpacked.mkdir()
        try:
            with zipfile.ZipFile(source) as archive:
                total = _check_members(archive, label, max_unpacked_bytes)
                check_space(dest_dir, total, what=f"unpacking {label}")
                _extract(archive, unpacked, total, max_unpacked_bytes, label, report)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # a CRC mismatch is a BadZipFile; an unknown compression method, NotImplementedError
            raise ModelArchiveError(f"{label} is damaged: {_one_line(exc)}; nothing was installed") from exc
        root = _archive_model_root(unpacked, label)
        final_name = name or (root.name if root != unpacked else _name_from_file(source))
        check_name(final_name)
        _refuse_existing(dest_dir / final_name)
        return _publish(root, dest_dir / final_name, label)


def _source_kind(source: Path, label: str) -> bool:
    """True for a folder, False for a regular file; anything else is refused without opening it."""
    try:
        mode = source.stat().st_mode  # stat never blocks, where opening a FIFO does
    except FileNotFoundError as exc:
        raise ModelError(f"{source} does not exist") from exc
    except OSError as exc:
        raise ModelError(f"cannot read {label}: {os_reason(exc)}") from exc
    if stat.S_ISDIR(mode):
        return True
    if stat.S_ISREG(mode):
        return False
    kind = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}
    raise ModelArchiveError(
        f"{label} is {kind.get(stat.S_IFMT(mode), 'a special file')}, not a zip file or a folder; "
        f"give a model zip or an unpacked model folder"
    )


def make_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model folder {folder}: {exc.strerror or exc}") from exc


def _name_from_file(source: Path) -> str:
    return re.sub(r"(\.zip)?(\.part)?$", "", source.name, flags=re.IGNORECASE)


def check_name(name: str) -> None:
    """A ModelError unless `name` can name a model folder that `check` will find by its language."""
    if not NAME_RE.match(name):
        raise ModelError(f"'{name}' cannot name a model folder: use letters, digits, '.', '-' and '_' only")
    if model_language(name) is None:
        raise ModelError(
            f"cannot tell the language of a model named '{name}': `check` finds models by their name; "
            f"pass --name vosk-model-<language>-<version> (as in vosk-model-small-ko-0.22) or --name <language> (as in ko)"
        )


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise ModelError(f"{target} already exists; remove that folder first to replace the model")


def _folder_model_root(source: Path) -> Path:
    problem = model_layout_problem(source)
    if problem is None:
        return source
    try:
        subdirs = [p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError as exc:
        raise ModelError(f"cannot read {source}: {os_reason(exc)}") from exc
    if len(subdirs) == 1 and model_layout_problem(subdirs[0]) is None:
        return subdirs[0]
    raise ModelArchiveError(f"{source} is not a Vosk model: {problem}")


def _archive_model_root(unpacked: Path, label: str) -> Path:
    """The unpacked folder or its one top folder, whichever holds the model."""
    problem = model_layout_problem(unpacked)
    if problem is None:
        return unpacked
    subdirs = [p for p in unpacked.iterdir() if p.is_dir() and p.name != "__MACOSX" and not p.name.startswith(".")]
    files = [p for p in unpacked.iterdir() if p.is_file()]
    if len(subdirs) == 1 and not files:
        inner = model_layout_problem(subdirs[0])
        if inner is None:
            return subdirs[0]
        problem = inner
    raise ModelArchiveError(f"{label} does not hold a Vosk model: {problem}; nothing was installed")


@contextlib.contextmanager
def _temporary(dest_dir: Path) -> Iterator[Path]:
    """A hidden folder inside `dest_dir` (same file system, so the final rename is atomic), always removed."""
    temp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=dest_dir))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _remove_stale_temps(dest_dir: Path) -> None:
    """Remove what installs killed mid-way left behind (hidden, so never mistaken for models)."""
    now = time.time()
    for leftover in dest_dir.glob(f"{_TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)


def _publish(folder: Path, target: Path, label: str) -> Path:
    """Check `folder` and rename it to `target`: the one step that makes a model visible."""
    problem = model_layout_problem(folder)
    if problem is not None:
        raise ModelArchiveError(f"{label} does not hold a Vosk model: {problem}; nothing was installed")
    try:
        os.rename(folder, target)
    except OSError as exc:
        if target.exists():
            raise ModelError(f"{target} already exists; remove that folder first to replace the model") from exc
        raise ModelError(f"cannot install into {target}: {exc.strerror or exc}") from exc
    _fsync_dir(target.parent)
    return target


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_members(archive: zipfile.ZipFile, label: str, max_unpacked_bytes: int) -> int:
    """Refuse any entry that could write outside the target, is not a plain file or folder, or
    inflates suspiciously, and an archive that unpacks to too much or inflates suspiciously as
    a whole (many entries each under the per-entry check); return the total unpacked size."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ModelArchiveError(f"{label} has {len(infos)} entries, more than a model ever has; nothing was installed")
    total = packed = 0
    for info in infos:
        problem = _member_problem(info)
        if problem is not None:
            raise ModelArchiveError(f"{label} is not safe to unpack: entry {_quoted(info.filename)} {problem}; nothing was installed")
        total += info.file_size
        packed += info.compress_size
        if info.file_size >= RATIO_MIN_BYTES and info.file_size > MAX_ENTRY_RATIO * max(info.compress_size, 1):
            raise ModelArchiveError(
                f"{label} looks like a zip bomb: entry {_quoted(info.filename)} inflates {info.file_size // max(info.compress_size, 1)} "
                f"times, to {format_size(info.file_size)}; nothing was installed"
            )
    if total > max_unpacked_bytes:
        raise ModelArchiveError(
            f"{label} unpacks to {format_size(total)}, over the {format_size(max_unpacked_bytes)} limit "
            f"(a zip bomb, or not a model); nothing was installed"
        )
    if total >= RATIO_MIN_BYTES and total > MAX_TOTAL_RATIO * max(packed, 1):
        raise ModelArchiveError(
            f"{label} looks like a zip bomb: its {len(infos)} entries inflate {total // max(packed, 1)} times in all, "
            f"from {format_size(packed)} to {format_size(total)}; nothing was installed"
        )
    return total


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or "\x00" in name:
        return "has no usable name"
    if info.flag_bits & 0x1:
        return "is encrypted"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a plain file or folder"
    normal = name.replace("\\", "/")
    if normal.startswith("/") or re.match(r"^[A-Za-z]:", normal):
        return "has an absolute path"
    if ".." in normal.split("/"):
        return "has a '..' component"
    return None


def _extract(archive: zipfile.ZipFile, target: Path, total: int, limit: int, label: str, report: Progress) -> None:
    """Unpack every entry under `target`, counting the bytes actually written (not the declared sizes)."""
    base = target.resolve()
    written = 0
    report("extract", 0, total)
    for info in archive.infolist():
        parts = [p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in ("", ".")]
        if not parts:
            continue
        path = target.joinpath(*parts)
        if not path.resolve().is_relative_to(base):  # belt and braces after _member_problem
            raise ModelArchiveError(f"{label} is not safe to unpack: entry {_quoted(info.filename)} leaves the folder")
        try:
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(path, "xb") as dst:
                written = _copy_stream(src, dst, written, limit, label, lambda n: report("extract", n, total))
        except FileExistsError as exc:
            raise ModelArchiveError(f"{label} holds {_quoted(info.filename)} twice; nothing was installed") from exc
        except (NotADirectoryError, IsADirectoryError) as exc:
            raise ModelArchiveError(f"{label} uses {_quoted(info.filename)} as both a file and a folder; nothing was installed") from exc
        except OSError as exc:
            raise ModelError(f"cannot unpack {label} into {target.parent.parent}: {exc.strerror or exc}") from exc


def _copy_stream(src: IO[bytes], dst: IO[bytes], written: int, limit: int, label: str, tick: Callable[[int], None]) -> int:
    while chunk := src.read(CHUNK):
        written += len(chunk)
        if written > limit:
            raise ModelArchiveError(f"{label} unpacks to more than {format_size(limit)}; nothing was installed")
        dst.write(chunk)
        tick(written)
    dst.flush()
    os.fsync(dst.fileno())
    return written


def _copy_folder(source: Path, target: Path, report: Progress) -> None:
    """Copy a model folder file by file (synced), refusing links and special files."""
    files: list[tuple[Path, Path]] = []
    total = 0
    try:
        for folder, dirnames, filenames in os.walk(source, onerror=_raise):
            here = Path(folder)
            for entry in [*dirnames, *filenames]:
                path = here / entry
                mode = path.lstat().st_mode
                if stat.S_ISLNK(mode):
                    raise ModelArchiveError(f"{source} holds a symbolic link ({path.relative_to(source)}); copy the real files instead")
                if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                    raise ModelArchiveError(f"{source} holds {path.relative_to(source)}, which is not a plain file or folder")
                if stat.S_ISREG(mode):
                    files.append((path, target / path.relative_to(source)))
                    total += path.lstat().st_size
    except OSError as exc:
        raise ModelError(f"cannot read {source}: {os_reason(exc)}") from exc
    check_space(target.parent.parent, total, what=f"copying {source}")
    target.mkdir()
    written = 0
    report("extract", 0, total)
    try:
        for src_path, dst_path in files:
            dst_path.parent.mkdir(parents=True, exist_ok=True)
            with open(src_path, "rb") as src, open(dst_path, "xb") as dst:
                written = _copy_stream(src, dst, written, total + 1, str(source), lambda n: report("extract", n, total))
    except OSError as exc:
        raise ModelError(f"cannot copy {source}: {exc.strerror or exc}") from exc


def _raise(exc: OSError) -> None:
    raise exc


def check_space(folder: Path, needed: int, *, what: str) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise ModelError(f"not enough disk space in {folder} for {what}: needs {format_size(needed)}, {format_size(free)} free")


def _quoted(name: str) -> str:
    return repr(name[:120])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
