#!/usr/bin/env python3
"""Does checking grow linearly with the length of a call? One call of 100k, 200k, 400k and 1,000,000
words, made by laying the dev-set calls (or the samples) end to end, checked the way a `--redact` run
checks it: read from its file, every check, the redaction of the report, the report written.

    python bench/long_call.py [SIZE...]     (default: 100000 200000 400000 1000000)

Prints the time of each step and the time per word for each size; asserts nothing. Target (issue 12):
the time per word stays flat (a 1,000,000-word call takes about ten times a 100,000-word one).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etiquette.checks import run_checks  # noqa: E402
from etiquette.redact import redact_report  # noqa: E402
from etiquette.report import CallReport, render_report  # noqa: E402
from etiquette.rulebook import load_audio_rules, load_rules  # noqa: E402
from etiquette.transcripts import read_transcript  # noqa: E402

GAP = 0.6  # seconds between two calls laid end to end
MAX_SECONDS = 86_000  # a transcript may hold 24 hours: long calls are packed to fit


def source_calls() -> list[dict]:
    folder = ROOT.parent / "shared" / "eval" / "dev"
    paths = sorted(folder.rglob("*.transcript.json")) or sorted((ROOT / "samples" / "transcripts").glob("*.transcript.json"))
    calls = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return [call for call in calls if call["language"].startswith("en")]


def long_call(size: int, calls: list[dict], largest: int) -> dict:
    """`size` words: English calls one after another, their times squeezed as much as the `largest`
    call needs to fit 24 hours (every size the same way, so each word costs the same)."""
    words, loud_agent, loud_customer, offset = [], [], [], 0.0
    while len(words) < size:
        for call in calls:
            roles = {key: value["role"] for key, value in call["speakers"].items()}
            for word in call["words"]:
                if len(words) == size:
                    break
                speaker = "agent" if roles.get(word["speaker"]) == "agent" else "customer"
                words.append({**word, "speaker": speaker, "start": word["start"] + offset, "end": word["end"] + offset})
            offset = words[-1]["end"] + GAP
    squeeze = min(1.0, MAX_SECONDS / (offset * largest / size))
    for word in words:
        word["start"], word["end"] = round(word["start"] * squeeze, 3), round(word["end"] * squeeze, 3)
    duration = words[-1]["end"] + 1
    steps = int(duration / 0.5)
    for n in range(steps):  # a level every half second, louder now and then
        loud_agent.append(-24.0 + (9.0 if n % 97 == 0 else 0.0) + (n % 7) * 0.3)
        loud_customer.append(None if n % 5 == 0 else -26.0 + (n % 3))
    return {"schema": "etiquette.transcript/1", "call_id": f"long-{size}", "language": "en-US", "duration": duration,
            "speakers": {"agent": {"role": "agent"}, "customer": {"role": "customer"}},
            "loudness": {"step": 0.5, "speakers": {"agent": loud_agent, "customer": loud_customer}}, "words": words}


def measure(size: int, calls: list[dict], folder: Path, largest: int) -> dict[str, float]:
    path = folder / f"long-{size}.transcript.json"
    path.write_text(json.dumps(long_call(size, calls, largest)), encoding="utf-8")
    rules, audio_rules = load_rules("en-US"), load_audio_rules()
    times: dict[str, float] = {}
    began = time.perf_counter()
    transcript = read_transcript(path)
    times["read"] = time.perf_counter() - began
    began = time.perf_counter()
    result = run_checks(transcript, rules, audio_rules)
    times["checks"] = time.perf_counter() - began
    report = CallReport(transcript, result, source=str(path))
    began = time.perf_counter()
    masked = redact_report(report)
    times["redaction"] = time.perf_counter() - began
    began = time.perf_counter()
    (folder / "report.json").write_text(render_report(masked), encoding="utf-8")
    times["report"] = time.perf_counter() - began
    times["findings"] = len(result.findings)
    return times


def main() -> int:
    sizes = [int(arg) for arg in sys.argv[1:]] or [100_000, 200_000, 400_000, 1_000_000]
    calls = source_calls()
    if not calls:
        print("no English transcripts to build a long call from")
        return 1
    print(f"{'words':>9} {'read':>7} {'checks':>7} {'redact':>7} {'report':>7} {'total':>8} {'µs/word':>8} {'vs first':>8}")
    first = None
    with tempfile.TemporaryDirectory() as work:
        for size in sizes:
            times = measure(size, calls, Path(work), max(sizes))
            total = sum(value for key, value in times.items() if key != "findings")
            per_word = total / size * 1e6
            first = first or per_word
            print(f"{size:>9,} {times['read']:>6.1f}s {times['checks']:>6.1f}s {times['redaction']:>6.1f}s "
                  f"{times['report']:>6.1f}s {total:>7.1f}s {per_word:>8.1f} {per_word / first:>7.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
