"""`etiquette review` end to end: the real server process (uvicorn) on a real SQLite results database made by
`etiquette check` from real recordings (Korean speech from espeak-ng, transcribed by Vosk; the samples' FLAC
recordings beside their transcripts), driven in Debian's chromium by Playwright.

A reviewer opens a call, plays from a finding and from a word (the player's time reaches it, the word being
spoken is highlighted), records a decision, reloads and finds it kept, filters the calls (the counts follow),
and exports the decisions as CSV. Screenshots at 1366 and 390 px wide are kept in the test's folder, and
nothing scrolls sideways. Bad input (a missing recording, one ffmpeg cannot read, a link out of its folder, a
transcript holding markup) is said on the page while the server keeps answering. Security is in
test_review_security.py.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest

from etiquette.audio import ffmpeg_exe
from etiquette.cli import main

try:
    import review_server
    import speech
    from cli_helpers import SAMPLES
except ImportError:
    from tests import review_server, speech
    from tests.cli_helpers import SAMPLES

pytestmark = pytest.mark.vosk

EVIL_WORD = "<script>alert(1)</script>"
EVIL_ID = "odd #1 <b>%2e"  # a call id with what URLs and HTML treat specially
SAMPLE_CALLS = ("en-sample-threat", "en-sample-disclosure", "es-sample-amenaza", "en-sample-clean")


def _transcript_like(sample: str, call_id: str, folder: Path) -> Path:
    data = json.loads((SAMPLES / "transcripts" / f"{sample}.transcript.json").read_text(encoding="utf-8"))
    data["call_id"] = call_id
    path = folder / f"{call_id}.transcript.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run's output folder: a Korean stereo call with 12 s of dead air (Vosk), four samples with their
    recordings, a transcript holding markup, and three calls whose recordings go bad after the run."""
    speech.require_korean_speech()
    work = tmp_path_factory.mktemp("review")
    calls = work / "calls"
    calls.mkdir()
    agent = [speech.speak(text, work / f"a{n}.wav") for n, text in enumerate((speech.AGENT_KO, "네 알겠습니다 감사합니다"))]
    customer = speech.speak(speech.CUSTOMER_KO, work / "c.wav", voice="ko+f3")
    then = 0.5 + speech.seconds(agent[0]) + 0.5
    quiet_from = then + speech.seconds(customer)
    left = speech.place([(0.5, agent[0]), (quiet_from + 12.5, agent[1])], quiet_from + 16, work / "left.wav")
    right = speech.place([(then, customer)], quiet_from + 16, work / "right.wav")
    speech.stereo(left, right, calls / "ko-dead-air.wav")
    for sample in SAMPLE_CALLS:
        shutil.copy(SAMPLES / "transcripts" / f"{sample}.transcript.json", calls)
        shutil.copy(SAMPLES / "audio" / f"{sample}.flac", calls)
    evil = json.loads((SAMPLES / "transcripts" / "en-sample-threat.transcript.json").read_text(encoding="utf-8"))
    evil["call_id"] = EVIL_ID
    evil["words"][3]["word"] = EVIL_WORD
    (calls / "evil.transcript.json").write_text(json.dumps(evil), encoding="utf-8")
    for call_id in ("gone", "garbled", "escape"):
        _transcript_like("en-sample-fast", call_id, calls)
        shutil.copy(SAMPLES / "audio" / "en-sample-fast.flac", calls / f"{call_id}.flac")
    _transcript_like("en-sample-fast", "mulaw", calls)  # a recording browsers cannot play: 8 kHz mu-law
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(SAMPLES / "audio" / "en-sample-fast.flac"),
                    "-ar", "8000", "-c:a", "pcm_mulaw", str(calls / "mulaw.wav")], check=True)
    for call_id in ("wordless", "corrected"):  # transcripts alone: one removed after the run, one corrected
        _transcript_like("en-sample-disclosure", call_id, calls)
    out = work / "out"
    code = main(["check", str(calls), "--language", "ko", "--out", str(out), "--manifest", str(SAMPLES / "manifest.csv"),
                 "--quiet"])
    assert code == 1
    (calls / "gone.flac").unlink()  # the recording is moved away after the run
    (calls / "wordless.transcript.json").unlink()
    (calls / "garbled.flac").write_bytes(b"not audio at all" * 100)
    outside = shutil.copy(SAMPLES / "audio" / "en-sample-fast.flac", work / "elsewhere.flac")
    (calls / "escape.flac").unlink()
    (calls / "escape.flac").symlink_to(outside)  # a link out of the recordings' folder
    return out


@pytest.fixture(scope="module")
def server(book: Path):
    started = review_server.start(str(book))
    yield started
    assert started.stop() == 0  # Ctrl-C (SIGTERM) ends it cleanly


