#!/usr/bin/env python3
"""Does memory stay flat as a batch grows? Peak memory and time per call, checking 640 and then
6,400 transcripts (the dev set copied under new call ids) with every output on.

    python bench/check_memory.py [FOLDER]     (default: ../shared/eval/dev)

Both batches run side by side in one invocation (this machine is noisy: compare the two,
not against another day). Prints figures; asserts nothing. Targets (the redesign issue):
the two peaks differ by less than 50 MB, and the time per call stays flat.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_batch(source: list[Path], count: int, folder: Path) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        data = json.loads(source[n % len(source)].read_text(encoding="utf-8"))
        data["call_id"] = f"{data.get('call_id', 'call')}-{n:05d}"
        (folder / f"{data['call_id']}.transcript.json").write_text(json.dumps(data), encoding="utf-8")


def measure(folder: Path, out: Path) -> tuple[float, float]:
    """(peak resident memory in MB, seconds) of one `etiquette check` run, in a child process."""
    etiquette = Path(sys.executable).with_name("etiquette")
    command = [str(etiquette), "check", str(folder), "--out", str(out), "--html", "--format", "jsonl,md", "--quiet"]
    script = ("import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:]); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True)
    peak, seconds = map(float, done.stdout.split())
    return peak, seconds


def main() -> int:
    source_folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval" / "dev"
    source = sorted(source_folder.rglob("*.transcript.json"))
    if not source:
        print(f"no transcripts in {source_folder}")
        return 1
    with tempfile.TemporaryDirectory() as work:
        results = {}
        for count in (640, 6400):
            batch = Path(work) / f"in-{count}"
            make_batch(source, count, batch)
            results[count] = measure(batch, Path(work) / f"out-{count}")
            peak, seconds = results[count]
            print(f"{count:>5} transcripts: peak {peak:6.0f} MB, {seconds:6.1f} s, {seconds / count * 1000:5.1f} ms a call")
    (small_peak, small_time), (big_peak, big_time) = results[640], results[6400]
    print(f"peak difference: {big_peak - small_peak:.0f} MB (target: under 50 MB); "
          f"time per call, 6400 against 640: {big_time / 6400 / (small_time / 640):.2f}x (target: flat, about 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
