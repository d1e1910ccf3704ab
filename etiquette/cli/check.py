"""`etiquette check`: check calls and write a report for each."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from etiquette.cli.console import BatchProgress, err, language_tag, print_summary, safe
from etiquette.errors import NothingToCheck
from etiquette.files import TEMP_PREFIX
from etiquette.outcome import ExitStatus
from etiquette.pipeline import CheckOptions, ClusterLost, run_batch
from etiquette.printable import shown
from etiquette.report import FailOn
from etiquette.rulebook import RULES_DIR
from etiquette.writers import parse_formats


class Channel(str, Enum):
    left = "left"
    right = "right"


def check(
    ctx: typer.Context,
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Audio files, transcript files (*.transcript.json) and folders (searched recursively).",
                       show_default=False, metavar="INPUT"),
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for the reports, transcripts and summary.csv.")],
    language: Annotated[
        str, typer.Option("--language", "-l", metavar="TAG",
                          help="Language of the audio inputs, a BCP-47 tag: en, en-US, es, es-MX... Transcripts carry their own. "
                          "The region picks the jurisdiction whose rules are cited.")
    ] = "en",
    model: Annotated[
        Optional[Path], typer.Option("--model", "-m", metavar="DIR", help="Vosk model folder. Default: $ETIQUETTE_MODEL, then "
                                     "models/<language>/, then the user models folder, then an installed vosk-model-* package.")
    ] = None,
    agent_channel: Annotated[
        Channel, typer.Option("--agent-channel", case_sensitive=False, metavar="left|right",
                              help="Which channel of a stereo recording is the collector.")
    ] = Channel.left,
    fail_on: Annotated[
        list[str], typer.Option("--fail-on", metavar="SEVERITY[,incomplete]",
                                help="What fails a call and gives exit status 1: findings at or above this severity "
                                "(low, medium, high); add 'incomplete' to fail calls where some check could not run too.")
    ] = ["medium"],  # noqa: B006 (typer reads the default)
    jobs: Annotated[
        Optional[int], typer.Option("--jobs", "-j", min=1, metavar="N", show_default=False,
                                    help="Audio channels decoded at once. Default: the number of cores.")
    ] = None,
    timeout: Annotated[
        Optional[float], typer.Option("--timeout", min=1, metavar="SECONDS",
                                      help="Stop a call that takes longer than this, and report it as failed.")
    ] = None,
    retranscribe: Annotated[
        bool, typer.Option("--retranscribe", help="Transcribe audio again, even when a transcript was given or saved by an earlier run.")
    ] = False,
    download_model: Annotated[
        bool, typer.Option("--download-model", help="When no speech model for the language is installed, download the "
                           "catalogue's small one (see `etiquette models list`).")
    ] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Never use the network, not even to offer a model download.")] = False,
    rules: Annotated[
        Path, typer.Option("--rules", metavar="DIR", exists=True, file_okay=False, show_default=False,
                           help="Folder of rule files (en.toml, es.toml, audio.toml) to use instead of the built-in ones.")
    ] = RULES_DIR,
    html: Annotated[bool, typer.Option("--html", help="Also write DIR/report.html, a self-contained page to review the batch.")] = False,
    formats: Annotated[
        Optional[list[str]], typer.Option("--format", metavar="FORMAT[,FORMAT]",
                                          help="Also write these: jsonl (DIR/findings.jsonl, one finding a line), md (DIR/summary.md, "
                                          "to paste into a ticket), html. Repeat it or give a comma list.")
    ] = None,
    redact: Annotated[
        bool, typer.Option("--redact", help="Mask personal data (card, account, id and phone numbers, dates of birth, email "
                           "addresses) in every file written. The checks still see every word.")
    ] = False,
    manifest: Annotated[
        Optional[Path], typer.Option("--manifest", metavar="FILE", show_default=False,
                                     help="The call log (CSV or JSON lines), one row per call attempt: call_id or file, agent, "
                                     "team, account, direction, started_at, phone, timezone, region, outcome. Adds the "
                                     "calling-hours and call-frequency checks and the per-agent and per-team tables.")
    ] = None,
    manifest_columns: Annotated[
        Optional[Path], typer.Option("--manifest-columns", metavar="FILE", show_default=False,
                                     help="A TOML table naming the manifest's columns when they are not the usual ones.")
    ] = None,
    db: Annotated[
        Optional[str], typer.Option("--db", metavar="URL", show_default=False,
                                    help="The results database to record the run in: a SQLAlchemy URL "
                                    "(postgresql+psycopg://user@host/db) or a file. Default: DIR/results.db (SQLite).")
    ] = None,
    cluster: Annotated[
        Optional[str], typer.Option("--cluster", metavar="ADDRESS", show_default=False,
                                    help="Transcribe on a Dask cluster instead of this machine's threads: the address of a "
                                    "running scheduler (tcp://HOST:8786; every worker needs this etiquette, the speech "
                                    "model, and the recordings at the same path), or local:N to start N worker processes "
                                    "here. Reports, summary and database are written here, as without it.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors: no progress bar, no table.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
) -> None:
    """Check calls and write DIR/<call_id>.report.json for each, plus DIR/summary.csv.

    Run the same command again after an interruption: finished calls are kept,
    saved transcripts are reused, and reports that still say the same are left
    alone.

    Exit status: 0 all processed and no failing finding; 1 failing findings
    (or, with --fail-on incomplete, calls not fully checked); 2 bad usage or
    no speech model; 3 at least one input could not be processed (or an output
    written); 4 a bug in etiquette; 130 interrupted.
    """
    status: ExitStatus = ctx.obj if isinstance(ctx.obj, ExitStatus) else ExitStatus()
    options = _options(out_dir, language, model, agent_channel, fail_on, jobs, timeout, retranscribe, download_model,
                       offline, rules, html, formats, redact, debug)
    for path, hint in ((manifest, "--manifest"), (manifest_columns, "--manifest-columns")):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"{path} is not a file", param_hint=hint)
    options = replace(options, manifest=manifest, manifest_columns=manifest_columns, db=db,
                      cluster=_cluster(cluster, jobs, download_model))
    status.fail_on = options.fail_on
    with BatchProgress(err, enabled=not quiet and err.is_terminal) as progress:
        try:
            result = run_batch(inputs, options, progress=progress, status=status,
                               confirm_download=_confirm_download if sys.stdin.isatty() else None)
        except NothingToCheck as error:
            raise typer.BadParameter(str(error), param_hint="INPUT") from None
        except ClusterLost as error:  # one line for the run; the calls not transcribed are in summary.csv
            err.print(f"etiquette: {safe(error)}", soft_wrap=True)
            return
        except KeyboardInterrupt:
            err.print(f"interrupted: finished calls are kept; run the same command again to finish the rest "
                      f"({safe(out_dir)}/summary.csv lists what was done)", soft_wrap=True)
            status.interrupted = True
            return
    for message in result.metadata_problems + result.output_errors:
        err.print(safe(message), soft_wrap=True)
    if not quiet:
        print_summary(result, out_dir, redacted=redact)


def _options(out_dir, language, model, agent_channel, fail_on, jobs, timeout, retranscribe, download_model, offline,
             rules, html, formats, redact, debug) -> CheckOptions:
    tag = language_tag(language)
    try:
        extra = parse_formats(formats)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--format") from None
    if html and "html" not in extra:
        extra.append("html")
    try:
        failing = FailOn.parse(fail_on)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-on") from None
    if offline and download_model:
        raise typer.BadParameter("--download-model needs the network, which --offline forbids", param_hint="--offline")
    if model is not None and not model.exists():
        raise typer.BadParameter(f"{shown(model)} does not exist", param_hint="--model")
    if out_dir.exists() and not out_dir.is_dir():
        raise typer.BadParameter(f"{shown(out_dir)} is a file, not a folder", param_hint="--out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise typer.BadParameter(f"cannot create {shown(out_dir)}: {error.strerror or error}", param_hint="--out") from None
    try:  # a real write says why not (a read-only file system, no permission, no space)
        with tempfile.TemporaryFile(dir=out_dir, prefix=TEMP_PREFIX, suffix=".tmp") as probe:
            probe.write(b"etiquette")
            probe.flush()
    except OSError as error:
        raise typer.BadParameter(f"{shown(out_dir)} cannot be written to: {error.strerror or error}", param_hint="--out") from None
    return CheckOptions(
        out_dir=out_dir, language=tag, model=model, agent_channel=agent_channel.value, fail_on=failing,
        retranscribe=retranscribe, rules_dir=rules, jobs=jobs or os.cpu_count() or 1, timeout=timeout, offline=offline,
        download_model=download_model, redact=redact, formats=tuple(extra), debug=debug,
    )


def _cluster(cluster: str | None, jobs: int | None, download_model: bool) -> str | None:
    """--cluster's value, checked; it does not mix with the options that are about this machine's work."""
    if cluster is None:
        return None
    from etiquette.pipeline.cluster import parse_cluster  # here: Dask is imported only for --cluster

    try:
        parse_cluster(cluster)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--cluster") from None
    if jobs is not None:
        raise typer.BadParameter("--jobs counts this machine's decoding threads; with --cluster each worker decodes as "
                                 "many channels at once as it has threads (dask worker --nthreads)", param_hint="--jobs")
    if download_model:
        raise typer.BadParameter("with --cluster each worker needs the model already: run `etiquette models download "
                                 "NAME` on every worker, or pass --model DIR on the shared file system",
                                 param_hint="--download-model")
    return cluster


def _confirm_download(entry) -> bool:
    """Asked on a terminal when audio needs a speech model that is not installed."""
    from etiquette.models import format_size, user_models_dir

    return typer.confirm(
        f"No speech model for '{entry.language}' is installed. Download {entry.name} "
        f"({format_size(entry.size, entry.size_exact)}) from alphacephei.com into {user_models_dir()}?", default=False, err=True
    )
