"""Getting a Vosk model: the catalogue of official models, the places models are kept,
downloads that resume and verify, safe installation from a zip or a folder, and finding
the model for a call's language.

    catalogue   the official models (catalogue.toml) and what a model's name says
    layout      what a model folder must hold (a leaf: everything builds on it)
    store       the user models folder, the models/ folders, vosk_model_* packages
    installer   install from a zip or a folder, checked, published by one rename
    downloader  resumable, verified downloads (RETRIES, RETRY_WAIT, timeouts live here)
    locate      resolve_model / ensure_model: which model `check` uses, and why
    cli         the `etiquette models` sub-app (typer; import it explicitly)

Nothing here prints: progress goes through a `Progress` callback, failures are
`ModelError`s with one-line messages. Nothing here imports `etiquette.transcribe`;
transcribe imports `model_layout_problem` from here.
"""

from __future__ import annotations

from etiquette.models.catalogue import (
    CATALOGUE_FILE,
    CatalogueEntry,
    catalogue_entry,
    format_size,
    language_suits,
    load_catalogue,
    model_language,
    small_model_for,
)
from etiquette.models.downloader import download, reachable
from etiquette.models.installer import DEFAULT_MAX_UNPACKED_BYTES, Progress, install
from etiquette.models.layout import model_layout_problem
from etiquette.models.locate import MODEL_ENV, MODELS_URL, ModelChoice, ensure_model, missing_model_hint, resolve_model
from etiquette.models.store import (
    MODELS_DIR_ENV,
    InstalledModel,
    catalogue_status,
    default_models_dirs,
    find_installed,
    installed_models,
    package_models,
    user_models_dir,
    user_models_label,
)

__all__ = [
    "CATALOGUE_FILE",
    "DEFAULT_MAX_UNPACKED_BYTES",
    "MODELS_DIR_ENV",
    "MODELS_URL",
    "MODEL_ENV",
    "CatalogueEntry",
    "InstalledModel",
    "ModelChoice",
    "Progress",
    "catalogue_entry",
    "catalogue_status",
    "default_models_dirs",
    "download",
    "ensure_model",
    "find_installed",
    "format_size",
    "install",
    "installed_models",
    "language_suits",
    "load_catalogue",
    "missing_model_hint",
    "model_language",
    "model_layout_problem",
    "package_models",
    "reachable",
    "resolve_model",
    "small_model_for",
    "user_models_dir",
    "user_models_label",
]
