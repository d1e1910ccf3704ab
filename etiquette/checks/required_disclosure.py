"""required_disclosure: the agent talks about the debt with the verified debtor before saying
who is calling and why.

What counts as the disclosure is the language file's `discloses_collector` cue: in English, that
the call is from a debt collector or an attempt to collect a debt (15 U.S.C. 1692e(11)); in
Spanish, the company calling or the creditor it collects for, named. It may come at any time
before the first debt talk with the verified debtor, or in that same turn. When the debtor
brings the debt up first, the agent's next turn may still disclose.
"""

from __future__ import annotations

from etiquette.checks.context import CallContext
from etiquette.checks.conversation import IDENTITY_CUES, Party, Turn, cue_spans, has_cue, starts_with_affirmation
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.registry import Check, Need, register
from etiquette.types import CheckOutput, Finding, Role


@register
class RequiredDisclosure(Check):
    """Debt talk with the verified debtor that no disclosure came before."""

    name = "required_disclosure"
    title = "Required disclosure"
    short = "mini-miranda"
    order = 55
    needs = frozenset({Need.WORD_RULES, Need.ATTRIBUTION})
    cues = IDENTITY_CUES + ("debt_talk", "discloses_collector")
    explanations = ("no_disclosure", "disclosed_late")
    description = "the agent talks about the debt with the debtor before saying it is a debt collector (or, in Spanish, naming the company or creditor)"

    def run(self, context: CallContext) -> CheckOutput:
        finding = _first_undisclosed_debt_talk(context)
        return CheckOutput((finding,) if finding else ())


def _first_undisclosed_debt_talk(context: CallContext) -> Finding | None:
    """The finding at the first debt talk with the verified debtor, if nothing disclosed by then."""
    rules = context.rules
    assert rules is not None  # Need.WORD_RULES
    previous: Turn | None = None
    for turn, status in context.identity:
        if turn.role is Role.AGENT:
            disclosed_here = has_cue(rules, "discloses_collector", turn.utterance, negatable=True)
            with_debtor = status.party is Party.DEBTOR
            spans = cue_spans(rules.cue("debt_talk"), turn.utterance, rules, negatable=True) if with_debtor else []
            # "is this about the card?" -- "yes, it is": confirming the debt is talking about it
            confirms = with_debtor and _asked_about_debt(previous, rules) and starts_with_affirmation(rules, turn.utterance)
            if (spans or confirms) and not disclosed_here:
                first, last = spans[0] if spans else (0, min(3, len(turn.utterance.tokens) - 1))
                later = _disclosed_after(context, turn)
                key = "disclosed_late" if later is not None else "no_disclosure"
                at = clock(turn.utterance.words_for(first, last)[0].start)
                explanation = rules.explain(key, at=at, later=clock(later) if later is not None else "")
                rule = rules.rule("debt-talk-before-disclosure")
                return finding_for_span(rule, context.jurisdiction, turn, first, last, explanation, rules.negation.breakers)
            if spans or confirms:
                return None  # the first debt talk with the debtor came with the disclosure
            if disclosed_here:
                return None  # disclosed before any debt talk with the debtor (even before they were verified)
        previous = turn
    return None  # the debt was never discussed with the verified debtor


def _asked_about_debt(turn: Turn | None, rules) -> bool:
    return turn is not None and turn.role is not Role.AGENT and has_cue(rules, "debt_talk", turn.utterance, negatable=True)


def _disclosed_after(context: CallContext, debt_turn: Turn) -> float | None:
    """When the agent did disclose, later in the call (a late disclosure does not cure the first)."""
    rules = context.rules
    for turn in context.turns:
        if turn.role is Role.AGENT and turn.start > debt_turn.start and has_cue(rules, "discloses_collector", turn.utterance, negatable=True):
            return turn.start
    return None

