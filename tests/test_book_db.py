"""The results database, on SQLite and on a real PostgreSQL server: the schema its migrations make, calls
recorded and replaced (never duplicated) by re-runs, stable finding ids, --redact, and `etiquette stats`
against numbers counted by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from etiquette.db import Book, schema
from etiquette.db.engine import HEAD, MIGRATIONS
from etiquette.metadata import metadata_from
from etiquette.outcome import CallOutcome
from etiquette.registry import REGISTRY
from etiquette.report import CallReport
from etiquette.types import CheckResult, Finding, Role, Severity, Speaker, Transcript, Word

try:
    from cli_helpers import SAMPLES, read_report, run
except ImportError:
    from tests.cli_helpers import SAMPLES, read_report, run

MANIFEST = SAMPLES / "manifest.csv"


def _count(book: Book, table) -> int:
    with book.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_migrations_make_the_schema_the_code_uses(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
    book = Book.open(database_url)
    try:
        with book.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
        Book.open(database_url).close()  # opening it again at head changes nothing
    finally:
        book.close()


# ------------------------------------------------------------------ a hand-made book, counted by hand

FIXTURE = [
    # call id, agent, team, start, findings (check, rule, severity)
    ("c1", "Ana", "T1", "2025-03-10T10:00:00-05:00", [("aggressive_language", "insult", "high"),
                                                      ("speaking_rate", "speaking-too-fast", "medium")]),
    ("c2", "Ana", "T1", "2025-03-10T15:00:00-05:00", []),
    ("c3", "Ben", "T1", "2025-03-11T09:00:00-05:00", [("third_party_disclosure", "debt-mentioned-to-third-party", "high"),
                                                      ("third_party_disclosure", "debt-mentioned-to-third-party", "high")]),
    ("c4", "Cleo", "T2", "2025-03-11T11:00:00-05:00", [("dead_air", "dead-air", "low")]),
    ("c5", None, None, None, [("aggressive_language", "insult", "high")]),
]


def _outcome(call_id, agent, team, start, findings, order=0) -> CallOutcome:
    words = (Word("hello", 0.5, 0.9, 1.0, "agent"), Word("hi", 1.2, 1.4, 1.0, "customer"))
    transcript = Transcript(call_id, "en-US", 60.0, {"agent": Speaker(Role.AGENT), "customer": Speaker(Role.CUSTOMER)},
                            words)
    made = tuple(Finding(check, rule, Severity(severity), "agent", 10.0 + 20 * n, 12.0 + 20 * n, "words", "ref", "msg")
                 for n, (check, rule, severity) in enumerate(findings))
    metadata = None
    if agent:
        metadata = metadata_from({"call_id": call_id, "agent": agent, "team": team, "account": f"A-{call_id}",
                                  "started_at": start}, "fixture")
    report = CallReport(transcript, CheckResult(made), source=f"{call_id}.transcript.json", metadata=metadata)
    return CallOutcome(f"{call_id}.transcript.json", call_id, order, report=report)


@pytest.fixture
def hand_book(database_url: str):
    book = Book.open(database_url)
    book.start_run("fixture", "out", None, False)
    for order, row in enumerate(FIXTURE):
        book.record_call(_outcome(*row, order=order))
    book.finish_run(5, 3, False)
    yield book
    book.close()


def _stats_rows(capsys, url: str, *options: str) -> list[dict[str, str]]:
    result = run(capsys, "stats", "--db", url, "--format", "csv", *options)
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def _expect(group: str, name: str, calls: int, failed: int, **checks: int) -> dict[str, str]:
    row = {group: name, "calls": str(calls), "failed": str(failed)}
    row.update({check: str(checks.get(check, 0)) for check in REGISTRY.names()})
    return row


def test_stats_equal_a_hand_count(hand_book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    url = hand_book.url
    today = datetime.now().date().isoformat()  # c5 has no start time: it counts on the day it was checked
    assert _stats_rows(capsys, url, "--by", "agent") == [
        _expect("agent", "Ana", 2, 1, aggressive_language=1, speaking_rate=1),
        _expect("agent", "Ben", 1, 1, third_party_disclosure=2),
        _expect("agent", "Cleo", 1, 0, dead_air=1),
        _expect("agent", "(none)", 1, 1, aggressive_language=1),
    ]
    assert _stats_rows(capsys, url, "--by", "team") == [
        _expect("team", "T1", 3, 2, aggressive_language=1, speaking_rate=1, third_party_disclosure=2),
        _expect("team", "T2", 1, 0, dead_air=1),
        _expect("team", "(none)", 1, 1, aggressive_language=1),
    ]
    days = _stats_rows(capsys, url, "--by", "day")
    assert days[:2] == [
        _expect("day", "2025-03-10", 2, 1, aggressive_language=1, speaking_rate=1),
        _expect("day", "2025-03-11", 2, 1, third_party_disclosure=2, dead_air=1),
    ]
    assert days[2]["day"] in (today, datetime.utcnow().date().isoformat()) and days[2]["calls"] == "1"
    assert _stats_rows(capsys, url, "--by", "rule") == [
        _expect("rule", "dead-air", 1, 0, dead_air=1),
        _expect("rule", "debt-mentioned-to-third-party", 1, 1, third_party_disclosure=2),
        _expect("rule", "insult", 2, 2, aggressive_language=2),
        _expect("rule", "speaking-too-fast", 1, 1, speaking_rate=1),
    ]
    assert _stats_rows(capsys, url, "--by", "agent", "--since", "2025-03-11") == [
        _expect("agent", "Ben", 1, 1, third_party_disclosure=2),
        _expect("agent", "Cleo", 1, 0, dead_air=1),
        _expect("agent", "(none)", 1, 1, aggressive_language=1),
    ]
    result = run(capsys, "stats", "--db", url, "--by", "team", "--format", "json")
    rows = json.loads(result.out)["rows"]
    assert rows[0]["team"] == "T1" and rows[0]["findings"] == 4 and rows[0]["findings_per_100_calls"] == 133.3
    table = run(capsys, "stats", "--db", url, "--by", "agent")
    assert table.code == 0 and "Ana" in table.out and "Cleo" in table.out


def test_stats_refuses_a_missing_database_and_a_bad_span(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "stats", "--db", tmp_path / "none.db")
    assert result.code == 2 and "no results database" in result.err
    assert not (tmp_path / "none.db").exists()
    Book.open(str(tmp_path / "empty.db")).close()
    result = run(capsys, "stats", "--db", tmp_path / "empty.db", "--since", "yesterday")
    assert result.code == 2 and "--since" in result.err


def test_a_re_recorded_call_replaces_its_rows_and_keeps_its_finding_ids(hand_book: Book) -> None:
    def ids() -> dict[str, list[str]]:
        with hand_book.engine.connect() as connection:
            rows = connection.execute(select(schema.findings.c.call_id, schema.findings.c.finding_id)
                                      .order_by(schema.findings.c.call_id, schema.findings.c.position))
            found: dict[str, list[str]] = {}
            for call_id, finding in rows:
                found.setdefault(call_id, []).append(finding)
            return found

    before = ids()
    assert len(set(before["c3"])) == 2  # two findings of one rule in one call: two ids
    hand_book.start_run("again", "out", None, False)
    for row in FIXTURE:
        hand_book.record_call(_outcome(*row))
    assert ids() == before
    assert _count(hand_book, schema.calls) == 5 and _count(hand_book, schema.findings) == 6
    assert _count(hand_book, schema.runs) == 2
    changed = _outcome("c1", "Ana", "T1", "2025-03-10T10:00:00-05:00", [("aggressive_language", "insult", "high")])
    hand_book.record_call(changed)
    after = ids()
    assert after["c1"] == before["c1"][:1]  # the finding that is still there kept its id; the other is gone
    assert _count(hand_book, schema.findings) == 5


# ------------------------------------------------------------------ end to end: the samples with their call log


def test_a_run_records_its_calls_and_a_re_run_replaces_them(database_url: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    command = ("check", SAMPLES / "transcripts", "--out", out, "--manifest", MANIFEST, "--db", database_url, "-q")
    assert run(capsys, *command).code == 1
    book = Book.open(database_url)
    try:
        with book.engine.connect() as connection:
            calls = {row.call_id: row for row in connection.execute(select(schema.calls))}
            findings = {row.finding_id: row for row in connection.execute(select(schema.findings))}
        assert len(calls) == 8
        for call_id, row in calls.items():
            report = read_report(out, call_id)
            assert row.verdict == report["verdict"] and row.findings == len(report["findings"])
            assert row.input_sha256 == report["input_sha256"] and row.agent == report["call"]["agent"]
        assert calls["en-sample-threat"].team == "Recovery East" and calls["en-sample-threat"].day == "2025-03-12"
        assert len(findings) == sum(row.findings for row in calls.values())
        assert _count(book, schema.attempts) == 15  # 8 calls and 7 attempts without a recording
        assert run(capsys, *command).code == 1
        with book.engine.connect() as connection:
            again = {row.finding_id for row in connection.execute(select(schema.findings))}
            runs = list(connection.execute(select(schema.runs.c.status)))
        assert again == set(findings)
        assert _count(book, schema.calls) == 8 and _count(book, schema.attempts) == 15
        assert [status for (status,) in runs] == ["finished", "finished"]
    finally:
        book.close()


def test_redact_reaches_the_database(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    result = run(capsys, "check", SAMPLES / "transcripts", "--out", out, "--manifest", MANIFEST, "--db", database_url,
                 "--redact", "-q")
    assert result.code == 1, result.err
    book = Book.open(database_url)
    try:
        with book.engine.connect() as connection:
            calls = list(connection.execute(select(schema.calls)))
            attempts = list(connection.execute(select(schema.attempts)))
            evidence = [row.evidence for row in connection.execute(select(schema.findings))]
    finally:
        book.close()
    assert {(row.phone, row.account, row.redacted) for row in calls} == {("[phone]", "[account]", True)}
    assert {(row.phone, row.account) for row in attempts} == {("[phone]", "[account]")}
    assert all(row.account_key for row in attempts)  # still matched across runs, by a digest
    assert not any("ACC-" in text or "555" in text for text in evidence)
    assert read_report(out, "en-sample-threat")["call"]["phone"] == "[phone]"
