"""`etiquette models`: list the known Vosk models, download or install one, and show which
model `check` would use for a language and why. The logic lives in the rest of etiquette.models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from etiquette import models
from etiquette.errors import ModelNotFoundError
from etiquette.printable import printable, safe, shown

models_app = typer.Typer(
    help="Get a speech model: list the known Vosk models, download or install one, show which one `check` uses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

_DIR_HELP = "Model folder to use instead of the user models folder ($ETIQUETTE_MODELS_DIR, else the platform's data folder)."
DirOption = Annotated[Optional[Path], typer.Option("--dir", help=_DIR_HELP, file_okay=False, show_default=False)]


def _folder(directory: Optional[Path]) -> Path:
    return models.user_models_dir() if directory is None else directory


class _Bars:
    """A `models.Progress` that draws one rich bar per stage (download, verify, extract) on stderr."""

    _LABELS = {"download": "downloading", "verify": "checking SHA-256", "extract": "unpacking"}

    def __init__(self, progress: Progress, subject: str) -> None:
        self._progress = progress
        self._subject = subject
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        task = self._tasks.get(stage)
        if task is None:
            label = f"{self._LABELS.get(stage, stage)} {safe(self._subject)}"
            task = self._tasks[stage] = self._progress.add_task(label, total=total)
        self._progress.update(task, completed=done, total=total)


@contextlib.contextmanager
def progress_bars(subject: str) -> Iterator[models.Progress]:
    """Rich progress bars on stderr for `models.download`/`install`/`ensure_model` (`check` can use it too)."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        yield _Bars(progress, subject)


@models_app.command("list")
def list_models(
    directory: DirOption = None,
    language: Annotated[Optional[str], typer.Option("--language", "-l", help="Only models for this language (en, es-MX...).")] = None,
) -> None:
    """List the official models etiquette knows, every model installed in the user folder, and
    the installed vosk-model-<language> Python packages (which `check` falls back on)."""
    folder = _folder(directory)
    roots = [folder, *models.default_models_dirs()]
    table = Table(title=f"Vosk models (user models folder: {safe(shown(folder))})", title_justify="left")
    for column in ("name", "language", "size", "use"):
        table.add_column(column, no_wrap=True, justify="right" if column == "size" else "left")
    table.add_column("installed", overflow="fold")
    listed: set[Path] = set()
    for entry, places in models.catalogue_status(roots):
        if language and not models.language_suits(language, entry.language):
            continue
        listed.update(places)
        where = "\n".join(safe(shown(p)) for p in places) or "-"
        table.add_row(entry.name, entry.language, models.format_size(entry.size, entry.size_exact), entry.use, where)
    for model in models.installed_models([folder]):
        if model.path in listed or model.entry is not None:
            continue
        if language and (model.language is None or not models.language_suits(language, model.language)):
            continue
        table.add_row(safe(model.name), safe(model.language or "?"), "", "not in the catalogue", _where(model))
    for model in models.package_models():
        if language and not models.language_suits(language, model.language or ""):
            continue
        table.add_row(safe(model.name), safe(model.language or "?"), "", "Python package", _where(model))
    out.print(table)


def _where(model: models.InstalledModel) -> str:
    where = shown(model.path) if model.problem is None else f"{shown(model.path)} (not usable: {model.problem})"
    return safe(where)


@models_app.command("download")
def download_model(
    name: Annotated[str, typer.Argument(help="A model name from `etiquette models list`, or the http(s) URL of a model zip.")],
    directory: DirOption = None,
    sha256: Annotated[Optional[str], typer.Option("--sha256", help="Expected SHA-256 of the zip (for a URL; catalogue models carry their own when known).")] = None,
) -> None:
    """Download a model, check it and install it; a broken download resumes where it stopped."""
    folder = _folder(directory)
    with progress_bars(name.rsplit("/", 1)[-1]) as progress:
        path = models.download(name, folder, progress=progress, sha256=sha256)
    out.print(f"{shown(name.rsplit('/', 1)[-1])}: installed in {shown(path)}", markup=False, soft_wrap=True)


@models_app.command("install")
def install_model(
    path: Annotated[Path, typer.Argument(help="A model zip or an unpacked model folder.", exists=True, show_default=False)],
    directory: DirOption = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Folder name for the model (default: the zip's top folder or the folder's name); it must tell the language, as vosk-model-small-ko-0.22 or ko do.")] = None,
) -> None:
    """Install a model from a zip or a folder carried in (for machines without a network)."""
    folder = _folder(directory)
    with progress_bars(path.name) as progress:
        installed = models.install(path, folder, name=name, progress=progress)
    out.print(f"{shown(installed.name)}: installed in {shown(installed)}", markup=False, soft_wrap=True)


@models_app.command("path")
def model_path(
    language: Annotated[str, typer.Argument(help="Language of the calls (BCP-47: en, en-US, es, es-MX, ko...).")],
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="The --model you would give `check`.")] = None,
) -> None:
    """Show which model `check` would use for LANGUAGE, and why."""
    try:
        choice = models.resolve_model(language, model)
    except ModelNotFoundError as missing:
        raise ModelNotFoundError(f"{missing}; {models.missing_model_hint(language)}") from missing
    out.print(f"{shown(language)}: {shown(choice.path)}", markup=False, soft_wrap=True)
    out.print(f"  why: {printable(choice.reason)}", markup=False, soft_wrap=True)
