"""The outputs of a run, one writer each, all fed the same typed calls as they finish.

A writer gets `add(outcome)` for every input as soon as it is done (redacted
already when the run is `--redact`), then `finish(totals)` once. Writers keep
only what their summary needs and spool the rest to disk, so memory does not
grow with the batch. `<call_id>.report.json` and `summary.csv` are always
written; `--format` adds the others by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from etiquette.outcome import BatchTotals, CallOutcome

if TYPE_CHECKING:
    from etiquette.db import Book


@dataclass(frozen=True)
class WriterOptions:
    out_dir: Path
    redacted: bool = False
    rules_dir: Path | None = None
    book: "Book | None" = None  # the results database the run writes into, opened by the pipeline


class Writer:
    name: ClassVar[str]  # what --format calls it ("jsonl"); "" for the ones always written
    filename: ClassVar[str]  # what it writes in the output folder
    always: ClassVar[bool] = False
    per_call: ClassVar[bool] = False  # writes each call's own file: when that fails, the call fails

    def __init__(self, options: WriterOptions):
        self.options = options

    @property
    def path(self) -> Path:
        return self.options.out_dir / self.filename

    def add(self, outcome: CallOutcome) -> None:
        raise NotImplementedError

    def finish(self, totals: BatchTotals) -> Path | None:
        """Write what the writer keeps for the end; the file written, if any."""
        return None

    def close(self) -> None:
        """Release spools and temporaries (called whether or not the run finished)."""


_WRITERS: dict[str, type[Writer]] = {}
_DISCOVERED: list[bool] = []


def register(writer: type[Writer]) -> type[Writer]:
    _WRITERS[writer.name or writer.filename] = writer
    return writer


def _discover() -> None:
    """Import every writer module of this package once (each registers its writer)."""
    if not _DISCOVERED:
        _DISCOVERED.append(True)
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")


def formats() -> dict[str, type[Writer]]:
    """The writers --format can add, by name."""
    _discover()
    return {name: writer for name, writer in _WRITERS.items() if not writer.always}


def writers_for(chosen: list[str], options: WriterOptions) -> list[Writer]:
    _discover()
    always = [writer(options) for writer in _WRITERS.values() if writer.always]
    return always + [formats()[name](options) for name in chosen]


def parse_formats(values: list[str] | None) -> list[str]:
    """`--format jsonl,md --format html` -> ["jsonl", "md", "html"]; ValueError names an unknown one.

    "json" and "csv" are accepted and ignored: the reports and summary.csv are always written.
    """
    known = formats()
    chosen: list[str] = []
    for value in values or []:
        for name in value.split(","):
            name = name.strip().lower()
            if not name or name in ("json", "csv"):
                continue
            if name not in known:
                raise ValueError(f"unknown format {name!r} (choose from {', '.join(known)})")
            if name not in chosen:
                chosen.append(name)
    return chosen
