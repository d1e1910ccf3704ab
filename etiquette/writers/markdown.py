"""`summary.md`: the batch as a Markdown table, worst call first, then each failing call's findings,
to paste into a ticket."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from etiquette.files import AtomicFile, Spool
from etiquette.groups import KINDS, GroupTotals
from etiquette.outcome import BatchTotals, CallLine, CallOutcome
from etiquette.registry import REGISTRY
from etiquette.types import Verdict
from etiquette.writers import Writer, WriterOptions, register
from etiquette.writers.report_json import SUFFIX

_MD_SPECIAL = set("\\`*_[]<>|~")  # with [ and ] escaped, ( ) ! cannot make a link or an image


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table cell: no markup, no links, no HTML, one line."""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in flat)


def clock(seconds: float | int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(float(seconds))), 60)
    return f"{minutes:02d}:{secs:02d}"


_VERDICT = {Verdict.FAIL: "**fail**", Verdict.PASS: "pass", Verdict.INCOMPLETE: "_incomplete_"}


@register
class MarkdownWriter(Writer):
    """summary.md: a summary to paste into a ticket."""

    name = "md"
    filename = "summary.md"

    def __init__(self, options: WriterOptions):
        super().__init__(options)
        self.checks = list(REGISTRY.names())
        self.rows = Spool(options.out_dir)
        self.sections = Spool(options.out_dir)
        self.fail_on: set[str] = set()

    def add(self, outcome: CallOutcome) -> None:
        report = outcome.report
        if not outcome.checked or report is None:
            return
        line = CallLine.of(outcome)
        self.fail_on.add(report.fail_on.severity.value)
        cells = [md_escape(line.call_id), md_escape(line.language), _VERDICT[line.verdict], str(line.findings),
                 *[str(line.per_check.get(check, 0)) for check in self.checks]]
        self.rows.add(line.badness, "| " + " | ".join(cells) + " |\n")
        if line.verdict is not Verdict.FAIL:
            return
        where = f", {md_escape(report.jurisdiction)}" if report.jurisdiction else ""
        lines = [f"## {md_escape(line.call_id)} ({md_escape(line.language)}{where}): fail", "",
                 "| time | severity | check | rule | evidence | citation |", "|---|---|---|---|---|---|"]
        for finding in report.findings:
            cells = [
                f"{clock(finding.start)}–{clock(finding.end)}",
                md_escape(finding.severity.value),
                md_escape(REGISTRY.title(finding.check).lower()),
                md_escape(finding.rule),
                "“" + md_escape(finding.evidence) + "”",
                md_escape(finding.reference),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        self.sections.add(line.badness, "\n".join(lines) + "\n\n")

    def finish(self, totals: BatchTotals) -> Path:
        failed = totals.verdicts[Verdict.FAIL]
        notes = []
        if self.fail_on:
            notes.append(f"failing severity: {', '.join(sorted(self.fail_on))}")
        notes.append(f"{totals.findings} findings")
        notes.append(f"{totals.verdicts[Verdict.PASS]} passed")
        if totals.verdicts[Verdict.INCOMPLETE]:
            notes.append(f"{totals.verdicts[Verdict.INCOMPLETE]} incomplete (a check could not run)")
        if totals.failures:
            notes.append(f"{len(totals.failures)} inputs could not be processed")
        if self.options.redacted:
            notes.append("personal data redacted")
        with AtomicFile(self.path) as out:
            out.write(f"# etiquette: {totals.calls} calls checked, {failed} failed\n\n")
            out.write("; ".join(notes) + ".\n\n")
            if len(self.rows):
                header = ["call", "language", "verdict", "findings", *[REGISTRY.title(c).lower() for c in self.checks]]
                out.write("| " + " | ".join(header) + " |\n")
                out.write("|" + "|".join(["---", "---", "---", "---:", *["---:" for _ in self.checks]]) + "|\n")
                for row in self.rows.in_order():
                    out.write(row)
                out.write("\n")
            if totals.groups:
                out.write(groups_markdown(totals.groups, self.checks))
            if totals.failures:
                out.write("## Could not be processed\n\n")
                for failure in totals.failures:
                    out.write(f"- {md_escape(failure.input)}: {md_escape(failure.error or failure.status.value)}\n")
                out.write("\n")
            if totals.incomplete:
                out.write("## Incomplete: not every check could run\n\n")
                for call_id, why in totals.incomplete:
                    out.write(f"- {md_escape(call_id)}: {md_escape(why)}\n")
                out.write("\n")
            for section in self.sections.in_order():
                out.write(section)
        return self.path

    def close(self) -> None:
        self.rows.close()
        self.sections.close()


def report_link(call_id: str) -> str:
    """A link to a call's report, next to summary.md."""
    return f"[{md_escape(call_id)}]({quote(call_id + SUFFIX)})"


def groups_markdown(groups: GroupTotals, checks: list[str]) -> str:
    """## By agent, ## By team: a table each, the groups to coach first."""
    text = ""
    for kind in KINDS:
        rows = groups.rows(kind)
        if not rows:
            continue
        header = [kind, "calls", "failed", "findings per 100 calls", *[REGISTRY.title(c).lower() for c in checks],
                  "worst rules", "calls to review"]
        text += f"## By {kind}\n\n| " + " | ".join(header) + " |\n"
        text += "|" + "|".join(["---", "---:", "---:", "---:", *["---:" for _ in checks], "---", "---"]) + "|\n"
        for group in rows:
            cells = [md_escape(group.name), str(group.calls), str(group.failed), f"{group.per_100_calls:g}",
                     *[str(group.per_check.get(check, 0)) for check in checks],
                     ", ".join(f"{md_escape(rule)} ({count})" for rule, count in group.worst_rules()),
                     ", ".join(report_link(line.call_id) for line in group.worst)]
            text += "| " + " | ".join(cells) + " |\n"
        text += "\n"
    return text
