"""Resumable, verified downloads of model zips over http(s).

The zip is streamed to `<models>/.downloads/NAME.zip.part`; a broken transfer resumes
with a Range request, here (up to RETRIES times) or on the next run. The finished file
is checked (size, then SHA-256 when known) before `installer.install` unpacks it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from etiquette import __version__
from etiquette.errors import ModelArchiveError, ModelDownloadError, ModelError
from etiquette.files import atomic_write_text
from etiquette.models.catalogue import CatalogueEntry, catalogue_entry, format_size
from etiquette.models.installer import CHUNK, DEFAULT_MAX_UNPACKED_BYTES, NAME_RE, Progress, check_name, check_space, install
from etiquette.models.installer import make_dir, no_progress
from etiquette.models.layout import model_layout_problem

CONNECT_TIMEOUT = 15.0  # seconds
READ_TIMEOUT = 60.0  # seconds without a byte before a transfer counts as stalled
RETRIES = 3  # further requests after one that broke off or did not fit the .part (not after a failed connection)
RETRY_WAIT = 1.0  # seconds before the first retry, doubled each time

_DOWNLOADS = ".downloads"


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
    report = progress or no_progress
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
    check_name(name)
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
    make_dir(downloads)
    part = downloads / f"{name}.zip.part"
    with _exclusive(downloads / f"{name}.lock"):
        if installed.is_dir() and model_layout_problem(installed) is None:
            return installed  # another process finished it while we waited
        limit = expected_size or max_unpacked_bytes + max_unpacked_bytes // 50 + CHUNK  # room for zip headers
        _transfer(url, part, name=name, expected_size=expected_size, limit=limit, report=report)
        _verify(part, name=name, sha256=sha256, expected_size=expected_size, report=report)
        try:
            path = install(part, dest_dir, name=name, progress=report, max_unpacked_bytes=max_unpacked_bytes, label=f"{name}.zip")
        except ModelArchiveError:
            _discard(part)  # a verified download that is not a usable model will not become one
            raise
        _discard(part)
        return path


def reachable(url: str, timeout: float = 5.0) -> bool:
    """Whether the server of `url` answers at all (a HEAD request); never raises."""
    import requests

    try:
        with requests.head(url, timeout=timeout, allow_redirects=True, headers=_headers()):
            return True
    except requests.RequestException:
        return False


def _name_from_url(url: str) -> str:
    last = unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])
    name = re.sub(r"\.zip$", "", last, flags=re.IGNORECASE)
    if not NAME_RE.match(name):
        raise ModelError(f"cannot name a model after the URL {url}: its last part should be NAME.zip")
    return name


def _headers() -> dict[str, str]:
    # identity: the byte counts (Range, Content-Length, the catalogue's size) are of the zip itself
    return {"User-Agent": f"etiquette/{__version__}", "Accept-Encoding": "identity"}


class _Interrupted(Exception):
    """The transfer broke off after it started; the .part file holds what arrived."""


class _Mismatch(Exception):
    """The server's answer does not fit the .part file (HTTP 416, or a 206 for other bytes than
    were asked); the .part was discarded. `resumed`: the request asked for a range."""

    def __init__(self, reason: str, resumed: bool) -> None:
        super().__init__(reason)
        self.resumed = resumed


def _transfer(url: str, part: Path, *, name: str, expected_size: int | None, limit: int, report: Progress) -> None:
    """Bring `part` to the complete file, resuming what is there.

    A loop, never recursion: each request that breaks off or whose answer does not fit the
    .part counts, and after RETRIES more requests the download stops with one ModelDownloadError.
    A 416 or a misplaced 206 answering a resumed request starts over at once (the file on the
    server changed, or our .part is not of it); everything else waits RETRY_WAIT, doubled each time.
    """
    meta = part.with_name(part.name + ".json")
    wait = RETRY_WAIT
    requests_made = 0
    while True:
        requests_made += 1
        try:
            _transfer_once(url, part, meta, name=name, expected_size=expected_size, limit=limit, report=report)
            return
        except _Interrupted as broken:
            if requests_made > RETRIES:
                have = part.stat().st_size if part.exists() else 0
                raise ModelDownloadError(
                    f"the download of {name} from {_host(url)} broke off at {format_size(have)}: {broken}; "
                    f"run the same command again to resume it"
                ) from broken
            pause = True
        except _Mismatch as mismatch:
            if requests_made > RETRIES:
                raise ModelDownloadError(
                    f"the download of {name} from {_host(url)} failed after {requests_made} requests: {mismatch}; "
                    f"nothing was kept; try again later, or fetch {url} another way and run "
                    f"`etiquette models install {name}.zip`"
                ) from mismatch
            pause = not mismatch.resumed
        if pause:
            time.sleep(wait)
            wait *= 2


def _transfer_once(url: str, part: Path, meta: Path, *, name: str, expected_size: int | None, limit: int, report: Progress) -> None:
    """One request: append what the server sends to `part` (raises _Interrupted or _Mismatch)."""
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
    asked = f"bytes from {have}" if have else "the whole file"
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
            raise _Mismatch(f"the server answered HTTP 416 (range not satisfiable) when asked for {asked}", resumed=bool(have))
        if status == 404:
            raise ModelDownloadError(f"{url} does not exist (HTTP 404); `etiquette models list` shows the known models")
        if status >= 400:
            reason = " ".join(str(response.reason or "").split())
            raise ModelDownloadError(f"downloading {name} from {_host(url)} failed: HTTP {status} {reason}".rstrip())

        if status == 206:
            start, _, total = _content_range(response.headers.get("Content-Range", ""))
            if start != have:  # not the range we asked for: start over rather than guess
                _restart(part, meta)
                sent = "no usable Content-Range" if start is None else f"bytes from {start}"
                raise _Mismatch(f"the server sent {sent} (HTTP 206) when asked for {asked}", resumed=bool(have))
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
        check_space(part.parent, (total or 0) - have, what=f"the download of {name}")
        validator = response.headers.get("ETag", "")
        if not validator or validator.startswith("W/"):  # weak ETags cannot validate a byte range
            validator = response.headers.get("Last-Modified", "")
        atomic_write_text(meta, json.dumps({"url": url, "validator": validator, "total": total}))

        done = have
        report("download", done, total)
        try:
            with open(part, mode) as out:
                for chunk in response.iter_content(CHUNK):
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
        while chunk := stream.read(CHUNK):
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
