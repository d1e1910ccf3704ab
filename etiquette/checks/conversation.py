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

from etiquette.matching import Utterance
from etiquette.rulebook import Jurisdiction, PatternSet, RuleSet
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
    return Turn(speaker=speaker, role=role, utterance=Utterance(words, rules.fillers))


def cue_spans(cue: PatternSet, utterance: Utterance, rules: RuleSet, negatable: bool = False) -> list[tuple[int, int]]:
    """Token spans where any of the cue's patterns matches (negated ones dropped if asked)."""
    spans = []
    for pattern in cue.patterns:
        for first, last in utterance.find(pattern):
            if negatable and rules.negation.negates(utterance.tokens, first, last):
                continue
            spans.append((first, last))
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
    "fetching_debtor", "debtor_not_there", "confirmed", "said_yes", "gave_name", "verified",
)

# The cues the identity timeline reads from a language's rule file.
IDENTITY_CUES = (
    "addresses_third_party", "affirmative", "asks_for_debtor", "asks_to_speak_to_debtor_again", "asks_verification",
    "confirms_identity", "denies_being_debtor", "gives_identity_details", "goes_to_fetch_debtor",
    "hands_phone_to_someone_else", "identifies_as_cosigner", "identifies_as_someone_else", "identifies_as_spouse",
    "names_denied", "names_self", "refuses", "says_debtor_is_not_there", "speaks_of_debtor", "voicemail_greeting",
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
    names_asked: set[str] = set()  # every name the agent has asked for so far
    for turn in turns:
        if turn.role is Role.AGENT:
            if speaks_to_third_party(turn, status, rules):
                yield turn, Status(Party.THIRD_PARTY, "agent_spoke_of_debtor", turn.start)
                status = Status(Party.THIRD_PARTY, "agent_spoke_to_third_party", turn.start)
            else:
                yield turn, status
                if status.party in (Party.DEBTOR, Party.THIRD_PARTY) and has_cue(rules, "asks_to_speak_to_debtor_again", turn.utterance):
                    status = Status(Party.UNKNOWN, "asked_again", turn.start)
            previous_agent = turn
            names_asked |= _asked_names(turn, rules) or set()
            continue
        yield turn, status
        if turn.role is Role.CUSTOMER:
            if _names_given(rules, "names_denied", turn.utterance) & names_asked:
                status = Status(Party.THIRD_PARTY, "denied_name", turn.start)
                continue
            status = _after_other_turn(turn, status, previous_agent, rules, jurisdiction)


def speaks_to_third_party(turn: Turn, status: Status, rules: RuleSet) -> bool:
    """The agent's own words show the listener is not the debtor ("tell her...", "is your mom home")."""
    if status.proxy or status.party in (Party.THIRD_PARTY, Party.VOICEMAIL):
        return False
    if has_cue(rules, "addresses_third_party", turn.utterance, negatable=True):
        return True
    # "she owes...": telling, before anyone confirmed being the debtor; rhetoric, after.
    return status.party is Party.UNKNOWN and has_cue(rules, "speaks_of_debtor", turn.utterance)


def describe(status: Status, rules: RuleSet, jurisdiction: Jurisdiction) -> str:
    """Why the line had this status, in the rule file's language."""
    return rules.explain(f"reason_{status.reason}", jurisdiction=jurisdiction.name)


def _after_other_turn(
    turn: Turn, status: Status, previous_agent: Turn | None, rules: RuleSet, jurisdiction: Jurisdiction
) -> Status:
    said = turn.utterance
    at = turn.start
    if status.party is not Party.DEBTOR and has_cue(rules, "voicemail_greeting", said):
        return Status(Party.VOICEMAIL, "voicemail", at)
    if has_cue(rules, "identifies_as_cosigner", said):
        # A co-signer who identifies as such is a party to the debt (not a third party).
        return Status(Party.DEBTOR, "cosigner", at, proxy="co-signer")
    if has_cue(rules, "denies_being_debtor", said):
        return Status(Party.THIRD_PARTY, "denied_debtor", at)
    if has_cue(rules, "identifies_as_spouse", said, negatable=True):
        if jurisdiction.spouse_is_consumer:
            return Status(Party.DEBTOR, "spouse_consumer", at, proxy="spouse")
        return Status(Party.THIRD_PARTY, "spouse_third_party", at)
    if has_cue(rules, "identifies_as_someone_else", said, negatable=True):
        return Status(Party.THIRD_PARTY, "someone_else", at)
    if has_cue(rules, "hands_phone_to_someone_else", said):
        return Status(Party.THIRD_PARTY, "handed_phone", at)
    if status.party is not Party.DEBTOR and has_cue(rules, "goes_to_fetch_debtor", said):
        return Status(Party.UNKNOWN, "fetching_debtor", at)
    if status.party is not Party.DEBTOR and has_cue(rules, "says_debtor_is_not_there", said):
        return Status(Party.THIRD_PARTY, "debtor_not_there", at)
    if has_cue(rules, "confirms_identity", said, negatable=True):
        return Status(Party.DEBTOR, "confirmed", at)
    asked_names = _asked_names(previous_agent, rules) if previous_agent is not None else None
    # A yes or an answered check from a co-signer or consumer spouse keeps them what they are.
    proxy = status.proxy if status.party is Party.DEBTOR else None
    if asked_names is not None and _starts_with(rules, "affirmative", said):
        return Status(Party.DEBTOR, "said_yes", at, proxy=proxy)
    if asked_names and _names_given(rules, "names_self", said) & asked_names:
        return Status(Party.DEBTOR, "gave_name", at)
    asked_to_verify = previous_agent is not None and has_cue(rules, "asks_verification", previous_agent.utterance)
    if asked_to_verify and has_cue(rules, "gives_identity_details", said) and not has_cue(rules, "refuses", said):
        return Status(Party.DEBTOR, "verified", at, proxy=proxy)
    return status


def _asked_names(agent_turn: Turn, rules: RuleSet) -> set[str] | None:
    """The words of the agent's turn, if it ended asking for the debtor; None if it did not.

    A name the other party then gives for themselves ("it's luis") confirms
    them when the agent's turn named it ("if luis wants... I need to speak with him").
    """
    tail = _tail(agent_turn, rules)
    if not cue_spans(rules.cue("asks_for_debtor"), tail, rules) and not cue_spans(
        rules.cue("asks_to_speak_to_debtor_again"), tail, rules
    ):
        return None
    return set(agent_turn.utterance.tokens) - rules.function_words


def _names_given(rules: RuleSet, cue: str, said: Utterance) -> set[str]:
    """Names the speaker claims ("this is owen", "habla marta") or denies ("i'm not mike")."""
    names = set()
    for pattern in rules.cue(cue).patterns:
        for match in pattern.finditer(said.text):
            names.add(match.group("name"))
    return names


def _tail(turn: Turn, rules: RuleSet, words: int = 14) -> Utterance:
    """The end of a turn: the question the other side is answering."""
    return Utterance(turn.words[-words:], rules.fillers)


def _starts_with(rules: RuleSet, cue: str, utterance: Utterance) -> bool:
    head = " ".join(utterance.tokens[:_LEADING_WORDS])
    return any(pattern.match(head) for pattern in rules.cue(cue).patterns)


def starts_with_affirmation(rules: RuleSet, utterance: Utterance) -> bool:
    return _starts_with(rules, "affirmative", utterance)

