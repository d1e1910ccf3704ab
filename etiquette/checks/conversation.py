"""What the checks share about a call: its turns, and who is on the line when.

A turn is a run of words by one speaker. `follow_identity` walks the turns in
order and keeps track of whether the person on the line has confirmed being the
debtor, as a compliance officer listening to the call would:

- the agent asks for the debtor; the other side confirms ("yes, speaking",
  "sí, soy yo"), or answers the agent's verification question (a date of birth,
  the last digits of an id);
- or it turns out to be someone else ("he's not home", "soy la mamá", "wrong
  number", a child being asked for their mom, a voicemail greeting);
- and a confirmed debtor can hand the phone to someone else, after which the
  person on the line must confirm again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterator, Sequence

from rapidfuzz import fuzz

from etiquette.matching import Utterance
from etiquette.patterns import PatternSet
from etiquette.rulebook import Jurisdiction, RuleSet
from etiquette.types import Role, SpanOfWords, Transcript, Word


@dataclass(frozen=True)
class Turn(SpanOfWords):
    speaker: str
    role: Role
    utterance: Utterance

    @property  # type: ignore[override]
    def words(self) -> tuple[Word, ...]:
        return self.utterance.words


def turns_of(transcript: Transcript, rules: RuleSet) -> list[Turn]:
    """Split the words into turns: maximal runs by the same speaker."""
    turns: list[Turn] = []
    run: list[Word] = []
    for word in transcript.words:
        if run and word.speaker != run[-1].speaker:
            turns.append(_turn(transcript, run, rules))
            run = []
        run.append(word)
    if run:
        turns.append(_turn(transcript, run, rules))
    return turns


def _turn(transcript: Transcript, words: list[Word], rules: RuleSet) -> Turn:
    speaker = words[0].speaker
    role = transcript.speakers[speaker].role
    return Turn(speaker=speaker, role=role, utterance=Utterance(words, rules.hearing))


def cue_spans(cue: PatternSet, utterance: Utterance, rules: RuleSet, negatable: bool = False) -> list[tuple[int, int]]:
    """Token spans where any of the cue's patterns matches (negated ones dropped if asked)."""
    spans = [(first, last) for first, last in cue.spans(utterance)
             if not (utterance.unclear(first, last) if cue.clear_words else utterance.weak(first, last))
             and not (negatable and rules.negation.negates(utterance.tokens, first, last))]
    return sorted(set(spans))


def has_cue(rules: RuleSet, name: str, utterance: Utterance, negatable: bool = False) -> bool:
    return bool(cue_spans(rules.cue(name), utterance, rules, negatable))


class Party(enum.Enum):
    """Who the agent is talking to, as far as the call has shown so far."""

    UNKNOWN = "not yet identified"
    DEBTOR = "confirmed debtor"
    THIRD_PARTY = "someone other than the debtor"
    VOICEMAIL = "voicemail"


@dataclass(frozen=True)
class Status:
    party: Party
    reason: str  # what showed it: a key of the rule file's [explanations] ("reason_" + key)
    since: float | None  # when it was shown
    proxy: str | None = None  # "co-signer" or "spouse": not the debtor, but allowed to hear about the debt


UNIDENTIFIED = Status(Party.UNKNOWN, "unidentified", None)

_LEADING_WORDS = 4  # an answer's "yes" comes within its first few words

# Why the line has its status: each is an [explanations] key "reason_<name>".
REASONS = (
    "unidentified", "denied_name", "agent_spoke_of_debtor", "agent_spoke_to_third_party", "asked_again", "voicemail",
    "cosigner", "denied_debtor", "spouse_consumer", "spouse_third_party", "someone_else", "handed_phone",
    "fetching_debtor", "debtor_not_there", "confirmed", "said_yes", "gave_name", "answered_to_name", "verified",
)

# The cues the identity timeline reads from a language's rule file.
IDENTITY_CUES = (
    "addresses_third_party", "affirmative", "asks_for_debtor", "asks_to_speak_to_debtor_again", "asks_verification",
    "claims_own_debt", "confirms_identity", "denies_being_debtor", "gives_identity_details", "goes_to_fetch_debtor",
    "hands_phone_to_someone_else", "identifies_as_cosigner", "identifies_as_someone_else", "identifies_as_spouse",
    "names_debtor_as_spouse", "names_debtor_as_relative", "debt_of_someone_else", "greeting", "names_addressee", "names_denied", "names_self", "refuses", "says_debtor_is_not_there", "speaks_of_debtor",
    "voicemail_greeting",
)


