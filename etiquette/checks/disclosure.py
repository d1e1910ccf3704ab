"""third_party_disclosure: the agent reveals the debt to anyone but the verified debtor."""

from __future__ import annotations

from etiquette.checks.context import CallContext
from etiquette.checks.conversation import IDENTITY_CUES, REASONS, Party, Status, Turn, cue_spans, describe, has_cue, starts_with_affirmation
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.registry import Check, Need, register
from etiquette.types import CheckOutput, Finding, Role

# Which rule a debt mention raises, by who was on the line.
_RULE_FOR_PARTY = {
    Party.THIRD_PARTY: "debt-mentioned-to-third-party",
    Party.VOICEMAIL: "debt-mentioned-on-voicemail",
    Party.UNKNOWN: "debt-mentioned-before-verification",
}


@register
class ThirdPartyDisclosure(Check):
    """Debt talk while the person on the line is not the verified debtor."""

    name = "third_party_disclosure"
    title = "Third-party disclosure"
    short = "disclosure"
    order = 20
    needs = frozenset({Need.WORD_RULES, Need.ATTRIBUTION})
    cues = IDENTITY_CUES + ("debt_talk", "declines_to_discuss")
    explanations = ("since", "debt_mentioned", "debt_confirmed") + tuple(f"reason_{reason}" for reason in REASONS)
    description = "the agent reveals the debt to anyone but the verified debtor"

    def run(self, context: CallContext) -> CheckOutput:
        findings: list[Finding] = []
        previous: Turn | None = None
        for turn, status in context.identity:
            if turn.role is Role.AGENT and status.party is not Party.DEBTOR:
                finding = _disclosure_in(turn, status, previous, context)
                if finding:
                    findings.append(finding)
            previous = turn
        return CheckOutput(tuple(findings))


def _disclosure_in(turn: Turn, status: Status, previous: Turn | None, context: CallContext) -> Finding | None:
    rules = context.rules
    assert rules is not None  # Need.WORD_RULES
    spans = cue_spans(rules.cue("debt_talk"), turn.utterance, rules, negatable=True)
    reason = describe(status, rules, context.jurisdiction)
    since = rules.explain("since", at=clock(status.since)) if status.since is not None else ""
    if spans:
        first, last = spans[0]
        rule = rules.rule(_RULE_FOR_PARTY[status.party])
        at = clock(turn.utterance.words_for(first, last)[0].start)
        explanation = rules.explain("debt_mentioned", at=at, reason=reason, since=since)
        return finding_for_span(rule, context.jurisdiction, turn, first, last, explanation, rules.negation.breakers)
    # "Is this about his debt?" -- "yes, that's right": a confirmation discloses too. Not when the
    # other party spoke of the debt as their own ("I got a letter about my bill"): a "sure" to that
    # tells them nothing about anyone else.
    asked_about_debt = (
        previous is not None
        and previous.role is not Role.AGENT
        and has_cue(rules, "debt_talk", previous.utterance, negatable=True)
        and not has_cue(rules, "claims_own_debt", previous.utterance, negatable=True)
    )
    if asked_about_debt and starts_with_affirmation(rules, turn.utterance) and not has_cue(
        rules, "declines_to_discuss", turn.utterance
    ):
        rule = rules.rule("debt-confirmed-to-third-party")
        explanation = rules.explain("debt_confirmed", at=clock(turn.start), reason=reason, since=since)
        last = min(3, len(turn.utterance.tokens) - 1)
        return finding_for_span(rule, context.jurisdiction, turn, 0, last, explanation, rules.negation.breakers)
    return None
