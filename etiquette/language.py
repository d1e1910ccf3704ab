"""Language tags (BCP-47): the one place a tag such as "es-MX" is parsed.

The tag of a call picks its rule file (by the language, "es") and its
jurisdiction (by the region, "MX"); for audio it also picks the speech model.
Parsing and validation are `langcodes`' (the IANA subtag registry), so
"english", "../x" or "zz" are refused instead of being used as file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import langcodes

EXAMPLES = "en, en-US, es, es-MX, es-CO, es-PE, es-CL, es-AR, es-ES, es-419"


class LanguageTagError(ValueError):
    """Not a well-formed, registered BCP-47 language tag."""


@dataclass(frozen=True, slots=True)
class LanguageTag:
    tag: str  # standardised: "es-MX"
    language: str  # lower case: "es"
    region: str | None  # upper case: "MX", or "419"; None without one

    def __str__(self) -> str:
        return self.tag


@lru_cache(maxsize=1024)
def parse_tag(text: str) -> LanguageTag:
    """The tag, standardised ("es_mx" -> "es-MX"); LanguageTagError when it is not one."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        raise LanguageTagError(_refusal(str(text)[:64]))
    raw = text.strip()
    try:
        valid = langcodes.tag_is_valid(raw.replace("_", "-"))
        standard = langcodes.standardize_tag(raw) if valid else None
        parsed = langcodes.Language.get(standard) if standard else None
    except (ValueError, LookupError):
        parsed = None
    if parsed is None or not parsed.language:
        raise LanguageTagError(_refusal(raw))
    return LanguageTag(standard, parsed.language.lower(), parsed.territory.upper() if parsed.territory else None)


def primary_language(text: str) -> str:
    """"es-MX" -> "es". A malformed tag (an old file, a folder name) gives its first part, lower case."""
    try:
        return parse_tag(text).language
    except LanguageTagError:
        return str(text).replace("_", "-").split("-")[0].lower()


def region_of(text: str) -> str | None:
    """"es-MX" -> "MX", "es" -> None; None for a malformed tag."""
    try:
        return parse_tag(text).region
    except LanguageTagError:
        return None


def _refusal(text: str) -> str:
    return f"{text!r} is not a BCP-47 language tag (for example {EXAMPLES})"
