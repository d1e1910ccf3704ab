"""Getting a Vosk model: the catalogue of official models, the user's model folder,
downloads that resume and verify, and safe installation from a zip or a folder.

Nothing here prints: progress goes through a `Progress` callback, failures are
`ModelError`s with one-line messages. A model becomes visible in the model folder
only by one `os.rename` of a folder that was already unpacked and checked, so an
interrupted download or install never leaves something that looks usable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import tomllib
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol
from urllib.parse import unquote, urlparse

import platformdirs

from etiquette import __version__
from etiquette.errors import ModelArchiveError, ModelDownloadError, ModelError, ModelNotFoundError
from etiquette.files import atomic_write_text
from etiquette.transcribe import MODEL_ENV, ModelChoice, model_layout_problem, resolve_model

CATALOGUE_FILE = Path(__file__).with_name("models_catalogue.toml")
MODELS_DIR_ENV = "ETIQUETTE_MODELS_DIR"
OFFICIAL_HOST = "alphacephei.com"

DEFAULT_MAX_UNPACKED_BYTES = 5 * 1024**3  # the biggest official models unpack to about 4 GB
MAX_ENTRY_RATIO = 250  # real model files compress at most ~10:1; deflate bombs reach ~1000:1
RATIO_MIN_BYTES = 1024**2  # tiny entries (config files) may compress well without being bombs
MAX_ENTRIES = 100_000
CONNECT_TIMEOUT = 15.0  # seconds
READ_TIMEOUT = 60.0  # seconds without a byte before a transfer counts as stalled
RETRIES = 3  # resumed attempts after a transfer breaks off (not after a failed connection)
RETRY_WAIT = 1.0  # seconds before the first retry, doubled each time
STALE_TEMP_SECONDS = 24 * 3600

_CHUNK = 1024 * 1024
_DOWNLOADS = ".downloads"
_TEMP_PREFIX = ".install-"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_VOSK_NAME_RE = re.compile(r"^vosk-model-(?:small-)?([a-z]{2,3})(?:-([a-z]{2}))?(?=-|$)")
_TAG_RE = re.compile(r"^([a-z]{2,3})(?:[-_]([A-Za-z]{2}))?$")
# Vosk names that are not the language's ISO code.
_VOSK_LANGUAGE_ALIASES = {"cn": "zh", "vn": "vi", "kz": "kk", "jp": "ja"}
_NOT_LANGUAGES = {"spk"}  # vosk-model-spk-*: the speaker-identification model


class Progress(Protocol):
    """Called as work advances: `stage` is "download", "verify" or "extract"; sizes in bytes."""

    def __call__(self, stage: str, done: int, total: int | None) -> None: ...


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


# ---------------------------------------------------------------- catalogue


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One official model: where to get it and what to expect of the zip."""

    name: str
    language: str
    size: int
    size_exact: bool
    use: str  # "telephone", "wideband" or "small-mobile"
    url: str
    sha256: str | None = None
    notes: str = ""

    @property
    def expected_size(self) -> int | None:
        """The zip's size when it is known to the byte, else None."""
        return self.size if self.size_exact else None

    @property
    def is_small(self) -> bool:
        return self.use == "small-mobile"


_USES = ("telephone", "wideband", "small-mobile")