def follow_identity(
    turns: Sequence[Turn], rules: RuleSet, jurisdiction: Jurisdiction
) -> Iterator[tuple[Turn, Status]]:
    """Each turn with the status of the line while it was said.

    For an agent turn that itself shows the listener is not the debtor ("tell
    her she owes..."), that turn already counts as said to a third party.
    """
    status = UNIDENTIFIED
    previous_agent: Turn | None = None
    names = AskedNames(rules)  # every name the agent has asked for or addressed so far
    introduced: tuple[set[str], float] | None = None  # "hello, this is carmen diaz": a name nobody asked for yet
    answered: tuple[set[str], float] | None = None  # a yes or a name, to an ask that was not understood
    for turn in turns:
        if turn.role is Role.AGENT:
            if introduced and status.party is Party.UNKNOWN and _greets_by(turn, introduced[0], rules):
                # "hi carmen, ...": the agent takes the name the person gave as the one it is calling
                status = Status(Party.DEBTOR, "gave_name", introduced[1])
            elif answered and status.party is Party.UNKNOWN and _greets_by(turn, answered[0], rules):
                # "hi, [is this] ayesha?" "yes" "ayesha, my name is...": a misheard ask, and the reply
                # was heard as a yes; the agent greeting the person by the name it asked for settles it
                status = Status(Party.DEBTOR, "answered_to_name", answered[1])
            introduced = answered = None
            if speaks_to_third_party(turn, status, rules):
                yield turn, Status(Party.THIRD_PARTY, "agent_spoke_of_debtor", turn.start)
                status = Status(Party.THIRD_PARTY, "agent_spoke_to_third_party", turn.start)
            else:
                yield turn, status
                if status.party in (Party.DEBTOR, Party.THIRD_PARTY) and has_cue(rules, "asks_to_speak_to_debtor_again", turn.utterance):
                    status = Status(Party.UNKNOWN, "asked_again", turn.start)
            names.learn(turn)
            previous_agent = turn
            continue
        yield turn, status
        if turn.role is Role.CUSTOMER:
            status = _after_other_turn(turn, status, previous_agent, names, rules, jurisdiction)
            given = _names_given(rules, "names_self", turn.utterance) - rules.function_words
            introduced = (given, turn.start) if given and status.party is Party.UNKNOWN else None
            if status.party is Party.UNKNOWN and previous_agent is not None:
                asked = _asked_names(previous_agent, names, rules)
                # a yes, a name, or a short reply holding the name asked for ("these is jennifer")
                if given or _starts_with(rules, "affirmative", turn.utterance) or (
                        len(turn.utterance.tokens) <= _LEADING_WORDS and asked & set(turn.utterance.tokens)):
                    answered = (asked, turn.start)


def speaks_to_third_party(turn: Turn, status: Status, rules: RuleSet) -> bool:
    """The agent's own words show the listener is not the debtor ("tell her...", "is your mom home")."""
    if status.proxy or status.party in (Party.THIRD_PARTY, Party.VOICEMAIL):
        return False
    if has_cue(rules, "addresses_third_party", turn.utterance, negatable=True):
        return True
    # "you're listed as a reference for X, who is behind": whoever confirmed their own name, the
    # debt the agent describes is someone else's, so the listener is a third party.
    if has_cue(rules, "debt_of_someone_else", turn.utterance, negatable=True):
        return True
    # "she owes...": telling, before anyone confirmed being the debtor; rhetoric, after.
    return status.party is Party.UNKNOWN and has_cue(rules, "speaks_of_debtor", turn.utterance)


def describe(status: Status, rules: RuleSet, jurisdiction: Jurisdiction) -> str:
    """Why the line had this status, in the rule file's language."""
    return rules.explain(f"reason_{status.reason}", jurisdiction=jurisdiction.name)


