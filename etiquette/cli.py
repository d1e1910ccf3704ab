"""The `etiquette` command: parse options, call the pipeline, map the outcome to an exit code.

`main(argv) -> int` is the entry point tests call; nothing else decides the
exit status. Known failures print one line, `file: what went wrong`; `--debug`
adds tracebacks for the unexpected ones.
"""

from __future__ import annotations

import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from etiquette import __version__
from etiquette.errors import EtiquetteError, NothingToCheck
from etiquette.exports import BatchOutput, load_batch, parse_formats, write_outputs
from etiquette.models import format_size
from etiquette.models import user_models_dir as models_dir
from etiquette.models_cli import models_app
from etiquette.pipeline import CheckOptions, RunResult, run_batch
from etiquette.report import SummaryRow
from etiquette.rulebook import CHECKS, RULES_DIR, available_languages, load_rules
from etiquette.types import Severity

app = typer.Typer(
    help="Check recorded debt-collection calls for speaking rate, third-party disclosure and aggressive language. "
    "Everything runs on this machine: no audio or text leaves it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
rules_app = typer.Typer(help="List the rules the checks apply, or show one with its examples.", no_args_is_help=False)
app.add_typer(rules_app, name="rules")
app.add_typer(models_app, name="models")

out = Console()
err = Console(stderr=True, highlight=False)


class Channel(str, Enum):
    left = "left"
    right = "right"


def _version(value: bool) -> None:
    if value:
        out.print(f"etiquette {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Offline checker for recorded debt-collection calls."""


@app.command()
def check(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Audio files, transcript files (*.transcript.json) and folders (searched recursively).",
            show_default=False, metavar="INPUT...",
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports, transcripts and summary.csv.")],
    language: Annotated[
        str, typer.Option("--language", "-l", help="Language of the audio inputs (BCP-47: en, en-US, es, es-MX...). Transcripts carry their own.")
    ] = "en",
    model: Annotated[
        Optional[Path], typer.Option("--model", "-m", help="Vosk model folder. Default: $ETIQUETTE_MODEL, then models/<language>/, then the user models folder, then an installed vosk-model-* package.")
    ] = None,
    agent_channel: Annotated[
        Channel, typer.Option("--agent-channel", help="Which channel of a stereo recording is the collector.", case_sensitive=False)
    ] = Channel.left,
    fail_on: Annotated[
        Severity, typer.Option("--fail-on", help="Lowest severity that makes a call fail (and the exit status 1).", case_sensitive=False)
    ] = Severity.MEDIUM,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Audio channels decoded at once (default: the number of cores).")
    ] = os.cpu_count() or 1,
    timeout: Annotated[
        Optional[float], typer.Option("--timeout", min=1, help="Stop a call whose transcription takes longer than this many seconds, and report it as failed.")
    ] = None,
    retranscribe: Annotated[
        bool, typer.Option("--retranscribe", help="Transcribe audio again, even when a transcript was given or saved by an earlier run.")
    ] = False,
    download_model: Annotated[
        bool, typer.Option("--download-model", help="When no speech model for the language is installed, download the catalogue's small one (see `etiquette models list`).")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never use the network, not even to offer a model download.")
    ] = False,
    rules: Annotated[
        Path, typer.Option("--rules", help="Folder of rule files (en.toml, es.toml...) to use instead of the built-in ones.", exists=True, file_okay=False)
    ] = RULES_DIR,
    html: Annotated[
        bool, typer.Option("--html", help="Also write DIR/report.html: one self-contained page to review the batch in a browser.")
    ] = False,
    formats: Annotated[
        Optional[list[str]], typer.Option("--format", help="Also write these: jsonl (DIR/findings.jsonl, one finding a line), md (DIR/summary.md, to paste into a ticket), html. Repeat it or give a comma list: --format jsonl,md.", metavar="FORMAT[,FORMAT]")
    ] = None,
    redact: Annotated[
        bool, typer.Option("--redact", help="Mask personal data (card, account, id and phone numbers, dates of birth, email addresses) in every file written. The checks still see every word.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors: no progress bar, no table.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
) -> None:
    """Check calls and write DIR/<call_id>.report.json for each, plus DIR/summary.csv.

    Run the same command again after an interruption: calls whose report is
    complete and whose input and rules are unchanged are skipped, and saved
    transcripts are reused.

    Exit status: 0 all processed and no failing finding; 1 failing findings; 2 bad
    usage or no speech model; 3 at least one input could not be processed;
    130 interrupted.
    """
    options = CheckOptions(
        out_dir=out_dir,
        language=language,
        model=model,
        agent_channel=agent_channel.value,
        fail_on=fail_on,
        retranscribe=retranscribe,
        rules_dir=rules,
        jobs=jobs,
        timeout=timeout,
        offline=offline,
        download_model=download_model,
        redact=redact,
    )
    try:
        extra = parse_formats(formats)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--format") from None
    if html and "html" not in extra:
        extra.append("html")
    if offline and download_model:
        raise typer.BadParameter("--download-model needs the network, which --offline forbids", param_hint="--offline")
    if model is not None and not model.exists():
        raise typer.BadParameter(f"{model} does not exist", param_hint="--model")
    if out_dir.exists() and not out_dir.is_dir():
        raise typer.BadParameter(f"{out_dir} is a file, not a folder", param_hint="--out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise typer.BadParameter(f"cannot create {out_dir}: {error.strerror or error}", param_hint="--out") from None

    with BatchProgress(err, enabled=not quiet and err.is_terminal) as progress:
        try:
            result = run_batch(inputs, options, progress=progress, confirm_download=_confirm_download if sys.stdin.isatty() else None)
        except NothingToCheck as error:
            raise typer.BadParameter(str(error), param_hint="INPUT...") from None
        except KeyboardInterrupt:
            err.print(f"interrupted: finished calls are kept; run the same command again to finish the rest ({out_dir}/summary.csv lists what was done)")
            raise typer.Exit(130) from None
    code = result.exit_code
    batch = None
    written: list[Path] = []
    if extra:
        batch = load_batch(result.rows, out_dir, redact=redact)
        try:
            written = write_outputs(batch, extra, rules_dir=rules)
        except OSError as error:
            err.print(f"{out_dir}: cannot write the --html/--format outputs: {error.strerror or error}", markup=False, soft_wrap=True)
            code = max(code, 3)
    if not quiet:
        if batch is None:
            batch = load_batch(result.rows, out_dir, transcripts=False)
        _print_summary(result, out_dir, batch, written, redacted=redact)
    raise typer.Exit(code)


def _confirm_download(entry) -> bool:
    """Asked on a terminal when audio needs a speech model that is not installed."""
    return typer.confirm(
        f"No speech model for '{entry.language}' is installed. Download {entry.name} "
        f"({format_size(entry.size, entry.size_exact)}) from alphacephei.com into {models_dir()}?", default=False, err=True
    )


class BatchProgress:
    """A progress bar on stderr: calls done, audio hours done, speed against real time, time left."""

    def __init__(self, console: Console, enabled: bool):
        self.console = console
        self.bar = Progress(
            TextColumn("[bold]checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[audio]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.task = None
        self.audio_total = 0.0
        self.audio_done = 0.0
        self.began = time.monotonic()

    def __enter__(self) -> "BatchProgress":
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def started(self, calls: int) -> None:
        self.began = time.monotonic()
        self.task = self.bar.add_task("calls", total=calls, audio="")

    def audio_queued(self, seconds: float) -> None:
        self.audio_total += seconds
        self._update()

    def finished(self, row: SummaryRow, audio_seconds: float) -> None:
        if row.status == "error":  # one log line per failed input, progress bar or not
            self.console.print(f"{row.input}: {row.error}", soft_wrap=True, markup=False, highlight=False)
        self.audio_done += audio_seconds
        self._update(advance=1)

    def _update(self, advance: int = 0) -> None:
        if self.task is None:
            return
        audio = ""
        if self.audio_total:
            elapsed = max(1e-6, time.monotonic() - self.began)
            speed = self.audio_done / elapsed
            left = (self.audio_total - self.audio_done) / speed if speed > 0 else None
            audio = f"{self.audio_done / 3600:.2f}/{self.audio_total / 3600:.2f} h audio, {speed:.1f}x real time"
            if left is not None:
                audio += f", about {_duration(left)} left"
        self.bar.update(self.task, advance=advance, audio=audio)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


SHORT_CHECK_NAMES = {"speaking_rate": "rate", "third_party_disclosure": "disclosure", "aggressive_language": "aggression"}
TABLE_ROWS = 25  # a bigger batch gets only the totals and the worst calls on the terminal
TOP_CALLS = 5


def _print_summary(result: RunResult, out_dir: Path, batch: BatchOutput, written: list[Path], redacted: bool = False) -> None:
    """What the run found: a table of the calls (small batches), the totals, the worst calls, where the files are."""
    shown = [row for row in result.rows if row.status != "paired"]  # a paired audio's call is its transcript's row
    if len(shown) <= TABLE_ROWS:
        table = Table(title=f"etiquette: {len(result.rows)} inputs", title_justify="left")
        table.add_column("call")
        table.add_column("lang")
        table.add_column("verdict")
        for check in CHECKS:
            table.add_column(SHORT_CHECK_NAMES.get(check, check.replace("_", " ")), justify="right")
        for row in shown:
            summary = row.summary
            if summary is None:
                table.add_row(row.call_id or row.input, "", f"[red]{row.status}[/]", *["" for _ in CHECKS])
                continue
            verdict = "[red]fail[/]" if summary.verdict == "fail" else "[green]pass[/]"
            counts = [str(summary.count(check) or "") for check in CHECKS]
            table.add_row(row.call_id or "", summary.language, verdict, *counts)
        out.print(table)
    paired = sum(1 for row in result.rows if row.status == "paired")
    if paired:
        out.print(
            f"{paired} audio file(s) not transcribed because their transcripts were given; --retranscribe transcribes them "
            "with a Vosk speech model for their language (`etiquette models path LANG` says whether one is installed, "
            "`etiquette models list` and `etiquette models download NAME` get one)."
        )
    unchanged = sum(1 for row in result.rows if row.status == "unchanged")
    if unchanged:
        out.print(f"{unchanged} call(s) skipped: their reports from an earlier run are still valid (same input, same rules).")
    failed = sum(1 for r in result.reports if r.verdict == "fail")
    out.print(f"{len(result.reports)} checked, {failed} failed, {len(result.failures)} could not be processed.")
    totals = {check: sum(r.count(check) for r in result.reports) for check in CHECKS}
    if any(totals.values()):
        out.print("Findings by check: " + ", ".join(f"{check.replace('_', ' ')} {n}" for check, n in totals.items()) + ".")
    worst = [call for call in batch.worst_first if call.failing][:TOP_CALLS]
    if worst:
        out.print("Top offending calls:")
        for call in worst:
            severities = ", ".join(f"{n} {s}" for s in ("high", "medium", "low") if (n := call.severity_count(s)))
            checks = ", ".join(check.replace("_", " ") for check in CHECKS if call.count(check))
            out.print(f"  {call.call_id}: {len(call.findings)} finding(s) ({severities}): {checks}", markup=False, highlight=False)
    files = ["<call_id>.report.json", "summary.csv (every input)"] + [path.name for path in written]
    if any(call.report.get("transcript") for call in batch.calls):
        files.insert(1, "<call_id>.transcript.json")
    masked = " (personal data redacted)" if redacted else ""
    out.print(f"Outputs in {out_dir}/: {', '.join(files)}{masked}.", markup=False, highlight=False, soft_wrap=True)


@rules_app.callback(invoke_without_command=True)
def rules_list(
    ctx: typer.Context,
    language: Annotated[Optional[str], typer.Option("--language", "-l", help="Only this language's rules.")] = None,
) -> None:
    """List every rule: id, check, severity, languages, message and citation."""
    if ctx.invoked_subcommand is not None:
        return
    languages = [language] if language else available_languages(RULES_DIR)
    table = Table(show_lines=False)
    for column in ("id", "check", "severity", "lang", "message", "reference"):
        table.add_column(column, overflow="fold")
    for code in languages:
        ruleset = load_rules(code)
        if ruleset is None:
            raise typer.BadParameter(f"no rule file for {code!r}", param_hint="--language")
        for rule in ruleset.rules:
            references = "; ".join(f"{j}: {ref}" for j, ref in rule.references.items())
            table.add_row(rule.id, rule.check, rule.severity.value, code, rule.message, references)
    out.print(table)


@rules_app.command("show")
def rules_show(rule_id: Annotated[str, typer.Argument(help="A rule id from `etiquette rules`.")]) -> None:
    """Show one rule in full, with the examples that must fire and must not."""
    found = False
    for code in available_languages(RULES_DIR):
        ruleset = load_rules(code)
        try:
            rule = ruleset.rule(rule_id)
        except KeyError:
            continue
        found = True
        out.print(f"[bold]{rule.id}[/] ({code}) check={rule.check} severity={rule.severity.value}")
        out.print(f"  {rule.message}", markup=False)
        if rule.why:
            out.print(f"  why: {' '.join(rule.why.split())}", markup=False)
        if rule.false_positives:
            out.print(f"  known false positives: {rule.false_positives}", markup=False)
        for jurisdiction, reference in rule.references.items():
            name = ruleset.jurisdictions[jurisdiction].name if jurisdiction in ruleset.jurisdictions else jurisdiction
            out.print(f"  reference ({name}): {reference}", markup=False)
        for title, examples in (("must fire", rule.fire), ("must not fire", rule.pass_)):
            for example in examples:
                out.print(f"  {title}: " + example.replace("\n", " / "), markup=False)
    if not found:
        raise typer.BadParameter(f"no rule {rule_id!r}; `etiquette rules` lists them", param_hint="RULE_ID")


@app.command("eval")
def eval_command(
    folder: Annotated[Path, typer.Argument(help="Folder of labelled *.transcript.json files with a labels.json.", exists=True, file_okay=False)],
    labels: Annotated[Optional[Path], typer.Option("--labels", help="Labels file (default: FOLDER/labels.json).")] = None,
    rules: Annotated[
        Path, typer.Option("--rules", help="Folder of rule files to score instead of the built-in ones (to try a rule change).", exists=True, file_okay=False)
    ] = RULES_DIR,
) -> None:
    """Score the checks against labelled calls: precision, recall and F1 per check and language."""
    from etiquette.evaluate import evaluate

    result = evaluate(folder, labels, rules_dir=rules)
    table = Table(title=f"{result.calls} labelled calls", title_justify="left")
    for column in ("check", "lang", "precision", "recall", "F1", "tp", "fp", "fn"):
        table.add_column(column, justify="left" if column in ("check", "lang") else "right")
    for check in CHECKS:
        for language in result.languages:
            tally = result.tallies[(check, language)]
            table.add_row(check, language, f"{tally.precision:.2f}", f"{tally.recall:.2f}", f"{tally.f1:.2f}",
                          str(tally.true_positives), str(tally.false_positives), str(tally.false_negatives))
    out.print(table)
    for mistake in result.mistakes:
        out.print(f"{mistake.kind.upper():12} {mistake.check:24} {mistake.call_id}: {mistake.note}", markup=False, soft_wrap=True)
    if result.missing:
        out.print(f"labelled but no transcript: {', '.join(result.missing)}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        app(args=arguments, prog_name="etiquette")  # typer reports usage errors itself, with status 2
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except EtiquetteError as error:
        err.print(f"etiquette: {error}", markup=False, soft_wrap=True)
        return 2
    except Exception as error:  # a bug: one line unless --debug
        if "--debug" in arguments:
            raise
        err.print(f"etiquette: internal error ({type(error).__name__}); run again with --debug for the traceback", markup=False, soft_wrap=True)
        return 4
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
