#!/usr/bin/env python3
"""The README's screenshots of `etiquette review`, made again from the samples: the calls and a call's page at
1366 and 390 px wide, in Debian's chromium (Playwright), against the real server on a results database that
`etiquette check samples --manifest samples/manifest.csv` writes, with two decisions made the way a reviewer makes
them.

    .venv/bin/python docs/screenshots.py [FOLDER]      (default docs/screenshots/)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import browser  # noqa: E402 (tests/browser.py)
import review_server  # noqa: E402 (tests/review_server.py)

from etiquette.cli import main as etiquette  # noqa: E402

CALL = "en-sample-threat"


def decide(tab, n: int, decision: str, note: str) -> None:
    form = tab.locator("form.decide").nth(n)
    form.locator(f"input[value={decision}]").check()
    form.locator("textarea[name=note]").fill(note)
    form.locator("input[name=reviewer]").fill("Rosa Díaz")
    with tab.expect_navigation():
        form.locator("button[type=submit]").click()


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "out"
        code = etiquette(["check", str(ROOT / "samples"), "--out", str(out), "--manifest",
                          str(ROOT / "samples" / "manifest.csv"), "--quiet"])
        assert code == 1, code  # the samples have findings
        server = review_server.start(str(out))
        playwright, chromium = browser.start()
        try:
            tab = chromium.new_page(viewport={"width": 1366, "height": 900})
            tab.goto(f"{server.base}/calls/{CALL}")
            decide(tab, 1, "confirmed", "name-calling, twice")
            decide(tab, 0, "false_positive", "two of the eight calls were to a wrong number")
            tab.close()
            for width, height in ((1366, 900), (390, 844)):
                tab = chromium.new_page(viewport={"width": width, "height": height})
                tab.goto(f"{server.base}/")
                tab.screenshot(path=str(folder / f"review-calls-{width}.png"), full_page=True)
                tab.goto(f"{server.base}/calls/{CALL}")
                if width > 1000:  # playing from the third finding, the word being spoken highlighted
                    tab.locator("article.finding").nth(2).locator("button.play").click()
                    tab.wait_for_function("() => document.getElementById('player').currentTime > 44.3", timeout=15_000)
                    tab.evaluate("document.getElementById('player').pause()")
                    tab.evaluate("window.scrollTo(0, 0)")
                tab.screenshot(path=str(folder / f"review-call-{width}.png"), full_page=True)
                tab.close()
        finally:
            chromium.close()
            playwright.stop()
            server.stop()
    for shot in sorted(folder.glob("review-*.png")):
        print(shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
