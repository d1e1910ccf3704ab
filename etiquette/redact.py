"""Masking personal data in what etiquette writes (`check --redact`).

The checks always run on the words as said; only the files written are masked.
Masking is per word: a word that is personal data has its text replaced by a
mask naming its kind ("[phone]", "[card]", "[date]"...) and keeps its times, so
every finding's start and end still point at the same moment.

What counts as personal data (card, account, social security and other id
numbers, phone numbers, dates of birth, email addresses), in English and
Spanish, is data: `etiquette/redaction.toml` holds the number words, month
names, context words and the rest. This module finds, per speaker:

- digit strings, written ("4111-1111") or spoken the way a recogniser writes them
  ("four one one one", "eight hundred five five five zero one nine two",
  "cincuenta y cinco cuarenta y dos"): numbers in a row that do not add up to one
  quantity;
- years and longer numbers right after a context word ("the last four of your
  social: twelve ninety four"), never an amount ("the balance is four hundred",
  "three hundred dollars");
- dates with a month name and a year, or after a birth word ("march third
  nineteen eighty", "doce de marzo del ochenta");
- email addresses, written or spelled ("john dot smith at gmail dot com",
  "juan punto perez arroba gmail punto com").

Names and street addresses are not masked (see the README).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from etiquette.errors import EtiquetteError
from etiquette.types import Transcript

RULES_FILE = Path(__file__).with_name("redaction.toml")
KINDS = ("card", "account", "id", "phone", "date", "email", "number")
_MASK = re.compile(r"^\[(card|account|id|phone|date|email|number)\]$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_DIGITS = re.compile(r"^[(+]?\d[\d().\-/]*$")
_WRITTEN_DATE = re.compile(r"^(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2})$")
_ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|o|a|º|ª)$")
_STRIP = "\"'.,;:!?¿¡()[]{}…“”‘’«»"
TURN_WORDS = 3  # this many words of another speaker end a speaker's turn
_SKIP_BEFORE_QUANTITY = {"a", "an", "per", "each", "every", "al", "cada", "la", "por"}


def mask(kind: str) -> str:
    return f"[{kind}]"


def is_mask(text: str) -> bool:
    """True for the text of a masked word."""
    return bool(_MASK.match(text))


def mask_kind(text: str) -> str | None:
    found = _MASK.match(text)
    return found.group(1) if found else None


def fold(word: str) -> str:
    """Lower case, accents removed, surrounding punctuation stripped."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.strip(_STRIP)


# ------------------------------------------------------------------ the rules as data


@dataclass(frozen=True)
class Vocabulary:
    """One language's redaction words (or every language's at once)."""

    digits: dict[str, int]
    weak_zero: frozenset[str]
    teens: dict[str, int]
    tens: dict[str, int]
    tens_units: dict[str, int]
    hundreds: dict[str, int]
    hundred: frozenset[str]
    scales: dict[str, int]  # thousand, million
    repeat: dict[str, int]
    ordinals: dict[str, int]
    joiners: frozenset[str]
    fillers: frozenset[str]
    quantity: frozenset[str]
    money_cues: frozenset[str]
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
    context_words: int
    near_context_words: int
    money_cue_words: int
    birth_context_words: int


@lru_cache(maxsize=None)
def _rules() -> dict[str, Any]:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def vocabulary(language: str) -> Vocabulary:
    """The words for a language tag's primary language; every section merged for other languages."""
    rules = _rules()
    primary = language.replace("_", "-").split("-")[0].lower()
    sections = [rules[primary]] if primary in rules and primary not in ("all", "common") else [
        value for key, value in rules.items() if key not in ("all", "common")
    ]

    def merged_dict(name: str) -> dict[str, int]:
        out: dict[str, int] = {}
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
    settings = rules["all"]
    return Vocabulary(
        digits=merged_dict("digits"),
        weak_zero=merged_set("weak_zero"),
        teens=merged_dict("teens"),
        tens=merged_dict("tens"),
        tens_units=merged_dict("tens_units"),
        hundreds=merged_dict("hundreds"),
        hundred=merged_set("hundred"),
        scales=merged_dict("scales"),
        repeat=merged_dict("repeat"),
        ordinals=merged_dict("ordinals"),
        joiners=merged_set("joiners"),
        fillers=merged_set("fillers"),
        quantity=merged_set("quantity"),
        money_cues=merged_set("money_cues"),
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
        tlds=frozenset(rules["common"]["tlds"]),
        context_words=int(settings["context_words"]),
        near_context_words=int(settings["near_context_words"]),
        money_cue_words=int(settings["money_cue_words"]),
        birth_context_words=int(settings["birth_context_words"]),
    )


