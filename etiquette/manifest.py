"""Reading a manifest: a call log in CSV or JSON lines, one row per call attempt.

`read_manifest(path, columns)` gives every row as typed `CallMetadata`, and a
`MetadataProblem` (file, line, what is wrong) for each row that cannot be used:
a time that cannot be read, a time without an offset or time zone, an unknown
time zone, a second row for the same call. A bad row never stops a run: the call
it names is still checked, with the checks that need metadata marked not run.

Column names come from a small table (`manifest_columns.toml`, or the user's
`--manifest-columns FILE`), never from code, so another platform's export is
read by naming its columns.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from etiquette.errors import EtiquetteError
from etiquette.metadata import FIELDS, CallMetadata, MetadataError, metadata_from

DEFAULT_COLUMNS = Path(__file__).with_name("manifest_columns.toml")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


class ManifestError(EtiquetteError):
    """The manifest as a whole cannot be read (a usage error: exit status 2)."""


@dataclass(frozen=True)
class MetadataProblem:
    path: str
    line: int | None  # None for a transcript's `call` object
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Columns:
    """Which column names map to each field, and which outcome words mean what."""

    names: Mapping[str, str]  # folded column name -> field
    outcomes: Mapping[str, str]  # folded outcome word -> outcome

    def field_of(self, column: str) -> str | None:
        return self.names.get(fold(column))


@dataclass
class Manifest:
    path: Path
    rows: list[CallMetadata] = field(default_factory=list)
    problems: list[MetadataProblem] = field(default_factory=list)
    # Rows that could not be used but say which call they are about: (call_id, file, problem)
    bad_calls: list[tuple[str | None, str | None, MetadataProblem]] = field(default_factory=list)


def fold(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.strip().lower())


def load_columns(path: Path | None = None) -> Columns:
    """The built-in table, with each field the user's file names replaced by its list."""
    table = _read_toml(DEFAULT_COLUMNS)
    if path is not None:
        user = _read_toml(path)
        unknown = sorted(set(user) - {"columns", "outcomes"}) + sorted(set(user.get("columns", {})) - set(FIELDS))
        if unknown:
            raise ManifestError(f"{path}: unknown table or field {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
        for section in ("columns", "outcomes"):
            table[section] = {**table.get(section, {}), **user.get(section, {})}
    names: dict[str, str] = {}
    for name, columns in table["columns"].items():
        for column in _strings(columns, f"[columns] {name}", path or DEFAULT_COLUMNS):
            names.setdefault(fold(column), name)
    outcomes: dict[str, str] = {}
    for outcome, words in table.get("outcomes", {}).items():
        for word in _strings(words, f"[outcomes] {outcome}", path or DEFAULT_COLUMNS):
            outcomes[" ".join(word.lower().replace("_", " ").replace("-", " ").split())] = outcome
    return Columns(names, outcomes)


def _strings(value: Any, where: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ManifestError(f"{path}: {where} must be a list of names")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise ManifestError(f"{path}: cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ManifestError(f"{path}: not a valid TOML file: {error}") from None


def read_manifest(path: Path, columns: Columns | None = None) -> Manifest:
    """Every row of a CSV or JSON-lines call log; ManifestError when the file itself cannot be read."""
    columns = columns or load_columns()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ManifestError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not a UTF-8 text file") from None
    manifest = Manifest(path)
    rows = _json_rows(path, text) if path.suffix.lower() in JSON_SUFFIXES else _csv_rows(path, text, columns)
    seen: dict[str, int] = {}
    for line, raw, wrong in rows:
        values = _fields(raw, columns) if raw is not None else {}
        named = (_plain(values.get("call_id")), _plain(values.get("file")))
        if wrong:  # a line that cannot be read as a row
            _bad(manifest, named, MetadataProblem(str(path), line, wrong))
            continue
        try:
            row = metadata_from(values, f"{path}:{line}", columns.outcomes)
        except MetadataError as error:
            _bad(manifest, named, MetadataProblem(str(path), line, str(error)))
            continue
        if row.call_id is None and row.file is None and (row.account is None or row.started_at is None):
            _bad(manifest, named, MetadataProblem(
                str(path), line, "neither call_id nor file, and not an attempt either (an attempt needs account and "
                "started_at)"))
            continue
        identity = f"call:{row.call_id}" if row.call_id else f"file:{row.file}" if row.file else f"attempt:{row.key}"
        if identity in seen:
            _bad(manifest, named, MetadataProblem(str(path), line, f"a second row for the same call (line {seen[identity]})"))
            continue
        seen[identity] = line
        manifest.rows.append(row)
    return manifest


def _bad(manifest: Manifest, named: tuple[str | None, str | None], problem: MetadataProblem) -> None:
    manifest.problems.append(problem)
    if named != (None, None):
        manifest.bad_calls.append((*named, problem))


def _plain(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _fields(raw: Mapping[str, Any], columns: Columns) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, value in raw.items():
        name = columns.field_of(str(column)) if column is not None else None
        if name is None or name in values:
            continue
        if isinstance(value, str) and not value.strip():
            continue
        values[name] = value
    return values


Row = tuple[int, "dict[str, Any] | None", "str | None"]  # line, the cells by column, what is wrong with it


def _csv_rows(path: Path, text: str, columns: Columns) -> Iterator[Row]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames or not any(reader.fieldnames):
        raise ManifestError(f"{path}: no header row (the first line must name the columns)")
    if not any(columns.field_of(name) for name in reader.fieldnames if name):
        raise ManifestError(f"{path}: the header names none of the columns etiquette knows (map yours with "
                            "--manifest-columns)")
    line = reader.line_num + 1
    try:
        for row in reader:
            extra = row.pop(None, None)  # type: ignore[call-overload]
            if extra is not None:
                yield line, row, f"{len(extra)} more cell(s) than the header has columns"
            elif any((value or "").strip() for value in row.values()):
                yield line, row, None
            line = reader.line_num + 1
    except csv.Error as error:
        yield line, None, f"not valid CSV: {error}"


def _json_rows(path: Path, text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, None, f"not a JSON object ({error.msg})"
            continue
        yield (number, value, None) if isinstance(value, dict) else (number, None, "not a JSON object")


def call_object(value: Any, origin: str, columns: Columns | None = None) -> CallMetadata:
    """A transcript's `call` object (the same fields as a manifest row); MetadataError says what is wrong."""
    if not isinstance(value, dict):
        raise MetadataError("'call' must be an object")
    columns = columns or load_columns()
    return metadata_from(_fields(value, columns), origin, columns.outcomes)
