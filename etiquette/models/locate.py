"""Finding the model for a call's language: `resolve_model` (what `check` uses, and why) and
`ensure_model` (the same, downloading the catalogue's small model when none is installed).

Search order: the --model flag, $ETIQUETTE_MODEL, `models/<tag>/` then `models/<language>/`,
the user models folder, then an installed `vosk_model_<language>` package. A place that is
named but holds no model (or cannot be read) is a ModelError, never silently skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import etiquette.models.downloader as downloader
from etiquette.errors import ModelError, ModelNotFoundError
from etiquette.language import LanguageTagError, parse_tag, primary_language
from etiquette.models.catalogue import CatalogueEntry, format_size, small_model_for
from etiquette.models.installer import Progress
from etiquette.models.layout import check_layout, model_layout_problem, os_reason
from etiquette.models.store import PACKAGE_PREFIX, default_models_dirs, find_installed, package_dir, user_models_dir, user_models_label

MODEL_ENV = "ETIQUETTE_MODEL"
MODELS_URL = "https://alphacephei.com/vosk/models"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model folder to use and why it was chosen (for `--verbose` output and errors)."""

    path: Path
    reason: str  # "--model flag", "ETIQUETTE_MODEL environment variable", ...


def resolve_model(
    language: str,
    explicit: str | Path | None = None,
    *,
    models_dirs: Sequence[Path] | None = None,
    user_dir: Path | None = None,
) -> ModelChoice:
    """Find the Vosk model for `language` (a BCP-47 tag such as "es-MX").

    Order: the `--model` flag, the ETIQUETTE_MODEL environment variable,
    `models/<tag>/` then `models/<primary language>/` (in the current directory's
    `models/` and the project's own; `models_dirs` replaces both), then the user
    models folder where `etiquette models` installs (`user_dir`, default
    $ETIQUETTE_MODELS_DIR or the platform's data folder), then an installed
    `vosk_model_<primary language>` package. A place that is named but holds no
    model is an error, never silently skipped.
    """
    if explicit is not None and str(explicit) != "":
        return ModelChoice(_checked_model_dir(Path(explicit), "--model"), "--model flag")

    env = os.environ.get(MODEL_ENV, "").strip()
    if env:
        return ModelChoice(_checked_model_dir(Path(env), MODEL_ENV), f"{MODEL_ENV} environment variable")

    primary = primary_language(language)
    roots = list(models_dirs) if models_dirs is not None else default_models_dirs()
    looked: list[str] = []
    for root in roots:
        for name in _folder_names(language):
            folder = root / name
            looked.append(str(folder))
            if _is_dir(folder, "the models folder"):
                return ModelChoice(_checked_model_dir(folder, "the models folder"), f"models/{name}/ folder")

    user_root = user_models_dir() if user_dir is None else user_dir
    user_label = user_models_label(user_dir)
    installed = find_installed(language, user_root)
    if installed is not None:
        return ModelChoice(_checked_model_dir(installed.path, f"the {user_label}"), f"{user_label} ({installed.name})")

    package = f"{PACKAGE_PREFIX}{primary}"
    if primary.isalpha() and primary.isascii():
        folder = package_dir(package)
        if folder is not None:
            model_dir = _checked_model_dir(folder / "model", f"package {package}")
            return ModelChoice(model_dir, f"installed package {package.replace('_', '-')}")

    raise ModelNotFoundError(
        f"no Vosk model for language '{language}': looked at the --model flag, the {MODEL_ENV} "
        f"environment variable, {', '.join(looked) or 'no models folder'}, the {user_label} {user_root} "
        f"and the Python package {package}; `etiquette models download` fetches one into the {user_label}, "
        f"or download one from {MODELS_URL} and pass --model DIR, set {MODEL_ENV}=DIR "
        f"or unpack it into models/{primary}/"
    )