# ------------------------------------------------------------------ numbers


@dataclass
class Group:
    """One number as said: "eight hundred five" is one, "five five" two."""

    first: int  # stream positions of its first and last word
    last: int
    value: int
    digits: int
    atoms: list[str]  # the kinds of number word it was built from
    written: bool = False  # a written digit string ("4111", "555-0192")


def _atoms(token: str, vocab: Vocabulary) -> list[tuple[str, int]] | None:
    """The number parts of one folded word, or None when it is not a number word."""
    if not token:
        return None
    if _DIGITS.match(token):
        digits = re.sub(r"\D", "", token)
        return [("written", int(digits))] + [("width", len(digits))]
    parts = token.split("-") if "-" in token else [token]
    atoms: list[tuple[str, int]] = []
    for part in parts:
        for name, table in (("digit", vocab.digits), ("teen", vocab.teens), ("tens", vocab.tens),
                            ("tens_unit", vocab.tens_units), ("hundreds", vocab.hundreds)):
            if part in table:
                atoms.append((name, table[part]))
                break
        else:
            if part in vocab.hundred:
                atoms.append(("hundred", 100))
            elif part in vocab.scales:
                atoms.append(("thousand", vocab.scales[part]))
            else:
                return None
    return atoms


class _Parser:
    """Builds number groups word by word, deciding where one number ends and the next starts."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self.total = 0
        self.sub = 0
        self.last: str | None = None
        self.first = -1
        self.end = -1
        self.kinds: list[str] = []

    def continues(self, kind: str, value: int = 1) -> bool:
        """Whether a number word of this kind adds to the current number instead of starting one."""
        last = self.last
        if last is None:
            return False
        if kind == "digit":  # "seventy zero" is two numbers
            return value != 0 and last in ("tens", "hundred", "hundreds", "thousand")
        if kind in ("teen", "tens", "tens_unit"):
            return last in ("hundred", "hundreds", "thousand")
        if kind == "hundreds":
            return last == "thousand"
        if kind == "hundred":
            return last in ("digit", "teen", "tens", "tens_unit", "unit")
        if kind == "thousand":
            return last != "thousand"
        return False

    def add(self, position: int, atoms: list[tuple[str, int]]) -> None:
        if atoms[0][0] == "written":
            self.close()
            value, width = atoms[0][1], atoms[1][1]
            self.groups.append(Group(position, position, value, width, ["written"], written=True))
            return
        for kind, value in atoms:
            if not self.continues(kind, value):
                self.close()
                self.first = position
            self.end = position
            self.kinds.append(kind)
            if kind == "hundred":
                self.sub = (self.sub or 1) * 100
            elif kind == "thousand":
                self.total += (self.sub or 1) * value
                self.sub = 0
            else:
                self.sub += value
            self.last = "unit" if kind == "digit" and self.last in ("tens", "hundred", "hundreds", "thousand") else kind

    def repeat(self, first: int, last: int, times: int, digit: int) -> None:
        self.close()
        for _ in range(times):
            self.groups.append(Group(first, last, digit, 1, ["digit"]))

    def close(self) -> None:
        if self.last is not None:
            value = self.total + self.sub
            self.groups.append(Group(self.first, self.end, value, len(str(value)), self.kinds))
        self.total = self.sub = 0
        self.last = None
        self.kinds = []


@dataclass
class Run:
    """Number words in a row (joiners and fillers inside allowed)."""

    first: int
    last: int
    groups: list[Group]

    @property
    def digits(self) -> int:
        return sum(group.digits for group in self.groups)


def _number_runs(tokens: Sequence[str], vocab: Vocabulary) -> list[Run]:
    """Every run of number words in a speaker's words, with the numbers it says."""
    n = len(tokens)
    atoms = [_atoms(token, vocab) for token in tokens]

    def number_at(i: int) -> list[tuple[str, int]] | None:
        if i >= n:
            return None
        if atoms[i] is not None:
            return atoms[i]
        if tokens[i] in vocab.weak_zero:  # "oh" is zero only among other numbers
            before = i > 0 and atoms[i - 1] is not None
            after = i + 1 < n and atoms[i + 1] is not None
            if (before and after) or (after and i + 2 < n and atoms[i + 2] is not None):
                return [("digit", 0)]
        return None

    def repeat_at(i: int) -> bool:  # "double five", "doble cinco"
        following = number_at(i + 1) if i < n else None
        return i < n and tokens[i] in vocab.repeat and following is not None and following[0][0] == "digit"

    runs: list[Run] = []
    i = 0
    while i < n:
        if number_at(i) is None and not repeat_at(i):
            i += 1
            continue
        parser = _Parser()
        start = end = j = i
        while j < n:
            here = number_at(j)
            if here is not None:
                parser.add(j, here)
                end, j = j, j + 1
                continue
            if repeat_at(j):
                parser.repeat(j, j + 1, vocab.repeat[tokens[j]], number_at(j + 1)[0][1])  # type: ignore[index]
                end, j = j + 1, j + 2
                continue
            # a joiner inside one number ("three hundred AND forty", "cincuenta Y cinco"),
            # a filler between numbers ("five, uh, five")
            following = number_at(j + 1)
            if following and tokens[j] in vocab.joiners and following[0][0] != "written" and parser.continues(*following[0]):
                j += 1
                continue
            if (following or repeat_at(j + 1)) and tokens[j] in vocab.fillers:
                j += 1
                continue
            break
        parser.close()
        runs.append(Run(start, end, parser.groups))
        i = end + 1
    return runs


