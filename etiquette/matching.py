"""Phrase matching over recognised speech.

Speech recognition gives lower-case words with no punctuation, fillers ("uh",
"este") in the middle of phrases, accents that may or may not be there, and
words it misheard. An utterance is read two ways, token for token:

- `text`: the words folded (accents and punctuation gone), fillers removed, one
  space between words; a word the recogniser was unsure of (low confidence) that
  is one edit away from a word the rules look for is read as that word
  ("sherif" -> "sheriff", "a rested" -> "arrested");
- `lemma_text`: each token's lemma ("rompo", "romperle", "te voy a romper" ->
  "romper"; "threatened" -> "threaten"), so one pattern covers every tense,
  person and clitic.

Patterns are regular expressions over either text; every match maps back to the
words it covers, so findings keep their times and the words actually said.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import logging

from rapidfuzz import fuzz, process
from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory

from etiquette.types import Word

_NON_WORD = re.compile(r"[^\w' ]+")
_SIMPLEMMA_LANGUAGES = {"en", "es", "fr", "de", "it", "pt", "nl", "ca"}

# simplemma's dictionaries as tries (marisa-trie), built once and cached on disk: loading the
# Spanish one from its compressed pickle takes over a second in every process, the trie a few
# milliseconds. Where the cache cannot be written, the trie is built in memory each time.
_DICTIONARIES = TrieDictionaryFactory()
_LEMMATIZER = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_DICTIONARIES))
_LOOKUP = DictionaryLookupStrategy(_DICTIONARIES)
logging.getLogger("simplemma").setLevel(logging.ERROR)  # "failed to cache": not for the officer's console


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation: 'Sinvergüenza!' -> 'sinverguenza'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("’", "'")
    return " ".join(_NON_WORD.sub(" ", bare).split())


@lru_cache(maxsize=200_000)
def lemma(token: str, language: str) -> str:
    """The dictionary form of a word (simplemma), folded; the word itself when unknown."""
    if language not in _SIMPLEMMA_LANGUAGES or "'" in token:
        return fold(token)
    return fold(_LEMMATIZER.lemmatize(token, language))


@lru_cache(maxsize=200_000)
def _known_word(word: str, language: str) -> bool:
    return _LOOKUP.get_lemma(word, language) is not None


@dataclass(frozen=True)
class Hearing:
    """How one language's speech is read: which words are fillers, which words the rules look
    for (to repair doubtful ones), and how unsure the recogniser must be before a word is repaired."""

    language: str = ""
    fillers: frozenset[str] = frozenset()
    doubtful_fillers: frozenset[str] = frozenset()  # short words dropped when heard with low confidence
    spoken_pairs: frozenset[tuple[str, str]] = frozenset()  # "uh huh", "mm hmm": filler sounds that say yes (or no)
    function_words: frozenset[str] = frozenset()  # carry no meaning of their own ("the", "de", "su")
    lexicon: tuple[str, ...] = ()  # folded words of five letters or more that the rules name
    doubtful_conf: float = 0.75  # a word below this confidence may have been misheard
    min_similarity: float = 85.0  # how close (0-100) a doubtful word must be to a rule word
    _known: frozenset[str] = field(default=frozenset(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_known", frozenset(self.lexicon))

    def repair(self, token: str, original: str | None = None) -> str | None:
        """The rule word a doubtful token most likely was, or None.

        Only a word the language does not know is repaired ("sherif", "arested"): a real word
        that was doubtful ("rick", "please") may well be what was said.
        """
        if len(token) < 4 or token in self._known or not self.lexicon:
            return None
        if self.language in _SIMPLEMMA_LANGUAGES and _known_word(original or token, self.language):
            return None
        found = process.extractOne(token, self.lexicon, scorer=fuzz.ratio, score_cutoff=self.min_similarity)
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Span:
    """A match: the words it covers, as indices into the utterance's words."""

    first: int
    last: int  # inclusive
    rule_text: str  # the folded text that matched