def _folder_names(language: str) -> list[str]:
    """Folder names to try, most specific first: "es-MX" (as given, then canonical), "es"."""
    try:
        canonical = parse_tag(language).tag
    except LanguageTagError:
        canonical = language
    names = [language, canonical, primary_language(language)]
    return [n for i, n in enumerate(names) if n and n not in names[:i]]


def _is_dir(path: Path, source: str) -> bool:
    try:
        return path.is_dir()
    except OSError as exc:  # a parent folder without search permission
        raise _unreadable(path, source, exc) from exc


def _unreadable(path: Path, source: str, exc: OSError) -> ModelError:
    return ModelError(f"cannot read the model folder {path} (from {source}): {os_reason(exc)}; check its permissions")


def _checked_model_dir(path: Path, source: str) -> Path:
    """`path` if it holds a Vosk model (or its only subfolder does), else ModelError (one line,
    also for a folder that cannot be read)."""
    try:
        if not path.exists():
            raise ModelError(f"the model folder given by {source} does not exist: {path}")
        if not path.is_dir():
            raise ModelError(f"the model given by {source} is not a folder: {path}")
        problem = check_layout(path)
        if problem is None:
            return path
        # A downloaded zip unpacked into models/es/ gives models/es/vosk-model-small-es-0.42/.
        subdirs = [p for p in path.iterdir() if p.is_dir()]
        if len(subdirs) == 1 and check_layout(subdirs[0]) is None:
            return subdirs[0]
    except OSError as exc:
        raise _unreadable(path, source, exc) from exc
    raise ModelError(
        f"{path} (from {source}) is not a Vosk model: {problem}; "
        f"download a model from {MODELS_URL} and unpack it there"
    )


def missing_model_hint(language: str, *, offline: bool = False, catalogue: Sequence[CatalogueEntry] | None = None) -> str:
    """What to run when no model for `language` is installed (one line, no leading separator)."""
    entry = small_model_for(language, catalogue)
    if entry is None:
        return f"the catalogue has no model for '{language}'; `etiquette models list` shows the languages it knows"
    air_gapped = f"without a network, copy {entry.url} here and run `etiquette models install {entry.name}.zip`"
    if offline:
        return f"--offline forbids downloading {entry.name}; {air_gapped}"
    return f"`etiquette models download {entry.name}` fetches it ({format_size(entry.size, entry.size_exact)}); {air_gapped}"


def ensure_model(
    language: str,
    *,
    explicit: str | Path | None = None,
    offline: bool = False,
    download: bool = False,
    confirm: Callable[[CatalogueEntry], bool] | None = None,
    progress: Progress | None = None,
    dest_dir: Path | None = None,
    catalogue: Sequence[CatalogueEntry] | None = None,
) -> ModelChoice:
    """The model `check` should use for `language`, downloading the catalogue's small model when
    none is installed and `download` is set or `confirm(entry)` agrees (it is asked only when the
    server answers). A named place that holds no model is an error, never a reason to download.
    """
    try:
        return resolve_model(language, explicit, user_dir=dest_dir)
    except ModelNotFoundError as missing:
        error = missing
    entry = small_model_for(language, catalogue)
    if entry is None or offline:
        raise ModelNotFoundError(f"{error}; {missing_model_hint(language, offline=offline, catalogue=catalogue)}") from error
    wanted = download
    if not wanted and confirm is not None and downloader.reachable(entry.url):
        wanted = confirm(entry)
    if not wanted:
        raise ModelNotFoundError(f"{error}; {missing_model_hint(language, catalogue=catalogue)}") from error
    folder = user_models_dir() if dest_dir is None else dest_dir
    downloader.download(entry.name, folder, progress=progress, catalogue=catalogue)
    return resolve_model(language, explicit, user_dir=dest_dir)


__all__ = [
    "MODEL_ENV",
    "MODELS_URL",
    "ModelChoice",
    "default_models_dirs",
    "ensure_model",
    "missing_model_hint",
    "model_layout_problem",
    "resolve_model",
]