def _year_groups(groups: Sequence[Group]) -> int:
    """How many of the leading groups say a year (0 if they do not): "nineteen eighty", "1987", "ochenta y ocho"."""
    if not groups:
        return 0
    first = groups[0]
    if len(groups) >= 2 and not first.written and 10 <= first.value <= 20 and first.digits == 2:
        second = groups[1]
        if second.value == 0 and len(groups) >= 3 and groups[2].value <= 9:
            return 3  # "nineteen oh five"
        if not second.written and 10 <= second.value <= 99:
            return 2
    if 1900 <= first.value <= 2099 and (first.written or "thousand" in first.atoms):
        return 1
    if first.digits == 2 and not first.written:
        return 1
    return 0


def _is_year_like(run: Run) -> bool:
    needed = _year_groups(run.groups)
    return needed == len(run.groups) and (len(run.groups) > 1 or run.groups[0].digits == 4)


# ------------------------------------------------------------------ finding personal data


class _Finder:
    """Personal data in one call's words: index of a word -> kind."""

    def __init__(self, words: Sequence[str], language: str, speakers: Sequence[str] | None, edges: bool):
        self.raw = list(words)
        self.tokens = [fold(word) for word in words]
        self.vocab = vocabulary(language)
        self.speakers = list(speakers) if speakers is not None else [""] * len(words)
        self.edges = edges  # text cut out of a longer call: a number touching an end may be cut too
        self.found: dict[int, str] = {}

    def run(self) -> dict[int, str]:
        for index, word in enumerate(self.raw):
            if "@" in word and _EMAIL.search(word):
                self.found[index] = "email"
            elif _WRITTEN_DATE.match(fold(word)):
                self.found[index] = "date"
        streams: dict[str, list[int]] = {}
        for index, speaker in enumerate(self.speakers):
            if not is_mask(self.raw[index]):
                streams.setdefault(speaker, []).append(index)
        for stream in streams.values():
            for segment in self._segments(stream):
                tokens = [self.tokens[i] for i in segment]
                self._emails(segment, tokens)
                self._dates(segment, tokens)
                self._numbers(segment, tokens)
        return self.found

    def _segments(self, stream: list[int]) -> list[list[int]]:
        """A speaker's words cut into turns: where the others said a few words (a backchannel
        such as "mhm" in the middle of a number does not cut it), or a word was already masked."""
        segments: list[list[int]] = [[]]
        for previous, index in zip([None, *stream], stream):
            between = range(previous + 1, index) if previous is not None else range(0)
            if len(between) >= TURN_WORDS or any(is_mask(self.raw[k]) for k in between):
                segments.append([])
            segments[-1].append(index)
        return [s for s in segments if s]

    def _mark(self, segment: list[int], first: int, last: int, kind: str) -> None:
        for position in range(first, last + 1):
            self.found.setdefault(segment[position], kind)

    def _free(self, segment: list[int], first: int, last: int) -> bool:
        return all(segment[p] not in self.found for p in range(first, last + 1))

    # -- context

    def _before(self, index: int, count: int) -> list[str]:
        """The `count` words before a word (any speaker), nearest first."""
        start = max(0, index - count)
        return [self.tokens[i] for i in range(index - 1, start - 1, -1) if not is_mask(self.raw[i])]

    def _kind_near(self, index: int, count: int) -> tuple[str | None, bool]:
        """(the nearest strong context kind, whether a weak context word is near)."""
        weak = False
        for token in self._before(index, count):
            if token in self.vocab.strong:
                return self.vocab.strong[token], True
            weak = weak or token in self.vocab.weak
        return None, weak

    def _birth_near(self, index: int) -> bool:
        return any(token in self.vocab.birth for token in self._before(index, self.vocab.birth_context_words))

    # -- emails

    def _emails(self, segment: list[int], tokens: list[str]) -> None:
        vocab = self.vocab
        n = len(tokens)
        for k, token in enumerate(tokens):
            if token not in vocab.at:
                continue
            j = k + 1
            if j < n and tokens[j] == "sign":
                j += 1
            end, labels = None, 0
            while j < n and j <= k + 9:
                word = tokens[j]
                if word in vocab.at:
                    break
                if "." in word and word.rsplit(".", 1)[-1] in vocab.tlds and labels == 0:
                    end = j  # "at gmail.com"
                    break
                if word in vocab.dot and labels and j + 1 < n and tokens[j + 1] in vocab.tlds:
                    end = j + 1
                    j += 2
                    while j + 1 < n and tokens[j] in vocab.dot:  # ".com.mx", ".com punto eme equis"
                        if tokens[j + 1] in vocab.tlds:
                            end, j = j + 1, j + 2
                        elif tokens[j + 1] in vocab.letters and j + 2 < n and tokens[j + 2] in vocab.letters:
                            end, j = j + 2, j + 3
                        else:
                            break
                    break
                if word in vocab.email_stop and word not in vocab.dot:
                    break
                labels += 1
                j += 1
            if end is None and token == "arroba" and labels:  # unambiguous, even with the ending lost
                end = k + min(labels, 3)
            if end is None:
                continue
            start = k
            p = k - 1
            while p >= 0 and k - p <= 6:
                word = tokens[p]
                if word in vocab.email_stop or not word or is_mask(self.raw[segment[p]]):
                    break
                start = p
                p -= 1
            if start == k:
                continue
            self._mark(segment, start, end, "email")

    # -- dates

    def _dates(self, segment: list[int], tokens: list[str]) -> None:
        vocab = self.vocab
        n = len(tokens)
        runs = {run.first: run for run in _number_runs(tokens, vocab)}
        ends = {run.last: run for run in runs.values()}

        def ordinal(p: int) -> tuple[int, int] | None:
            """(first, last) of an ordinal day at p: "third", "twenty ninth", "3rd", "primero"."""
            if p >= n:
                return None
            if tokens[p] in vocab.ordinals or _ORDINAL_DIGITS.match(tokens[p]):
                return p, p
            if tokens[p] in vocab.tens and p + 1 < n and tokens[p + 1] in vocab.ordinals and vocab.ordinals[tokens[p + 1]] < 10:
                return p, p + 1
            return None

        def year_after(p: int) -> int | None:
            """Last position of a year starting at p (after link words), or None."""
            while p < n and tokens[p] in vocab.date_links:
                p += 1
            run = runs.get(p)
            if run is None:
                return None
            needed = _year_groups(run.groups)
            return run.groups[needed - 1].last if needed else None

        for i, token in enumerate(tokens):
            if token not in vocab.months:
                continue
            first, last, day, year = i, i, False, False
            # the day before the month, after a link word: "the third of march", "doce de marzo"
            q = i - 1
            while q >= 0 and tokens[q] in vocab.date_links and tokens[q] not in ("the", "el"):
                q -= 1
            if 0 <= q < i - 1:
                if tokens[q] in vocab.ordinals or _ORDINAL_DIGITS.match(tokens[q]):
                    compound = q >= 1 and tokens[q - 1] in vocab.tens and vocab.ordinals.get(tokens[q], 10) < 10
                    day, first = True, q - 1 if compound else q
                elif q in ends and 1 <= ends[q].groups[-1].value <= 31 and ends[q].groups[-1].digits <= 2:
                    day, first = True, ends[q].groups[-1].first
            # the day after the month: "march third", "november twenty ninth", "june nine nineteen ninety one"
            p = i + 1
            if p < n and tokens[p] == "the":
                p += 1
            if day:
                pass
            elif (found := ordinal(p)) is not None:
                day, last = True, found[1]
            elif p in runs and 1 <= runs[p].groups[0].value <= 31 and runs[p].groups[0].digits <= 2:
                rest = runs[p].groups[1:]
                if not rest:
                    day, last = True, runs[p].groups[0].last
                elif (needed := _year_groups(rest)) and needed == len(rest):
                    day, year, last = True, True, rest[-1].last
            if not year and (found_year := year_after(last + 1)) is not None:
                year, last = True, found_year
            if (day or year) and (year or self._birth_near(segment[first])):
                self._mark(segment, first, last, "date")

    # -- numbers

    def _numbers(self, segment: list[int], tokens: list[str]) -> None:
        for run in _number_runs(tokens, self.vocab):
            for part in self._free_parts(segment, run):
                if self._personal(segment, tokens, part):
                    first, last = self._with_letters(tokens, part.first, part.last)
                    strong, _ = self._kind_near(segment[part.first], self.vocab.context_words)
                    self._mark(segment, first, last, self._kind(strong, part, segment[part.first]))

    def _free_parts(self, segment: list[int], run: Run) -> list[Run]:
        """The run, or its pieces between words a date or an address already took."""
        parts: list[Run] = []
        for group in run.groups:
            if not self._free(segment, group.first, group.last):
                parts.append(Run(-1, -1, []))
            elif parts and parts[-1].groups:
                parts[-1].groups.append(group)
                parts[-1].last = group.last
            else:
                parts.append(Run(group.first, group.last, [group]))
        return [part for part in parts if part.groups]

    def _personal(self, segment: list[int], tokens: list[str], run: Run) -> bool:
        """Whether a run of numbers is a digit string, or a number that context makes personal."""
        vocab = self.vocab
        index = segment[run.first]
        groups = len(run.groups)
        after = run.last + 1
        while after < len(tokens) and tokens[after] in _SKIP_BEFORE_QUANTITY:
            after += 1
        quantity = after < len(tokens) and tokens[after] in vocab.quantity
        money = any(token in vocab.money_cues for token in tokens[max(0, run.first - vocab.money_cue_words): run.first])
        money = money or any(self.raw[segment[p]].lstrip().startswith("$") for p in range(run.first, run.last + 1))
        written = max((g.digits for g in run.groups if g.written), default=0)
        if groups >= 3:
            return True
        if _is_year_like(run):
            if groups == 1 and run.groups[0].value % 1000 == 0 and not run.groups[0].written:
                return self._birth_near(index)  # "two thousand" is more often an amount than a year
            strong, _ = self._kind_near(index, vocab.context_words)
            return not quantity and not money and (strong is not None or self._birth_near(index))
        if written >= 4:
            return not quantity and not money
        if groups == 2 and run.digits >= 4:
            return not quantity
        if self.edges and groups >= 2 and not quantity and (run.first == 0 or run.last == len(tokens) - 1):
            return True  # perhaps the end of a longer number the text cut off
        if groups == 1 and run.digits >= 3 and not quantity and not money:
            near_strong, near_weak = self._kind_near(index, vocab.near_context_words)
            return near_strong is not None or near_weak
        return False

    def _with_letters(self, tokens: list[str], first: int, last: int) -> tuple[int, int]:
        """Widen a masked number over spelled letters next to it ("b seven four two", "ce a ene cuatro")."""
        vocab = self.vocab

        def widen(position: int, step: int) -> int:
            edge, seen_letter = position, False
            p = position + step
            while 0 <= p < len(tokens) and (tokens[p] in vocab.letters or tokens[p] in vocab.letter_words or tokens[p] in vocab.fillers):
                if tokens[p] in vocab.letters:
                    edge, seen_letter = p, True
                p += step
            return edge if seen_letter else position

        return widen(first, -1), widen(last, 1)

    def _kind(self, strong: str | None, run: Run, index: int) -> str:
        if strong in ("card", "account", "id", "phone", "date"):
            return strong
        if _is_year_like(run) and self._birth_near(index):
            return "date"
        if run.digits >= 13:
            return "card"
        if 7 <= run.digits <= 12:
            return "phone"
        return "number"


