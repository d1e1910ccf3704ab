"""The checks: pure functions from a transcript (and the language's rules) to findings."""

from __future__ import annotations

from etiquette.checks.aggression import check_aggression
from etiquette.checks.conversation import turns_of
from etiquette.checks.disclosure import check_disclosure
from etiquette.checks.rate import check_rate
from etiquette.rulebook import CHECKS, RuleSet
from etiquette.types import CheckResult, Finding, Role, SkippedCheck, Transcript

NO_ATTRIBUTION = (
    "speaker attribution unavailable (mono recording): nobody can tell the agent's words from the other party's"
)


def run_checks(transcript: Transcript, rules: RuleSet | None) -> CheckResult:
    """Run every check that can run on this transcript; say why the others were skipped."""
    if rules is None:
        reason = f"no rule file for language '{transcript.language}'"
        return CheckResult(findings=(), skipped=tuple(SkippedCheck(check, reason) for check in CHECKS))

    jurisdiction = rules.jurisdiction_for(transcript.language)
    turns = turns_of(transcript, rules)
    findings: list[Finding] = []
    skipped: list[SkippedCheck] = []
    notes: list[str] = []
    metrics: dict[str, dict[str, float]] = {}

    if transcript.has_attribution:
        agents = transcript.speakers_with_role(Role.AGENT)
        rate_rule = rules.rules_for("speaking_rate")[0]
        for agent in sorted(agents):
            agent_words = [word for word in transcript.words if word.speaker == agent]
            rate_findings, rate_metrics = check_rate(agent_words, agent, rate_rule, rules.rate, jurisdiction)
            findings += rate_findings
            metrics[agent] = rate_metrics.as_dict()
        findings += check_disclosure(turns, rules, jurisdiction)
        findings += check_aggression(turns, rules, jurisdiction)
    else:
        notes.append(NO_ATTRIBUTION)
        skipped += [SkippedCheck("speaking_rate", NO_ATTRIBUTION), SkippedCheck("third_party_disclosure", NO_ATTRIBUTION)]
        # Aggressive words are worth surfacing even when nobody knows who said them.
        findings += check_aggression(turns, rules, jurisdiction, roles=frozenset({Role.UNKNOWN}))
        notes.append("aggressive_language findings may be the other party's words")

    findings.sort(key=lambda finding: (finding.start, finding.check, finding.rule))
    return CheckResult(findings=tuple(findings), metrics=metrics, skipped=tuple(skipped), notes=tuple(notes))
