#!/usr/bin/env python3
"""How fast the results database is: recording 10,000 calls with 50,000 findings into SQLite the way a run
does (each call handed to the database writer as it finishes), then `etiquette stats` over that database.

    python bench/book.py [CALLS] [FINDINGS_PER_CALL]

Prints figures; it asserts nothing. Targets (issue 14): recording under 10 s; stats under 1 s.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from etiquette.db import Book
from etiquette.db.stats import Query, stats
from etiquette.metadata import metadata_from
from etiquette.outcome import BatchTotals, CallOutcome
from etiquette.registry import REGISTRY
from etiquette.report import CallReport, render_report
from etiquette.types import CheckResult, Finding, Role, Severity, Speaker, Transcript, Word
from etiquette.writers import WriterOptions
from etiquette.writers.database import DatabaseWriter

RULES = [("aggressive_language", "insult", "high"), ("speaking_rate", "speaking-too-fast", "medium"),
         ("third_party_disclosure", "debt-mentioned-to-third-party", "high"), ("dead_air", "dead-air", "low"),
         ("interruptions", "talking-over", "low"), ("calling_time", "call-outside-hours", "medium")]


def outcomes(count: int, per_call: int) -> list[CallOutcome]:
    start = datetime(2025, 3, 1, 9, tzinfo=timezone(timedelta(hours=-5)))
    speakers = {"agent": Speaker(Role.AGENT), "customer": Speaker(Role.CUSTOMER)}
    made = []
    for n in range(count):
        call_id = f"bench-{n:06d}"
        words = tuple(Word(w, i * 0.4, i * 0.4 + 0.3, 1.0, "agent" if i % 2 else "customer")
                      for i, w in enumerate("hello this is sam calling about your account".split()))
        findings = tuple(Finding(*RULES[(n + k) % len(RULES)][:2], Severity(RULES[(n + k) % len(RULES)][2]), "agent",
                                 5.0 + 7 * k, 6.0 + 7 * k, "you owe this today", "15 U.S.C. 1692d", "a message")
                         for k in range(per_call))
        metadata = metadata_from({"call_id": call_id, "agent": f"agent {n % 40}", "team": f"team {n % 8}",
                                  "account": f"ACC-{n % 3000}", "started_at": (start + timedelta(minutes=7 * n)).isoformat(),
                                  "phone": "+12125550123", "outcome": "connected"}, "bench")
        report = CallReport(Transcript(call_id, "en-US", 120.0, speakers, words), CheckResult(findings),
                            source=f"{call_id}.transcript.json", input_sha256="0" * 64, settings="bench", metadata=metadata)
        # The pipeline renders each report once (for its report file) and hands the writers its SHA-256.
        digest = hashlib.sha256(render_report(report).encode("utf-8")).hexdigest()
        made.append(CallOutcome(f"{call_id}.transcript.json", call_id, n, report=report, report_sha256=digest))
    return made


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    per_call = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = outcomes(count, per_call)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "results.db"
        book = Book.open(str(db))
        began = time.perf_counter()
        book.start_run("bench", folder, None, False)
        writer = DatabaseWriter(WriterOptions(Path(folder), book=book))
        totals = BatchTotals()
        for outcome in calls:
            writer.add(outcome)
            totals.calls += 1
        writer.finish(totals)
        recorded = time.perf_counter() - began
        book.close()
        print(f"recording {count:,} calls and {count * per_call:,} findings into SQLite through the database writer: "
              f"{recorded:.2f} s ({1000 * recorded / count:.2f} ms a call; target under 10 s)")
        book = Book.open(str(db))
        for by in ("agent", "team", "day", "rule"):
            began = time.perf_counter()
            with book.engine.connect() as connection:
                table = stats(connection, Query(by), list(REGISTRY.names()))
            print(f"stats --by {by}: {len(table.rows)} rows in {time.perf_counter() - began:.3f} s (the queries)")
        book.close()
        etiquette = Path(sys.executable).with_name("etiquette")
        began = time.perf_counter()
        subprocess.run([str(etiquette), "stats", "--db", str(db), "--by", "agent", "--format", "csv"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"etiquette stats --by agent --format csv, the whole command (Python start-up included): "
              f"{time.perf_counter() - began:.2f} s (target under 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