def _report(book: Path, call_id: str) -> dict:
    return json.loads((book / f"{call_id}.report.json").read_text(encoding="utf-8"))


def _call_url(server, call_id: str) -> str:
    return f"{server.base}/calls/{quote(call_id, safe='')}"


@pytest.fixture
def tab(chromium, server):
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"a dialog opened: {dialog.message}"))
    yield page
    page.close()
    assert not errors, errors  # no script error, no alert from anything a call holds


def _current_time_reaches(tab, seconds: float) -> float:
    tab.wait_for_function("t => { const p = document.getElementById('player'); return !p.paused && p.currentTime >= t; }",
                          arg=seconds, timeout=15_000)
    return tab.evaluate("document.getElementById('player').currentTime")


def test_open_a_call_and_play_from_a_finding_and_from_a_word(tab, server, book: Path) -> None:
    report = _report(book, "ko-dead-air")
    quiet = [f for f in report["findings"] if f["check"] == "dead_air"]
    assert len(quiet) == 1 and quiet[0]["end"] - quiet[0]["start"] >= 10  # real audio, real Vosk, a real finding
    tab.goto(server.base + "/")
    tab.click("a[href='/calls/ko-dead-air']")
    tab.wait_for_url("**/calls/ko-dead-air")
    assert tab.evaluate("document.getElementById('player').duration") == pytest.approx(report["duration"], abs=0.5)
    tab.click(f"[data-finding='ko-dead-air#{report['findings'].index(quiet[0])}'] button.play")
    reached = _current_time_reaches(tab, quiet[0]["start"])
    assert quiet[0]["start"] <= reached < quiet[0]["start"] + 5
    tab.evaluate("document.getElementById('player').pause()")
    first = tab.locator(".w[data-s]").first
    start = float(first.get_attribute("data-s"))
    first.click()
    _current_time_reaches(tab, start)
    tab.wait_for_selector(".w.now", timeout=10_000)  # the word being spoken is highlighted
    now = tab.evaluate("[parseFloat(document.querySelector('.w.now').dataset.s), document.getElementById('player').currentTime]")
    assert now[0] <= now[1] + 0.05


def test_a_decision_is_kept_after_a_reload(tab, server, book: Path) -> None:
    report = _report(book, "en-sample-disclosure")
    tab.goto(_call_url(server, "en-sample-disclosure"))
    form = tab.locator("form.decide").first
    form.locator("input[value=false_positive]").check()
    form.locator("textarea[name=note]").fill("the brother already knew: <not> a disclosure")
    form.locator("input[name=reviewer]").fill("Rosa Díaz")
    form.locator("button[type=submit]").click()
    tab.wait_for_load_state()
    tab.reload()
    form = tab.locator("form.decide").first
    assert form.locator("input[value=false_positive]").is_checked()
    assert form.locator("textarea[name=note]").input_value() == "the brother already knew: <not> a disclosure"
    assert form.locator(".decided").get_attribute("data-decided") == "false_positive"
    assert "Rosa Díaz" in form.locator(".decided").inner_text()
    assert tab.locator("[data-review-state]").inner_text().startswith(f"1 of {len(report['findings'])} findings decided")
    # the next form remembers who is reviewing
    assert tab.locator("form.decide").nth(1).locator("input[name=reviewer]").input_value() == "Rosa Díaz"
    tab.goto(server.base + "/?review=partly")
    assert tab.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.call)") == ["en-sample-disclosure"]


def test_the_calls_table_filters_and_its_counts_follow(tab, server, book: Path) -> None:
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in book.glob("*.report.json")]
    tab.goto(server.base + "/")
    assert int(tab.locator("[data-count=matching]").inner_text()) == len(reports) == len(tab.locator("tbody tr").all())
    tab.select_option("select[name=verdict]", "fail")  # submits itself
    tab.wait_for_url("**verdict=fail**")
    failing = sorted(r["call_id"] for r in reports if r["verdict"] == "fail")
    assert int(tab.locator("[data-count=matching]").inner_text()) == len(failing)
    assert sorted(tab.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.call)")) == failing
    tab.fill("input[name=text]", "Judge")  # words said, whatever their case
    tab.press("input[name=text]", "Enter")
    tab.wait_for_url("**text=Judge**")
    expected = sorted(r["call_id"] for r in reports if r["verdict"] == "fail"
                      and "judge" in (SAMPLES / "transcripts" / "en-sample-threat.transcript.json").read_text()
                      and r["source"].endswith(("en-sample-threat.transcript.json", "evil.transcript.json")))
    assert sorted(tab.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.call)")) == expected
    assert int(tab.locator("[data-count=matching]").inner_text()) == 2
    tab.goto(server.base + "/?sort=duration&desc=1")
    lengths = [r["duration"] for r in sorted(reports, key=lambda r: -r["duration"])]
    shown = tab.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.call)")
    assert [_report(book, call_id)["duration"] for call_id in shown] == lengths


