"""Per agent and per team: calls, failed calls, findings per check and per 100 calls, the worst rules and the
calls to look at first. Counted from each call's report as it finishes (`BatchTotals` feeds it), in memory
that grows with the number of agents and teams, never with the number of calls: per group, counters and the
few worst calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from etiquette.types import Verdict

if TYPE_CHECKING:
    from etiquette.outcome import CallLine
    from etiquette.report import CallReport

KINDS = ("agent", "team")
WORST_CALLS = 5  # links kept per group
WORST_RULES = 3


@dataclass
class Group:
    kind: str  # agent or team
    name: str
    calls: int = 0
    failed: int = 0
    incomplete: int = 0
    findings: int = 0
    per_check: dict[str, int] = field(default_factory=dict)
    per_rule: dict[str, int] = field(default_factory=dict)
    teams: set[str] = field(default_factory=set)  # an agent's teams
    worst: list["CallLine"] = field(default_factory=list)  # failing (or flagged) calls, worst first

    @property
    def per_100_calls(self) -> float:
        return round(100.0 * self.findings / self.calls, 1) if self.calls else 0.0

    def worst_rules(self, most: int = WORST_RULES) -> list[tuple[str, int]]:
        return sorted(self.per_rule.items(), key=lambda item: (-item[1], item[0]))[:most]

    def add(self, line: "CallLine", report: "CallReport") -> None:
        self.calls += 1
        self.failed += line.verdict is Verdict.FAIL
        self.incomplete += line.verdict is Verdict.INCOMPLETE
        self.findings += line.findings
        for check, count in line.per_check.items():
            self.per_check[check] = self.per_check.get(check, 0) + count
        for finding in report.findings:
            self.per_rule[finding.rule] = self.per_rule.get(finding.rule, 0) + 1
        if line.findings or line.verdict is Verdict.FAIL:
            self.worst.append(line)
            self.worst.sort(key=lambda worse: worse.badness)
            del self.worst[WORST_CALLS:]


@dataclass
class GroupTotals:
    groups: dict[str, dict[str, Group]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def add(self, line: "CallLine", report: "CallReport") -> None:
        metadata = report.metadata
        if metadata is None:
            return
        for kind, name in (("agent", metadata.agent), ("team", metadata.team)):
            if name:
                group = self.groups[kind].setdefault(name, Group(kind, name))
                group.add(line, report)
                if kind == "agent" and metadata.team:
                    group.teams.add(metadata.team)

    def __bool__(self) -> bool:
        return any(self.groups.values())

    def rows(self, kind: str) -> list[Group]:
        """The groups of a kind, the ones to coach first: most failed calls, then most findings per 100 calls."""
        return sorted(self.groups[kind].values(), key=lambda g: (-g.failed, -g.per_100_calls, g.name))
