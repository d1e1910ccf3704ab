"""The checks: pure functions from a call's context to findings and metrics.

Each check is a module of this package that registers itself (see
`etiquette.registry`). `run_checks` builds the call's context once, runs every
registered check the call can support, and says why the others were skipped:
a check whose needs are not met (a rule file for the language, the agent's
words told apart) is skipped with that reason, and the call is then
`incomplete`, never a pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from etiquette.checks.context import CallContext
from etiquette.registry import REGISTRY, Check, Need
from etiquette.rulebook import AudioRules, RuleSet, load_audio_rules
from etiquette.types import NO_METRICS, CheckResult, Finding, SkippedCheck, Transcript

if TYPE_CHECKING:
    from etiquette.metadata import Attempt, CallMetadata


def run_checks(
    transcript: Transcript,
    rules: RuleSet | None,
    audio_rules: AudioRules | None = None,
    metadata: "CallMetadata | None" = None,
    checks: Iterable[Check] | None = None,
    history: "tuple[Attempt, ...]" = (),
    metadata_problem: str | None = None,
) -> CheckResult:
    """Run every registered check (or `checks`) that can run on this transcript (and its call metadata)."""
    context = CallContext(transcript, rules, audio_rules or load_audio_rules(), metadata, history, metadata_problem)
    return run_context(context, REGISTRY if checks is None else checks)


def run_context(context: CallContext, checks: Iterable[Check]) -> CheckResult:
    findings: list[Finding] = []
    skipped: list[SkippedCheck] = []
    notes: list[str] = list(context.transcript.notes)  # about the recording (channels left out...)
    metrics = NO_METRICS
    if not context.has(Need.ATTRIBUTION):
        notes.append(context.reason(Need.ATTRIBUTION))
    for check in checks:
        missing = context.missing(check.needs)
        if missing is not None:
            if not context.expected(missing):
                continue  # nothing of the kind was given for this call: the check does not apply to it
            skipped.append(SkippedCheck(check.name, context.reason(missing)))
            continue
        output = check.run(context)
        findings += output.findings
        notes += output.notes
        metrics = metrics.merged(output.metrics)
        if output.incomplete:
            skipped.append(SkippedCheck(check.name, output.incomplete))
    findings.sort(key=lambda finding: (finding.start, finding.check, finding.rule))
    return CheckResult(findings=tuple(findings), metrics=metrics, skipped=tuple(skipped), notes=tuple(notes))


__all__ = ["run_checks", "run_context", "CallContext"]