def _listed(server, query: str) -> tuple[list[str], int]:
    """The calls a query of the calls page lists (one page of 200) and the count it gives."""
    with urlopen(f"{server.base}/?{query}&size=200") as answer:
        page = answer.read().decode("utf-8")
    rows = [html.unescape(call_id) for call_id in re.findall(r'<tr class="(?:fail|pass)" data-call="([^"]*)"', page)]
    return sorted(rows), int(re.search(r'data-count="matching">(\d+)<', page).group(1))


def test_each_filter_lists_the_calls_it_should(server, book: Path) -> None:
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in book.glob("*.report.json")]
    meta = {r["call_id"]: r.get("call") or {} for r in reports}
    at_least_medium = {"medium", "high"}
    cases = {
        "check=aggressive_language": lambda r: any(f["check"] == "aggressive_language" for f in r["findings"]),
        "rule=debt-mentioned-to-third-party": lambda r: any(f["rule"] == "debt-mentioned-to-third-party"
                                                            for f in r["findings"]),
        "severity=medium&language=es": lambda r: r["language"].startswith("es-")
        and any(f["severity"] in at_least_medium for f in r["findings"]),
        "severity=high": lambda r: any(f["severity"] == "high" for f in r["findings"]),
        "agent=Marcus+Bell": lambda r: meta[r["call_id"]].get("agent") == "Marcus Bell",
        "agent=(none)": lambda r: not meta[r["call_id"]].get("agent"),
        "team=Cobranza+MX": lambda r: meta[r["call_id"]].get("team") == "Cobranza MX",
        "since=2025-03-11&until=2025-03-11": lambda r: meta[r["call_id"]].get("started_at", "").startswith("2025-03-11"),
        "language=ko&review=to_review": lambda r: r["language"] == "ko" and bool(r["findings"]),
    }
    said = [w["word"] for w in json.loads((book / "ko-dead-air.transcript.json").read_text(encoding="utf-8"))["words"]]
    cases["text=" + quote(" ".join(said[1:3]))] = lambda r: r["call_id"] == "ko-dead-air"  # a phrase Vosk heard
    for query, keeps in cases.items():
        expected = sorted(r["call_id"] for r in reports if keeps(r))
        assert expected, query  # each filter keeps some calls, and not all of them
        assert len(expected) < len(reports), query
        assert _listed(server, query) == (expected, len(expected)), query
    assert _listed(server, "agent=nobody") == ([], 0)
    with urlopen(f"{server.base}/?sort=language&desc=1&size=200") as answer:  # each column sorts, both ways
        page = answer.read().decode("utf-8")
    order = [html.unescape(call_id) for call_id in re.findall(r'<tr class="(?:fail|pass)" data-call="([^"]*)"', page)]
    languages = [next(r["language"] for r in reports if r["call_id"] == call_id) for call_id in order]
    assert languages == sorted(languages, reverse=True) and len(set(languages)) > 2
    assert 'data-sort="team"' in page and 'data-sort="language"' in page


def test_the_decisions_export_as_csv(tab, server, book: Path, tmp_path: Path) -> None:
    tab.goto(_call_url(server, "es-sample-amenaza"))
    for which, decision, note in ((0, "false_positive", "a figure of speech"),
                                  (-1, "needs_coaching", "=HYPERLINK(1)")):  # a note a spreadsheet would run
        form = tab.locator("form.decide").nth(which)
        form.locator(f"input[value={decision}]").check()
        form.locator("textarea[name=note]").fill(note)
        form.locator("input[name=reviewer]").fill("Sam")
        with tab.expect_navigation():
            form.locator("button[type=submit]").click()
    with tab.expect_download() as download:
        tab.click("a[href='/decisions.csv']")
    rows = list(csv.DictReader(Path(download.value.path()).open(encoding="utf-8")))
    mine = [row for row in rows if row["call_id"] == "es-sample-amenaza" and row["decision"] == "needs_coaching"]
    last = _report(book, "es-sample-amenaza")["findings"][-1]
    assert len(mine) == 1 and mine[0]["reviewer"] == "Sam"
    assert mine[0]["note"] == "'=HYPERLINK(1)" and mine[0]["rule"] == last["rule"]
    assert float(mine[0]["start"]) == pytest.approx(last["start"], abs=0.01) and mine[0]["agent"] == "Lucía Ortega"
    # field precision, per rule and per check, is what the exported decisions say
    tab.goto(server.base + "/precision")
    for by in ("rule", "check"):
        decided: dict[str, list[str]] = {}
        for row in rows:
            decided.setdefault(row[by], []).append(row["decision"])
        shown = {group: tab.locator(f"[data-precision={by}] tr[data-group='{group}'] [data-precision-value]")
                 .get_attribute("data-precision-value") for group in decided}
        expected = {group: sum(d != "false_positive" for d in kinds) / len(kinds) for group, kinds in decided.items()}
        assert {group: float(value) for group, value in shown.items()} == pytest.approx(expected), by
    assert any(value < 1 for value in expected.values())  # a false positive counted against its rule


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_screenshots_at_laptop_and_phone_width(chromium, server, width: int, height: int, tmp_path: Path) -> None:
    page = chromium.new_page(viewport={"width": width, "height": height})
    try:
        for name, url in (("calls", server.base + "/"), ("call", _call_url(server, "en-sample-threat")),
                          ("precision", server.base + "/precision")):
            page.goto(url)
            shot = tmp_path / f"review-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000, "the screenshot is nearly empty"
            scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert scroll <= client == width, f"{name} scrolls sideways at {width} px"
            # the tables fit too: on a phone, the columns that matter show without scrolling the table
            hidden = page.evaluate("Array.from(document.querySelectorAll('.scroll')).filter(box => "
                                   "box.scrollWidth > box.clientWidth + 1).length")
            assert hidden == 0, f"a table on {name} is wider than the screen at {width} px"
    finally:
        page.close()
        if os.environ.get("ETIQUETTE_SHOTS"):  # a folder to keep them in, to look at (failing ones too)
            shutil.copytree(tmp_path, os.environ["ETIQUETTE_SHOTS"], dirs_exist_ok=True)


