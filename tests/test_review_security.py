"""`etiquette review`'s defences, against the real server process: the access token on an address other than
this machine's (made up and printed, or from --token-file; refusing to start without one), the Host check on
this machine's, the CSRF token on every state-changing request, recordings asked for by anything but a listed
call (`../`, absolute paths, encoded slashes) refused, the security policy on every answer, and a database it
cannot use (another schema version, not a database) said on every page while the server keeps answering."""

from __future__ import annotations

import http.client
import re
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest

from etiquette.cli import main
from etiquette.review.security import POLICY

try:
    import review_server
    from cli_helpers import SAMPLES, run
except ImportError:
    from tests import review_server
    from tests.cli_helpers import SAMPLES, run


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples checked with their recordings (each transcript paired with its FLAC)."""
    out = tmp_path_factory.mktemp("review-security") / "out"
    assert main(["check", str(SAMPLES), "--out", str(out), "--quiet"]) == 1
    return out


@pytest.fixture(scope="module")
def local(book: Path):
    server = review_server.start(str(book))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(book: Path):
    """Listening on every address: a token is made up and printed in the address."""
    server = review_server.start(str(book), "--host", "0.0.0.0")
    yield server
    server.stop()


def _get(server, path: str, headers: dict | None = None, method: str = "GET", body: str | None = None):
    """A request exactly as written (the path is sent as is: no client tidies `../` away)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.request(method, path, body=body, headers={"Host": f"127.0.0.1:{server.port}", **(headers or {})})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def _token(server) -> str:
    found = re.search(r"\?token=([\w-]+)", server.url)
    assert found, server.lines
    return found.group(1)


def test_a_bind_beyond_this_machine_refuses_every_request_without_the_token(remote) -> None:
    token = _token(remote)  # made up, and printed in the address
    assert len(token) >= 24
    for path in ("/", "/calls/en-sample-threat", "/audio/en-sample-threat", "/decisions.csv", "/precision",
                 "/static/review.js", "/report.css"):
        status, headers, body = _get(remote, path)
        assert status == 401 and b"access token" in body and b"en-sample" not in body, path
        assert _get(remote, path, {"Authorization": "Bearer " + token[:-1] + "x"})[0] == 401
    status, _, _ = _get(remote, "/decide", {"Content-Type": "application/x-www-form-urlencoded"}, "POST", "x=1")
    assert status == 401
    status, headers, _ = _get(remote, "/?token=" + token + "&verdict=fail")
    assert status == 303 and headers["location"] == "/?verdict=fail"  # the token leaves the address bar
    cookie = headers["set-cookie"].split(";")[0]
    assert "httponly" in headers["set-cookie"].lower()
    assert _get(remote, "/", {"Cookie": cookie})[0] == 200
    assert _get(remote, "/calls/en-sample-threat", {"Authorization": f"Bearer {token}"})[0] == 200
    assert _get(remote, "/audio/en-sample-threat", {"Cookie": cookie, "Range": "bytes=0-9"})[0] == 206


