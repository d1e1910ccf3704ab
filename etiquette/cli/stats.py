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
    rule = "rule"


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


DbOption = Annotated[str, typer.Option("--db", metavar="URL", help="The results database: a SQLAlchemy URL "
                                       "(postgresql+psycopg://user@host/db) or a file (OUT/results.db).")]


def stats_command(
    db: DbOption,
    by: Annotated[By, typer.Option("--by", case_sensitive=False, metavar="agent|team|day|rule",
                                   help="One row per agent, team, day (the call's local date) or rule.")] = By.agent,
    since: Annotated[Optional[str], typer.Option("--since", metavar="SPAN", show_default=False,
                                                 help="Only calls started in the last 30d, 12w, 6m, or since a date "
                                                 "(2025-03-01).")] = None,
    output: Annotated[Format, typer.Option("--format", case_sensitive=False, metavar="table|csv|json",
                                           help="A table to read, CSV (one row per group: the group, calls, failed, "
                                           "then a column per check) or JSON.")] = Format.table,
) -> None:
    """Numbers from the results database across runs: calls, failed calls and findings per check, per agent,
    team, day or rule. Each call counts once, as its latest check left it."""
    from etiquette.db import Book
    from etiquette.db.stats import Query, parse_since, stats

    try:
        query = Query(by.value, parse_since(since) if since else None)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None
    from etiquette.db import database_url

    url = database_url(db)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise typer.BadParameter(f"no results database at {db} (a run writes OUT/results.db)", param_hint="--db")
    book = Book.open(db)
    try:
        with book.engine.connect() as connection:
            table = stats(connection, query, list(REGISTRY.names()))
    finally:
        book.close()
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


def _print_table(table) -> None:
    shown = Table(title=f"by {table.by}: {sum(row['calls'] for row in table.rows) if table.by != 'rule' else len(table.rows)}"
                  f" {'calls' if table.by != 'rule' else 'rules'}", title_justify="left")
    # the group's names stay whole (up to 30 characters) however many check columns share the width
    longest = max([len(str(row[table.by])) for row in table.rows] + [len(table.by)])
    shown.add_column(table.by, justify="left", no_wrap=True, min_width=min(30, longest))
    for column in ("calls", "failed", "per 100", *[REGISTRY.short(check) for check in table.checks]):
        shown.add_column(column, justify="right")
    for row in table.rows:
        shown.add_row(safe(row[table.by]), str(row["calls"]), str(row["failed"]), f"{row['findings_per_100_calls']:g}",
                      *[str(row[check] or "") for check in table.checks])
    out.print(shown)
    if not table.rows:
        out.print("no calls recorded (for that span)")


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
