"""`--html`: a self-contained index page for the batch and one page per call, checked in a real headless Chromium.

The pages are loaded from disk by Debian's chromium: their rendered DOM must hold every
finding of every report (the finding, its mark on the timeline, its words in the
transcript) and the index the summary numbers the reports add up to; they must fit a laptop
(1366 px) and a phone (390 px) without sideways scrolling; screenshots at both
widths are taken (kept in the test's tmp folder). Transcript text is untrusted:
markup in it must come out as text. Without chromium the browser tests are
skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import defaultdict
from pathlib import Path

import pytest

from etiquette.cli import main
from etiquette.checks.rate import SpeechClock, rate_series
from etiquette.rulebook import load_rules
from etiquette.transcripts import read_transcript
from etiquette.writers.html.view import page_name

try:  # tests/ as a plain folder (pytest's default) or as a package
    from browser import chromium_path
    from cli_helpers import SAMPLES
except ImportError:
    from tests.browser import chromium_path
    from tests.cli_helpers import SAMPLES

CHECKS = ("speaking_rate", "third_party_disclosure", "aggressive_language")
EVIL_WORD = '<script>alert("x")</script>'
EVIL_ATTR = '"><img/src=x/onerror=alert(1)>'


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Run headless chromium on a local page: browser(url, *flags) -> stdout."""
    binary = chromium_path()
    profile = tmp_path_factory.mktemp("chromium-profile")

    def launch(url: str, *flags: str) -> str:
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}", *flags, url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    return launch


def _call(call_id: str, turns: list[tuple[str, str]], language: str = "en", speakers: dict | None = None) -> dict:
    words, now = [], 0.0
    for speaker, text in turns:
        for token in text.split(" "):
            words.append({"word": token, "start": round(now, 2), "end": round(now + 0.25, 2), "conf": 0.9, "speaker": speaker})
            now += 0.3
        now += 1.2
    speakers = speakers or {"agent": {"role": "agent"}, "customer": {"role": "customer"}}
    return {"call_id": call_id, "language": language, "speakers": speakers, "words": words}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples, a hostile call, a mono call and a call with no rules, checked into one report.html."""
    inputs = tmp_path_factory.mktemp("html-in")
    for path in (SAMPLES / "transcripts").glob("*.transcript.json"):
        shutil.copy(path, inputs / path.name)
    hostile = _call('evil-"<b>', [
        ("agent", "hello is this sam"), ("customer", "no this is his brother"),
        ("agent", f"tell him he owes {EVIL_WORD} {EVIL_ATTR} the debt or we will have him arrested"),
    ])
    mono = _call("mono-call", [("mixed", "you are a deadbeat and we will have you arrested")],
                 speakers={"mixed": {"role": "unknown"}})
    korean = _call("ko-call", [("agent", "안녕하세요"), ("customer", "네")], language="ko")
    for data in (hostile, mono, korean):
        (inputs / f"{data['call_id'].replace('<', '').replace('>', '')}.transcript.json").write_text(json.dumps(data), encoding="utf-8")
    (inputs / "broken.transcript.json").write_text("{not json", encoding="utf-8")
    out = tmp_path_factory.mktemp("html-out")
    code = main(["check", str(inputs), "--out", str(out), "--html", "--quiet"])
    assert code == 3  # the broken transcript
    return out / "report.html"


class _Dom(html.parser.HTMLParser):
    """Every element's tag and attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_attr(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.elements if name in attrs]


