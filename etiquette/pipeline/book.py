"""A run's call metadata and call history: which manifest row (or transcript `call` object) is which call,
what is wrong with the rows that cannot be used, and every attempt on each account that the checks count.

Rows are matched to the calls of the run by `file` (the path as given, from the manifest's folder or the
current one, else the file name when only one input has it) or by `call_id`. A row naming a call id that
no input has is an attempt without a recording: it counts for call frequency. A row naming a file that no
input is gets a problem line, and still counts as an attempt. A call with a broken or second row, or with
no row in a manifest that was given, has its metadata checks marked not run.

History: the attempts of this run (the manifest's rows and the calls' own metadata) and, for the same
accounts, the results database's attempts from earlier runs, over a span longer than any frequency window.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from etiquette.manifest import Columns, Manifest, MetadataProblem, call_object, load_columns
from etiquette.metadata import Attempt, CallMetadata, MetadataError
from etiquette.pipeline.plan import PlannedCall, shown

if TYPE_CHECKING:
    from etiquette.db import Book  # imported when a run opens it: SQLAlchemy is not needed before

HISTORY_DAYS = 31  # how far around this run's calls earlier attempts are read (longer than any window in calling.toml)


class CallBook:
    def __init__(self, calls: Iterable[PlannedCall], manifest: Manifest | None = None, columns: Columns | None = None):
        self.manifest = manifest
        self.columns = columns or load_columns()
        self.problems: list[MetadataProblem] = list(manifest.problems) if manifest else []
        self.metadata: dict[str, CallMetadata] = {}
        self.broken: dict[str, str] = {}  # call id -> why its metadata checks did not run
        self.attempts: dict[str, Attempt] = {}
        self.rows: list[CallMetadata] = []  # the manifest's usable rows, as attempts (a matched row with its call's id)
        self.recorded: set[str] = set()  # keys of those rows that have a recording in this run
        self._by_account: dict[str, list[Attempt]] | None = None
        calls = list(calls)
        self._by_id = {call.call_id: call.call_id for call in calls}
        self._by_path: dict[str, str] = {}
        names: dict[str, list[str]] = {}
        for call in calls:
            for path in (call.audio_path, call.transcript_path):
                if path is not None:
                    self._by_path[os.path.abspath(path)] = call.call_id
                    names.setdefault(path.name, []).append(call.call_id)
        self._by_name = {name: ids[0] for name, ids in names.items() if len(set(ids)) == 1}
        if manifest is not None:
            self._read_rows(manifest)
        for call in calls:
            if call.call_id in self.metadata or call.call_id in self.broken:
                continue
            if call.call_info is not None:
                self._call_object(call)
            elif manifest is not None:
                self.broken[call.call_id] = f"no row for this call in the manifest {shown(manifest.path)}"
        for metadata in self.metadata.values():
            self._attempt(metadata)

    # -- matching rows to calls

    def _call_of(self, row_id: str | None, row_file: str | None) -> str | None:
        if row_file:
            base = self.manifest.path.parent if self.manifest else Path.cwd()
            for candidate in (base / row_file, Path(row_file)):
                if (found := self._by_path.get(os.path.abspath(candidate))) is not None:
                    return found
            if (found := self._by_name.get(Path(row_file).name)) is not None:
                return found
        return self._by_id.get(row_id) if row_id else None

    def _read_rows(self, manifest: Manifest) -> None:
        lines: dict[str, str] = {}
        for call_id, row_file, problem in manifest.bad_calls:
            found = self._call_of(call_id, row_file)
            if found is not None:
                self.broken.setdefault(found, f"its call metadata could not be used ({problem})")
        for row in manifest.rows:
            found = self._call_of(row.call_id, row.file)
            if found is None:
                if row.file:
                    self.problems.append(MetadataProblem(str(manifest.path), _line(row), f"file {row.file!r} is not "
                                                         "among the inputs (counted as a call attempt only)"))
                self.rows.append(row)
                self._attempt(row)
                continue
            if found in lines:
                problem = MetadataProblem(str(manifest.path), _line(row), f"a second row for call {found!r} "
                                          f"(the first is at {lines[found]})")
                self.problems.append(problem)
                self.broken[found] = f"its call metadata could not be used ({problem})"
                self.metadata.pop(found, None)
                continue
            lines[found] = row.origin
            row = _with_id(row, found)
            self.rows.append(row)
            self.recorded.add(row.key)
            if found not in self.broken:
                self.metadata[found] = row
            else:
                self._attempt(row)

    def _call_object(self, call: PlannedCall) -> None:
        origin = f"{shown(call.transcript_path or call.call_id)}: call"
        try:
            metadata = call_object(call.call_info, origin, self.columns)
        except MetadataError as error:
            self.problems.append(MetadataProblem(origin, None, str(error)))
            self.broken[call.call_id] = f"its call metadata could not be used ({origin}: {error})"
            return
        self.metadata[call.call_id] = _with_id(metadata, call.call_id)

    def _attempt(self, metadata: CallMetadata) -> None:
        attempt = Attempt.of(metadata)
        if attempt is not None:
            self.attempts[attempt.key] = attempt

    # -- what the checks and the database get

    def facts(self, call_id: str) -> tuple[CallMetadata | None, str | None]:
        """The call's metadata, or why its metadata checks did not run (both None: none was given)."""
        return self.metadata.get(call_id), self.broken.get(call_id)

    def read_history(self, book: "Book") -> None:
        """Add the database's attempts on this run's accounts from earlier runs."""
        if not self.attempts:
            return
        times = [attempt.started_at for attempt in self.attempts.values()]
        span = timedelta(days=HISTORY_DAYS)
        accounts = {attempt.account_key for attempt in self.attempts.values()}
        for attempt in book.history(accounts, min(times) - span, max(times) + span):
            self.attempts.setdefault(attempt.key, attempt)  # this run's own rows win
        self._by_account = None

    def history(self, metadata: CallMetadata | None) -> tuple[Attempt, ...]:
        """Every attempt on the call's account that the run knows of (the call itself included)."""
        if metadata is None or metadata.account_key is None:
            return ()
        if self._by_account is None:
            grouped: dict[str, list[Attempt]] = {}
            for attempt in self.attempts.values():
                grouped.setdefault(attempt.account_key, []).append(attempt)
            self._by_account = grouped
        return tuple(self._by_account.get(metadata.account_key, ()))


