#!/usr/bin/env python3
"""How fast reviewing a big book is (issue 15), with the real parts: the `etiquette review` process, Debian's
chromium driven by Playwright, ffmpeg-made recordings on the local disk.

    python bench/review.py [CALLS]        (default 10,000)

1. The calls page on a results database of CALLS calls (5 findings and about 600 words each), asked for over
   HTTP as a browser does: one page of 50 rows, rendered by the server, with the counts of every call the
   filters keep. Target: under 300 ms.
2. Seeking in a two-hour stereo recording (8 kHz, as call recordings are; WAV, FLAC and MP3): on the call's
   page in chromium, a click on a finding's play button near the end, until the player is playing there.
   Target: under 200 ms locally.
3. The static report for CALLS calls (`check --html`): writing report.html, its list pages and the CALLS call
   pages through the HTML writer, and chromium opening them from disk until their load event. Target: report.html
   opens in under 2 s (before issue 15, 6,400 calls made one page that took 86 s to write and 95 s to open).

Prints figures; it asserts nothing. Needs chromium (apt-get install chromium).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

from book import outcomes  # noqa: E402 (bench/book.py: the same made-up calls)
import browser  # noqa: E402 (tests/browser.py: Debian's chromium under Playwright)
import review_server  # noqa: E402 (tests/review_server.py: the real `etiquette review` process)

from etiquette.audio import ffmpeg_exe  # noqa: E402
from etiquette.db import Book  # noqa: E402
from etiquette.outcome import BatchTotals, CallOutcome  # noqa: E402
from etiquette.report import CallReport  # noqa: E402
from etiquette.transcripts import read_transcript, write_transcript  # noqa: E402
from etiquette.types import CheckResult, Finding, Severity, Word  # noqa: E402
from etiquette.writers import WriterOptions  # noqa: E402
from etiquette.writers.database import DatabaseWriter  # noqa: E402
from etiquette.writers.html import INDEX_ROWS, HtmlWriter  # noqa: E402
from etiquette.writers.html.view import page_name  # noqa: E402

SAMPLE = ROOT / "samples" / "audio" / "en-sample-threat.flac"
SAMPLE_WORDS = ROOT / "samples" / "transcripts" / "en-sample-threat.transcript.json"
TWO_HOURS = 7200.0
FORMATS = {"wav": ["-c:a", "pcm_s16le"], "flac": ["-c:a", "flac"], "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"]}
SEEKS = (1805.0, 3607.5, 5410.0, 6300.0, 7150.0)  # where the two-hour call's findings are
VOCABULARY = ("hello this is sam calling about your account the balance is due friday can you make a payment today "
              "we can set up a plan for you i understand it is hard right now the judge my brother she is not here "
              "thank you for your time please call us back at your convenience goodbye").split()
PAGES = [  # (what, query string)
    ("the first page, worst first", ""),
    ("page 100", "page=100"),
    ("failing calls of one agent", "verdict=fail&agent=agent+7"),
    ("one rule, at least medium", "rule=insult&severity=medium"),
    ("to review, by length", "review=to_review&sort=duration&desc=1"),
    ("words said: 'the judge'", "text=the+judge"),
    ("a day's calls", "since=2025-03-20&until=2025-03-20"),
]


def long_calls(count: int, recording: str | None = None):
    """bench/book.py's calls, each with about 600 words said, made one at a time (they do not all fit in memory)."""
    chooser = random.Random(15)
    for outcome in outcomes(count, 5):
        said = [chooser.choice(VOCABULARY) for _ in range(600)]
        words = tuple(Word(word, i * 0.35, i * 0.35 + 0.3, 1.0, "agent" if (i // 12) % 2 else "customer")
                      for i, word in enumerate(said))
        transcript = replace(outcome.report.transcript, words=words, duration=210.0)
        yield replace(outcome, report=replace(outcome.report, transcript=transcript), recording=recording)


def two_hour_recordings(folder: Path) -> dict[str, Path]:
    """The sample call looped to two hours, 8 kHz stereo, in each format (ffmpeg)."""
    made = {}
    for kind, codec in FORMATS.items():
        target = folder / f"two-hours-{kind}.{kind}"
        subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-stream_loop", "-1",
                        "-i", str(SAMPLE), "-t", str(TWO_HOURS), "-ar", "8000", "-ac", "2", *codec, str(target)],
                       check=True)
        made[kind] = target
    return made