def _reports(out: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.report.json"))]


def _pages(page: Path) -> list[Path]:
    """report.html and the call pages beside it."""
    return [page, *sorted((page.parent / "report").glob("*.html"))]


@pytest.fixture(scope="module")
def dom(page: Path, chromium) -> _Dom:
    """The rendered DOM of the index and of every call page, as one."""
    parsed = _Dom()
    tab = chromium.new_page()
    for path in _pages(page):
        tab.goto(path.as_uri())
        parsed.feed(tab.content())
    tab.close()
    assert parsed.with_attr("data-call-id"), "chromium rendered no call section"
    return parsed


def _source(page: Path) -> str:
    return "".join(path.read_text(encoding="utf-8") for path in _pages(page))


def test_every_finding_is_in_the_rendered_page(page: Path, dom: _Dom) -> None:
    reports = _reports(page.parent)
    articles = {a["data-finding"]: a for a in dom.with_attr("data-finding")}
    markers = {a["data-finding-marker"] for a in dom.with_attr("data-finding-marker")}
    highlighted = {key for a in dom.with_attr("data-findings") for key in a["data-findings"].split(" ")}
    expected = set()
    for report in reports:
        for n, finding in enumerate(report["findings"]):
            key = f"{report['call_id']}#{n}"
            expected.add(key)
            article = articles[key]
            assert article["data-check"] == finding["check"] and article["data-rule"] == finding["rule"]
            assert article["data-severity"] == finding["severity"]
            assert float(article["data-start"]) == finding["start"] and float(article["data-end"]) == finding["end"]
            assert key in markers, key
            assert key in highlighted, key
    assert set(articles) == expected and len(expected) >= 12
    assert {a["data-call-id"] for a in dom.with_attr("data-call-id")} == {r["call_id"] for r in reports}


def test_the_summary_numbers_match_the_reports(page: Path, dom: _Dom) -> None:
    reports = _reports(page.parent)
    text_by_stat = _stat_values(page)
    failed = sum(1 for r in reports if r["verdict"] == "fail")
    incomplete = sum(1 for r in reports if r["verdict"] == "incomplete")
    assert incomplete == 1  # the Korean call: no rules; the mono call fails on its threats
    assert text_by_stat == {"calls": len(reports), "failed": failed, "passed": len(reports) - failed - incomplete,
                            "incomplete": incomplete, "findings": sum(len(r["findings"]) for r in reports), "errors": 1}
    per_check = defaultdict(int)
    for report in reports:
        for finding in report["findings"]:
            per_check[finding["check"]] += 1
    counts = _count_values(page)
    for check in CHECKS:
        assert counts[check] == per_check[check], check
    # the worst calls first: every failing call before every passing one
    order = [a["data-summary-call"] for a in dom.with_attr("data-summary-call")]
    verdicts = {r["call_id"]: r["verdict"] for r in reports}
    assert sorted(order, key=lambda c: verdicts[c] != "fail") == order and len(order) == len(reports)
    assert [a["data-error-input"].endswith("broken.transcript.json") for a in dom.with_attr("data-error-input")] == [True]


def _stat_values(page: Path) -> dict[str, int]:
    text = page.read_text(encoding="utf-8")
    return {key: int(value) for key, value in re.findall(r'data-stat="(\w+)">(\d+)<', text)}


def _count_values(page: Path) -> dict[str, int]:
    text = page.read_text(encoding="utf-8")
    return {key: int(value) for key, value in re.findall(r'data-count="(\w+)">(\d+)<', text)}


def test_transcript_markup_is_shown_as_text(page: Path, dom: _Dom) -> None:
    assert not [attrs for tag, attrs in dom.elements if tag in ("script", "img", "b")]
    assert not [attrs for _, attrs in dom.elements if any(name.startswith("on") for name in attrs)]
    text = " ".join(dom.text)
    assert EVIL_WORD in text and EVIL_ATTR in text and 'evil-"<b>' in text


def test_the_page_needs_nothing_from_the_network(page: Path) -> None:
    for path in _pages(page):
        source = path.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in source and "default-src 'none'" in source
        assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", source)
        assert "<script" not in source and "<link" not in source and "@import" not in source


def test_each_call_has_a_lane_per_speaker_and_a_rate_line_against_its_threshold(page: Path, dom: _Dom) -> None:
    source = _source(page)
    sections = {m.group(1): m.group(2) for m in re.finditer(r'data-call-id="([^"]+)">(.*?)</section>', source, re.S)}
    fast = sections["en-sample-fast"]
    assert fast.count('class="lane role-agent"') == 1 and fast.count('class="lane role-customer"') == 1
    threshold = load_rules("en").rate.threshold_wpm
    assert f'data-threshold="{threshold:.0f}"' in fast and "rate-line" in fast
    assert "rate-line" not in sections["mono-call"] and "mono recording" in sections["mono-call"]
    assert "no rules for ko" in sections["ko-call"]


@pytest.mark.parametrize("call_id", ["en-sample-fast", "es-sample-rapida", "en-sample-clean"])
def test_the_rate_line_reaches_what_the_check_measured(call_id: str, page: Path) -> None:
    transcript = read_transcript(SAMPLES / "transcripts" / f"{call_id}.transcript.json")
    report = json.loads((page.parent / f"{call_id}.report.json").read_text(encoding="utf-8"))
    settings = load_rules(transcript.language).rate
    points = rate_series(SpeechClock.of([w for w in transcript.words if w.speaker == "agent"], settings.max_gap_seconds), settings)
    peak = max(wpm for _, wpm in points)
    assert peak == pytest.approx(report["metrics"]["agent"]["max_window_wpm"], rel=0.1)
    flagged = any(f["check"] == "speaking_rate" for f in report["findings"])
    assert (peak >= settings.threshold_wpm) == flagged


def _png_size_and_variety(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data): a blank page has very few."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))


def _shown(which: str, request: pytest.FixtureRequest) -> Path:
    """The index, or a call's page with its recording's players."""
    if which == "index":
        return request.getfixturevalue("page")
    return request.getfixturevalue("sample_pages") / "report" / page_name("en-sample-threat")


@pytest.mark.parametrize("which", ["index", "call"])
@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_screenshots_at_laptop_and_phone_width(width: int, height: int, which: str, browser, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    shot = tmp_path / f"report-{width}.png"
    browser(_shown(which, request).as_uri(), f"--window-size={width},{height}", f"--screenshot={shot}")
    assert shot.stat().st_size > 20_000, "the screenshot is nearly empty"
    got_width, got_height, variety = _png_size_and_variety(shot)
    assert (got_width, got_height) == (width, height)
    assert variety > 100, "the screenshot is nearly uniform"


@pytest.mark.parametrize("which", ["index", "call"])
@pytest.mark.parametrize("width", [1366, 390])
def test_nothing_is_wider_than_the_screen(width: int, which: str, browser, tmp_path: Path,
                                          request: pytest.FixtureRequest) -> None:
    """Wide tables scroll inside their own box; the page itself never scrolls sideways."""
    probe = tmp_path / "probe.html"
    shutil.copy(_shown(which, request), tmp_path / "report.html")
    probe.write_text(
        "<!doctype html><body style='margin:0'>"
        f"<iframe id='f' src='report.html' style='border:0;width:{width}px;height:900px' "
        "onload=\"var d=this.contentDocument.documentElement;"
        "document.body.setAttribute('data-width', d.scrollWidth + ' ' + d.clientWidth)\"></iframe></body>",
        encoding="utf-8",
    )
    parsed = _Dom()
    parsed.feed(browser(probe.as_uri(), "--allow-file-access-from-files", "--dump-dom", "--virtual-time-budget=3000"))
    measured = [a["data-width"] for t, a in parsed.elements if t == "body" and "data-width" in a]
    assert measured, "the probe could not measure the page"
    scroll_width, client_width = map(int, measured[0].split())
    assert scroll_width <= client_width == width


# ------------------------------------------------------------------ the recordings, on the static pages


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples with their recordings (each transcript paired with its FLAC), checked with --html."""
    out = tmp_path_factory.mktemp("html-audio")
    assert main(["check", str(SAMPLES), "--out", str(out), "--html", "--quiet"]) == 1
    return out


def test_a_call_page_plays_its_recording_from_each_finding(sample_pages: Path, chromium) -> None:
    report = json.loads((sample_pages / "en-sample-threat.report.json").read_text(encoding="utf-8"))
    page_path = sample_pages / "report" / page_name("en-sample-threat")
    source = page_path.read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', source).group(1)
    assert csp == "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'"
    relative = os.path.relpath(SAMPLES / "audio" / "en-sample-threat.flac", page_path.parent)
    assert relative.startswith("../") and f'src="{relative}"' in source  # a relative path: no server, no absolute URL
    tab = chromium.new_page()
    refused: list[str] = []
    tab.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    tab.goto(page_path.as_uri())
    players = tab.locator("audio[data-play-from]")
    assert players.count() == len(report["findings"]) >= 1
    whole = tab.locator("audio[data-recording]")
    assert whole.evaluate("a => new Promise(done => { a.onloadedmetadata = () => done(a.duration); a.load(); })") == \
        pytest.approx(report["duration"], abs=1.5)
    last = players.nth(players.count() - 1)
    start = float(last.get_attribute("data-play-from"))
    reached = last.evaluate("""a => new Promise(done => {
        a.muted = true; a.ontimeupdate = () => { if (a.currentTime > 0) { a.pause(); done(a.currentTime); } }; a.play(); })""")
    assert max(start - 1, 0) - 0.1 <= reached <= start + 1.5  # it starts a second before the finding
    # the policy lets the page load its recording, and nothing from anywhere else
    tab.evaluate("() => { const a = document.createElement('audio'); a.src = 'http://127.0.0.1:9/x.wav'; "
                 "document.body.append(a); a.load(); }")
    tab.wait_for_timeout(300)
    tab.close()
    assert refused and all("127.0.0.1:9" in text for text in refused), refused


def test_a_call_from_a_transcript_alone_says_there_is_no_recording(page: Path) -> None:
    call_page = (page.parent / "report" / page_name("en-sample-threat")).read_text(encoding="utf-8")
    assert "<audio" not in call_page and "there is no recording to play" in call_page


# ------------------------------------------------------------------ a long batch: the calls a page at a time


def _listed_in_chromium(chromium, page: Path) -> tuple[list[str], dict[str, str], str]:
    """The calls a list page shows (in order), where its navigation links go, and its security policy."""
    tab = chromium.new_page()
    try:
        tab.goto(page.as_uri())
        calls = tab.locator("[data-summary-call]").evaluate_all("rows => rows.map(r => r.dataset.summaryCall)")
        links = tab.locator("[data-summary-call] a").evaluate_all("links => links.map(a => a.href)")
        nav = dict(tab.locator("nav.pages a[rel]").evaluate_all("links => links.map(a => [a.rel, a.href])"))
        csp = tab.locator("meta[http-equiv=Content-Security-Policy]").get_attribute("content")
    finally:
        tab.close()
    for link in links:  # every call links its own page, which is there
        assert link.startswith("file://") and Path(link[len("file://"):]).is_file(), link
    return calls, nav, csp


def test_a_long_batch_lists_its_calls_a_page_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chromium) -> None:
    import etiquette.writers.html as html_writer

    monkeypatch.setattr(html_writer, "INDEX_ROWS", 3)  # 8 calls: the index's 3, then 3 and 2 a page
    out = tmp_path / "out"
    assert main(["check", str(SAMPLES / "transcripts"), "--out", str(out), "--html", "--quiet"]) == 1
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in out.glob("*.report.json")]
    pages = [out / "report.html", out / "report" / "calls-2.html", out / "report" / "calls-3.html"]
    assert not (out / "report" / "calls-4.html").exists()
    listed, policies = [], set()
    for n, page in enumerate(pages):
        calls, nav, csp = _listed_in_chromium(chromium, page)
        assert len(calls) == (3 if n < 2 else 2), page.name
        listed += calls
        policies.add(csp)
        if n < 2:
            assert nav["next"] == pages[n + 1].as_uri()
        else:
            assert "next" not in nav
        if n:
            assert nav["prev"] == pages[n - 1].as_uri() + ("#calls" if n == 1 else "")
    assert sorted(listed) == sorted(r["call_id"] for r in reports)  # each call once
    verdicts = [next(r["verdict"] for r in reports if r["call_id"] == call) for call in listed]
    assert verdicts == sorted(verdicts, key=lambda v: v != "fail")  # worst first, across the pages
    assert policies == {html_writer.REPORT_CSP}  # the lists load nothing, not even media
    monkeypatch.setattr(html_writer, "INDEX_ROWS", 5)  # a shorter list: the pages past its end go
    assert main(["check", str(SAMPLES / "transcripts"), "--out", str(out), "--html", "--quiet"]) == 1
    assert pages[1].exists() and not pages[2].exists()
