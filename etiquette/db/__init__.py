"""The results database ("the book of calls"): every run's calls, findings and call attempts, across runs.

`Book.open(url or path)` opens (and migrates) it; the pipeline writes through the database writer
(`etiquette/writers/database.py`) and reads the attempt history for call frequency; `etiquette stats` reads it.
"""

from etiquette.db.engine import DatabaseError, database_url
from etiquette.db.store import Book

DEFAULT_NAME = "results.db"  # in the output folder, when --db is not given

__all__ = ["Book", "DEFAULT_NAME", "DatabaseError", "database_url"]
