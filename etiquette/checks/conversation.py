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
from etiquette.types import Role, Transcript, Word


@dataclass(frozen=True)
class Turn:
    speaker: str
    role: Role
    utterance: Utterance

    @property
    def words(self) -> tuple[Word, ...]:
        return self.utterance.words

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


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
    reason: str  # what showed it, in plain words
    since: float | None  # when it was shown
    proxy: str | None = None  # "co-signer" or "spouse": not the debtor, but allowed to hear about the debt


UNIDENTIFIED = Status(Party.UNKNOWN, "nobody on the line had confirmed being the debtor", None)

_LEADING_WORDS = 4  # an answer's "yes" comes within its first few words


def follow_identity(
    turns: Sequence[Turn], rules: RuleSet, jurisdiction: Jurisdiction
) -> Iterator[tuple[Turn, Status]]:
    """Each turn with the status of the line at the moment it started."""
    status = UNIDENTIFIED
    previous_agent: Turn | None = None
    names_asked: set[str] = set()  # every name the agent has asked for so far
    for turn in turns:
        yield turn, status
        if turn.role is Role.AGENT:
            status = _after_agent_turn(turn, status, rules)
            previous_agent = turn
            names_asked |= _asked_names(turn, rules) or set()
        elif turn.role is Role.CUSTOMER:
            if _names_given(rules, "names_denied", turn.utterance) & names_asked:
                status = Status(Party.THIRD_PARTY, "the other party said they are not the person the agent asked for", turn.start)
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


def _after_agent_turn(turn: Turn, status: Status, rules: RuleSet) -> Status:
    utterance = turn.utterance
    if speaks_to_third_party(turn, status, rules):
        return Status(Party.THIRD_PARTY, "the agent spoke to the other party as someone other than the debtor", turn.start)
    if status.party in (Party.DEBTOR, Party.THIRD_PARTY) and has_cue(rules, "asks_to_speak_to_debtor_again", utterance):
        return Status(Party.UNKNOWN, "the agent asked for the debtor again", turn.start)
    return status


def _after_other_turn(
    turn: Turn, status: Status, previous_agent: Turn | None, rules: RuleSet, jurisdiction: Jurisdiction
) -> Status:
    said = turn.utterance
    at = turn.start
    if status.party is not Party.DEBTOR and has_cue(rules, "voicemail_greeting", said):
        return Status(Party.VOICEMAIL, "a voicemail greeting answered", at)
    if has_cue(rules, "identifies_as_cosigner", said):
        # A co-signer who identifies as such is a party to the debt (not a third party).
        return Status(Party.DEBTOR, "the other party identified as a co-signer of the debt", at, proxy="co-signer")
    if has_cue(rules, "denies_being_debtor", said):
        return Status(Party.THIRD_PARTY, "the other party said they are not the debtor or do not know them", at)
    if has_cue(rules, "identifies_as_spouse", said, negatable=True):
        if jurisdiction.spouse_is_consumer:
            return Status(Party.DEBTOR, f"the debtor's spouse answered ({jurisdiction.name} counts the spouse as the consumer)", at, proxy="spouse")
        return Status(Party.THIRD_PARTY, "the other party said they are the debtor's spouse", at)
    if has_cue(rules, "identifies_as_someone_else", said, negatable=True):
        return Status(Party.THIRD_PARTY, "the other party said they are someone other than the debtor", at)
    if has_cue(rules, "hands_phone_to_someone_else", said):
        return Status(Party.THIRD_PARTY, "the phone was handed to someone else", at)
    if status.party is not Party.DEBTOR and has_cue(rules, "goes_to_fetch_debtor", said):
        return Status(Party.UNKNOWN, "the other party went to get the debtor", at)
    if status.party is not Party.DEBTOR and has_cue(rules, "says_debtor_is_not_there", said):
        return Status(Party.THIRD_PARTY, "the other party said the debtor was not there or that it was a wrong number", at)
    if has_cue(rules, "confirms_identity", said, negatable=True):
        return Status(Party.DEBTOR, "the other party confirmed being the debtor", at)
    asked_names = _asked_names(previous_agent, rules) if previous_agent is not None else None
    # A yes or an answered check from a co-signer or consumer spouse keeps them what they are.
    proxy = status.proxy if status.party is Party.DEBTOR else None
    if asked_names is not None and _starts_with(rules, "affirmative", said):
        return Status(Party.DEBTOR, "the other party said yes when the agent asked for the debtor", at, proxy=proxy)
    if asked_names and _names_given(rules, "names_self", said) & asked_names:
        return Status(Party.DEBTOR, "the other party gave the name the agent asked for", at)
    asked_to_verify = previous_agent is not None and has_cue(rules, "asks_verification", previous_agent.utterance)
    if asked_to_verify and has_cue(rules, "gives_identity_details", said) and not has_cue(rules, "refuses", said):
        return Status(Party.DEBTOR, "the other party answered the agent's identity verification", at, proxy=proxy)
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