def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CatalogueEntry, ...]:
    """The catalogue's entries in file order; a malformed file is a ModelError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the model catalogue: {exc}") from exc
    entries = []
    for i, item in enumerate(data.get("model", [])):
        try:
            entry = CatalogueEntry(
                name=str(item["name"]),
                language=str(item["language"]),
                size=int(item["size"]),
                size_exact=bool(item.get("size_exact", False)),
                use=str(item["use"]),
                url=str(item["url"]),
                sha256=str(item["sha256"]).lower() if "sha256" in item else None,
                notes=str(item.get("notes", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: model #{i + 1} is malformed: missing or bad {exc}") from exc
        if entry.use not in _USES:
            raise ModelError(f"{path}: {entry.name}: use must be one of {', '.join(_USES)}, not {entry.use!r}")
        if entry.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", entry.sha256):
            raise ModelError(f"{path}: {entry.name}: sha256 is not 64 hex digits")
        entries.append(entry)
    return tuple(entries)


def catalogue_entry(name: str, catalogue: Sequence[CatalogueEntry] | None = None) -> CatalogueEntry | None:
    """The entry called `name`, or None."""
    for entry in load_catalogue() if catalogue is None else catalogue:
        if entry.name == name:
            return entry
    return None


def _split_tag(language: str) -> tuple[str, str | None]:
    parts = language.replace("_", "-").split("-")
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    return parts[0].lower(), region


def _match_tier(wanted: str, offered: str) -> int | None:
    """How well a model for `offered` suits a call in `wanted`: 0 same tag, 1 the model has
    no region, 2 same language in another region; None for another language."""
    w_lang, w_region = _split_tag(wanted)
    o_lang, o_region = _split_tag(offered)
    if w_lang != o_lang:
        return None
    if w_region == o_region:
        return 0
    return 1 if o_region is None else 2


def language_suits(wanted: str, offered: str) -> bool:
    """Whether a model for language `offered` can serve calls in `wanted` (same primary language)."""
    return _match_tier(wanted, offered) is not None


def small_model_for(language: str, catalogue: Sequence[CatalogueEntry] | None = None) -> CatalogueEntry | None:
    """The catalogue's small model that best suits `language` (the one offered for download)."""
    entries = load_catalogue() if catalogue is None else catalogue
    ranked = [(tier, i, e) for i, e in enumerate(entries) if e.is_small and (tier := _match_tier(language, e.language)) is not None]
    return min(ranked, key=lambda t: t[:2])[2] if ranked else None


# ---------------------------------------------------------------- installed models


def user_models_dir() -> Path:
    """$ETIQUETTE_MODELS_DIR, else `<platform data dir>/etiquette/models` (~/.local/share/etiquette/models on Linux)."""
    env = os.environ.get(MODELS_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("etiquette", appauthor=False)) / "models"


def user_models_label(folder: Path | None = None) -> str:
    """How `resolve_model` names the user folder in its reasons."""
    if folder is None and os.environ.get(MODELS_DIR_ENV, "").strip():
        return f"{MODELS_DIR_ENV} folder"
    return "user models folder"


def model_language(name: str, catalogue: Sequence[CatalogueEntry] | None = None) -> str | None:
    """The language of a model folder called `name`: from the catalogue, from Vosk's naming
    (vosk-model-[small-]LANG[-REGION]-...), or the name itself when it is a tag ("ko", "es-MX")."""
    entry = catalogue_entry(name, catalogue)
    if entry is not None:
        return entry.language
    match = _VOSK_NAME_RE.match(name.lower())
    if match and match.group(1) not in _NOT_LANGUAGES:
        language = _VOSK_LANGUAGE_ALIASES.get(match.group(1), match.group(1))
        return f"{language}-{match.group(2).upper()}" if match.group(2) else language
    match = _TAG_RE.match(name)
    if match:
        return f"{match.group(1)}-{match.group(2).upper()}" if match.group(2) else match.group(1)
    return None


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """A model folder in a models folder; `problem` says why it is not usable (None = usable)."""

    name: str
    path: Path
    language: str | None
    entry: CatalogueEntry | None
    problem: str | None