class Utterance:
    """A run of words (a turn) prepared for matching: `text` and `lemma_text`, token for token.

    Each token maps back to the words it came from (a repaired split word covers two).
    """

    def __init__(self, words: Sequence[Word], hearing: Hearing | frozenset[str] = frozenset()):
        if not isinstance(hearing, Hearing):
            hearing = Hearing(fillers=frozenset(hearing))
        self.words = tuple(words)
        pieces: list[tuple[str, str, int, bool]] = []  # (folded token, lower-case raw token, word index, doubtful)
        heard: list[tuple[str, str, int, bool]] = []
        for index, word in enumerate(self.words):
            raw = _NON_WORD.sub(" ", word.text.lower().replace("’", "'")).split()
            folded = fold(word.text).split()
            doubtful = word.conf < hearing.doubtful_conf
            heard += [(token, original, index, doubtful) for token, original in zip(folded, raw if len(raw) == len(folded) else folded)]
        for position, (token, original, index, doubtful) in enumerate(heard):
            pair = {(token, heard[position + 1][0]) if position + 1 < len(heard) else None,
                    (heard[position - 1][0], token) if position > 0 else None}
            if pair & hearing.spoken_pairs:
                pieces.append((token, original, index, doubtful))  # "uh huh" is a yes, not two fillers
            elif token not in hearing.fillers and not (doubtful and token in hearing.doubtful_fillers):
                pieces.append((token, original, index, doubtful))
        tokens: list[str] = []
        lemmas: list[str] = []
        doubts: list[bool] = []
        self._owners: list[int] = []  # the first word of each token
        self._owner_ends: list[int] = []  # the last word of each token
        position = 0
        while position < len(pieces):
            token, original, index, doubtful = pieces[position]
            last_index, used = index, 1
            if doubtful and hearing.lexicon:
                following = pieces[position + 1] if position + 1 < len(pieces) else None
                # "a rested" -> "arrested": only two unsure pieces make one word ("free payments" stays)
                joined = hearing.repair(token + following[0], original + following[1]) if following and following[3] else None
                if joined is not None:  # "a rested" -> "arrested"
                    token, original, last_index, used = joined, joined, following[2], 2  # type: ignore[index]
                elif (repaired := hearing.repair(token, original)) is not None:
                    token, original = repaired, repaired
            doubts.append(doubtful)
            tokens.append(token)
            lemmas.append(lemma(original, hearing.language))
            self._owners.append(index)
            self._owner_ends.append(last_index)
            position += used
        self.tokens = tuple(tokens)
        self.doubtful = tuple(doubts)  # heard with low confidence (and perhaps repaired)
        self._plain = tuple(token in hearing.function_words for token in tokens)
        self.lemmas = tuple(lemmas)
        self.text = " ".join(tokens)
        self.lemma_text = " ".join(lemmas)
        self._starts = {"text": _starts(tokens), "lemma": _starts(lemmas)}
        self.prefiltered: dict = {}  # what each rule file's pattern index found possible here (etiquette.patterns)

    def token_at(self, char_offset: int, reading: str = "text") -> int:
        """Index of the token containing this character offset of `text` (or of `lemma_text`)."""
        starts = self._starts[reading]
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= char_offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def find(self, pattern: re.Pattern[str], reading: str = "text") -> Iterable[tuple[int, int]]:
        """Token ranges (first, last inclusive) where the pattern matches `text` (or `lemma_text`)."""
        for match in pattern.finditer(self.lemma_text if reading == "lemma" else self.text):
            if match.end() == match.start():
                continue
            yield self.token_at(match.start(), reading), self.token_at(match.end() - 1, reading)

    def weak(self, first_token: int, last_token: int) -> bool:
        """Whether every token of a match was heard with low confidence: one doubtful word (a name
        heard as "police") is no evidence on its own."""
        return all(self.doubtful[first_token : last_token + 1])

    def unclear(self, first_token: int, last_token: int) -> bool:
        """Whether every word that carries a match was heard with low confidence, the function
        words beside them aside: "el debe" with "debe" doubtful is no evidence of debt talk."""
        carrying = [self.doubtful[token] for token in range(first_token, last_token + 1) if not self._plain[token]]
        return all(carrying) if carrying else self.weak(first_token, last_token)

    def words_for(self, first_token: int, last_token: int) -> tuple[Word, ...]:
        return self.words[self._owners[first_token] : self._owner_ends[last_token] + 1]

    def word_index(self, token: int) -> int:
        return self._owners[token]

    def last_word_index(self, token: int) -> int:
        return self._owner_ends[token]


