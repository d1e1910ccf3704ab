"""The words redaction reads, per language, from etiquette/redaction.toml."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent.parent / "redaction.toml"
KINDS = ("card", "account", "id", "phone", "date", "email", "number")
_STRIP = "\"'.,;:!?¿¡()[]{}…“”‘’«»"


def fold(word: str) -> str:
    """Lower case, accents removed, surrounding punctuation stripped."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.strip(_STRIP)


@dataclass(frozen=True)
class Vocabulary:
    """One language's redaction words (or every language's at once)."""

    language: str  # the language text2num reads numbers in
    weak_zero: frozenset[str]  # "oh": zero only next to other numbers
    repeat: dict[str, int]  # "double", "doble"
    accents: dict[str, str]  # number words to give their accent back
    joiners: frozenset[str]  # words allowed inside a run of numbers
    fillers: frozenset[str]
    quantity: frozenset[str]  # a number followed by one of these is an amount
    months: dict[str, int]
    date_links: frozenset[str]
    birth: frozenset[str]
    at: frozenset[str]
    dot: frozenset[str]
    email_stop: frozenset[str]
    strong: dict[str, str]  # context word -> kind
    weak: frozenset[str]
    letters: frozenset[str]  # spelled letters that are not also words
    letter_words: frozenset[str]  # letters that are words too ("a", "de")
    tlds: frozenset[str]
    providers: frozenset[str]
    context_words: int
    near_context_words: int
    birth_context_words: int


@lru_cache(maxsize=None)
def _rules() -> dict[str, Any]:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def vocabulary(primary: str) -> Vocabulary:
    """The words for a primary language ("en", "es"); every section merged for other languages."""
    rules = _rules()
    own = primary in rules and primary not in ("all", "common")
    sections = [rules[primary]] if own else [value for key, value in rules.items() if key not in ("all", "common")]

    def merged_dict(name: str) -> dict:
        out: dict = {}
        for section in sections:
            out.update({fold(k): v for k, v in section.get(name, {}).items()})
        return out

    def merged_set(name: str, sub: str | None = None) -> frozenset[str]:
        words: set[str] = set()
        for section in sections:
            source = section.get(sub, {}) if sub else section
            words.update(fold(word) for word in source.get(name, []))
        return frozenset(words)

    strong: dict[str, str] = {}
    for section in sections:
        for kind, words in section.get("context", {}).items():
            if kind in KINDS:
                for word in words:
                    strong.setdefault(fold(word), kind)
    settings, common = rules["all"], rules["common"]
    return Vocabulary(
        language=primary if own else "en",
        weak_zero=merged_set("weak_zero"),
        repeat=merged_dict("repeat"),
        accents={fold(k): v for section in sections for k, v in section.get("accents", {}).items()},
        joiners=merged_set("joiners"),
        fillers=merged_set("fillers"),
        quantity=merged_set("quantity"),
        months=merged_dict("months"),
        date_links=merged_set("date_links"),
        birth=merged_set("birth"),
        at=merged_set("at", "email"),
        dot=merged_set("dot", "email"),
        email_stop=merged_set("stop", "email"),
        strong=strong,
        weak=merged_set("weak", "context"),
        letters=merged_set("letters", "context"),
        letter_words=merged_set("letter_words", "context"),
        tlds=frozenset(common["tlds"]),
        providers=frozenset(common["providers"]),
        context_words=int(settings["context_words"]),
        near_context_words=int(settings["near_context_words"]),
        birth_context_words=int(settings["birth_context_words"]),
    )
