"""ignored_request: the person asked for something the collector must respect (stop calling,
talk to my lawyer, not now, not at my work), and the agent kept collecting.

Each kind of request is a cue of the language file, said by the other party (the debtor or
whoever answered). After it, an agent turn that asks for payment, talks about the debt or says
the calls will go on is the finding; one that only acknowledges, asks for the attorney's details
or a better time, or closes is not. A request the person takes back ("okay, go ahead, I have a
minute") no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from etiquette.checks.context import CallContext
from etiquette.checks.conversation import Turn, cue_spans, has_cue
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.registry import Check, Need, register
from etiquette.types import CheckOutput, Finding, Role

# Each kind of request: the cue that hears it and the rule its finding is raised under.
REQUESTS = {
    "asks_to_stop_calling": "kept-collecting-after-stop-request",
    "has_attorney": "kept-collecting-after-attorney",
    "cannot_talk_now": "kept-collecting-at-inconvenient-time",
    "no_calls_at_work": "kept-collecting-against-work-prohibition",
}
# What an agent turn says that goes on with the collection.
PRESSING = ("asks_for_payment", "will_keep_calling", "debt_talk")
NEGATION_WINDOW = 3  # words before a pressing phrase where a "not" negates it


@dataclass(frozen=True)
class Request:
    cue: str
    turn: Turn
    first: int  # the request's words in that turn
    last: int

    @property
    def words(self) -> str:
        return " ".join(word.text for word in self.turn.utterance.words_for(self.first, self.last))


@register
class IgnoredRequest(Check):
    """The agent goes on collecting after a request it must respect."""

    name = "ignored_request"
    title = "Ignored request"
    short = "request"
    order = 57
    needs = frozenset({Need.WORD_RULES, Need.ATTRIBUTION})
    cues = tuple(REQUESTS) + ("withdraws_request", "respects_request", "voicemail_greeting") + PRESSING
    explanations = ("request_ignored",)
    description = "the agent keeps collecting after the person asked it to stop calling, to talk to their lawyer, to call at another time, or not at work"

    def run(self, context: CallContext) -> CheckOutput:
        rules = context.rules
        assert rules is not None  # Need.WORD_RULES
        pending: dict[str, Request] = {}  # the requests in force, by kind
        findings: list[Finding] = []
        for turn in context.turns:
            if turn.role is not Role.AGENT:
                if has_cue(rules, "voicemail_greeting", turn.utterance):
                    continue  # "no puedo atenderte, deja tu mensaje" asks nothing of the agent
                pending.update(_requests_in(turn, rules))
                if pending and _withdrawn(turn, pending, rules):
                    pending.clear()
                continue
            if not pending:
                continue
            pressed = _pressing_span(turn, rules)
            if pressed is None:
                continue
            for request in sorted(pending.values(), key=lambda r: (r.turn.start, r.first)):
                first, last = pressed
                explanation = rules.explain("request_ignored", at=clock(request.turn.utterance.words_for(request.first, request.last)[0].start),
                                            request=request.words, then=clock(turn.utterance.words_for(first, last)[0].start))
                rule = rules.rule(REQUESTS[request.cue])
                findings.append(finding_for_span(rule, context.jurisdiction, turn, first, last, explanation, rules.negation.breakers))
            pending.clear()  # one finding per request: the first time it was not respected
        return CheckOutput(tuple(findings))


def _requests_in(turn: Turn, rules) -> dict[str, Request]:
    """The requests in the other party's turn. A request carries its own negation ("don't call
    me", "no me vuelvan a llamar"), so only a "not" just before it takes it back."""
    near = replace(rules.negation, window=NEGATION_WINDOW)
    tokens = turn.utterance.tokens
    own = near.words | near.weak  # "no, ya no llamen": a request that opens with its own "no" is not negated by another

    def negated(first: int) -> bool:
        return tokens[first] not in own and near.negates(tokens, first)

    found = {}
    for cue in REQUESTS:
        spans = [span for span in cue_spans(rules.cue(cue), turn.utterance, rules) if not negated(span[0])]
        if spans:
            found[cue] = Request(cue, turn, *spans[0])
    return found


def _withdrawn(turn: Turn, pending: dict[str, Request], rules) -> bool:
    """'Okay, go ahead, I have a minute': said after the request (in a later turn, or later in this one)."""
    near = replace(rules.negation, window=NEGATION_WINDOW)
    spans = [span for span in cue_spans(rules.cue("withdraws_request"), turn.utterance, rules)
             if not near.negates(turn.utterance.tokens, *span)]
    if not spans:
        return False
    last_request = max((r for r in pending.values()), key=lambda r: (r.turn.start, r.first))
    return last_request.turn is not turn or spans[-1][0] > last_request.last


def _pressing_span(turn: Turn, rules) -> tuple[int, int] | None:
    """The first words of an agent turn that go on with the collection, if any.

    What the request allows (the attorney's details, a better time, noting it and closing) is not
    pressing, even where it names the debt's words ("el nombre de su abogado"). Negation is
    looked for only just before the words ("you don't have to pay it today"): an
    agent who argues and asks in one breath ("your attorney isn't the one who owes this, you are,
    can you pay something this week") is still asking."""
    near = replace(rules.negation, window=NEGATION_WINDOW)
    tokens = turn.utterance.tokens
    # words inside what the request allows ("your attorney's name and number", "a better time")
    allowed = {token for first, last in cue_spans(rules.cue("respects_request"), turn.utterance, rules)
               for token in range(first, last + 1)}
    spans = [span for cue in PRESSING for span in cue_spans(rules.cue(cue), turn.utterance, rules)
             if not near.negates(tokens, *span) and not set(range(span[0], span[1] + 1)) <= allowed]
    return min(spans) if spans else None

