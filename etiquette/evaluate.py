"""Scoring checks against labelled calls (`etiquette eval`).

Labels follow ../shared/eval: `labels.json` maps each call id to
`{"expect": [checks...], "language": TAG, "note": "..."}`. A call counts as
raising a check when its result holds at least one finding of that check.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from etiquette.checks import run_checks
from etiquette.errors import InputError
from etiquette.rulebook import CHECKS, RULES_DIR, load_audio_rules, load_rules
from etiquette.transcripts import read_transcript


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        raised = self.true_positives + self.false_positives
        return self.true_positives / raised if raised else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Mistake:
    kind: str  # "miss" or "false alarm"
    check: str
    call_id: str
    note: str


@dataclass
class Evaluation:
    tallies: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    mistakes: list[Mistake] = field(default_factory=list)
    calls: int = 0
    unlabelled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        return sorted({language for _, language in self.tallies})

    def add(self, call_id: str, language: str, expected: set[str], raised: set[str], note: str) -> None:
        self.calls += 1
        for check in CHECKS:
            want, got = check in expected, check in raised
            tally = self.tallies[(check, language)]
            if want and got:
                tally.true_positives += 1
            elif got:
                tally.false_positives += 1
                self.mistakes.append(Mistake("false alarm", check, call_id, note))
            elif want:
                tally.false_negatives += 1
                self.mistakes.append(Mistake("miss", check, call_id, note))


def load_labels(path: Path) -> dict[str, dict]:
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot read labels: {error}") from None
    if not isinstance(labels, dict):
        raise InputError(f"{path}: labels must map call ids to {{expect, language, note}}")
    return labels


def evaluate(folder: Path, labels_path: Path | None = None, rules_dir: Path = RULES_DIR) -> Evaluation:
    labels = load_labels(labels_path or folder / "labels.json")
    result = Evaluation()
    seen = set()
    for path in sorted(folder.rglob("*.transcript.json")):
        transcript = read_transcript(path)
        label = labels.get(transcript.call_id)
        if label is None:
            result.unlabelled.append(transcript.call_id)
            continue
        seen.add(transcript.call_id)
        checked = run_checks(transcript, load_rules(transcript.language, rules_dir), load_audio_rules(rules_dir))
        raised = {finding.check for finding in checked.findings}
        language = label.get("language", transcript.language).split("-")[0]
        result.add(transcript.call_id, language, set(label.get("expect", [])), raised, label.get("note", ""))
    result.missing = sorted(set(labels) - seen)
    return result