def test_a_token_file_gives_the_token_and_a_bad_one_refuses_to_start(book: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    short = tmp_path / "short"
    short.write_text("secret\n", encoding="utf-8")
    result = run(capsys, "review", book, "--host", "0.0.0.0", "--token-file", short, "--port", "0", "--no-browser")
    assert result.code == 2 and "refusing to start without one" in result.err and len(result.err_lines) == 1
    result = run(capsys, "review", book, "--host", "0.0.0.0", "--token-file", tmp_path / "none", "--no-browser")
    assert result.code == 2 and "cannot read the token file" in result.err
    good = tmp_path / "token"
    good.write_text("a-long-enough-token-for-this\n", encoding="utf-8")
    server = review_server.start(str(book), "--host", "0.0.0.0", "--token-file", str(good))
    try:
        assert "token=" not in server.url  # the file's token is not printed
        assert _get(server, "/")[0] == 401
        assert _get(server, "/", {"Authorization": "Bearer a-long-enough-token-for-this"})[0] == 200
    finally:
        server.stop()


@pytest.mark.parametrize("path", [
    "/audio/../../../../etc/passwd",
    "/audio/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/audio/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/audio//etc/passwd",
    "/audio/%2Fetc%2Fpasswd",
    "/audio/en-sample-threat/../../../../etc/passwd",
    "/audio/../results.db",
    "/static/../../../pyproject.toml",
    "/static/%2e%2e/app.py",
])
def test_audio_urls_that_are_paths_are_refused(local, path: str) -> None:
    status, _, body = _get(local, path)
    assert status == 404, (path, status)
    assert b"root:" not in body and b"SQLite" not in body and b"[project]" not in body


def test_only_the_recordings_the_book_lists_are_served_with_ranges(local) -> None:
    status, headers, body = _get(local, "/audio/en-sample-threat", {"Range": "bytes=100-199"})
    assert status == 206 and len(body) == 100 and headers["content-range"].startswith("bytes 100-199/")
    whole = (SAMPLES / "audio" / "en-sample-threat.flac").read_bytes()
    assert body == whole[100:200] and headers["content-type"] == "audio/flac"
    assert _get(local, "/audio/no-such-call")[0] == 404


def test_another_host_name_is_refused_on_this_machine(local) -> None:
    """A site whose name is made to point here (DNS rebinding) must not read the pages."""
    status, _, body = _get(local, "/", {"Host": f"evil.example:{local.port}"})
    assert status == 400 and b"en-sample" not in body
    assert _get(local, "/", {"Host": f"localhost:{local.port}"})[0] == 200


def test_a_decision_needs_the_csrf_token(local, book: Path) -> None:
    _, _, page = _get(local, "/calls/en-sample-fast")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    finding = re.search(rb'name="finding_id" value="([0-9a-f]{32})"', page).group(1).decode()
    form = {"finding_id": finding, "decision": "confirmed", "reviewer": "Mallory", "note": ""}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for bad in ({}, {"csrf": "x" * len(csrf)}):
        status, _, _ = _get(local, "/decide", headers, "POST", urlencode({**form, **bad}))
        assert status == 403
    assert _get(local, "/decide")[0] == 405  # never by GET
    with sqlite3.connect(book / "results.db") as connection:
        assert connection.execute("SELECT count(*) FROM decisions").fetchone() == (0,)
    status, response_headers, _ = _get(local, "/decide", headers, "POST", urlencode({**form, "csrf": csrf}))
    assert status == 303 and response_headers["location"] == f"/calls/en-sample-fast#d-{finding}"
    with sqlite3.connect(book / "results.db") as connection:
        assert connection.execute("SELECT reviewer, decision FROM decisions").fetchall() == [("Mallory", "confirmed")]


def test_every_answer_carries_the_security_policy(local) -> None:
    for path in ("/", "/calls/en-sample-threat", "/precision", "/static/review.js", "/audio/en-sample-clean"):
        status, headers, _ = _get(local, path)
        assert status == 200 and headers["content-security-policy"] == POLICY, path
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "script-src 'self';" in POLICY and "'unsafe-inline'" not in POLICY.split("script-src")[1].split(";")[0]


def test_a_database_it_cannot_use_is_said_and_the_server_keeps_running(book: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    shutil.copy(book / "results.db", newer)
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    for database, says in ((newer, b"made by a newer etiquette (schema revision 9999)"), (broken, b"cannot open")):
        server = review_server.start("--db", str(database))
        try:
            for path in ("/", "/calls/en-sample-threat", "/precision", "/decisions.csv"):
                status, _, body = _get(server, path)
                assert status == 503 and says in body, (database.name, path, body[:300])
            assert server.alive()
            if database == broken:  # put right while it runs: the next request reads it
                shutil.copy(book / "results.db", broken)
                assert _get(server, "/")[0] == 200
        finally:
            assert server.stop() == 0


def test_review_refuses_what_it_cannot_serve(book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "review", "--no-browser").code == 2
    both = run(capsys, "review", book, "--db", book / "results.db", "--no-browser")
    assert both.code == 2 and "one of them" in both.err
    missing = run(capsys, "review", tmp_path, "--no-browser")
    assert missing.code == 2 and "no results database" in missing.err and not (tmp_path / "results.db").exists()
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run(capsys, "review", book, "--port", taken.getsockname()[1], "--no-browser")
    assert busy.code == 2 and "cannot listen on 127.0.0.1" in busy.err and len(busy.err_lines) == 1


def test_a_redacted_book_shows_masked_words_and_says_the_recording_is_not(tmp_path: Path) -> None:
    """A --redact run's calls point at the transcripts they were checked from, as given: the app masks them as the
    run did, and says that the recording it plays is not masked."""
    out = tmp_path / "out"
    inputs = [str(SAMPLES / "transcripts" / "en-sample-threat.transcript.json"), str(SAMPLES / "audio" / "en-sample-threat.flac")]
    assert main(["check", *inputs, "--out", str(out), "--redact", "--quiet"]) == 1
    server = review_server.start(str(out))
    try:
        status, _, body = _get(server, "/calls/en-sample-threat")
    finally:
        server.stop()
    page = body.decode("utf-8")
    said = re.sub(r"<[^>]+>", "", page)
    at = said.find("eight three three zero")
    assert status == 200 and at < 0 and "sure id" in said, said[at - 300:at + 50]
    assert '<span class="redacted" title="redacted">id</span>' in page  # the last four of a social, masked
    assert "The recording itself is not masked." in said and 'id="player"' in page