def find_personal(
    words: Sequence[str], language: str, speakers: Sequence[str] | None = None, edges: bool = False
) -> dict[int, str]:
    """Which words are personal data, and of what kind: {word index: kind}.

    `speakers` (one per word) keeps each speaker's numbers apart when their words
    interleave; `edges` treats numbers at either end as possibly cut short.
    """
    return _Finder(words, language, speakers, edges).run()


# ------------------------------------------------------------------ what the pipeline and the outputs call


def redact_transcript(transcript: Transcript) -> Transcript:
    """The transcript with each word of personal data replaced by its mask; times unchanged."""
    found = find_personal([w.text for w in transcript.words], transcript.language, [w.speaker for w in transcript.words])
    if not found:
        return transcript
    words = tuple(
        dataclasses.replace(word, text=mask(found[index])) if index in found else word
        for index, word in enumerate(transcript.words)
    )
    return dataclasses.replace(transcript, words=words)


def collapse(tokens: Sequence[str]) -> str:
    """Words joined, each run of the same mask said once ("[phone] [phone]" is "[phone]")."""
    out: list[str] = []
    for token in tokens:
        if not (out and is_mask(token) and out[-1] == token):
            out.append(token)
    return " ".join(out)


def redact_text(text: str, language: str, edges: bool = True) -> str:
    """A piece of a call's text (evidence, a quote) with personal data masked.

    Without the rest of the call there is less context, so with `edges` a number
    cut off at either end of the text is masked when it could be a digit string.
    """
    tokens = text.split()
    found = find_personal(tokens, language, edges=edges)
    return collapse([mask(found[i]) if i in found else token for i, token in enumerate(tokens)])


