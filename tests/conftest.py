"""Settings shared by every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
