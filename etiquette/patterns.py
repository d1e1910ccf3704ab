"""Rule patterns: how a rule file's text becomes matchers, and how a thousand of them are tried
on a turn at once.

`compile_pattern` expands `{NAME}` vocabularies and `{W3}` gaps and adds word boundaries. Every
pattern of a language goes into one `PatternIndex`. Trying each of ~1,000 Python regular
expressions on every turn is slow, and so is compiling them all when a run starts; instead RE2's
`Set` (google-re2) runs them all over a turn in one linear pass and says which could match, and
Python's `re`, which has the lookarounds the rules use, runs only those, compiling each pattern
the first time it may match. RE2 gets each pattern with its lookarounds and word-boundary
assertions removed, so it matches wherever the full pattern does (and more): it only ever rules
patterns out, never decides a match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator, Protocol

import re2

from etiquette.matching import fold

READINGS = ("text", "lemma")  # the words as heard, and their lemmas


class Readable(Protocol):
    """What an index needs of an utterance: its two readings and a place to keep results."""

    text: str
    lemma_text: str
    prefiltered: dict[tuple[int, str], frozenset[int] | None]


class Pattern:
    """One rule pattern: its regular expression, compiled by `re` when first needed."""

    __slots__ = ("pattern", "reading", "index", "slot", "_regex")

    def __init__(self, pattern: str, reading: str = "text", index: PatternIndex | None = None, slot: int = -1):
        self.pattern = pattern
        self.reading = reading
        self.index = index  # the rule file's index that can rule this pattern out, and its place there
        self.slot = slot
        self._regex: re.Pattern[str] | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            self._regex = re.compile(self.pattern)
        return self._regex

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.regex.match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text)

    def may_match(self, utterance: Readable, reading: str) -> bool:
        """False only when the pattern certainly does not match this reading of the utterance."""
        if self.index is None or reading != self.reading:
            return True
        return self.index.may_match(self.slot, utterance, reading)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern[:60]!r})"


class PatternIndex:
    """Every pattern of a rule file, to be tried on a turn in one pass per reading."""

    def __init__(self, validate: bool = False):
        self.validate = validate  # compile each pattern with `re` at once (a rules folder being tried out)
        self._sources: dict[str, list[str]] = {reading: [] for reading in READINGS}
        self._sets: dict[str, re2.Set | None] | None = None
        self._unfiltered: dict[str, frozenset[int]] = {}

    def add(self, regex: str, reading: str = "text") -> Pattern:
        pattern = Pattern(regex, reading, self, len(self._sources[reading]))
        if self.validate:
            pattern.regex  # noqa: B018 -- compiling raises re.error here, while the rule is known
        self._sources[reading].append(regex)
        self._sets = None
        return pattern

    def may_match(self, slot: int, utterance: Readable, reading: str) -> bool:
        candidates = self.candidates(utterance, reading)
        return candidates is None or slot in candidates

    def candidates(self, utterance: Readable, reading: str) -> frozenset[int] | None:
        """The slots of the patterns that may match this reading of the utterance (None: all)."""
        key = (id(self), reading)
        if key not in utterance.prefiltered:
            utterance.prefiltered[key] = self._candidates(utterance.lemma_text if reading == "lemma" else utterance.text, reading)
        return utterance.prefiltered[key]

    def _candidates(self, text: str, reading: str) -> frozenset[int] | None:
        if self._sets is None:
            self._build()
        assert self._sets is not None
        found = self._sets[reading]
        if found is None or not text.isascii():
            return None  # no set for this reading, or text RE2 reads differently: every pattern may match
        return frozenset(found.Match(text, potential=True) or ()) | self._unfiltered[reading]

    def _build(self) -> None:
        self._sets = {}
        for reading in READINGS:
            matcher = re2.Filter()
            unfiltered = set()
            for slot, regex in enumerate(self._sources[reading]):
                try:
                    added = matcher.Add(for_re2(regex))
                except re2.error:
                    added = matcher.Add("")  # RE2 cannot read it: it matches everywhere
                    unfiltered.add(slot)
                assert added == slot
            try:
                matcher.Compile()
            except re2.error:  # nothing to filter on (or too big): no prefilter for this reading
                self._sets[reading] = None
                continue
            self._sets[reading] = matcher
            self._unfiltered[reading] = frozenset(unfiltered)

    def __getstate__(self) -> dict:  # RE2 sets do not pickle; they are rebuilt where needed
        return {"validate": self.validate, "_sources": self._sources, "_sets": None, "_unfiltered": {}}


_COUNTED = re.compile(r"\{\d*(?:,\d*)?\}")


def for_re2(regex: str) -> str:
    """The pattern as RE2 reads it, matching wherever Python's does on ASCII text: lookarounds
    and word boundaries dropped and counted repeats made unbounded (each only widens the match).
    RE2's \\w and \\d are ASCII, so text with other characters is not prefiltered."""
    out: list[str] = []
    position = 0
    while position < len(regex):
        char = regex[position]
        if char == "\\":
            escape = regex[position : position + 2]
            out.append({"\\b": "", "\\B": ""}.get(escape, escape))
            position += 2
        elif char == "[":
            end = _class_end(regex, position)
            out.append(regex[position:end])
            position = end
        elif regex.startswith(("(?=", "(?!", "(?<=", "(?<!"), position):
            position = _group_end(regex, position)
        elif char == "{" and (counted := _COUNTED.match(regex, position)):
            out.append("*")  # "{0,8}" as "*": the same language or more, and a far smaller automaton
            position = counted.end()
        else:
            out.append(char)
            position += 1
    return "".join(out)