def redact_report_dict(data: dict[str, Any], transcript: Transcript | None = None) -> dict[str, Any]:
    """A report (as written) with personal data masked in its evidence, explanations and notes.

    Each finding's evidence is words of the call: they are masked as the same
    words of the whole transcript are (found from `transcript`, or the transcript
    the report names), so a number that the evidence shows only in part is still
    masked; the evidence alone is the fallback.
    """
    redacted = copy.deepcopy(data)
    language = str(data.get("language") or "")
    if transcript is None:
        transcript = _transcript_of(data)
    masked = redact_transcript(transcript) if transcript is not None else None
    for finding in redacted.get("findings", []):
        evidence = finding.get("evidence")
        if isinstance(evidence, str):
            if masked is not None:
                evidence = _aligned(evidence, finding, masked)
            finding["evidence"] = redact_text(evidence, language, edges=masked is None)
        if isinstance(finding.get("explanation"), str):
            finding["explanation"] = redact_text(finding["explanation"], language, edges=False)
    if isinstance(redacted.get("notes"), list):
        redacted["notes"] = [redact_text(n, language, edges=False) if isinstance(n, str) else n for n in redacted["notes"]]
    redacted["redacted"] = True
    return redacted


def is_redacted(transcript: Transcript) -> bool:
    """True when some word of the transcript is a mask (it was written with --redact)."""
    return any(is_mask(word.text) for word in transcript.words)


