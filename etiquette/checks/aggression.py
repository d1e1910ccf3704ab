"""aggressive_language: the agent threatens, insults, shames, swears at or shouts at the person.

From the words: only the agent's count (the customer's swearing is not the
agent's violation), and a rule marked negatable does not fire on a negated
phrase ("you will not be arrested", "nadie lo va a meter preso"). From the
audio: shouting, measured on the agent's own channel (see `shouting`).
"""

from __future__ import annotations

from etiquette.checks.context import CallContext
from etiquette.checks.conversation import Turn
from etiquette.checks.evidence import clock, finding_for_span
from etiquette.checks.shouting import ShoutingSettings, check_shouting, loudness_metrics
from etiquette.registry import Check, register
from etiquette.rulebook import Rule, RuleSet
from etiquette.types import CheckOutput, Finding, Metrics, Role

NAME = "aggressive_language"


@register
class AggressiveLanguage(Check):
    """Threats, insults, shaming and swearing in the agent's words; shouting in their voice."""

    name = NAME
    title = "Aggressive language"
    short = "aggression"
    order = 30
    settings = {"shouting": ShoutingSettings}
    explanations = ("aggression", "aggression_mono", "shouting")
    audio_explanations = ("shouting",)
    description = "the agent threatens, insults, shames, swears at or shouts at the person"

    def run(self, context: CallContext) -> CheckOutput:
        findings: list[Finding] = []
        notes: tuple[str, ...] = ()
        incomplete = ""
        if context.rules is None:
            incomplete = f"{context.reason_no_rules()}: word rules not applied (shouting is measured from the audio)"
        elif context.transcript.has_attribution:
            findings += word_findings(context, frozenset({Role.AGENT}))
        else:  # mono: worth surfacing even when nobody knows who said them
            findings += word_findings(context, frozenset({Role.UNKNOWN}))
            notes = ("aggressive_language findings may be the other party's words",)
        shout_findings, metrics = _shouting(context)
        return CheckOutput(tuple(findings + shout_findings), metrics, notes, incomplete)


def word_findings(context: CallContext, roles: frozenset[Role]) -> list[Finding]:
    """One finding per rule and turn, for turns by speakers of the given roles."""
    rules = context.rules
    assert rules is not None
    key = "aggression" if Role.AGENT in roles else "aggression_mono"
    findings: list[Finding] = []
    for turn in context.turns:
        if turn.role not in roles:
            continue
        for rule in rules.rules_for(NAME):
            if rule.patterns is None:
                continue
            span = _first_match(turn, rule, rules)
            if span is not None:
                first, last = span
                said = turn.utterance.words_for(first, last)
                explanation = rules.explain(key, words=" ".join(w.text for w in said), at=clock(said[0].start))
                findings.append(
                    finding_for_span(rule, context.jurisdiction, turn, first, last, explanation, rules.negation.breakers)
                )
    return findings


def _first_match(turn: Turn, rule: Rule, rules: RuleSet) -> tuple[int, int] | None:
    utterance = turn.utterance
    excepted: set[int] | None = None  # the tokens an exception covers, found once a pattern matches
    best = None
    for pattern, reading in rule.patterns.each_pattern(utterance):  # type: ignore[union-attr]
        for first, last in utterance.find(pattern, reading):
            if excepted is None:
                excepted = {token for exception in rule.exceptions for a, b in utterance.find(exception) for token in range(a, b + 1)}
            if excepted & set(range(first, last + 1)) or utterance.weak(first, last):
                continue
            if rule.negatable and rules.negation.negates(
                utterance.tokens, first, last if rule.negation_inside else None
            ):
                continue
            if best is None or first < best[0]:
                best = (first, last)
            break
    return best


def _shouting(context: CallContext) -> tuple[list[Finding], Metrics]:
    settings: ShoutingSettings = context.audio_rules.settings["shouting"]
    findings: list[Finding] = []
    speakers: dict[str, dict[str, float]] = {}
    for agent in context.agents:
        loudness = context.transcript.loudness.get(agent)
        if loudness is None:
            continue
        words = context.words_by_speaker.get(agent, ())
        speakers[agent] = loudness_metrics(loudness, words, settings.speech_floor_lufs)
        findings += check_shouting(
            loudness, words, agent, context.audio_rules.rule("shouting"), settings, context.jurisdiction, context.explain
        )
    return findings, Metrics(speakers=speakers)
