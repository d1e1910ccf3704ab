"""Finding personal data in a call's words: which words, and what kind.

Per speaker, in that speaker's own words (another speaker's backchannel in the
middle of a number does not split it):
- digit strings, written or spoken ("four one one one", "555-0192",
  "ssn:123-45-6789"): four digits or more in a row are masked wherever they
  are, even across the speaker's turns (a number dictated in pieces); three
  numbers in a row always;
- a single number or a year right after a context word ("the last four of your
  social: twelve ninety four", "su rut es ...");
- dates with a month name and a year, or after a birth word;
- email addresses, written or spelled.
What stays: one amount followed by a money or unit word, one number said as a
quantity ("two thousand"), a year said alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import phonenumbers

from etiquette.language import primary_language, region_of

from etiquette.redact.numbers import Group, number_groups
from etiquette.redact.vocabulary import Vocabulary, fold, vocabulary

_EMAIL = re.compile(r"[\w.+-]+(?:@|\((?:at|arroba)\)|\[(?:at|arroba)\])[\w-]+(?:\.[\w-]+)*", re.UNICODE | re.IGNORECASE)
_WRITTEN_DATE = re.compile(r"^(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2})$")
_SUBTOKEN = re.compile(r"[(+]?\d[\d().\-/]*|[^\W\d_]+(?:'[^\W\d_]+)*", re.UNICODE)
TURN_WORDS = 3  # this many words of another speaker end a speaker's turn
_SKIP_BEFORE_QUANTITY = {"a", "an", "per", "each", "every", "al", "cada", "la", "por"}
_DEFAULT_REGION = {"en": "US", "es": "MX"}


@dataclass
class Run:
    """Numbers in a row (fillers between them allowed)."""

    groups: list[Group]

    @property
    def first(self) -> int:
        return self.groups[0].first

    @property
    def last(self) -> int:
        return self.groups[-1].last

    @property
    def digits(self) -> int:
        return sum(group.digits for group in self.groups)


def year_groups(groups: Sequence[Group]) -> int:
    """How many of the leading groups say a year (0 if they do not): "nineteen eighty", "1987", "ochenta"."""
    if not groups:
        return 0
    first = groups[0]
    if len(groups) >= 2 and not first.written and 10 <= first.value <= 20 and first.digits == 2:
        second = groups[1]
        if second.value == 0 and second.digits == 1 and len(groups) >= 3 and groups[2].value <= 9:
            return 3  # "nineteen zero five"
        if not second.written and second.digits == 2:
            return 2
    if 1900 <= first.value <= 2099 and first.digits == 4:
        return 1
    if first.digits == 2 and not first.written:
        return 1
    return 0


def is_year_like(run: Run) -> bool:
    needed = year_groups(run.groups)
    return needed == len(run.groups) and (len(run.groups) > 1 or run.groups[0].digits == 4)


class Finder:
    """Personal data in one call's words: index of a word -> kind."""

    def __init__(self, words: Sequence[str], language: str, speakers: Sequence[str] | None, edges: bool):
        primary, region = primary_language(language), region_of(language)
        self.region = region if region and region.isalpha() else _DEFAULT_REGION.get(primary, "US")
        self.vocab: Vocabulary = vocabulary(primary)
        self.edges = edges  # text cut out of a longer call: a number touching an end may be cut too
        self.words = list(words)
        # Each word is split into tokens ("ssn:123-45-6789" -> "ssn", "123-45-6789"); a token's word is its owner.
        self.tokens: list[str] = []
        self.raw: list[str] = []
        self.owner: list[int] = []
        self.token_speaker: list[str] = []
        speakers = list(speakers) if speakers is not None else [""] * len(words)
        self.word_tokens: list[range] = []  # each word's token positions
        for index, word in enumerate(self.words):
            first = len(self.tokens)
            for piece in _SUBTOKEN.findall(word) or [word]:
                self.tokens.append(fold(piece))
                self.raw.append(piece.lower())
                self.owner.append(index)
                self.token_speaker.append(speakers[index])
            self.word_tokens.append(range(first, len(self.tokens)))
        self.found: dict[int, str] = {}  # token position -> kind

    def run(self) -> dict[int, str]:
        for index, word in enumerate(self.words):
            if _EMAIL.search(word) or "@" in word:
                self._mark_word(index, "email")
            elif _WRITTEN_DATE.match(fold(word)):
                self._mark_word(index, "date")
        streams: dict[str, list[int]] = {}
        for position, speaker in enumerate(self.token_speaker):
            streams.setdefault(speaker, []).append(position)
        for stream in streams.values():
            for segment in self._segments(stream):
                tokens = [self.tokens[p] for p in segment]
                raw = [self.raw[p] for p in segment]
                groups = number_groups(tokens, raw, self.vocab)
                self._emails(segment, tokens)
                self._dates(segment, tokens, groups)
                self._numbers(segment, tokens, groups)
                self._written_phones(segment)
            self._across_turns(stream)
        words: dict[int, str] = {}
        for position, kind in self.found.items():
            words.setdefault(self.owner[position], kind)
        return words

    def _mark_word(self, index: int, kind: str) -> None:
        for position in self.word_tokens[index]:
            self.found.setdefault(position, kind)

    def _segments(self, stream: list[int]) -> list[list[int]]:
        """A speaker's tokens cut into turns: where the others said a few words (a backchannel
        such as "mhm" in the middle of a number does not cut it)."""
        segments: list[list[int]] = [[]]
        for previous, position in zip([None, *stream], stream):
            if previous is not None:
                between = {self.owner[p] for p in range(previous + 1, position)}
                if len(between) >= TURN_WORDS:
                    segments.append([])
            segments[-1].append(position)
        return [s for s in segments if s]

    def _mark(self, segment: list[int], first: int, last: int, kind: str) -> None:
        for position in range(first, last + 1):
            self.found.setdefault(segment[position], kind)

    def _free(self, segment: list[int], first: int, last: int) -> bool:
        return all(segment[p] not in self.found for p in range(first, last + 1))

    # -- context

    def _before(self, position: int, count: int) -> list[str]:
        """The tokens of the `count` words before a token (any speaker), nearest first."""
        owner = self.owner[position]
        before = []
        for p in range(position - 1, -1, -1):  # owners never decrease: stop at the first word too far back
            if owner - self.owner[p] > count:
                break
            before.append(self.tokens[p])
        return before

    def _kind_near(self, position: int, count: int) -> tuple[str | None, bool]:
        """(the nearest strong context kind, whether a weak context word is near)."""
        weak = False
        for token in self._before(position, count):
            if token in self.vocab.strong:
                return self.vocab.strong[token], True
            weak = weak or token in self.vocab.weak
        return None, weak

    def _birth_near(self, position: int) -> bool:
        return any(token in self.vocab.birth for token in self._before(position, self.vocab.birth_context_words))

    # -- emails

    def _emails(self, segment: list[int], tokens: list[str]) -> None:
        vocab = self.vocab
        n = len(tokens)
        for k, token in enumerate(tokens):
            if token not in vocab.at:
                continue
            end, j, labels = None, k + 1, 0
            if j < n and tokens[j] == "sign":
                j += 1
            while j < n and j <= k + 9:
                word = tokens[j]
                if word in vocab.at:
                    break
                if word in vocab.dot and labels and j + 1 < n and tokens[j + 1] in vocab.tlds:
                    end, j = j + 1, j + 2
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
            if end is None and k + 1 < n and tokens[k + 1] in vocab.providers:
                end = k + 1  # "john smith at gmail": the ending lost, the address is still there
            if end is None and token == "arroba" and labels:  # unambiguous, even with the ending lost
                end = k + min(labels, 3)
            if end is None:
                continue
            start, p = k, k - 1
            while p >= 0 and k - p <= 6 and tokens[p] and tokens[p] not in vocab.email_stop and segment[p] not in self.found:
                start, p = p, p - 1
            if start < k:
                self._mark(segment, start, end, "email")

    # -- dates

    def _dates(self, segment: list[int], tokens: list[str], groups: list[Group]) -> None:
        vocab = self.vocab
        n = len(tokens)
        starts = {group.first: group for group in groups}
        ends = {group.last: group for group in groups}

        def run_from(position: int) -> list[Group]:
            found, at = [], position
            while at in starts:
                found.append(starts[at])
                at = starts[at].last + 1
            return found

        def year_after(position: int) -> int | None:
            while position < n and tokens[position] in vocab.date_links:
                position += 1
            following = run_from(position)
            needed = year_groups(following)
            return following[needed - 1].last if needed else None

        for i, token in enumerate(tokens):
            if token not in vocab.months:
                continue
            first, last, day, year = i, i, False, False
            q = i - 1  # the day before the month, after a link word: "the third of march", "doce de marzo"
            while q >= 0 and tokens[q] in vocab.date_links and tokens[q] not in ("the", "el"):
                q -= 1
            if 0 <= q < i and q in ends and 1 <= ends[q].value <= 31 and ends[q].digits <= 2:
                day, first = True, ends[q].first
            p = i + 1  # the day after the month: "march third", "june nine nineteen ninety one"
            if p < n and tokens[p] == "the":
                p += 1
            following = run_from(p)
            if not day and following and 1 <= following[0].value <= 31 and following[0].digits <= 2:
                rest = following[1:]
                if not rest or following[0].ordinal:
                    day, last = True, following[0].last
                elif (needed := year_groups(rest)) and needed == len(rest):
                    day, year, last = True, True, rest[-1].last
            if not year and (found_year := year_after(last + 1)) is not None:
                year, last = True, found_year
            if (day or year) and (year or self._birth_near(segment[first])):
                self._mark(segment, first, last, "date")

    # -- numbers

    def _runs(self, tokens: list[str], groups: list[Group]) -> list[Run]:
        runs: list[Run] = []
        for group in groups:
            if group.ordinal:
                continue
            previous = runs[-1].groups[-1] if runs else None
            between = tokens[previous.last + 1 : group.first] if previous else None
            if previous is not None and all(token in self.vocab.fillers for token in between):  # type: ignore[union-attr]
                runs[-1].groups.append(group)
            else:
                runs.append(Run([group]))
        return runs

    def _numbers(self, segment: list[int], tokens: list[str], groups: list[Group]) -> None:
        for run in self._runs(tokens, groups):
            parts = self._free_parts(segment, run)
            for part in parts:
                if self._personal(segment, tokens, part):
                    first, last = self._with_letters(tokens, part.first, part.last)
                    strong, _ = self._kind_near(segment[part.first], self.vocab.context_words)
                    self._mark(segment, first, last, self._kind(strong, part, segment[part.first]))

    def _free_parts(self, segment: list[int], run: Run) -> list[Run]:
        """The run, or its pieces between words a date or an email already took."""
        parts: list[Run] = [Run([])]
        for group in run.groups:
            if self._free(segment, group.first, group.last):
                parts[-1].groups.append(group)
            elif parts[-1].groups:
                parts.append(Run([]))
        return [part for part in parts if part.groups]

    def _personal(self, segment: list[int], tokens: list[str], run: Run) -> bool:
        """Whether a run of numbers is a digit string, or a number that context makes personal."""
        vocab = self.vocab
        position = segment[run.first]
        after = run.last + 1
        while after < len(tokens) and tokens[after] in _SKIP_BEFORE_QUANTITY:
            after += 1
        quantity = after < len(tokens) and tokens[after] in vocab.quantity
        priced = self.raw[position].startswith("$")
        count = len(run.groups)
        if count >= 3:
            return True
        strong, weak = self._kind_near(position, vocab.near_context_words)
        if is_year_like(run):
            return not quantity and (strong is not None or self._birth_near(position))
        if count == 2:
            return run.digits >= 4 or (self.edges and not quantity and (run.first == 0 or run.last == len(tokens) - 1))
        group = run.groups[0]
        if group.written and group.digits >= 4:
            return not quantity and not priced
        if self.edges and group.digits >= 2 and (run.first == 0 or run.last == len(tokens) - 1) and not quantity:
            return True  # perhaps the end of a longer number the text cut off
        return group.digits >= 3 and not quantity and not priced and (strong is not None or weak)

    def _with_letters(self, tokens: list[str], first: int, last: int) -> tuple[int, int]:
        """Widen a masked number over spelled letters next to it ("b seven four two", "ce a ene cuatro")."""
        vocab = self.vocab

        def widen(position: int, step: int) -> int:
            edge, seen_letter, p = position, False, position + step
            while 0 <= p < len(tokens) and (tokens[p] in vocab.letters or tokens[p] in vocab.letter_words or tokens[p] in vocab.fillers):
                if tokens[p] in vocab.letters:
                    edge, seen_letter = p, True
                p += step
            return edge if seen_letter else position

        return widen(first, -1), widen(last, 1)

    def _kind(self, strong: str | None, run: Run, position: int) -> str:
        if strong in ("card", "account", "id", "phone", "date"):
            return strong
        if is_year_like(run) and self._birth_near(position):
            return "date"
        if run.digits >= 13:
            return "card"
        if 7 <= run.digits <= 12:
            return "phone"
        return "number"

    def _written_phones(self, segment: list[int]) -> None:
        """Phone numbers written out, whatever their punctuation ("(555) 867-5309", "+52 55 1234 5678")."""
        text, starts = "", []
        for position in segment:
            starts.append(len(text))
            text += self.raw[position] + " "
        for match in phonenumbers.PhoneNumberMatcher(text, self.region, leniency=phonenumbers.Leniency.POSSIBLE):
            for offset, position in zip(starts, segment):
                if match.start <= offset < match.end:
                    self.found.setdefault(position, "phone")

    # -- a number dictated over several turns

    def _across_turns(self, stream: list[int]) -> None:
        """Numbers that touch across the speaker's turns ("five five five" / "oh one" / "nine two"):
        four digits or more together are masked, even when no turn alone said enough."""
        segment_of: dict[int, int] = {}
        for number, segment in enumerate(self._segments(stream)):
            for position in segment:
                segment_of[position] = number
        tokens = [self.tokens[p] for p in stream]
        raw = [self.raw[p] for p in stream]
        groups = {g.first: g for g in number_groups(tokens, raw, self.vocab) if not g.ordinal}
        numeric_masks = {p for p, kind in self.found.items() if kind not in ("email", "date")}
        stretches: list[list[tuple[int, int, int]]] = [[]]  # (first, last, digits) of numbers that touch
        index = 0
        while index < len(stream):
            group = groups.get(index)
            if group is not None or stream[index] in numeric_masks:
                last = group.last if group is not None else index
                stretches[-1].append((index, last, group.digits if group is not None else 1))
                index = last + 1
                continue
            if tokens[index] not in self.vocab.fillers:
                stretches.append([])
            index += 1
        for stretch in stretches:
            turns = {segment_of[stream[first]] for first, _, _ in stretch}
            if len(turns) < 2 or sum(digits for _, _, digits in stretch) < 4:
                continue
            kind = next((self.found[stream[first]] for first, _, _ in stretch if stream[first] in self.found), "number")
            for first, last, _ in stretch:
                for i in range(first, last + 1):
                    self.found.setdefault(stream[i], kind)