def installed_models(
    dirs: Sequence[Path] | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> list[InstalledModel]:
    """The model folders directly inside each of `dirs` (default: the user models folder), by name.

    Hidden folders (partial downloads, installs in progress) are not models.
    """
    entries = load_catalogue() if catalogue is None else catalogue
    found: list[InstalledModel] = []
    for root in [user_models_dir()] if dirs is None else dirs:
        try:
            children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        for child in children:
            found.append(
                InstalledModel(
                    name=child.name,
                    path=child,
                    language=model_language(child.name, entries),
                    entry=catalogue_entry(child.name, entries),
                    problem=model_layout_problem(child),
                )
            )
    return found


def find_installed(
    language: str, folder: Path | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> InstalledModel | None:
    """The model in `folder` (default: the user models folder) that `check` should use for `language`.

    Preference: a usable model before a broken one, then the closest language (same
    tag, then a model without region, then another region), then a full model before
    a small one, then the newest version.
    """
    candidates = []
    for model in installed_models([user_models_dir() if folder is None else folder], catalogue):
        tier = _match_tier(language, model.language) if model.language else None
        if tier is None:
            continue
        small = model.entry.is_small if model.entry else "small" in model.name.split("-")
        candidates.append(((model.problem is not None, tier, small, _descending(model.name)), model))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _descending(name: str) -> tuple[tuple[int, int | str], ...]:
    """A key that sorts names by natural order, newest (highest numbers) first."""
    return tuple((0, -int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def catalogue_status(
    dirs: Sequence[Path] | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> list[tuple[CatalogueEntry, tuple[Path, ...]]]:
    """Each catalogue entry with the usable folders of that name in the user models folder and
    in the `models/` folders (directly or one level down, as in models/es/vosk-model-small-es-0.42/)."""
    from etiquette.transcribe import default_models_dirs

    entries = load_catalogue() if catalogue is None else catalogue
    roots = [user_models_dir(), *default_models_dirs()] if dirs is None else list(dirs)
    status = []
    for entry in entries:
        places: list[Path] = []
        for root in roots:
            try:
                subdirs = [root, *(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))]
            except OSError:
                continue
            for parent in subdirs:
                candidate = parent / entry.name
                if candidate.is_dir() and model_layout_problem(candidate) is None and candidate not in places:
                    places.append(candidate)
        status.append((entry, tuple(places)))
    return status


# ---------------------------------------------------------------- finding a model for a call


def missing_model_hint(language: str, *, offline: bool = False, catalogue: Sequence[CatalogueEntry] | None = None) -> str:
    """What to run when no model for `language` is installed (one line, no leading separator)."""
    entry = small_model_for(language, catalogue)
    if entry is None:
        return f"the catalogue has no model for '{language}'; `etiquette models list` shows the languages it knows"
    air_gapped = f"without a network, copy {entry.url} here and run `etiquette models install {entry.name}.zip`"
    if offline:
        return f"--offline forbids downloading {entry.name}; {air_gapped}"
    return f"`etiquette models download {entry.name}` fetches it ({format_size(entry.size, entry.size_exact)}); {air_gapped}"


def ensure_model(
    language: str,
    *,
    explicit: str | Path | None = None,
    offline: bool = False,
    download: bool = False,
    confirm: Callable[[CatalogueEntry], bool] | None = None,
    progress: Progress | None = None,
    dest_dir: Path | None = None,
    catalogue: Sequence[CatalogueEntry] | None = None,
) -> ModelChoice:
    """The model `check` should use for `language`, downloading the catalogue's small model when
    none is installed and `download` is set or `confirm(entry)` agrees (it is asked only when the
    server answers). A named place that holds no model is an error, never a reason to download.
    """
    try:
        return resolve_model(language, explicit, user_dir=dest_dir)
    except ModelNotFoundError as missing:
        error = missing
    entry = small_model_for(language, catalogue)
    if entry is None or offline:
        raise ModelNotFoundError(f"{error}; {missing_model_hint(language, offline=offline, catalogue=catalogue)}") from error
    wanted = download
    if not wanted and confirm is not None and reachable(entry.url):
        wanted = confirm(entry)
    if not wanted:
        raise ModelNotFoundError(f"{error}; {missing_model_hint(language, catalogue=catalogue)}") from error
    folder = user_models_dir() if dest_dir is None else dest_dir
    _download_model(entry.name, folder, progress=progress, catalogue=catalogue)
    return resolve_model(language, explicit, user_dir=dest_dir)


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether the server of `url` answers at all (a HEAD request); never raises."""
    import requests

    try:
        with requests.head(url, timeout=timeout, allow_redirects=True, headers=_headers()):
            return True
    except requests.RequestException:
        return False


# ---------------------------------------------------------------- download


def download(
    name_or_url: str,
    dest_dir: Path,
    *,
    progress: Progress | None = None,
    sha256: str | None = None,
    expected_size: int | None = None,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    offline: bool = False,
    catalogue: Sequence[CatalogueEntry] | None = None,
) -> Path:
    """Download a catalogue model (by name) or a model zip (by http(s) URL) and install it into
    `dest_dir`; return the installed folder. A model already installed there is returned as is.

    The zip is streamed to `dest_dir/.downloads/NAME.zip.part`; a broken transfer is resumed
    with a Range request, here (up to RETRIES times) or by the next call. The finished file
    is checked (size, then SHA-256 when known: the catalogue's, or `sha256`) before it is
    unpacked; a file that fails is deleted. `offline` forbids any network access.
    """
    report = progress or _no_progress
    entry = catalogue_entry(name_or_url, catalogue)
    if entry is not None:
        name, url = entry.name, entry.url
        sha256 = sha256 or entry.sha256
        expected_size = expected_size if expected_size is not None else entry.expected_size
    elif re.match(r"^https?://", name_or_url, re.IGNORECASE):
        url = name_or_url
        name = _name_from_url(url)
    else:
        raise ModelError(
            f"unknown model '{name_or_url}': `etiquette models list` shows the catalogue; a zip elsewhere "
            f"can be given by its http(s) URL, or installed from a file with `etiquette models install`"
        )
    _check_name(name)
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ModelError(f"the SHA-256 given for {name} is not 64 hex digits")

    installed = dest_dir / name
    if installed.is_dir() and model_layout_problem(installed) is None:
        return installed
    if installed.exists():  # found before the download, not after it
        problem = model_layout_problem(installed)
        raise ModelError(f"{installed} exists but is not a Vosk model ({problem}); remove it and run the command again")
    if offline:
        raise ModelDownloadError(
            f"--offline forbids downloading {name}; without a network, copy {url} here "
            f"and run `etiquette models install {name}.zip`"
        )

    downloads = dest_dir / _DOWNLOADS
    _make_dir(downloads)
    part = downloads / f"{name}.zip.part"
    with _exclusive(downloads / f"{name}.lock"):
        if installed.is_dir() and model_layout_problem(installed) is None:
            return installed  # another process finished it while we waited
        limit = expected_size or max_unpacked_bytes + max_unpacked_bytes // 50 + _CHUNK  # room for zip headers
        _transfer(url, part, name=name, expected_size=expected_size, limit=limit, report=report)
        _verify(part, name=name, sha256=sha256, expected_size=expected_size, report=report)
        try:
            path = install(part, dest_dir, name=name, progress=report, max_unpacked_bytes=max_unpacked_bytes, label=f"{name}.zip")
        except ModelArchiveError:
            _discard(part)  # a verified download that is not a usable model will not become one
            raise
        _discard(part)
        return path


_download_model = download  # ensure_model's `download` flag hides the function


def _name_from_url(url: str) -> str:
    last = unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = re.sub(r"\.zip$", "", last, flags=re.IGNORECASE)
    if not _NAME_RE.match(name):
        raise ModelError(f"cannot name a model after the URL {url}: its last part should be NAME.zip")
    return name


def _headers() -> dict[str, str]:
    # identity: the byte counts (Range, Content-Length, the catalogue's size) are of the zip itself
    return {"User-Agent": f"etiquette/{__version__}", "Accept-Encoding": "identity"}


class _Interrupted(Exception):
    """The transfer broke off after it started; the .part file holds what arrived."""


def _transfer(url: str, part: Path, *, name: str, expected_size: int | None, limit: int, report: Progress) -> None:
    """Bring `part` to the complete file, resuming what is there; retry broken transfers."""
    meta = part.with_name(part.name + ".json")
    wait = RETRY_WAIT
    for attempt in range(RETRIES + 1):
        try:
            _transfer_once(url, part, meta, name=name, expected_size=expected_size, limit=limit, report=report)
            return
        except _Interrupted as broken:
            if attempt == RETRIES:
                have = part.stat().st_size if part.exists() else 0
                raise ModelDownloadError(
                    f"the download of {name} from {_host(url)} broke off at {format_size(have)}: {broken}; "
                    f"run the same command again to resume it"
                ) from broken
            time.sleep(wait)
            wait *= 2


def _transfer_once(url: str, part: Path, meta: Path, *, name: str, expected_size: int | None, limit: int, report: Progress) -> None:
    import requests

    have = part.stat().st_size if part.exists() else 0
    saved = _read_meta(meta)
    if have and saved.get("url") != url:
        have = _restart(part, meta)  # a leftover from another address
    if expected_size is not None and have > expected_size:
        have = _restart(part, meta)

    headers = _headers()
    if have:
        headers["Range"] = f"bytes={have}-"
        if saved.get("validator"):
            headers["If-Range"] = saved["validator"]  # the server sends it all again if the file changed
    try:
        response = requests.get(url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    except requests.RequestException as exc:
        raise ModelDownloadError(
            f"could not reach {_host(url)}: {_network_reason(exc)}; check the connection, or without a network "
            f"copy {url} here and run `etiquette models install {name}.zip`"
        ) from exc

    with response:
        if url.lower().startswith("https:") and response.url.lower().startswith("http:"):
            raise ModelDownloadError(f"{_host(url)} redirected the download of {name} to plain http; refusing it")
        status = response.status_code
        if status == 416:  # nothing left to send: complete, or our .part is of another file
            total = _content_range(response.headers.get("Content-Range", ""))[2]
            if have and have in (total, expected_size):
                return
            _restart(part, meta)
            return _transfer_once(url, part, meta, name=name, expected_size=expected_size, limit=limit, report=report)
        if status == 404:
            raise ModelDownloadError(f"{url} does not exist (HTTP 404); `etiquette models list` shows the known models")
        if status >= 400:
            reason = " ".join(str(response.reason or "").split())
            raise ModelDownloadError(f"downloading {name} from {_host(url)} failed: HTTP {status} {reason}".rstrip())

        if status == 206:
            start, _, total = _content_range(response.headers.get("Content-Range", ""))
            if start != have:  # not the range we asked for: start over rather than guess
                _restart(part, meta)
                response.close()
                return _transfer_once(url, part, meta, name=name, expected_size=expected_size, limit=limit, report=report)
            mode = "ab"
        else:  # 200: the whole file, whether or not we asked for a range
            have, mode = 0, "wb"
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
        if total is not None and expected_size is not None and total != expected_size:
            _discard(part)
            raise ModelArchiveError(
                f"{_host(url)} offers {total} bytes for {name}, {expected_size} were expected; "
                f"nothing was downloaded"
            )
        if total is not None and total > limit:
            _discard(part)
            raise ModelArchiveError(f"{name} is {format_size(total)}, over the {format_size(limit)} limit; nothing was downloaded")
        _check_space(part.parent, (total or 0) - have, what=f"the download of {name}")
        validator = response.headers.get("ETag", "")
        if not validator or validator.startswith("W/"):  # weak ETags cannot validate a byte range
            validator = response.headers.get("Last-Modified", "")
        atomic_write_text(meta, json.dumps({"url": url, "validator": validator, "total": total}))

        done = have
        report("download", done, total)
        try:
            with open(part, mode) as out:
                for chunk in response.iter_content(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if done > limit:
                        raise ModelArchiveError(f"{name} is larger than {format_size(limit)}; the download was stopped and removed")
                    report("download", done, total)
                out.flush()
                os.fsync(out.fileno())
        except ModelArchiveError:
            _discard(part)
            raise
        except (requests.RequestException, ConnectionError, TimeoutError) as exc:  # requests' errors are OSErrors too
            raise _Interrupted(_network_reason(exc)) from exc
        except OSError as exc:
            raise ModelDownloadError(f"cannot write {part}: {exc.strerror or exc}") from exc
        if total is not None and done != total:
            raise _Interrupted(f"the connection closed after {format_size(done)} of {format_size(total)}")


def _content_range(value: str) -> tuple[int | None, int | None, int | None]:
    """(first byte, last byte, total) from a Content-Range header; None where absent or '*'."""
    match = re.match(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", value)
    if not match:
        return None, None, None
    first, last, total = match.groups()
    return (
        int(first) if first else None,
        int(last) if last else None,
        int(total) if total and total != "*" else None,
    )


def _verify(part: Path, *, name: str, sha256: str | None, expected_size: int | None, report: Progress) -> None:
    size = part.stat().st_size
    if expected_size is not None and size != expected_size:
        _discard(part)
        raise ModelArchiveError(f"{name}.zip has {size} bytes, expected {expected_size}; the download was removed, run the command again")
    if sha256 is None:
        return
    digest = hashlib.sha256()
    done = 0
    with open(part, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            report("verify", done, size)
    actual = digest.hexdigest()
    if actual != sha256:
        _discard(part)
        raise ModelArchiveError(
            f"{name}.zip failed its SHA-256 check (got {actual[:16]}..., expected {sha256[:16]}...): it is damaged "
            f"or not the official file; the download was removed, run the command again"
        )


def _restart(part: Path, meta: Path) -> int:
    part.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return 0


def _discard(part: Path) -> None:
    _restart(part, part.with_name(part.name + ".json"))


def _read_meta(meta: Path) -> dict[str, str]:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items() if v is not None} if isinstance(data, dict) else {}


def _host(url: str) -> str:
    parsed = urlparse(url)
    host = parsed.hostname or url
    return f"{host}:{parsed.port}" if parsed.port else host


def _network_reason(exc: BaseException) -> str:
    """The root cause of a network failure in a few words (requests' own text is a nest of reprs)."""
    import http.client

    import requests
    import urllib3

    if isinstance(exc, requests.ConnectTimeout):
        return f"no answer within {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no data for {READ_TIMEOUT:g} s"
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, http.client.IncompleteRead):
            return "the connection closed early"
        if isinstance(current, urllib3.exceptions.ProtocolError) and not current.args[1:]:
            return "the connection broke"  # (with a second argument, that argument says how: look there)
        if isinstance(current, socket.gaierror):
            return "the name does not resolve (no network or no DNS)"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        if isinstance(current, (TimeoutError, socket.timeout)):
            return "timed out"
        if isinstance(current, OSError) and current.errno is not None and current.strerror:
            return current.strerror
        for inner in (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args):
            if isinstance(inner, BaseException):
                stack.append(inner)
    text = re.sub(r"<[^<>]*>:?\s*", "", str(exc))
    return " ".join(text.split())[:200] or type(exc).__name__


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (waits for another process holding it)."""
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------- install


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
    messages name the source (default: its path).
    """
    report = progress or _no_progress
    source = Path(source)
    label = label or str(source)
    if not source.exists():
        raise ModelError(f"{source} does not exist")
    if name is not None:
        _check_name(name)
    _make_dir(dest_dir)
    _remove_stale_temps(dest_dir)

    if source.is_dir():
        root = _folder_model_root(source)
        final_name = name or root.name
        _check_name(final_name)
        _refuse_existing(dest_dir / final_name)
        with _temporary(dest_dir) as temp:
            unpacked = temp / "unpacked"
            _copy_folder(root, unpacked, report)
            return _publish(unpacked, dest_dir / final_name, label)

    if not zipfile.is_zipfile(source):
        raise ModelArchiveError(f"{label} is neither a folder nor a zip archive")
    with _temporary(dest_dir) as temp:
        unpacked = temp / "unpacked"
        unpacked.mkdir()
        try:
            with zipfile.ZipFile(source) as archive:
                total = _check_members(archive, label, max_unpacked_bytes)
                _check_space(dest_dir, total, what=f"unpacking {label}")
                _extract(archive, unpacked, total, max_unpacked_bytes, label, report)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # a CRC mismatch is a BadZipFile; an unknown compression method, NotImplementedError
            raise ModelArchiveError(f"{label} is damaged: {_one_line(exc)}; nothing was installed") from exc
        root = _archive_model_root(unpacked, label)
        final_name = name or (root.name if root != unpacked else _name_from_file(source))
        _check_name(final_name)
        _refuse_existing(dest_dir / final_name)
        return _publish(root, dest_dir / final_name, label)


def _make_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model folder {folder}: {exc.strerror or exc}") from exc


def _name_from_file(source: Path) -> str:
    return re.sub(r"(\.zip)?(\.part)?$", "", source.name, flags=re.IGNORECASE)


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
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
    subdirs = [p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")]
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
    inflates suspiciously; return the total unpacked size."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ModelArchiveError(f"{label} has {len(infos)} entries, more than a model ever has; nothing was installed")
    total = 0
    for info in infos:
        problem = _member_problem(info)
        if problem is not None:
            raise ModelArchiveError(f"{label} is not safe to unpack: entry {_quoted(info.filename)} {problem}; nothing was installed")
        total += info.file_size
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
    while chunk := src.read(_CHUNK):
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
    for folder, dirnames, filenames in os.walk(source):
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
    _check_space(target.parent.parent, total, what=f"copying {source}")
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


def _check_space(folder: Path, needed: int, *, what: str) -> None:
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


def format_size(size: int, exact: bool = True) -> str:
    """`41.2 MB`, or `~1.8 GB` when `exact` is False (decimal units, like the catalogue's site)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return text if exact else f"~{text}"
        value /= 1000
    raise AssertionError("unreachable")


__all__ = [
    "CATALOGUE_FILE",
    "DEFAULT_MAX_UNPACKED_BYTES",
    "MODELS_DIR_ENV",
    "MODEL_ENV",
    "CatalogueEntry",
    "InstalledModel",
    "Progress",
    "catalogue_entry",
    "catalogue_status",
    "download",
    "ensure_model",
    "find_installed",
    "format_size",
    "install",
    "language_suits",
    "installed_models",
    "load_catalogue",
    "missing_model_hint",
    "model_language",
    "reachable",
    "small_model_for",
    "user_models_dir",
    "user_models_label",
]