class AskedNames:
    """The names the agent used for the person it wants ("may I speak with Maria", "hi Maria?",
    "this is for Renee Walsh", "aló don Hernando"), to recognise the person giving them back,
    however the recogniser heard them: in part ("mister Gonz"), as a nickname, or misheard."""

    def __init__(self, rules: RuleSet):
        self.rules = rules
        self.names: set[str] = set()
        self.asked_last = False  # whether the agent's last turn asked for or addressed someone
        self.asked_for_debtor = False  # whether it asked outright ("may I speak with...", "is this...")

    def learn(self, agent_turn: Turn) -> None:
        tail = _tail(agent_turn, self.rules)
        addressed = _names_given(self.rules, "names_addressee", tail) - self.rules.function_words
        asks = bool(cue_spans(self.rules.cue("asks_for_debtor"), tail, self.rules)
                    or cue_spans(self.rules.cue("asks_to_speak_to_debtor_again"), tail, self.rules))
        # "are you his brother-in-law?" "yes": a yes to a question about a relation says who the
        # listener is, and it is not the debtor.
        relation = has_cue(self.rules, "addresses_third_party", tail, negatable=True)
        self.asked_last = (asks or bool(addressed)) and not relation
        self.asked_for_debtor = asks and not relation
        self.names |= _names_given(self.rules, "names_addressee", agent_turn.utterance) - self.rules.function_words
        if asks:  # "if luis wants... I need to speak with him": any word of the question may be the name
            self.names |= set(agent_turn.utterance.tokens) - self.rules.function_words

    def match(self, given: set[str]) -> bool:
        """Whether a name someone gives for themselves is one the agent asked for."""
        return any(same_name(name, asked, self.rules) for name in given - self.rules.function_words for asked in self.names)


def same_name(name: str, asked: str, rules: RuleSet) -> bool:
    """Whether a name heard is a name asked for: the same, a nickname, in part, or a little misheard."""
    nicknames = rules.nicknames
    if name == asked or nicknames.get(name) == asked or nicknames.get(asked) == name:
        return True
    if len(name) >= 3 and len(asked) >= 3 and (asked.startswith(name) or name.startswith(asked)):
        return True  # "gonz" for "gonzalez"
    return len(name) >= 4 and fuzz.ratio(name, asked) >= NAME_SIMILARITY  # "shana" for "shawna"


NAME_SIMILARITY = 80  # rapidfuzz ratio: a name heard a little differently is the same name

# What a reply says about who is speaking, most decisive first where two are said at the same place.
_IDENTITY = ("cosigner", "denied_debtor", "denied_name", "spouse", "someone_else", "confirmed", "gave_name", "verified")
_LINE_EVENTS = ("voicemail", "handed_phone", "fetching_debtor")


def _after_other_turn(
    turn: Turn, status: Status, previous_agent: Turn | None, names: AskedNames, rules: RuleSet,
    jurisdiction: Jurisdiction,
) -> Status:
    """Who is on the line after the other party's turn.

    A reply can say several things ("hold on, Keisha, phone... hello, this is Keisha"): what it
    says last about who is speaking decides, unless the line changes after it (the phone handed
    on, someone fetched); "he's not here" alone says the speaker is someone else.
    """
    said = turn.utterance
    at = turn.start
    proxy = status.proxy if status.party is Party.DEBTOR else None  # a co-signer stays a co-signer

    def last(cue: str, negatable: bool = False) -> int | None:
        spans = cue_spans(rules.cue(cue), said, rules, negatable)
        return spans[-1][0] if spans else None

    identity: dict[str, tuple[int, Status]] = {}
    found = {
        "cosigner": (last("identifies_as_cosigner"), Status(Party.DEBTOR, "cosigner", at, proxy="co-signer")),
        "denied_debtor": (last("denies_being_debtor"), Status(Party.THIRD_PARTY, "denied_debtor", at)),
        "someone_else": (last("identifies_as_someone_else", True)
                         # "es mi hijo" says who answered; from the confirmed debtor, it is just family talk
                         if status.party is Party.DEBTOR else _latest(last("identifies_as_someone_else", True),
                                                                         last("names_debtor_as_relative", True)),
                         Status(Party.THIRD_PARTY, "someone_else", at)),
        "confirmed": (last("confirms_identity", True), Status(Party.DEBTOR, "confirmed", at, proxy=proxy)),
    }
    spouse = last("identifies_as_spouse", True)
    if spouse is None and status.party is not Party.DEBTOR:  # "she's my wife": the debtor's spouse answered
        spouse = last("names_debtor_as_spouse", True)
    if spouse is not None:
        found["spouse"] = (spouse, Status(Party.DEBTOR, "spouse_consumer", at, proxy="spouse") if jurisdiction.spouse_is_consumer
                           else Status(Party.THIRD_PARTY, "spouse_third_party", at))
    if names.names and _names_given(rules, "names_denied", said) and names.match(_names_given(rules, "names_denied", said)):
        found["denied_name"] = (last("names_denied") or 0, Status(Party.THIRD_PARTY, "denied_name", at))
    given = _names_given(rules, "names_self", said)
    if names.match(given) or (given and previous_agent is not None and _starts_with(rules, "affirmative", said)):
        # the name the agent asked for, or "yes, this is Gary" to whatever the agent asked
        found["gave_name"] = (last("names_self") or 0, Status(Party.DEBTOR, "gave_name", at, proxy=proxy))
    asked_to_verify = previous_agent is not None and has_cue(rules, "asks_verification", previous_agent.utterance)
    if asked_to_verify and not has_cue(rules, "refuses", said):
        if has_cue(rules, "gives_identity_details", said):
            found["verified"] = (last("gives_identity_details") or 0, Status(Party.DEBTOR, "verified", at, proxy=proxy))
        elif _starts_with(rules, "affirmative", said) and has_cue(rules, "gives_identity_details", _tail(previous_agent, rules)):
            # "you're still at 123 main street?" "yes": the agent read the details out, the yes confirms them
            found["verified"] = (0, Status(Party.DEBTOR, "verified", at, proxy=proxy))
    identity = {key: value for key, value in found.items() if value[0] is not None}  # type: ignore[misc]

    chosen: tuple[int, Status] | None = None
    if identity:
        key = max(identity, key=lambda name: (identity[name][0], -_IDENTITY.index(name)))
        chosen = identity[key]
    events = {
        "voicemail": last("voicemail_greeting") if status.party is not Party.DEBTOR else None,
        "handed_phone": last("hands_phone_to_someone_else"),
        "fetching_debtor": last("goes_to_fetch_debtor") if status.party is not Party.DEBTOR else None,
    }
    for event in _LINE_EVENTS:  # a voicemail greeting is a voicemail, whatever it says
        position = events[event]
        if position is not None and (event == "voicemail" or chosen is None or position > chosen[0]):
            party = {"voicemail": Party.VOICEMAIL, "handed_phone": Party.THIRD_PARTY, "fetching_debtor": Party.UNKNOWN}[event]
            return Status(party, event, at)
    if chosen is not None:
        return chosen[1]
    # Weaker signs, when the reply says nothing plainer: "he's not here"; then a bare yes to the agent
    # asking for someone by name ("hi, Maria?" "yeah") -- unless the line is known to be someone else,
    # when only asking for the debtor again counts.
    if status.party is not Party.DEBTOR and has_cue(rules, "says_debtor_is_not_there", said):
        return Status(Party.THIRD_PARTY, "debtor_not_there", at)
    asked = names.asked_for_debtor if status.party is Party.THIRD_PARTY else names.asked_last
    if previous_agent is not None and asked and _starts_with(rules, "affirmative", said):
        return Status(Party.DEBTOR, "said_yes", at, proxy=proxy)
    return status


