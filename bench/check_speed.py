#!/usr/bin/env python3
"""How long checking transcripts takes: the whole `etiquette check` command, and the checks alone.

    python bench/check_speed.py [FOLDER]     (default: ../shared/eval/dev)

Prints figures; it asserts nothing. Target (issue 4): the whole dev set,
end to end from transcripts, in under 2 seconds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval" / "dev"
    transcripts = sorted(folder.rglob("*.transcript.json"))
    if not transcripts:
        print(f"no transcripts in {folder}")
        return 1
    etiquette = Path(sys.executable).with_name("etiquette")
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            subprocess.run([str(etiquette), "check", str(folder), "--out", out, "--quiet"], check=False)
            runs.append(time.perf_counter() - began)
    print(f"etiquette check, {len(transcripts)} transcripts, end to end: median {statistics.median(runs):.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)})")

    from etiquette.checks import run_checks
    from etiquette.rulebook import load_rules
    from etiquette.transcripts import read_transcript

    calls = [read_transcript(path) for path in transcripts]
    for call in calls:
        load_rules(call.language)  # load and compile the rule files once, as a run does
    began = time.perf_counter()
    words = 0
    for call in calls:
        run_checks(call, load_rules(call.language))
        words += len(call.words)
    elapsed = time.perf_counter() - began
    print(f"checks alone: {elapsed * 1000:.0f} ms for {len(calls)} calls ({words} words), {elapsed / len(calls) * 1000:.1f} ms a call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
