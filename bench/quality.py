#!/usr/bin/env python3
"""How good the findings are: precision and recall per check and language on labelled sets,
clean and with simulated recognition errors.

    python bench/quality.py [--wer 0,0.1,0.2] [--seed 7] [--mistakes] [SET ...]

SET is a name below or a folder (transcripts with a labels.json, or .call files). Noisy copies
are made with ../shared/eval/asr_noise.py (see its ASR_NOISE.md); without it only the clean
figures are printed. `--mistakes` lists the misses and false alarms of the sets that are not
blind (a blind set's calls are never shown: it is scored, not read). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval"
SETS = {  # name -> (folder, blind)
    "dev": (SHARED / "dev", False),
    "dev2": (SHARED / "dev2", False),
    "realword-dev": (ROOT / "tests" / "corpus" / "realword" / "dev", False),
    "realword-blind": (ROOT / "tests" / "corpus" / "realword" / "blind", True),
    "blind16": (ROOT / "tests" / "corpus" / "blind16", True),
    "cases": (ROOT / "tests" / "cases", False),
    "holdouts": (ROOT / "tests", False),  # tests/holdout*/ (and the rest of tests/: only .call files under holdout*)
}


def as_transcripts(folder: Path, work: Path) -> Path:
    """A folder of transcripts with a labels.json: the set itself, or its .call files converted."""
    if (folder / "labels.json").is_file():
        return folder
    from etiquette.scenarios import read_call
    from etiquette.transcripts import write_transcript

    out = work / "clean"
    out.mkdir(parents=True)
    calls = sorted(folder.rglob("holdout*/*/*.call")) if folder == ROOT / "tests" else sorted(folder.rglob("*.call"))
    labels = {}
    for path in calls:
        transcript, scenario = read_call(path)
        write_transcript(transcript, out / f"{transcript.call_id}.transcript.json")
        labels[transcript.call_id] = {"expect": scenario.expect, "language": transcript.language,
                                      "note": scenario.meta.get("note", "")}
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def noisy(clean: Path, wer: float, seed: int, work: Path) -> Path | None:
    tool = SHARED / "asr_noise.py"
    if not tool.is_file():
        return None
    out = work / f"wer{wer:g}"
    subprocess.run([sys.executable, str(tool), str(clean), str(out), "--wer", str(wer), "--seed", str(seed)],
                   check=True, capture_output=True)
    return out


def score(name: str, folder: Path, wer: float, show_mistakes: bool) -> None:
    from etiquette.evaluate import evaluate

    result = evaluate(folder)
    print(f"\n{name} at {wer:.0%} simulated word error rate ({result.calls} calls)")
    print(f"  {'check':24}{'lang':6}{'prec':>6}{'recall':>8}   tp fp fn")
    for check in result.checks:
        for language in result.languages:
            tally = result.tallies[(check, language)]
            if tally.true_positives + tally.false_positives + tally.false_negatives == 0:
                continue
            print(f"  {check:24}{language:6}{tally.precision:6.2f}{tally.recall:8.2f}   "
                  f"{tally.true_positives:2} {tally.false_positives:2} {tally.false_negatives:2}")
    if show_mistakes:
        for mistake in result.mistakes:
            print(f"    {mistake.kind:11} {mistake.check:24} {mistake.call_id}: {mistake.note[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", default=["dev", "dev2", "realword-dev"])
    parser.add_argument("--wer", default="0,0.1,0.2")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mistakes", action="store_true")
    arguments = parser.parse_args()
    levels = [float(level) for level in arguments.wer.split(",")]
    for name in arguments.sets:
        folder, blind = SETS.get(name, (Path(name), False))
        if not folder.exists():
            print(f"\n{name}: {folder} is not here; skipped")
            continue
        with tempfile.TemporaryDirectory() as work:
            clean = as_transcripts(folder, Path(work))
            for wer in levels:
                target = clean if wer == 0 else noisy(clean, wer, arguments.seed, Path(work))
                if target is None:
                    print(f"\n{name}: no {SHARED / 'asr_noise.py'}: only the clean figures")
                    break
                score(name, target, wer, arguments.mistakes and not blind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
