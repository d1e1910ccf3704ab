"""`by_agent.csv`: one row per agent, then one per team (from the call metadata, so only when a run has some):
calls, failed and incomplete calls, findings, findings per 100 calls, the findings of each registered check,
the worst rules and the reports of the calls to look at first. Cells are made safe for spreadsheets as in
summary.csv: agent and team names come from the call log."""

from __future__ import annotations

from pathlib import Path

from etiquette.files import atomic_write_text
from etiquette.groups import KINDS, Group
from etiquette.outcome import BatchTotals, CallOutcome
from etiquette.writers import Writer, register
from etiquette.writers.report_json import SUFFIX
from etiquette.writers.summary_csv import csv_line


def group_cells(group: Group, checks: list[str]) -> list[object]:
    return [group.kind, group.name, "; ".join(sorted(group.teams)), group.calls, group.failed, group.incomplete,
            group.findings, group.per_100_calls, *[group.per_check.get(check, 0) for check in checks],
            "; ".join(f"{rule} ({count})" for rule, count in group.worst_rules()),
            " ".join(f"{line.call_id}{SUFFIX}" for line in group.worst)]


@register
class ByAgentWriter(Writer):
    """by_agent.csv: per agent and per team, when the calls have metadata."""

    name = ""
    filename = "by_agent.csv"
    always = True

    def add(self, outcome: CallOutcome) -> None:
        """Nothing to keep: the batch totals count per agent and team (`etiquette.groups`)."""

    def finish(self, totals: BatchTotals) -> Path | None:
        if not totals.groups:
            return None
        checks = totals.checks()
        columns = ["group", "name", "teams", "calls", "failed", "incomplete", "findings", "findings_per_100_calls",
                   *checks, "worst_rules", "calls_to_review"]
        rows = [csv_line(group_cells(group, checks)) for kind in KINDS for group in totals.groups.rows(kind)]
        atomic_write_text(self.path, csv_line(columns) + "".join(rows))
        return self.path
