"""The `etiquette` command: parse options, call the pipeline, report the outcome.

`main(argv) -> int` is the entry point tests call; an `ExitStatus` decides the
status, whatever happened: usage errors, a missing model, failed inputs or
outputs, a bug, an interruption. Known failures print one line, `file: what
went wrong`; `--debug` adds tracebacks for the unexpected ones.
"""

from __future__ import annotations

import sys
import traceback

import typer

from etiquette import __version__
from etiquette.cli.check import check
from etiquette.cli.command import ManualCommand
from etiquette.cli.console import err, out
from etiquette.cli.evaluate import eval_command
from etiquette.cli.review import review_command
from etiquette.cli.rules import rules_app
from etiquette.cli.stats import db_app, stats_command
from etiquette.errors import EtiquetteError
from etiquette.files import FolderBusy
from etiquette.models.cli import models_app
from etiquette.outcome import ExitStatus
from etiquette.printable import printable

app = typer.Typer(
    help="Check recorded debt-collection calls for speaking rate, third-party disclosure, aggressive language and "
    "more. Everything runs on this machine: no audio or text leaves it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(cls=ManualCommand)(check)
app.command("eval", cls=ManualCommand)(eval_command)
app.command("stats", cls=ManualCommand)(stats_command)
app.command("review", cls=ManualCommand)(review_command)
app.add_typer(rules_app, name="rules")
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")


def _version(value: bool) -> None:
    if value:
        out.print(f"etiquette {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Offline checker for recorded debt-collection calls."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    status = ExitStatus()
    try:
        code = app(args=arguments, prog_name="etiquette", standalone_mode=False, obj=status)
        if isinstance(code, int) and code:  # a command that ended with typer.Exit(code)
            return code
    except typer.Abort:
        err.print("interrupted")
        status.interrupted = True
    except typer.TyperException as error:  # a usage error: typer prints it with the usage line
        show = getattr(error, "show", None)
        if isinstance(getattr(error, "message", None), str):  # it may quote what was typed: a name with a newline...
            error.message = printable(error.message)
        if show is not None:
            show(file=sys.stderr)
        else:
            err.print(f"etiquette: {printable(error)}", markup=False, soft_wrap=True)
        status.usage_error = True
    except (EtiquetteError, FolderBusy) as error:
        err.print(f"etiquette: {printable(error)}", markup=False, soft_wrap=True)
        status.usage_error = True
    except KeyboardInterrupt:
        status.interrupted = True
    except Exception as error:  # a bug: one line unless --debug
        if "--debug" in arguments:
            traceback.print_exc()
        else:
            err.print(f"etiquette: internal error ({type(error).__name__}); run again with --debug for the traceback",
                      markup=False, soft_wrap=True)
        status.internal_error = True
    return status.code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