def _starts(tokens: Sequence[str]) -> list[int]:
    """The character offset where each token starts in the tokens joined by spaces."""
    starts, offset = [], 0
    for token in tokens:
        starts.append(offset)
        offset += len(token) + 1
    return starts


@dataclass(frozen=True, slots=True)
class Negation:
    """How a language negates: `you will NOT be arrested`, `NADIE lo va a detener`.

    A match is negated when one of `words` stands within `window` tokens before
    it, with no scope breaker ("but", "pero") in between. A bare "no" at the
    start of a turn is often an interjection ("no, listen, ..."), so `weak`
    negators count only when the next word shows they negate: it must be one of
    `weak_followers` (English "no one", "no jail") or, when that list is empty,
    not one of `weak_blockers` (Spanish "no lo vamos a..." negates, "no, mire,
    ..." does not). A negator right after "if"/"si" opens a condition ("if you
    don't pay, ...") and negates nothing that follows.
    """

    words: frozenset[str]
    weak: frozenset[str]
    weak_followers: frozenset[str]
    weak_blockers: frozenset[str]
    breakers: frozenset[str]
    conditionals: frozenset[str]
    hedges: frozenset[str] = frozenset()  # "not SAYING you'll be arrested": not a negation
    weak_after: frozenset[str] = frozenset()  # "ah, no?": after these a weak negator is a question tag
    window: int = 6

    def negates(self, tokens: Sequence[str], first: int, last: int | None = None) -> bool:
        """Is the phrase at tokens first..last negated?

        With `last`, a negator inside the phrase counts too ("you are NOT a
        liar", "your neighbours will NOT find out").
        """
        if last is not None and any(self._is_negator(tokens, p) for p in range(first + 1, last)):
            return True
        # A match that opens a clause ("you're lying", "sos un chanta") is negated
        # only by the word right before it ("no sos un chanta"), not by an earlier clause.
        if tokens[first] in self.breakers:
            before = tokens[first - 1] if first > 0 else ""
            strong = before in self.words or before.endswith("n't")
            spanish_style_no = before in self.weak and not self.weak_followers
            return strong or spanish_style_no
        start = max(0, first - self.window)
        for position in range(first - 1, start - 1, -1):
            if tokens[position] in self.breakers:
                return False
            if self._is_negator(tokens, position, first):
                return True
        return False

    def _is_negator(self, tokens: Sequence[str], position: int, first: int | None = None) -> bool:
        token = tokens[position]
        if token in self.weak:
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            if position > 0 and tokens[position - 1] in self.weak_after:
                negates = False
            elif self.weak_followers:
                negates = following in self.weak_followers or position + 1 == first
            else:
                negates = following not in self.weak_blockers
        else:
            negates = token in self.words or token.endswith("n't")
        return negates and not self._opens_condition(tokens, position) and not self._hedged(tokens, position)

    def _hedged(self, tokens: Sequence[str], position: int) -> bool:
        following = tokens[position + 1 : position + 3]
        return any(token in self.hedges for token in following)

    def _opens_condition(self, tokens: Sequence[str], position: int) -> bool:
        # "if you don't pay", "si usted no paga", "si no paga": up to two words between
        return any(tokens[p] in self.conditionals for p in range(max(0, position - 3), position))