def _transcript_of(data: dict[str, Any]) -> Transcript | None:
    """The transcript a report was made from: the one the run wrote, else its source when that is a transcript."""
    from etiquette.transcripts import read_transcript

    for key in ("transcript", "source"):
        value = data.get(key)
        if isinstance(value, str) and value.endswith(".json"):
            path = Path(value)
            try:
                transcript = read_transcript(path)
            except (EtiquetteError, OSError):
                continue
            if transcript.call_id == data.get("call_id"):
                return transcript
    return None


def _aligned(evidence: str, finding: dict[str, Any], masked: Transcript) -> str:
    """The evidence with every word that is masked in the transcript masked too.

    The evidence is the speaker's words between the finding's start and end, in
    order (perhaps cut short with "..."), so they are matched one by one.
    """
    try:
        start, end = float(finding["start"]), float(finding["end"])
    except (KeyError, TypeError, ValueError):
        return evidence
    said = [w for w in masked.words if w.speaker == finding.get("speaker") and w.start >= start - 0.06 and w.end <= end + 0.06]
    out: list[str] = []
    position = 0
    for token in evidence.split():
        match = None
        if position < len(said) and (said[position].text == token or is_mask(said[position].text)):
            match = position
        else:  # a word the evidence left out: look a little further
            match = next((c for c in range(position + 1, min(position + 4, len(said))) if said[c].text == token), None)
        if match is None:
            out.append(token)
            continue
        out.append(said[match].text)
        position = match + 1
    return " ".join(out)
