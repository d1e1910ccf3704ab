"""`etiquette stats` (the book's numbers across runs) and `etiquette db upgrade` (migrate a results database)."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from etiquette.cli.console import out, safe
from etiquette.registry import REGISTRY


class By(str, Enum):
    agent = "agent"
    team = "team"
    day = "day"
    check = "check"
    rule = "rule"


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


DbOption = Annotated[str, typer.Option("--db", metavar="URL", help="The results database: a SQLAlchemy URL "
                                       "(postgresql+psycopg://user@host/db) or a file (OUT/results.db).")]


def stats_command(
    db: DbOption,
    by: Annotated[Optional[By], typer.Option("--by", case_sensitive=False, metavar="agent|team|day|check|rule",
                                             show_default=False,
                                             help="One row per agent, team, day (the call's local date), check or rule. "
                                             "Default: agent; rule with --decisions.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="SPAN", show_default=False,
                                                 help="Only calls started in the last 30d, 12w, 6m, or since a date "
                                                 "(2025-03-01).")] = None,
    decisions: Annotated[bool, typer.Option("--decisions", help="Add reviewers' decisions (etiquette review) and the "
                                            "field precision they give: of the decided findings, the share that were "
                                            "right (confirmed or needs coaching).")] = False,
    output: Annotated[Format, typer.Option("--format", case_sensitive=False, metavar="table|csv|json",
                                           help="A table to read, CSV (one row per group: the group, calls, failed, "
                                           "then a column per check, then with --decisions decided, confirmed, "
                                           "false_positive, needs_coaching, precision) or JSON.")] = Format.table,
) -> None:
    """Numbers from the results database across runs: calls, failed calls and findings per check, per agent,
    team, day, check or rule, and with --decisions the precision reviewers found. Each call counts once, as its
    latest check left it."""
    from etiquette.db.stats import Query, parse_since

    grouping = by.value if by is not None else ("rule" if decisions else "agent")
    try:
        query = Query(grouping, parse_since(since) if since else None, decisions)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None
    table = read_stats(db, query)
    if output is Format.csv:
        from etiquette.writers.summary_csv import safe_cell

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(table.csv_columns())
        for row in table.rows:
            writer.writerow([safe_cell(row[column]) for column in table.csv_columns()])
    elif output is Format.json:
        sys.stdout.write(json.dumps({"by": table.by, "rows": table.rows}, ensure_ascii=False, indent=1) + "\n")
    else:
        _print_table(table)


def read_stats(db: str, query):
    """The stats table from the database at `db` (a URL or a file); a missing SQLite file is a usage error."""
    from etiquette.db import Book, database_url
    from etiquette.db.stats import stats

    url = database_url(db)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise typer.BadParameter(f"no results database at {db} (a run writes OUT/results.db)", param_hint="--db")
    book = Book.open(db)
    try:
        with book.engine.connect() as connection:
            return stats(connection, query, list(REGISTRY.names()))
    finally:
        book.close()


def _print_table(table) -> None:
    per_finding = table.by in ("check", "rule")
    groups = len(table.rows) if per_finding else sum(row["calls"] for row in table.rows)
    shown = Table(title=f"by {table.by}: {groups} {table.by + 's' if per_finding else 'calls'}", title_justify="left")
    if table.decisions:
        columns = ["calls", "findings", "decided", "confirmed", "false positive", "needs coaching", "precision"]
    else:
        columns = ["calls", "failed", "per 100", *[REGISTRY.short(check) for check in table.checks]]
    # the group's names stay whole (up to 30 characters) however many columns share the width
    longest = max([len(str(row[table.by])) for row in table.rows] + [len(table.by)])
    shown.add_column(table.by, justify="left", no_wrap=True, min_width=min(30, longest))
    for column in columns:
        shown.add_column(column, justify="right")
    for row in table.rows:
        if table.decisions:
            precision = "" if row["precision"] is None else f"{row['precision']:.0%}"
            cells = [str(row[name]) for name in ("calls", "findings", "decided", "confirmed", "false_positive",
                                                 "needs_coaching")] + [precision]
        else:
            cells = [str(row["calls"]), str(row["failed"]), f"{row['findings_per_100_calls']:g}",
                     *[str(row[check] or "") for check in table.checks]]
        shown.add_row(safe(row[table.by]), *cells)
    out.print(shown)
    if not table.rows:
        out.print("no calls recorded (for that span)")
    elif table.decisions:
        out.print("precision: of the decided findings, the share a reviewer found right (confirmed or needs coaching)")


db_app = typer.Typer(help="The results database: migrate it to this version's schema.", no_args_is_help=True,
                     context_settings={"help_option_names": ["-h", "--help"]})


@db_app.command("upgrade")
def db_upgrade(db: DbOption) -> None:
    """Create the results database, or migrate it to this version's schema (runs also do it when they open it)."""
    from etiquette.db import Book

    book = Book.open(db)
    book.close()
    out.print(f"{safe(book.shown)}: at schema revision {_revision()}")


def _revision() -> str:
    from etiquette.db.engine import HEAD

    return HEAD
