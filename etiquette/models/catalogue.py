"""The catalogue of official Vosk models (catalogue.toml) and what a model's name says.

A model's language comes from the catalogue, from Vosk's naming
(vosk-model-[small-]LANG[-REGION]-...), or from a folder named after a tag ("ko", "es-MX").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from etiquette.errors import ModelError
from etiquette.language import parse_tag, primary_language, region_of

CATALOGUE_FILE = Path(__file__).with_name("catalogue.toml")

_USES = ("telephone", "wideband", "small-mobile")
_VOSK_NAME_RE = re.compile(r"^vosk-model-(?:small-)?([a-z]{2,3})(?:-([a-z]{2}))?(?=-|$)")
_TAG_RE = re.compile(r"^([a-z]{2,3})(?:[-_]([A-Za-z]{2}))?$")
# Vosk names that are not the language's ISO code.
_VOSK_LANGUAGE_ALIASES = {"cn": "zh", "vn": "vi", "kz": "kk", "jp": "ja"}
_NOT_LANGUAGES = {"spk"}  # vosk-model-spk-*: the speaker-identification model


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One official model: where to get it and what to expect of the zip."""

    name: str
    language: str
    size: int
    size_exact: bool
    use: str  # "telephone", "wideband" or "small-mobile"
    url: str
    sha256: str | None = None
    notes: str = ""

    @property
    def expected_size(self) -> int | None:
        """The zip's size when it is known to the byte, else None."""
        return self.size if self.size_exact else None

    @property
    def is_small(self) -> bool:
        return self.use == "small-mobile"


def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CatalogueEntry, ...]:
    """The catalogue's entries in file order; a malformed file is a ModelError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the model catalogue: {exc}") from exc
    entries = []
    for i, item in enumerate(data.get("model", [])):
        try:
            entry = CatalogueEntry(
                name=str(item["name"]),
                language=str(item["language"]),
                size=int(item["size"]),
                size_exact=bool(item.get("size_exact", False)),
                use=str(item["use"]),
                url=str(item["url"]),
                sha256=str(item["sha256"]).lower() if "sha256" in item else None,
                notes=str(item.get("notes", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: model #{i + 1} is malformed: missing or bad {exc}") from exc
        if entry.use not in _USES:
            raise ModelError(f"{path}: {entry.name}: use must be one of {', '.join(_USES)}, not {entry.use!r}")
        if entry.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", entry.sha256):
            raise ModelError(f"{path}: {entry.name}: sha256 is not 64 hex digits")
        entries.append(entry)
    return tuple(entries)


def catalogue_entry(name: str, catalogue: Sequence[CatalogueEntry] | None = None) -> CatalogueEntry | None:
    """The entry called `name`, or None."""
    for entry in load_catalogue() if catalogue is None else catalogue:
        if entry.name == name:
            return entry
    return None


def _split_tag(language: str) -> tuple[str, str | None]:
    region = region_of(language)
    return primary_language(language), region if region and region.isalpha() else None


def match_tier(wanted: str, offered: str) -> int | None:
    """How well a model for `offered` suits a call in `wanted`: 0 same tag, 1 the model has
    no region, 2 same language in another region; None for another language."""
    w_lang, w_region = _split_tag(wanted)
    o_lang, o_region = _split_tag(offered)
    if w_lang != o_lang:
        return None
    if w_region == o_region:
        return 0
    return 1 if o_region is None else 2


def language_suits(wanted: str, offered: str) -> bool:
    """Whether a model for language `offered` can serve calls in `wanted` (same primary language)."""
    return match_tier(wanted, offered) is not None


def small_model_for(language: str, catalogue: Sequence[CatalogueEntry] | None = None) -> CatalogueEntry | None:
    """The catalogue's small model that best suits `language` (the one offered for download)."""
    entries = load_catalogue() if catalogue is None else catalogue
    ranked = [(tier, i, e) for i, e in enumerate(entries) if e.is_small and (tier := match_tier(language, e.language)) is not None]
    return min(ranked, key=lambda t: t[:2])[2] if ranked else None


def model_language(name: str, catalogue: Sequence[CatalogueEntry] | None = None) -> str | None:
    """The language of a model folder called `name`: from the catalogue, from Vosk's naming
    (vosk-model-[small-]LANG[-REGION]-...), or the name itself when it is a tag ("ko", "es-MX")."""
    entry = catalogue_entry(name, catalogue)
    if entry is not None:
        return entry.language
    match = _VOSK_NAME_RE.match(name.lower())
    if match and match.group(1) not in _NOT_LANGUAGES:
        language = _VOSK_LANGUAGE_ALIASES.get(match.group(1), match.group(1))
        return f"{language}-{match.group(2).upper()}" if match.group(2) else language
    if _TAG_RE.match(name):  # a folder named after a tag: "ko", "es-MX"
        return parse_tag(name).tag
    return None


def format_size(size: int, exact: bool = True) -> str:
    """`41.2 MB`, or `~1.8 GB` when `exact` is False (decimal units, like the catalogue's site)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return text if exact else f"~{text}"
        value /= 1000
    raise AssertionError("unreachable")