def two_hour_call(call_id: str, recording: Path, folder: Path) -> CallOutcome:
    """A two-hour call: the sample's words said over and over (about 16,000 words), findings near its end."""
    sample = read_transcript(SAMPLE_WORDS)
    loop = sample.duration
    words = tuple(replace(word, start=round(n * loop + word.start, 2), end=round(n * loop + word.end, 2))
                  for n in range(int(TWO_HOURS // loop)) for word in sample.words)
    transcript = replace(sample, call_id=call_id, duration=TWO_HOURS, words=words)
    transcript_file = folder / f"{call_id}.transcript.json"
    write_transcript(transcript, transcript_file)
    findings = tuple(Finding("aggressive_language", "insult", Severity.HIGH, "agent", at, at + 2.5, "you deadbeat",
                             "15 U.S.C. 1692d(2)", "Insults or calls the person names") for at in SEEKS)
    report = CallReport(transcript, CheckResult(findings), source=str(transcript_file), input_sha256="0" * 64,
                        settings="bench")
    return CallOutcome(str(recording), call_id, 0, report=report, recording=str(recording),
                       transcript_file=str(transcript_file))


def book_of(count: int, folder: Path, extra: list[CallOutcome]) -> Path:
    db = folder / "results.db"
    book = Book.open(str(db))
    began = time.perf_counter()
    book.start_run("bench", str(folder), None, False)
    writer = DatabaseWriter(WriterOptions(folder, book=book))
    for outcome in [*long_calls(count), *extra]:
        writer.add(outcome)
    writer.finish(BatchTotals(calls=count + len(extra)))
    book.close()
    print(f"a book of {count:,} calls, {5 * count:,} findings, 600 words a call: recorded in "
          f"{time.perf_counter() - began:.1f} s ({db.stat().st_size / 1e6:.0f} MB)")
    return db


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (user and system, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def calls_pages(server) -> None:
    urlopen(server.base + "/").read()  # the first request warms the templates and the database's cache
    for what, query in PAGES:
        times = []
        cpu = cpu_seconds(server.process.pid)
        for _ in range(7):
            began = time.perf_counter()
            with urlopen(f"{server.base}/?{query}") as answer:
                body = answer.read()
            times.append(time.perf_counter() - began)
        cpu = (cpu_seconds(server.process.pid) - cpu) / len(times)
        rows = body.count(b"<tr class=")
        print(f"  calls page, {what}: median {1000 * statistics.median(times):.0f} ms, slowest "
              f"{1000 * max(times):.0f} ms ({rows} rows; the server's CPU {1000 * cpu:.0f} ms a page)")


PLAY_FROM = """async (n) => {
  const player = document.getElementById('player');
  const button = document.querySelectorAll('button.play')[n];
  const target = parseFloat(button.dataset.play);
  player.pause();
  const began = performance.now();
  const playing = new Promise(done => player.addEventListener('playing', () => done(performance.now() - began), {once: true}));
  const moving = new Promise(done => {
    const tick = () => (!player.paused && !player.seeking && player.currentTime > target)
      ? done(performance.now() - began) : requestAnimationFrame(tick);
    tick();
  });
  button.click();
  return [await playing, await moving, player.currentTime - target];
}"""


def seeking(server, chromium, kinds: list[str]) -> None:
    for kind in kinds:
        call_id = f"two-hours-{kind}"
        tab = chromium.new_page(viewport={"width": 1366, "height": 900})
        began = time.perf_counter()
        tab.goto(f"{server.base}/calls/{quote(call_id)}")
        loaded = time.perf_counter() - began
        duration = tab.evaluate("""() => new Promise(done => { const p = document.getElementById('player');
            if (p.readyState >= 1) done(p.duration); else p.addEventListener('loadedmetadata', () => done(p.duration)); })""")
        words = tab.locator(".w[data-s]").count()
        clicks = [tab.evaluate(PLAY_FROM, n % len(SEEKS)) for n in range(1 + 2 * len(SEEKS))]
        assert all(0 <= past < 2 for _, _, past in clicks), clicks
        first, rest = clicks[0], clicks[1:]
        playing = [ms for ms, _, _ in rest]
        moving = [ms for _, ms, _ in rest]
        tab.close()
        print(f"  {kind.upper()} ({duration / 3600:.2f} h): playing {statistics.median(playing):.0f} ms after a click "
              f"(slowest {max(playing):.0f} ms of {len(rest)}), its time past the finding {statistics.median(moving):.0f} ms; "
              f"the first click after opening the page {first[0]:.0f} ms (the browser starts its audio output)")
        print(f"     the call's page ({words:,} words, a finding every half hour) opened in {1000 * loaded:.0f} ms")


def static_report(count: int, folder: Path, chromium) -> None:
    out = folder / "static"
    out.mkdir()
    recording = shutil.copy(SAMPLE, folder / "recording.flac")
    writer = HtmlWriter(WriterOptions(out))
    totals = BatchTotals()
    pages = 0.0  # the writer's own time: making up the calls is not counted
    for outcome in long_calls(count, recording=str(recording)):
        began = time.perf_counter()
        writer.add(outcome)
        totals.add(outcome)
        pages += time.perf_counter() - began
    began = time.perf_counter()
    index = writer.finish(totals)
    writer.close()
    wrote = pages + time.perf_counter() - began
    size = sum(page.stat().st_size for page in (out / "report").iterdir() if not page.name.startswith("calls-"))
    print(f"  written in {wrote:.1f} s: {pages:.1f} s for the {count:,} call pages as the calls finish "
          f"({1000 * pages / count:.0f} ms a call, 600 words each), {wrote - pages:.1f} s for the index; "
          f"report.html {index.stat().st_size / 1e6:.1f} MB, the call pages {size / 1e6:.0f} MB")
    lists = sorted((out / "report").glob("calls-*.html"))
    print(f"  report.html lists the worst {INDEX_ROWS} calls, and {len(lists)} pages in report/ the rest")
    for what, page in (("report.html", index), ("a list page (report/calls-2.html)", out / "report" / "calls-2.html"),
                       ("a call's page", out / "report" / page_name("bench-000001"))):
        if not page.exists():
            continue
        times = []
        for _ in range(3):
            tab = chromium.new_page()
            began = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            times.append(time.perf_counter() - began)
            rows = tab.locator("[data-summary-call]").count()
            tab.close()
        print(f"  chromium opens {what} in {statistics.median(times):.2f} s (slowest {max(times):.2f} s)"
              + (f", {rows:,} rows" if rows else ""))


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the figures are wall-clock times)")
    playwright, chromium = browser.start()
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            began = time.perf_counter()
            recordings = two_hour_recordings(folder)
            print(f"two-hour recordings made in {time.perf_counter() - began:.0f} s: "
                  + ", ".join(f"{kind.upper()} {path.stat().st_size / 1e6:.0f} MB" for kind, path in recordings.items()))
            extra = [two_hour_call(f"two-hours-{kind}", path, folder) for kind, path in recordings.items()]
            db = book_of(count, folder, extra)
            server = review_server.start("--db", str(db))
            try:
                print(f"1. the calls page of {count:,} calls, over HTTP (target under 300 ms):")
                calls_pages(server)
                print("2. seeking in a two-hour recording in chromium, from a click on a finding (target under 200 ms):")
                seeking(server, chromium, list(recordings))
            finally:
                server.stop()
            print(f"3. the static report of {count:,} calls (target: chromium opens it in under 2 s):")
            static_report(count, folder, chromium)
    finally:
        chromium.close()
        playwright.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