def _greets_by(turn: Turn, given: set[str], rules: RuleSet) -> bool:
    """The agent's turn opens by addressing one of these names ("hi carmen, this is steve...")
    and does not go on to ask for someone."""
    opening = set(turn.utterance.tokens[:_LEADING_WORDS]) - rules.function_words
    return (any(same_name(word, name, rules) for word in opening for name in given)
            and not has_cue(rules, "asks_for_debtor", turn.utterance))


def _asked_names(agent_turn: Turn, names: AskedNames, rules: RuleSet) -> set[str]:
    """The names the agent may have asked for: those it is known to have used, and the words of
    its last turn that are neither function words nor a greeting (the ask itself may be misheard)."""
    words = set(agent_turn.utterance.tokens) - rules.function_words
    greeting = rules.cue("greeting").patterns
    return names.names | {word for word in words if len(word) >= 3 and not any(pattern.match(word) for pattern in greeting)}


def _latest(*positions: int | None) -> int | None:
    """The latest of the positions found (what a reply says last about who is speaking decides)."""
    found = [position for position in positions if position is not None]
    return max(found) if found else None


def _names_given(rules: RuleSet, cue: str, said: Utterance) -> set[str]:
    """Names in a cue's `name` group: claimed ("this is owen"), denied ("i'm not mike") or asked for."""
    names: set[str] = set()
    for pattern in rules.cue(cue).patterns:
        for match in pattern.finditer(said.text):
            words = match.group("name").split()
            if words and words[0] not in rules.function_words:  # "is this the house...": not a name
                names.update(words)
    return names


def _tail(turn: Turn, rules: RuleSet, words: int = 14) -> Utterance:
    """The end of a turn: the question the other side is answering."""
    return Utterance(turn.words[-words:], rules.hearing)


def _starts_with(rules: RuleSet, cue: str, utterance: Utterance) -> bool:
    head = " ".join(utterance.tokens[:_LEADING_WORDS])
    return any(pattern.match(head) for pattern in rules.cue(cue).patterns)


def starts_with_affirmation(rules: RuleSet, utterance: Utterance) -> bool:
    return _starts_with(rules, "affirmative", utterance)

