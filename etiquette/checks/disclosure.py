"""third_party_disclosure: the agent reveals the debt to anyone but the verified debtor."""

from __future__ import annotations

from typing import Sequence

from etiquette.checks.conversation import (
    Party,
    Status,
    Turn,
    cue_spans,
    follow_identity,
    has_cue,
    speaks_to_third_party,
    starts_with_affirmation,
)
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.rulebook import Jurisdiction, RuleSet
from etiquette.types import Finding, Role


# Which rule a debt mention raises, by who was on the line.
_RULE_FOR_PARTY = {
    Party.THIRD_PARTY: "debt-mentioned-to-third-party",
    Party.VOICEMAIL: "debt-mentioned-on-voicemail",
    Party.UNKNOWN: "debt-mentioned-before-verification",
}


def check_disclosure(turns: Sequence[Turn], rules: RuleSet, jurisdiction: Jurisdiction) -> list[Finding]:
    findings: list[Finding] = []
    debt_talk = rules.cue("debt_talk")
    previous: Turn | None = None
    for turn, status in follow_identity(turns, rules, jurisdiction):
        if turn.role is Role.AGENT and speaks_to_third_party(turn, status, rules):
            # "oh, it's his car then -- can you let him know he's three payments behind"
            status = Status(Party.THIRD_PARTY, "the agent spoke of the debtor as someone else in the same turn", turn.start)
        if turn.role is Role.AGENT and status.party is not Party.DEBTOR:
            finding = _disclosure_in(turn, status, previous, rules, jurisdiction, debt_talk)
            if finding:
                findings.append(finding)
        previous = turn
    return findings


def _disclosure_in(turn, status: Status, previous: Turn | None, rules, jurisdiction, debt_talk) -> Finding | None:
    spans = cue_spans(debt_talk, turn.utterance, rules, negatable=True)
    when = f" (at {clock(status.since)})" if status.since is not None else ""
    if spans:
        first, last = spans[0]
        rule = rules.rule(_RULE_FOR_PARTY[status.party])
        explanation = f"debt mentioned at {clock(turn.utterance.words_for(first, last)[0].start)} while {status.reason}{when}"
        return finding_for_span(rule, jurisdiction, turn, first, last, explanation)
    # "Is this about his debt?" -- "yes, that's right": a confirmation discloses too.
    asked_about_debt = (
        previous is not None
        and previous.role is not Role.AGENT
        and has_cue(rules, "debt_talk", previous.utterance, negatable=True)
    )
    if asked_about_debt and starts_with_affirmation(rules, turn.utterance) and not has_cue(
        rules, "declines_to_discuss", turn.utterance
    ):
        rule = rules.rule("debt-confirmed-to-third-party")
        explanation = (
            f"at {clock(turn.start)} the agent said yes when the other party asked about the debt,"
            f" while {status.reason}{when}"
        )
        return finding_for_span(rule, jurisdiction, turn, 0, min(3, len(turn.utterance.tokens) - 1), explanation)
    return None
