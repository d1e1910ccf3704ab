"""What `check` prints: a progress bar while it works, then what it found.

Everything that comes from a call or a file name is printed as text: control
characters escaped (a file name cannot move the cursor or forge a line) and
never read as rich markup.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from etiquette.groups import KINDS
from etiquette.language import EXAMPLES, LanguageTagError, parse_tag
from etiquette.outcome import BatchTotals, CallLine, CallOutcome, Status
from etiquette.pipeline import RunResult
from etiquette.printable import safe
from etiquette.registry import REGISTRY
from etiquette.types import Verdict

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
TABLE_ROWS = 25  # a bigger batch gets only the totals and the worst calls on the terminal
_VERDICT_STYLE = {Verdict.FAIL: "red", Verdict.PASS: "green", Verdict.INCOMPLETE: "yellow"}


def language_tag(value: str, hint: str = "--language") -> str:
    """A language option's value as a standard tag, or a usage error listing tags that work."""
    try:
        return parse_tag(value).tag
    except LanguageTagError:
        raise typer.BadParameter(f"{value!r} is not a BCP-47 language tag; use one such as {EXAMPLES}", param_hint=hint) from None


class BatchProgress:
    """A progress bar on stderr. With audio to transcribe it advances with the seconds of audio
    decoded (a two-hour call moves the bar as it is decoded); with transcripts only, with calls."""

    def __init__(self, console: Console, enabled: bool):
        self.console = console
        self.bar = Progress(
            TextColumn("[bold]checking"), BarColumn(), TextColumn("{task.fields[done]}"), TimeElapsedColumn(),
            console=console, disable=not enabled, transient=False,
        )
        self.task = None
        self.calls = 0
        self.calls_done = 0
        self.audio_total = 0.0
        self.audio_done = 0.0
        self.began = time.monotonic()
        self.lock = threading.Lock()

    def __enter__(self) -> "BatchProgress":
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def started(self, calls: int) -> None:
        self.began = time.monotonic()
        self.calls = calls
        self.task = self.bar.add_task("calls", total=calls, done="")

    def audio_queued(self, seconds: float) -> None:
        with self.lock:
            self.audio_total += seconds
        self._update()

    def decoded(self, seconds: float) -> None:
        with self.lock:
            self.audio_done += seconds
        self._update()

    def finished(self, outcome: CallOutcome) -> None:
        if outcome.status in (Status.ERROR, Status.INTERRUPTED):  # one log line per failed input, progress bar or not
            self.console.print(f"{safe(outcome.input)}: {safe(outcome.error)}", soft_wrap=True)
        self.calls_done += 1
        self._update()

    def _update(self) -> None:
        if self.task is None:
            return
        text = f"{self.calls_done}/{self.calls} calls"
        if self.audio_total:
            elapsed = max(1e-6, time.monotonic() - self.began)
            speed = self.audio_done / elapsed
            text += f", {self.audio_done / 3600:.2f}/{self.audio_total / 3600:.2f} h audio, {speed:.1f}x real time"
            if speed > 0:
                text += f", about {_duration(max(0.0, self.audio_total - self.audio_done) / speed)} left"
            self.bar.update(self.task, total=self.audio_total, completed=min(self.audio_done, self.audio_total), done=text)
        else:
            self.bar.update(self.task, completed=self.calls_done, done=text)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def print_summary(result: RunResult, out_dir: Path, redacted: bool) -> None:
    """A table of the calls (small batches), the totals, the worst calls, where the files are, what failed."""
    totals = result.totals
    checks = totals.checks()
    if totals.shown_rows <= TABLE_ROWS and totals.first_rows:
        table = Table(title=f"etiquette: {totals.shown_rows} calls", title_justify="left")
        for column in ("call", "lang", "verdict", *[REGISTRY.short(c) for c in checks]):
            table.add_column(column, justify="right" if column not in ("call", "lang", "verdict") else "left")
        for row in totals.first_rows:
            if isinstance(row, CallLine):
                style = _VERDICT_STYLE[row.verdict]
                counts = [str(row.per_check.get(check, 0) or "") for check in checks]
                table.add_row(safe(row.call_id), safe(row.language), f"[{style}]{row.verdict.value}[/]", *counts)
            else:
                table.add_row(safe(row.call_id or row.input), "", f"[red]{row.status.value}[/]", *["" for _ in checks])
        out.print(table)
    paired = totals.statuses[Status.PAIRED]
    if paired:
        out.print(
            f"{paired} audio file(s) not transcribed because their transcripts were given; --retranscribe transcribes them "
            "with a Vosk speech model for their language (`etiquette models path LANG` says whether one is installed, "
            "`etiquette models list` and `etiquette models download NAME` get one)."
        )
    failed = totals.verdicts[Verdict.FAIL]
    out.print(f"{totals.calls} checked, {failed} failed, {len(totals.failures)} could not be processed.")
    passed, incomplete = totals.verdicts[Verdict.PASS], totals.verdicts[Verdict.INCOMPLETE]
    line = f"{passed} passed"
    if incomplete:
        line += f", {incomplete} incomplete: not every check could run, so they are not passes"
    unchanged = totals.statuses[Status.UNCHANGED]
    if unchanged:
        line += f"; {unchanged} of the checked calls had reports from an earlier run that still say the same (left as they were)"
    out.print(line + ".")
    if any(totals.per_check.values()):
        out.print("Findings by check: " + ", ".join(f"{check.replace('_', ' ')} {totals.per_check.get(check, 0)}"
                                                   for check in checks) + ".")
    if totals.worst:
        out.print("Top offending calls:")
        for call in totals.worst:
            severities = ", ".join(f"{n} {s}" for s in ("high", "medium", "low") if (n := call.per_severity.get(s)))
            names = ", ".join(check.replace("_", " ") for check in checks if call.per_check.get(check))
            out.print(f"  {safe(call.call_id)}: {call.findings} finding(s) ({severities}): {names}")
    print_groups(totals)
    files = ["<call_id>.report.json", "summary.csv (every input)"] + [path.name for path in result.written
                                                                     if path.name not in ("summary.csv",)]
    if totals.transcripts_saved:
        files.insert(1, "<call_id>.transcript.json")
    masked = " (personal data redacted)" if redacted else ""
    out.print(f"Outputs in {safe(out_dir)}/: {', '.join(dict.fromkeys(files))}{masked}.", soft_wrap=True)
    if totals.incomplete:
        out.print("Incomplete calls:")
        for call_id, why in totals.incomplete[:TABLE_ROWS]:
            out.print(f"  {safe(call_id)}: {safe(why)}", soft_wrap=True)
    if totals.failures:
        out.print(f"Could not be processed ({len(totals.failures)}):")
        for failure in totals.failures[:TABLE_ROWS]:
            out.print(f"  {safe(failure.input)}: {safe(failure.error or failure.status.value)}", soft_wrap=True)
        if len(totals.failures) > TABLE_ROWS:
            out.print(f"  ... and {len(totals.failures) - TABLE_ROWS} more (summary.csv lists them all)")


def print_groups(totals: BatchTotals) -> None:
    """Per agent and per team (from the call metadata): the first rows of by_agent.csv, the ones to coach first."""
    for kind in KINDS:
        groups = totals.groups.rows(kind)
        if not groups:
            continue
        table = Table(title=f"By {kind}" + (f" (the first {TABLE_ROWS} of {len(groups)})" if len(groups) > TABLE_ROWS else ""),
                      title_justify="left")
        for column in (kind, "calls", "failed", "per 100", "worst rules"):
            table.add_column(column, justify="left" if column in (kind, "worst rules") else "right")
        for group in groups[:TABLE_ROWS]:
            rules = ", ".join(f"{rule} ({count})" for rule, count in group.worst_rules())
            table.add_row(safe(group.name), str(group.calls), str(group.failed), f"{group.per_100_calls:g}", safe(rules))
        out.print(table)
