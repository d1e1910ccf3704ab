"""Numbers in recognised speech: where they are and how many digits they say.

Spoken numbers are read by text2num (`alpha2digit`): "eight hundred five five
five" is 805, 5, 5; "cincuenta y cinco cuarenta y dos" is 55, 42. What is left
here is mapping its output back to the words that said each number, and the
speech habits it does not know: "oh" for zero between numbers, "double five".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from text_to_num import alpha2digit

from etiquette.redact.vocabulary import Vocabulary

_DIGITS = re.compile(r"^[(+]?\d[\d().\-/]*$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|º|ª|o|a)$")
TEXT2NUM_LANGUAGES = {"en", "es", "fr", "de", "pt", "it", "nl", "ca"}


@dataclass
class Group:
    """One number as said: "eight hundred five" is one, "five five" two."""

    first: int  # token positions of its first and last word
    last: int
    value: int
    digits: int
    written: bool = False  # typed as digits ("4111", "555-0192"), not spoken
    ordinal: bool = False  # "third", "3rd", "primero"


def digits_in(token: str) -> str:
    return re.sub(r"\D", "", token)


@lru_cache(maxsize=4096)
def _convert(text: str, language: str) -> tuple[str, ...]:
    return tuple(alpha2digit(text, language, threshold=0).split())


def number_groups(tokens: Sequence[str], raw: Sequence[str], vocab: Vocabulary) -> list[Group]:
    """Every number in a stretch of one speaker's words (`tokens` folded, `raw` as said, lower case)."""
    spoken = [vocab.accents.get(token, raw_token) for token, raw_token in zip(tokens, raw)]
    spoken = _habits(spoken, tokens, vocab)
    groups: list[Group] = []
    for position, token in enumerate(tokens):  # written digits are read as they are
        if _DIGITS.match(token):
            digits = digits_in(token)
            groups.append(Group(position, position, int(digits[:18]), len(digits), written=True))
    language = vocab.language if vocab.language in TEXT2NUM_LANGUAGES else "en"
    for first, last in _stretches(spoken):
        part = spoken[first:last]
        converted = _convert(" ".join(part), language)
        matcher = difflib.SequenceMatcher(None, part, list(converted), autojunk=False)
        for kind, i1, i2, j1, j2 in matcher.get_opcodes():
            if kind not in ("replace", "insert") or i2 <= i1:
                continue
            groups += _split(part[i1:i2], list(converted[j1:j2]), first + i1, language)
    written = {group.first for group in groups if group.written}  # a written number is one word
    groups = [g for g in groups if g.written or g.first not in written]
    return sorted(groups, key=lambda g: (g.first, g.last))


def _stretches(spoken: list[str]) -> list[tuple[int, int]]:
    """(first, end) of the stretches of words that may say numbers: cut where two words in a row say
    none (no number runs over two such words: "and", "a" join numbers one word at a time). Each
    stretch is read alone, so the work grows with the length of the call, not its square."""
    stretches: list[tuple[int, int]] = []
    first = None
    for position, word in enumerate(spoken):
        if _is_number(word):
            if first is None:
                first = max(0, position - 1)  # "a hundred": the word before may belong to it
            last = position + 2  # and "and five": the word after may join the next number
        elif first is not None and position >= last:
            stretches.append((first, last))
            first = None
    if first is not None:
        stretches.append((first, min(last, len(spoken))))
    return stretches


def _habits(spoken: list[str], tokens: Sequence[str], vocab: Vocabulary) -> list[str]:
    """"oh" -> "zero" next to numbers; "double five" -> "five five" (the word count stays the same)."""
    out = list(spoken)
    for i, token in enumerate(tokens):
        if token in vocab.weak_zero:
            near = [out[j] for j in (i - 1, i + 1, i + 2) if 0 <= j < len(out) and tokens[j] not in vocab.repeat]
            if any(_is_number(word) for word in near):
                out[i] = "zero"
    for i in range(len(tokens) - 2, -1, -1):
        if tokens[i] in vocab.repeat:
            out[i] = out[i + 1]
    return out


@lru_cache(maxsize=65536)
def _is_number(word: str) -> bool:
    return bool(_DIGITS.match(word)) or alpha2digit(word, "en", threshold=0) != word or alpha2digit(word, "es", threshold=0) != word


def _split(words: list[str], outputs: list[str], offset: int, language: str) -> list[Group]:
    """The words that said each number of `outputs` (text2num said them together)."""
    groups = []
    start = 0
    for index, output in enumerate(outputs):
        end = len(words) if index == len(outputs) - 1 else _prefix_end(words, start, output, language)
        if not re.search(r"\d", output):
            start = end
            continue
        ordinal = _ORDINAL.match(output)
        digits = ordinal.group(1) if ordinal else digits_in(output)
        groups.append(Group(offset + start, offset + max(start, end - 1), int(digits[:18]), len(digits),
                            ordinal=bool(ordinal)))
        start = end
    return groups


def _prefix_end(words: list[str], start: int, output: str, language: str) -> int:
    """The shortest span of words from `start` that text2num reads as `output` alone."""
    for end in range(start + 1, len(words) + 1):
        read = _convert(" ".join(words[start:end]), language)
        following = _convert(" ".join(words[start:end + 1]), language) if end < len(words) else ()
        if read == (output,) and following != (output,):
            return end
    return start + 1
