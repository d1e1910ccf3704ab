"""Opening the results database: any SQLAlchemy URL, SQLite tuned for several writers, schema migrated.

SQLite (the default, `OUT/results.db`) runs in WAL mode with a busy timeout, and every transaction that
writes starts with BEGIN IMMEDIATE, so two runs writing one file at once take turns instead of failing.
PostgreSQL (`postgresql+psycopg://...`, for a team) needs nothing special. The schema is migrated with
Alembic to this version's head when the database is opened; the migration scripts ship in the package.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from etiquette.errors import EtiquetteError

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0002"  # the newest migration (tests/test_book_db.py holds this to the scripts)
BUSY_SECONDS = 60  # how long a writer waits for another one's transaction on SQLite
_LOCK_ID = 0x657469717565  # PostgreSQL advisory lock taken while migrating ("etique")


class DatabaseError(EtiquetteError):
    """The results database cannot be opened or used (one line)."""


def database_url(value: str | Path) -> str:
    """A SQLAlchemy URL as given, or a file path made into a SQLite one."""
    text_value = str(value)
    if "://" in text_value:
        return text_value
    return f"sqlite:///{Path(text_value).expanduser().resolve()}"


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages (a path that is not UTF-8 shown escaped)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
    except UnicodeEncodeError:
        return shown_url(url.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def make_engine(url: str, writer: bool = True) -> Engine:
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            if _utf8(database):
                engine = create_engine(parsed, connect_args={"timeout": BUSY_SECONDS})
            else:  # a file name that is not UTF-8 (an --out folder named in Latin-1): opened by its bytes
                engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(os.fsencode(database), timeout=BUSY_SECONDS,
                                                                                    check_same_thread=False))
            _tune_sqlite(engine, writer)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, SQLAlchemyError, ImportError, OSError) as error:
        raise DatabaseError(f"cannot open the results database {shown_url(url)}: {_short(error)}") from None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _tune_sqlite(engine: Engine, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(connection, _record) -> None:
        connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable at each checkpoint; a crash loses no committed call
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _short(error: BaseException) -> str:
    first = str(getattr(error, "orig", None) or error).strip().splitlines()
    return first[0] if first else type(error).__name__


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _known(scripts, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(engine: Engine) -> str:
    """Migrate the schema to this version's head; the revision it is at. A newer database is refused."""
    url = shown_url(str(engine.url))
    try:
        revision = current_revision(engine)
        if revision == HEAD:
            return HEAD  # the usual case, without loading Alembic
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        if revision is not None and not _known(ScriptDirectory.from_config(config), revision):
            raise DatabaseError(f"{url}: made by a newer etiquette (schema revision {revision}); upgrade etiquette")
        with engine.begin() as connection:  # on SQLite: BEGIN IMMEDIATE, so one migrator at a time
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return HEAD
    except DatabaseError:
        raise
    except SQLAlchemyError as error:
        raise DatabaseError(f"cannot open the results database {url}: {_short(error)}") from None