def _class_end(regex: str, start: int) -> int:
    """The index just after the character class that opens at `start`."""
    position = start + 1
    if regex[position : position + 1] == "^":
        position += 1
    if regex[position : position + 1] == "]":
        position += 1
    while position < len(regex) and regex[position] != "]":
        position += 2 if regex[position] == "\\" else 1
    return position + 1


def _group_end(regex: str, start: int) -> int:
    """The index just after the group that opens at `start`."""
    depth, position = 0, start
    while position < len(regex):
        char = regex[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _class_end(regex, position)
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        position += 1
        if depth == 0:
            return position
    return position


@dataclass(frozen=True)
class PatternSet:
    """Named patterns with the examples that document (and test) them.

    `patterns` match the words as heard (folded); `lemma_patterns` match their
    lemmas, so "romper" covers "rompo", "le voy a romper" and "romperle".
    """

    name: str
    description: str
    patterns: tuple[Pattern, ...]
    sources: tuple[str, ...]
    matches: tuple[str, ...] = ()
    no_matches: tuple[str, ...] = ()
    lemma_patterns: tuple[Pattern, ...] = ()
    lemma_sources: tuple[str, ...] = ()
    # `clear_words = true` in the file: a match counts only when a word that carries it (not a
    # function word) was heard clearly. For cues that accuse: "el [debe]" misheard for "el nueve".
    clear_words: bool = False

    def spans(self, utterance: Readable) -> Iterator[tuple[int, int]]:
        """Token ranges where any pattern matches, pattern by pattern (words first, then lemmas)."""
        for pattern, reading in self.each_pattern(utterance):
            yield from utterance.find(pattern, reading)  # type: ignore[attr-defined]

    def each_pattern(self, utterance: Readable | None = None) -> Iterator[tuple[Pattern, str]]:
        """(pattern, reading) for every pattern ("text" or "lemma"), in file order; given an
        utterance, only those its pattern index has not ruled out."""
        for reading, patterns in (("text", self.patterns), ("lemma", self.lemma_patterns)):
            index = patterns[0].index if patterns else None
            candidates = index.candidates(utterance, reading) if index is not None and utterance is not None else None
            for pattern in patterns:
                if candidates is None or pattern.slot in candidates or pattern.index is not index:
                    yield pattern, reading


def pattern_set(name: str, entry: dict, vocab: dict[str, list[str]], index: PatternIndex | None = None) -> PatternSet:
    """A cue's or a rule's `patterns` and `lemmas`, with its examples."""
    sources = tuple(entry.get("patterns", ()))
    lemma_sources = tuple(entry.get("lemmas", ()))
    if not all(isinstance(source, str) for source in sources + lemma_sources):
        raise ValueError(f"{name}: patterns and lemmas must be strings")
    examples = entry.get("examples", {})
    return PatternSet(
        name=name,
        description=entry.get("description", ""),
        patterns=tuple(compile_pattern(source, vocab, index) for source in sources),
        sources=sources,
        matches=tuple(examples.get("match", [])),
        no_matches=tuple(examples.get("no_match", [])),
        lemma_patterns=tuple(compile_pattern(source, vocab, index, "lemma") for source in lemma_sources),
        lemma_sources=lemma_sources,
        clear_words=bool(entry.get("clear_words", False)),
    )


_REFERENCE = re.compile(r"\{(W(\d+)(?:-(\d+))?|[A-Z][A-Z0-9_]*)\}")


def compile_pattern(source: str, vocab: dict[str, list[str]], index: PatternIndex | None = None, reading: str = "text") -> Pattern:
    """Expand {NAME} vocabulary references and {W3} gaps, and add word boundaries.

    `{W3}` is "up to three more words", `{W1-3}` "one to three". A vocabulary
    entry may itself be a regular expression (`embarg\\w*`), and may mention
    other vocabulary entries and gaps. Without an index the pattern is compiled at once.
    """

    def expand(text: str, depth: int = 0) -> str:
        if depth > 5:
            raise ValueError(f"vocabulary nests too deeply in {source!r}")

        def replace(match: re.Match[str]) -> str:
            name, most, fewest_most = match.group(1), match.group(2), match.group(3)
            if most is not None:
                low, high = (int(most), int(fewest_most)) if fewest_most else (0, int(most))
                return rf"(?:[\w']+ ){{{low},{high}}}"
            if name not in vocab:
                raise ValueError(f"unknown vocabulary {{{name}}} in pattern {source!r}")
            alternatives = sorted((expand(fold_pattern(v), depth + 1) for v in vocab[name]), key=len, reverse=True)
            return "(?:" + "|".join(alternatives) + ")"

        return _REFERENCE.sub(replace, text)

    # A match ends at a word boundary, or just after the space a pattern consumed
    # to mark one ("this is (he|she)(?: |$)"); surrounding spaces are trimmed.
    regex = r"(?<![\w'])(?:" + expand(fold_pattern(source.strip())) + r")(?:(?<= )|(?![\w']))"
    if index is not None:
        return index.add(regex, reading)
    pattern = Pattern(regex, reading)
    pattern.regex  # noqa: B018 -- compiled now, so a broken pattern fails where it is written
    return pattern


def fold_pattern(pattern: str) -> str:
    """Fold accents in a pattern the way `fold` folds words, leaving regex syntax alone."""
    decomposed = unicodedata.normalize("NFKD", pattern)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_REGEX_ESCAPE = re.compile(r"\\[a-zA-Z]")
_LITERAL_WORD = re.compile(r"(?<![a-z\\])[a-z]{5,}")


def rule_words(data: dict, function_words: frozenset[str]) -> tuple[str, ...]:
    """The words the rules name (in vocabularies and patterns), five letters or longer: what a
    doubtful, misheard word may be repaired to."""
    sources: list[str] = [value for values in data.get("vocab", {}).values() for value in values]
    for entry in [*data.get("cues", {}).values(), *data.get("rules", [])]:
        sources += list(entry.get("patterns", [])) + list(entry.get("lemmas", []))
    words = set()
    for source in sources:
        words.update(_LITERAL_WORD.findall(_REGEX_ESCAPE.sub(" ", fold(source).replace("\\", " "))))
    return tuple(sorted(words - function_words))
