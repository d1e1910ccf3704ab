"""What became of each input, the running totals of a batch, and the exit status.

`CallOutcome` is what the pipeline hands every writer as a call finishes.
`BatchTotals` keeps only what a summary needs (counts, the worst calls, the
first rows), so a night of 100,000 calls is summarised in constant memory.
`ExitStatus` is the one object that decides the exit status.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from etiquette.groups import GroupTotals
from etiquette.registry import REGISTRY
from etiquette.report import CallReport, FailOn
from etiquette.types import Severity, Verdict

TOP_CALLS = 5
FIRST_ROWS = 25


class Status(str, enum.Enum):
    OK = "ok"  # checked in this run
    UNCHANGED = "unchanged"  # checked again, and its report from an earlier run still says the same
    PAIRED = "paired"  # an audio file checked through its transcript
    ERROR = "error"  # could not be processed: `error` says why
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class CallOutcome:
    input: str  # the input file, as given
    call_id: str | None
    order: int  # position among the inputs, for a stable summary
    status: Status = Status.OK
    report: CallReport | None = None
    error: str | None = None
    note: str | None = None
    report_sha256: str | None = None  # of the report as written (its JSON text), when the pipeline rendered it
    recording: str | None = None  # the call's recording, an absolute path (what `etiquette review` plays)
    transcript_file: str | None = None  # a transcript file holding the call's words, an absolute path

    @property
    def checked(self) -> bool:
        return self.report is not None and self.status in (Status.OK, Status.UNCHANGED)


@dataclass(frozen=True)
class CallLine:
    """A checked call as summaries show it: no words, no findings' text."""

    call_id: str
    input: str
    language: str
    verdict: Verdict
    duration: float
    findings: int
    per_check: dict[str, int]
    per_severity: dict[str, int]
    jurisdiction: str | None = None

    @classmethod
    def of(cls, outcome: CallOutcome) -> "CallLine":
        report = outcome.report
        assert report is not None
        return cls(report.call_id, outcome.input, report.transcript.language, report.verdict, report.transcript.duration,
                   len(report.findings), report.counts(), report.severities(), report.jurisdiction)

    @property
    def badness(self) -> tuple:
        """Sort key, worst call first: failing, then most high, medium and low findings."""
        return (self.verdict is not Verdict.FAIL, -self.per_severity["high"], -self.per_severity["medium"],
                -self.findings, self.call_id)


@dataclass
class BatchTotals:
    calls: int = 0  # checked calls (ok or unchanged)
    verdicts: dict[Verdict, int] = field(default_factory=lambda: {verdict: 0 for verdict in Verdict})
    per_check: dict[str, int] = field(default_factory=dict)
    per_check_language: dict[tuple[str, str], int] = field(default_factory=dict)
    findings: int = 0
    statuses: dict[Status, int] = field(default_factory=lambda: {status: 0 for status in Status})
    failures: list[CallOutcome] = field(default_factory=list)  # inputs that could not be processed
    incomplete: list[tuple[str, str]] = field(default_factory=list)  # (call id, why), the first FIRST_ROWS
    first_rows: list[CallOutcome | CallLine] = field(default_factory=list)
    shown_rows: int = 0
    _worst: list[CallLine] = field(default_factory=list)
    languages: set[str] = field(default_factory=set)
    transcripts_saved: bool = False
    groups: GroupTotals = field(default_factory=GroupTotals)  # per agent and per team, from the call metadata

    def add(self, outcome: CallOutcome) -> None:
        self.statuses[outcome.status] += 1
        if outcome.status in (Status.ERROR, Status.INTERRUPTED):
            self.failures.append(CallOutcome(outcome.input, outcome.call_id, outcome.order, outcome.status, None,
                                             outcome.error, outcome.note))
        line = CallLine.of(outcome) if outcome.checked else None
        if outcome.status is not Status.PAIRED:
            self.shown_rows += 1
            if len(self.first_rows) <= FIRST_ROWS:
                self.first_rows.append(line or self.failures[-1])
        if line is None:
            return
        report = outcome.report
        assert report is not None
        self.calls += 1
        self.verdicts[line.verdict] += 1
        self.findings += line.findings
        language = report.transcript.primary_language
        self.languages.add(language)
        for check, count in line.per_check.items():
            self.per_check[check] = self.per_check.get(check, 0) + count
            self.per_check_language[(check, language)] = self.per_check_language.get((check, language), 0) + count
        if line.verdict is Verdict.INCOMPLETE and len(self.incomplete) < FIRST_ROWS:
            self.incomplete.append((line.call_id, report.verdict_reason))
        self.transcripts_saved = self.transcripts_saved or bool(report.transcript_path)
        self.groups.add(line, report)
        if line.verdict is Verdict.FAIL:  # keep the TOP_CALLS worst, worst first
            self._worst.append(line)
            self._worst.sort(key=lambda worse: worse.badness)
            del self._worst[TOP_CALLS:]

    @property
    def worst(self) -> list[CallLine]:
        return list(self._worst)

    def checks(self) -> list[str]:
        """Every registered check, then any other check a finding named."""
        names = list(REGISTRY.names())
        return names + sorted(set(self.per_check) - set(names))


class ExitStatus:
    """The exit status of a command: 0 clean, 1 failing calls, 2 bad usage or no speech model,
    3 an input (or an output) could not be processed, 4 a bug, 130 interrupted."""

    def __init__(self, fail_on: FailOn | None = None):
        self.fail_on = fail_on or FailOn()
        self.failing_calls = 0
        self.incomplete_calls = 0
        self.failed_inputs = 0
        self.output_failed = False
        self.usage_error = False
        self.model_missing = False
        self.internal_error = False
        self.interrupted = False

    def call_done(self, outcome: CallOutcome) -> None:
        if outcome.status in (Status.ERROR, Status.INTERRUPTED):
            self.failed_inputs += 1
        elif outcome.checked and outcome.report is not None:
            verdict = outcome.report.verdict
            self.failing_calls += verdict is Verdict.FAIL
            self.incomplete_calls += verdict is Verdict.INCOMPLETE

    @property
    def code(self) -> int:
        if self.interrupted:
            return 130
        if self.internal_error:
            return 4
        if self.usage_error or self.model_missing:
            return 2
        if self.failed_inputs or self.output_failed:
            return 3
        if self.failing_calls or (self.fail_on.incomplete and self.incomplete_calls):
            return 1
        return 0


__all__ = ["BatchTotals", "CallLine", "CallOutcome", "ExitStatus", "Severity", "Status"]
