"""`etiquette eval`: precision and recall of the checks on labelled calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from etiquette.cli.console import err, out, safe
from etiquette.evaluate import evaluate
from etiquette.rulebook import RULES_DIR


def eval_command(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", exists=True, file_okay=False,
                                           help="Labelled calls: *.transcript.json with a labels.json, or .call scenario files.")],
    labels: Annotated[Optional[Path], typer.Option("--labels", metavar="FILE", help="Labels file (default: FOLDER/labels.json).")] = None,
    rules: Annotated[
        Path, typer.Option("--rules", metavar="DIR", exists=True, file_okay=False, show_default=False,
                           help="Folder of rule files to score instead of the built-in ones (to try a rule change).")
    ] = RULES_DIR,
) -> None:
    """Score the checks against labelled calls: precision, recall and F1 per check and language.

    A set is scored on the contract's three checks and on every other check some of its calls expect.
    """
    result = evaluate(folder, labels, rules_dir=rules)
    table = Table(title=f"{result.calls} labelled calls", title_justify="left")
    for column in ("check", "lang", "precision", "recall", "F1", "tp", "fp", "fn"):
        table.add_column(column, justify="left" if column in ("check", "lang") else "right")
    for check in result.checks:
        for language in result.languages:
            tally = result.tallies[(check, language)]
            table.add_row(safe(check), safe(language), f"{tally.precision:.2f}", f"{tally.recall:.2f}", f"{tally.f1:.2f}",
                          str(tally.true_positives), str(tally.false_positives), str(tally.false_negatives))
    out.print(table)
    for mistake in result.mistakes:
        out.print(f"{mistake.kind.upper():12} {safe(mistake.check):24} {safe(mistake.call_id)}: {safe(mistake.note)}",
                  soft_wrap=True)
    if result.missing:
        out.print(f"labelled but no transcript: {safe(', '.join(result.missing))}")
    for broken in result.broken:
        err.print(f"{safe(broken)}", soft_wrap=True)
