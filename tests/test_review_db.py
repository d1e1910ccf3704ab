"""Review in the results database, on SQLite and on a real PostgreSQL server: the migration from the previous
schema keeps a book's rows, reviewers' decisions are stored against stable finding ids and survive re-runs,
and `etiquette stats --decisions` gives field precision per check and rule equal to a hand count."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from etiquette.db import Book, schema
from etiquette.db.decisions import DecisionRefused, decide, decisions_of, export
from etiquette.db.engine import MIGRATIONS, current_revision, HEAD

try:
    from cli_helpers import SAMPLES, run
    from test_book_db import FIXTURE, _outcome, hand_book  # noqa: F401 (a fixture)
except ImportError:
    from tests.cli_helpers import SAMPLES, run
    from tests.test_book_db import FIXTURE, _outcome, hand_book  # noqa: F401


def _finding_ids(book: Book, call_id: str) -> list[str]:
    findings = schema.findings.c
    with book.engine.connect() as connection:
        return list(connection.execute(select(findings.finding_id).where(findings.call_id == call_id)
                                       .order_by(findings.position)).scalars())


def _decide(book: Book, finding_id: str, decision: str, reviewer: str = "Rosa", note: str = "") -> None:
    with book.engine.begin() as connection:
        decide(connection, finding_id, decision, reviewer, note)


def test_a_book_of_the_previous_schema_is_upgraded_with_its_rows(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        when = datetime(2025, 3, 10, 12)
        connection.execute(insert(schema.runs).values(run_id="r1", started_at=when, status="finished", redacted=False))
        connection.execute(insert(schema.calls).values(call_id="old", run_id="r1", checked_at=when, verdict="fail",
                                                       findings=1, redacted=False))
        connection.execute(insert(schema.findings).values(finding_id="f" * 32, call_id="old", position=0, check="dead_air",
                                                          rule="dead-air", severity="low", start=3.0, end=15.0))
    engine.dispose()
    book = Book.open(database_url)
    try:
        assert current_revision(book.engine) == HEAD
        with book.engine.connect() as connection:
            row = connection.execute(select(schema.calls).where(schema.calls.c.call_id == "old")).one()
        assert row.verdict == "fail" and row.recording is None and row.transcript_file is None
        assert (row.high, row.medium, row.low) == (0, 0, 1)  # its findings per severity, counted by the migration
        _decide(book, "f" * 32, "confirmed")
        with book.engine.connect() as connection:
            assert decisions_of(connection, "old")["f" * 32].reviewer == "Rosa"
    finally:
        book.close()


def _stats(capsys, url: str, *options: str) -> dict[str, dict[str, str]]:
    result = run(capsys, "stats", "--db", url, "--decisions", "--format", "csv", *options)
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    key = next(iter(rows[0]))
    return {row[key]: {k: row[k] for k in ("decided", "confirmed", "false_positive", "needs_coaching", "precision")}
            for row in rows}


def _expect(decided: int, confirmed: int, false_positive: int, coaching: int, precision: str) -> dict[str, str]:
    return {"decided": str(decided), "confirmed": str(confirmed), "false_positive": str(false_positive),
            "needs_coaching": str(coaching), "precision": precision}


def test_decisions_give_field_precision_per_check_and_rule(hand_book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    c1, c3, c5 = (_finding_ids(hand_book, call) for call in ("c1", "c3", "c5"))
    _decide(hand_book, c1[0], "confirmed")  # insult
    _decide(hand_book, c1[1], "false_positive", note="a quick but clear reading")  # speaking-too-fast
    _decide(hand_book, c3[0], "needs_coaching")  # debt-mentioned-to-third-party, twice
    _decide(hand_book, c3[1], "confirmed")
    _decide(hand_book, c3[1], "false_positive", reviewer="Sam")  # deciding again replaces it
    _decide(hand_book, c5[0], "confirmed")  # insult
    assert _stats(capsys, hand_book.url) == {  # --decisions is per rule unless --by says otherwise
        "dead-air": _expect(0, 0, 0, 0, ""),
        "debt-mentioned-to-third-party": _expect(2, 0, 1, 1, "0.5"),
        "insult": _expect(2, 2, 0, 0, "1.0"),
        "speaking-too-fast": _expect(1, 0, 1, 0, "0.0"),
    }
    assert _stats(capsys, hand_book.url, "--by", "check") == {
        "aggressive_language": _expect(2, 2, 0, 0, "1.0"),
        "dead_air": _expect(0, 0, 0, 0, ""),
        "speaking_rate": _expect(1, 0, 1, 0, "0.0"),
        "third_party_disclosure": _expect(2, 0, 1, 1, "0.5"),
    }
    assert _stats(capsys, hand_book.url, "--by", "agent")["Ana"] == _expect(2, 1, 1, 0, "0.5")
    table = run(capsys, "stats", "--db", hand_book.url, "--decisions")
    assert table.code == 0 and "precision" in table.out and "50%" in table.out

    # c1 checked again, and its speaking-rate finding is gone: its decision stays, marked gone, and stops counting
    hand_book.record_call(_outcome("c1", "Ana", "T1", "2025-03-10T10:00:00-05:00", [("aggressive_language", "insult", "high")]))
    assert "speaking-too-fast" not in _stats(capsys, hand_book.url)
    with hand_book.engine.connect() as connection:
        exported = {row["finding_id"]: row for row in export(connection)}
    assert len(exported) == 5 and exported[c1[1]]["gone"] == "yes" and exported[c1[0]]["gone"] == ""
    assert exported[c3[1]]["reviewer"] == "Sam" and exported[c1[1]]["note"] == "a quick but clear reading"
    assert exported[c1[0]]["agent"] == "Ana" and exported[c1[0]]["decided_at"].endswith("Z")


@pytest.mark.parametrize("decision,reviewer,note,finding,reason", [
    ("maybe", "Rosa", "", None, "is not one of"),
    ("confirmed", "  ", "", None, "name is missing"),
    ("confirmed", "Rosa", "x" * 4001, None, "longer than"),
    ("confirmed", "Rosa", "", "0" * 32, "no such finding"),
])
def test_a_decision_that_cannot_be_stored_says_why(tmp_path: Path, decision: str, reviewer: str, note: str,
                                                   finding: str | None, reason: str) -> None:
    book = Book.open(str(tmp_path / "book.db"))
    try:
        book.start_run("fixture", "out", None, False)
        book.record_call(_outcome(*FIXTURE[0]))
        finding = finding or _finding_ids(book, "c1")[0]
        with book.engine.begin() as connection, pytest.raises(DecisionRefused, match=reason):
            decide(connection, finding, decision, reviewer, note)
    finally:
        book.close()


def test_a_re_run_keeps_the_decisions_and_the_book_knows_the_recordings(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out, db = tmp_path / "out", tmp_path / "book.db"
    command = ("check", SAMPLES, "--out", out, "--db", db, "-q")
    assert run(capsys, *command).code == 1
    book = Book.open(str(db))
    try:
        threat = _finding_ids(book, "en-sample-threat")
        _decide(book, threat[0], "needs_coaching", note="threat of arrest")
        assert run(capsys, *command).code == 1
        assert _finding_ids(book, "en-sample-threat") == threat
        with book.engine.connect() as connection:
            kept = decisions_of(connection, "en-sample-threat")
            call = connection.execute(select(schema.calls).where(schema.calls.c.call_id == "en-sample-threat")).one()
            text = connection.execute(select(schema.call_texts.c.text)
                                      .where(schema.call_texts.c.call_id == "en-sample-threat")).scalar_one()
    finally:
        book.close()
    assert kept[threat[0]].decision.value == "needs_coaching" and kept[threat[0]].note == "threat of arrest"
    assert call.recording == str((SAMPLES / "audio" / "en-sample-threat.flac").resolve())
    assert call.transcript_file == str((SAMPLES / "transcripts" / "en-sample-threat.transcript.json").resolve())
    assert "judge" in text and text == text.lower()


def test_the_calls_listing_is_the_same_on_sqlite_and_postgresql(hand_book: Book) -> None:
    """The review app's calls page is one query per page, written once for both databases: each filter, state and
    sort gives the hand-counted calls on both."""
    from etiquette.review.listing import SORTS, Filters, list_calls

    c3, c4 = (_finding_ids(hand_book, call) for call in ("c3", "c4"))
    _decide(hand_book, c3[0], "false_positive")  # c3 partly reviewed
    _decide(hand_book, c4[0], "confirmed")  # c4 reviewed

    def listed(**query: str):
        with hand_book.engine.connect() as connection:
            return list_calls(connection, Filters.parse(query))

    def ids(**query: str) -> list[str]:
        listing = listed(**query)
        assert listing.total == len(listing.rows), query
        return [row.call_id for row in listing.rows]

    assert ids() == ["c3", "c1", "c5", "c4", "c2"]  # worst first: failing, then most high, medium, all findings
    assert ids(desc="1") == ["c2", "c4", "c5", "c1", "c3"]
    assert sorted(ids(agent="Ana")) == ["c1", "c2"] and ids(agent="(none)") == ["c5"]
    assert sorted(ids(team="T1")) == ["c1", "c2", "c3"]
    assert ids(check="dead_air") == ["c4"] and ids(rule="insult", sort="call") == ["c1", "c5"]
    assert ids(severity="high", sort="call") == ["c1", "c3", "c5"] and ids(severity="low", sort="call") == ["c1", "c3", "c4", "c5"]
    assert ids(since="2025-03-11", until="2025-03-11", sort="call") == ["c3", "c4"]
    assert ids(review="partly") == ["c3"] and ids(review="reviewed") == ["c4"] and ids(review="nothing") == ["c2"]
    assert ids(review="to_review", sort="call") == ["c1", "c5"]
    assert ids(text="HELLO", verdict="pass", sort="call") == ["c2", "c4"] and ids(text="hello hi there") == []
    assert ids(text="50%_") == []  # LIKE's wildcards are searched as text
    whole = listed()
    assert whole.by_verdict == {"fail": 3, "pass": 2}
    assert whole.by_review == {"to_review": 2, "partly": 1, "reviewed": 1, "nothing": 1}
    assert whole.options["agent"] == ["(none)", "Ana", "Ben", "Cleo"]
    for sort in SORTS:
        for desc in ("", "1"):
            assert sorted(ids(sort=sort, desc=desc)) == ["c1", "c2", "c3", "c4", "c5"], (sort, desc)
    assert ids(sort="duration", page="7") == ids(sort="duration")  # a page past the end shows the last
    assert listed(verdict="nonsense", size="13").filters == Filters()  # what makes no sense is left out
    assert ids(text="hello", sort="call", page="9") == ["c1", "c2", "c3", "c4", "c5"]  # so is a search's
    assert listed(text="hello", page="9").filters.page == 1
    searched = listed(text="hello")
    assert (searched.by_verdict, searched.by_review) == (whole.by_verdict, whole.by_review)
    hand_book.record_call(_outcome("c6", "Dora", "T3", "2025-03-12T09:00:00-05:00", []))  # the choices follow the book
    assert listed().options["agent"] == ["(none)", "Ana", "Ben", "Cleo", "Dora"] and "T3" in listed().options["team"]
