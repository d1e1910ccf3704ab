"""A real browser for the tests: Debian's chromium, driven by Playwright (its own browser download is never
used: Playwright is pointed at the chromium the set-up installs).

`start()` launches it headless and returns (playwright, browser); `chromium_path()` finds the binary. Without
chromium the browser tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import os
import shutil

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (the Makefile's system-packages step installs it)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def start():
    from playwright.sync_api import sync_playwright

    binary = chromium_path()
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=binary,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
        )
    except BaseException:
        playwright.stop()
        raise
    return playwright, browser