def _line(row: CallMetadata) -> int | None:
    line = row.origin.rsplit(":", 1)[-1]
    return int(line) if line.isdigit() else None


def _with_id(metadata: CallMetadata, call_id: str) -> CallMetadata:
    """A row matched by its file takes the call's id (so its attempt is the call's own)."""
    from dataclasses import replace

    return metadata if metadata.call_id == call_id else replace(metadata, call_id=call_id)


def open_run_book(options, calls: list[PlannedCall]) -> tuple["Book", CallBook]:
    """The run's results database (opened, migrated, the run and the manifest's attempts recorded) and call book."""
    from etiquette.db import DEFAULT_NAME, Book
    from etiquette.manifest import read_manifest

    columns = load_columns(options.manifest_columns)
    manifest = read_manifest(options.manifest, columns) if options.manifest is not None else None
    book = Book.open(options.db or str(options.out_dir / DEFAULT_NAME))
    try:
        calls_book = CallBook(calls, manifest, columns)
        calls_book.read_history(book)
        # as shown (escaped): a folder name that is not UTF-8 cannot be stored as text
        book.start_run(options.fingerprint(), shown(options.out_dir), shown(options.manifest) if options.manifest else None,
                       options.redact)
        rows = [row.redacted() for row in calls_book.rows] if options.redact else calls_book.rows
        book.record_attempts(rows, calls_book.recorded)
    except BaseException:
        book.close()
        raise
    return book, calls_book
