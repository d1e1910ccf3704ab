"""Scoring checks against labelled calls (`etiquette eval`).

A labelled set is either transcripts with a `labels.json` (as in ../shared/eval:
call id -> `{"expect": [checks...], "language": TAG, "note": "..."}`) or `.call`
scenario files, whose headers carry the same. A call counts as raising a check
when its result holds at least one finding of that check. A set is scored on
the contract's three checks plus every check some call in it expects.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from etiquette.checks import run_checks
from etiquette.errors import EtiquetteError, InputError
from etiquette.language import primary_language
from etiquette.printable import shown
from etiquette.registry import CONTRACT_CHECKS
from etiquette.rulebook import RULES_DIR, load_audio_rules, load_rules
from etiquette.scenarios import ScenarioError, read_call
from etiquette.transcripts import read_transcript
from etiquette.types import Transcript


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
    checks: list[str] = field(default_factory=list)
    tallies: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    mistakes: list[Mistake] = field(default_factory=list)
    calls: int = 0
    unlabelled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # "file: what is wrong"

    @property
    def languages(self) -> list[str]:
        return sorted({language for _, language in self.tallies})

    def add(self, call_id: str, language: str, expected: set[str], raised: set[str], note: str) -> None:
        self.calls += 1
        for check in self.checks:
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
        raise InputError(f"{shown(path)}: cannot read labels: {error}") from None
    if not isinstance(labels, dict):
        raise InputError(f"{shown(path)}: labels must map call ids to {{expect, language, note}}")
    for call_id, label in labels.items():
        expect = label.get("expect", []) if isinstance(label, dict) else None
        if not isinstance(expect, list) or not all(isinstance(check, str) for check in expect):
            raise InputError(f"{shown(path)}: the label of {shown(call_id)} must be {{\"expect\": [checks...], ...}}")
    return labels


def labelled_calls(folder: Path, labels_path: Path | None = None) -> tuple[list[tuple[Transcript, dict]], Evaluation]:
    """Every labelled call of a folder: its transcript and its label."""
    result = Evaluation()
    calls: list[tuple[Transcript, dict]] = []
    labels_file = labels_path or folder / "labels.json"
    labels = load_labels(labels_file) if labels_file.is_file() else {}
    for path in sorted(folder.rglob("*.call")):
        try:
            transcript, scenario = read_call(path)
        except (OSError, ScenarioError) as error:
            result.broken.append(f"{shown(path)}: {error}")
            continue
        label = {"expect": scenario.expect, "language": transcript.language, "note": scenario.meta.get("note", "")}
        calls.append((transcript, labels.get(transcript.call_id, label)))
    for path in sorted(folder.rglob("*.transcript.json")):
        try:
            transcript = read_transcript(path)
        except EtiquetteError as error:
            result.broken.append(f"{shown(path)}: {error}")
            continue
        if transcript.call_id not in labels:
            result.unlabelled.append(transcript.call_id)
            continue
        calls.append((transcript, labels[transcript.call_id]))
    result.missing = sorted(set(labels) - {transcript.call_id for transcript, _ in calls})
    return calls, result


def evaluate(folder: Path, labels_path: Path | None = None, rules_dir: Path = RULES_DIR) -> Evaluation:
    calls, result = labelled_calls(folder, labels_path)
    expected_anywhere = {check for _, label in calls for check in label.get("expect", [])}
    result.checks = list(CONTRACT_CHECKS) + sorted(expected_anywhere - set(CONTRACT_CHECKS))
    for transcript, label in calls:
        checked = run_checks(transcript, load_rules(transcript.language, rules_dir), load_audio_rules(rules_dir))
        raised = {finding.check for finding in checked.findings}
        language = primary_language(str(label.get("language", transcript.language)))
        result.add(transcript.call_id, language, set(label.get("expect", [])), raised, label.get("note", ""))
    return result
