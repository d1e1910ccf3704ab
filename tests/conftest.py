"""Settings shared by every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import browser as browser_driver
    import pg_server
except ImportError:
    from tests import browser as browser_driver
    from tests import pg_server


@pytest.fixture(scope="session", autouse=True)
def _no_user_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the user models folder at an empty place for the whole run.

    `check` also looks in the user's models folder (~/.local/share/etiquette/models),
    so a model someone downloaded there with `etiquette models download` would change
    which model the tests resolve. Tests that need one set ETIQUETTE_MODELS_DIR themselves.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ETIQUETTE_MODELS_DIR", str(tmp_path_factory.getbasetemp() / "no-user-models"))
        yield


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ETIQUETTE_MODEL and an empty working directory, so only installed models can be found."""
    monkeypatch.delenv("ETIQUETTE_MODEL", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.Server]:
    """A real PostgreSQL server for the session. Without one the tests that need it skip, except in CI
    (CI=true), where they fail: `make test` installs the Debian postgresql package."""
    try:
        server = pg_server.start()
    except pg_server.Unavailable as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL could not be started: {error}")
        pytest.skip(f"PostgreSQL could not be started: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty results database: a SQLite file, then a database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'book.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, headless, driven by Playwright, for the session: open pages with chromium.new_page()."""
    playwright, launched = browser_driver.start()
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()
