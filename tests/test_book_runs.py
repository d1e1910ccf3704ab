"""Runs writing the results database as real processes: a run killed with SIGKILL leaves every call whole and
the same command completes the book; two runs writing one SQLite database at once both complete."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

try:
    from cli_helpers import SAMPLES
except ImportError:
    from tests.cli_helpers import SAMPLES

ETIQUETTE = [str(Path(sys.executable).with_name("etiquette"))]


def _batch(folder: Path, count: int, prefix: str = "call") -> Path:
    """`count` transcripts made from the samples, each its own call, and a call log for them."""
    folder.mkdir(parents=True)
    samples = sorted((SAMPLES / "transcripts").glob("*.transcript.json"))
    lines = ["call_id,agent,team,account,started_at,phone,outcome"]
    for n in range(count):
        data = json.loads(samples[n % len(samples)].read_text(encoding="utf-8"))
        data["call_id"] = f"{prefix}-{n:04d}"
        (folder / f"{prefix}-{n:04d}.transcript.json").write_text(json.dumps(data), encoding="utf-8")
        lines.append(f"{prefix}-{n:04d},agent {n % 7},team {n % 3},ACC-{n % 50},2025-03-{10 + n % 5}T10:{n % 60:02d}:00-04:00,"
                     f"+1212555{n % 10000:04d},connected")
    (folder.parent / f"{prefix}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _read(db: Path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as connection:
        return connection.execute(query).fetchall()


def _consistent(db: Path) -> dict[str, int]:
    """Every call's findings are all there (its row says how many), no finding without its call."""
    assert _read(db, "PRAGMA integrity_check") == [("ok",)]
    calls = dict(_read(db, "SELECT call_id, findings FROM calls"))
    stored = dict(_read(db, "SELECT call_id, count(*) FROM findings GROUP BY call_id"))
    assert set(stored) <= set(calls), "findings without their call"
    assert {call: stored.get(call, 0) for call in calls} == calls
    return calls


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def test_a_killed_run_leaves_the_database_consistent_and_the_same_command_completes_it(tmp_path: Path) -> None:
    calls = _batch(tmp_path / "calls", 400)
    out = tmp_path / "out"
    db = out / "results.db"
    command = [*ETIQUETTE, "check", str(calls), "--out", str(out), "--manifest", str(tmp_path / "call.csv"), "-q"]
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    recorded = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            recorded = _read(db, "SELECT count(*) FROM calls")[0][0] if db.exists() else 0
        except sqlite3.OperationalError:
            recorded = 0  # the schema is still being made
        if recorded >= 25:
            break
        time.sleep(0.02)
    assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()!r}"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()
    killed = _consistent(db)
    assert 25 <= len(killed) < 400
    assert _read(db, "SELECT status FROM runs") == [("running",)]  # it never finished

    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr  # the sample calls have findings
    assert not (out / "results.db-wal").exists()  # closed properly: the journal was folded into the file
    again = _consistent(db)
    assert len(again) == 400 and _read(db, "SELECT count(*) FROM calls") == [(400,)]
    assert _read(db, "SELECT count(*) FROM attempts") == [(400,)]
    for call_id, count in list(again.items())[::37]:
        report = json.loads((out / f"{call_id}.report.json").read_text(encoding="utf-8"))
        assert count == len(report["findings"])
    assert sorted(_read(db, "SELECT status FROM runs")) == [("finished",), ("running",)]


def test_two_runs_writing_one_sqlite_database_at_once_both_complete(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    commands = []
    for name in ("north", "south"):
        calls = _batch(tmp_path / name, 150, prefix=name)
        commands.append([*ETIQUETTE, "check", str(calls), "--out", str(tmp_path / f"out-{name}"), "--db", str(db),
                         "--manifest", str(tmp_path / f"{name}.csv"), "-q"])
    processes = [subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for command in commands]
    results = [(process.wait(timeout=300), process.communicate()) for process in processes]
    for code, (_, err) in results:
        assert code == 1, err  # both complete: findings, and no error (no "database is locked")
    calls = _consistent(db)
    assert len(calls) == 300
    assert {prefix for prefix, in _read(db, "SELECT substr(call_id, 1, 5) FROM calls GROUP BY 1")} == {"north", "south"}
    assert _read(db, "SELECT count(*), min(status), max(status) FROM runs") == [(2, "finished", "finished")]
    assert _read(db, "SELECT count(*) FROM attempts") == [(300,)]


@pytest.mark.parametrize("url", ["postgresql+psycopg://nobody@127.0.0.1:1/none", "nosuchdb://x"])
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(url: str, tmp_path: Path) -> None:
    done = subprocess.run([*ETIQUETTE, "check", str(SAMPLES / "transcripts" / "en-sample-clean.transcript.json"),
                           "--out", str(tmp_path / "out"), "--db", url], env=_env(), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "results database" in done.stderr
    assert "Traceback" not in done.stderr
