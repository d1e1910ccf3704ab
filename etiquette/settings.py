"""Typed settings from rule files: a TOML table into the dataclass a check declares for it."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

from etiquette.errors import RulesError
from etiquette.matching import fold

Settings = TypeVar("Settings")


def settings_from(kind: type[Settings], table: Any, where: str) -> Settings:
    """A settings dataclass from a TOML table: every field present, numbers as numbers.

    A settings class with nested tables of its own reads them itself, in a
    `from_table(table, where)` class method (raising RulesError naming `where`).
    """
    if not isinstance(table, dict):
        raise RulesError(f"{where} must be a table")
    reader = getattr(kind, "from_table", None)
    if reader is not None:
        return reader(table, where)
    known = {f.name: f for f in fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = {}
    for name, spec in known.items():
        if name not in table:
            if spec.default is not MISSING or spec.default_factory is not MISSING:
                continue  # optional
            raise RulesError(f"{where}: missing key {name!r}")
        values[name] = _typed(table[name], spec.type, f"{where} {name}")
    return kind(**values)


def _typed(value: Any, annotation: Any, where: str) -> Any:
    kind = str(annotation)
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RulesError(f"{where} must be a number")
        return float(value) if kind == "float" else int(value)
    if kind.startswith("frozenset"):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise RulesError(f"{where} must be a list of words")
        return frozenset(fold(item) for item in value)
    return value
