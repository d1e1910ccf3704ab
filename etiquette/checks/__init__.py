"""The checks: pure functions from a transcript (and the rules) to findings.

Word-based checks need the call's language to have a rule file; the checks
measured from the recording itself (shouting, talking over, dead air) run for
every language.
"""

from __future__ import annotations

from etiquette.checks.aggression import check_aggression
from etiquette.checks.conversation import turns_of
from etiquette.checks.dead_air import check_dead_air, longest_silence
from etiquette.checks.disclosure import check_disclosure
from etiquette.checks.interruptions import check_interruptions, measure_overlap
from etiquette.checks.rate import check_rate
from etiquette.checks.shouting import check_shouting, loudness_metrics
from etiquette.rulebook import CHECKS, NO_JURISDICTION, AudioRules, RuleSet, load_audio_rules
from etiquette.types import CheckResult, Finding, Role, SkippedCheck, Transcript

NO_ATTRIBUTION = (
    "speaker attribution unavailable (mono recording): nobody can tell the agent's words from the other party's"
)


def run_checks(transcript: Transcript, rules: RuleSet | None, audio_rules: AudioRules | None = None) -> CheckResult:
    """Run every check that can run on this transcript; say why the others were skipped."""
    audio_rules = audio_rules or load_audio_rules()
    jurisdiction = rules.jurisdiction_for(transcript.language) if rules else NO_JURISDICTION
    findings: list[Finding] = []
    skipped: list[SkippedCheck] = []
    notes: list[str] = []
    metrics: dict[str, dict[str, float]] = {}
    agents = sorted(transcript.speakers_with_role(Role.AGENT))
    others = sorted(transcript.speakers_with_role(Role.CUSTOMER))

    if rules is None:
        reason = f"no rule file for language '{transcript.language}'"
        skipped += [SkippedCheck(check, reason) for check in ("speaking_rate", "third_party_disclosure")]
        skipped.append(SkippedCheck("aggressive_language", f"{reason}: word rules not applied (shouting is measured from the audio)"))
    elif transcript.has_attribution:
        turns = turns_of(transcript, rules)
        rate_rule = rules.rules_for("speaking_rate")[0]
        for agent in agents:
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
        findings += check_aggression(turns_of(transcript, rules), rules, jurisdiction, roles=frozenset({Role.UNKNOWN}))
        notes.append("aggressive_language findings may be the other party's words")

    a_findings, a_metrics, a_skipped = _audio_checks(transcript, audio_rules, jurisdiction, agents, others)
    findings += a_findings
    skipped += a_skipped
    for speaker, values in a_metrics.items():
        metrics.setdefault(speaker, {}).update(values)

    findings.sort(key=lambda finding: (finding.start, finding.check, finding.rule))
    return CheckResult(findings=tuple(findings), metrics=metrics, skipped=tuple(skipped), notes=tuple(notes))


def _audio_checks(transcript: Transcript, audio: AudioRules, jurisdiction, agents: list[str], others: list[str]):
    """Shouting, talking over and dead air, from loudness and word times."""
    findings: list[Finding] = []
    metrics: dict[str, dict[str, float]] = {}
    skipped: list[SkippedCheck] = []
    floor = float(audio.shouting["speech_floor_lufs"])
    words_of = {speaker: [w for w in transcript.words if w.speaker == speaker] for speaker in transcript.speakers}

    for agent in agents:
        if agent in transcript.loudness:
            metrics.setdefault(agent, {}).update(loudness_metrics(transcript.loudness[agent], words_of[agent], floor))
            findings += check_shouting(transcript.loudness[agent], words_of[agent], agent, audio.rule("shouting"),
                                       audio.shouting, jurisdiction)

    if agents and others:
        agent_words = [w for a in agents for w in words_of[a]]
        other_words = sorted((w for o in others for w in words_of[o]), key=lambda w: w.start)
        measures = measure_overlap(agent_words, other_words, audio.interruptions)
        findings += check_interruptions(measures, agents[0], audio.rule("talking-over"), audio.interruptions, jurisdiction)
        total = sum(measures.talk_seconds.values())
        if total > 0:
            metrics.setdefault(agents[0], {})["talk_share"] = round(measures.talk_seconds["agent"] / total, 3)
            for other in others:
                metrics.setdefault(other, {})["talk_share"] = round(measures.talk_seconds["other"] / total, 3)
        metrics["call"] = {"overlap_seconds": round(measures.overlap_seconds, 1), "interruptions": len(measures.interruptions)}
    else:
        skipped.append(SkippedCheck("interruptions", NO_ATTRIBUTION if not transcript.has_attribution else "no other party on the call"))

    responsible = agents[0] if agents else next(iter(transcript.speakers), "")
    findings += check_dead_air(transcript.words, responsible, audio.rule("dead-air"), audio.dead_air, jurisdiction)
    metrics.setdefault("call", {})["longest_silence"] = round(longest_silence(transcript.words), 1)
    return findings, metrics, skipped


__all__ = ["run_checks", "CHECKS"]