def test_markup_in_a_transcript_and_an_id_is_text(tab, server) -> None:
    tab.goto(_call_url(server, EVIL_ID))
    assert tab.locator("h2 .cid").inner_text() == EVIL_ID
    assert EVIL_WORD in tab.locator("details.transcript").inner_text()
    assert tab.locator("script").count() == 1  # review.js, nothing else
    assert tab.locator("main b").count() == 0


def _page(server, call_id: str) -> str:
    with urlopen(_call_url(server, call_id)) as answer:
        return answer.read().decode("utf-8")


def _said(page: str) -> str:
    """The page's text, each word out of the span that plays it."""
    return re.sub(r"<[^>]+>", "", page)


def test_a_transcript_gone_after_the_run_is_said_and_its_findings_still_decided(server, book: Path) -> None:
    page = _page(server, "wordless")
    assert "data-transcript-problem" in page and "wordless.transcript.json cannot be read: No such file or directory" in page
    findings = _report(book, "wordless")["findings"]
    assert len(findings) >= 2 and page.count('name="finding_id"') == len(findings)
    assert 'class="w"' not in page and server.alive()


def test_a_transcript_corrected_after_the_run_is_read_again(server, book: Path) -> None:
    path = Path(_report(book, "corrected")["source"])
    assert "thomas nguyen there" in _said(_page(server, "corrected"))  # read once (and kept while the file is unchanged)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [w["word"] for w in data["words"][4:6]] == ["thomas", "nguyen"]
    data["words"][5]["word"] = "nguyễn"
    path.write_text(json.dumps(data), encoding="utf-8")
    said = _said(_page(server, "corrected"))
    assert "thomas nguyễn there" in said and "thomas nguyen" not in said


def test_a_recording_browsers_cannot_play_is_converted_and_plays(tab, server, book: Path) -> None:
    status = urlopen(Request(f"{server.base}/audio/mulaw", headers={"Range": "bytes=0-3"}))
    assert status.status == 206 and status.headers["content-type"] == "audio/flac" and status.read() == b"fLaC"
    tab.goto(_call_url(server, "mulaw"))
    duration = tab.evaluate("""() => new Promise(done => { const p = document.getElementById('player');
        if (p.readyState >= 1) done(p.duration); else p.addEventListener('loadedmetadata', () => done(p.duration)); })""")
    assert duration == pytest.approx(_report(book, "mulaw")["duration"], abs=0.5)
    tab.locator("button.play").first.click()
    _current_time_reaches(tab, float(tab.locator("button.play").first.get_attribute("data-play")))


@pytest.mark.parametrize("call_id,says", [
    ("gone", "is missing"),
    ("garbled", "cannot be played: "),
    ("escape", "is a link out of its folder"),
    (EVIL_ID, "Checked from a transcript alone: there is no recording to play."),
])
def test_a_recording_that_cannot_be_played_is_said_and_the_server_keeps_answering(server, call_id: str, says: str) -> None:
    with urlopen(_call_url(server, call_id)) as answer:
        page = answer.read().decode("utf-8")
    assert "data-player-note" in page and says in page and 'id="player"' not in page
    with pytest.raises(Exception) as refused:
        urlopen(f"{server.base}/audio/{quote(call_id, safe='')}")
    assert getattr(refused.value, "code", None) == 404
    with urlopen(server.base + "/") as answer:
        assert answer.status == 200 and server.alive()
