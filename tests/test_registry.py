"""A check is one module plus its rules: a toy check registered here, with its rule added to a
copy of the rule files, shows in the reports, summary.csv, the console table, the HTML, the
exports and `etiquette rules`, with no other file of the package edited."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from etiquette.checks.context import CallContext
from etiquette.checks.evidence import rule_finding
from etiquette.registry import REGISTRY, Check
from etiquette.rulebook import RULES_DIR
from etiquette.types import CheckOutput, Metrics

try:
    from cli_helpers import run
except ImportError:
    from tests.cli_helpers import run

TOY_RULE = '''
[[rules]]
id = "toy-banana"
check = "toy_check"
severity = "medium"
message = "The agent says banana"
why = "A check added by a test, to show what adding a check takes."
references.default = "Toy regulation 1"
'''


class ToyCheck(Check):
    name = "toy_check"
    title = "Toy check"
    short = "toy"
    order = 95

    def run(self, context: CallContext) -> CheckOutput:
        rule = context.audio_rules.rule("toy-banana")
        findings = tuple(
            rule_finding(rule, context.jurisdiction, speaker=w.speaker, start=w.start, end=w.end, evidence=w.text,
                         explanation="a banana was mentioned")
            for w in context.transcript.words if w.text == "banana" and w.speaker in context.agents
        )
        return CheckOutput(findings, Metrics(call={"bananas": len(findings)}))


@pytest.fixture
def toy(tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    with (rules / "audio.toml").open("a", encoding="utf-8") as stream:
        stream.write(TOY_RULE)
    with REGISTRY.added(ToyCheck):
        yield rules


def _transcript(path: Path) -> Path:
    words = [{"word": w, "start": 0.5 + 0.4 * i, "end": 0.8 + 0.4 * i, "conf": 0.9, "speaker": "agent"}
             for i, w in enumerate("hello this is sam would you like a banana".split())]
    words.append({"word": "no", "start": 5.0, "end": 5.2, "conf": 0.9, "speaker": "customer"})
    path.write_text(json.dumps({"call_id": "toy-call", "language": "en", "words": words,
                                "speakers": {"agent": {"role": "agent"}, "customer": {"role": "customer"}}}), encoding="utf-8")
    return path


def test_a_registered_check_reaches_every_output(toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call = _transcript(tmp_path / "toy.transcript.json")
    out = tmp_path / "out"
    result = run(capsys, "check", call, "--out", out, "--rules", toy, "--html", "--format", "jsonl,md")
    assert result.code == 1, result.err
    report = json.loads((out / "toy-call.report.json").read_text(encoding="utf-8"))
    assert [f["rule"] for f in report["findings"] if f["check"] == "toy_check"] == ["toy-banana"]
    assert report["call_metrics"]["bananas"] == 1
    [row] = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert row["toy_check"] == "1"
    assert "toy" in result.out.splitlines()[1] or "toy" in result.out  # the console table's column
    assert "toy check 1" in " ".join(result.out.split())
    assert 'data-count="toy_check">1<' in (out / "report.html").read_text(encoding="utf-8")
    assert "toy check" in (out / "summary.md").read_text(encoding="utf-8")
    assert '"check": "toy_check"' in (out / "findings.jsonl").read_text(encoding="utf-8")

    listed = run(capsys, "rules", "--rules", toy)
    assert listed.code == 0 and "toy-banana" in listed.out
    shown = run(capsys, "rules", "show", "toy-banana", "--rules", toy)
    assert shown.code == 0 and "Toy regulation 1" in shown.out


def test_without_the_check_its_rule_is_refused(toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    REGISTRY.unregister("toy_check")
    try:
        result = run(capsys, "check", _transcript(tmp_path / "toy.transcript.json"), "--out", tmp_path / "o", "--rules", toy)
        assert result.code == 2  # the rule files are read before any call, and a broken one stops the run
        assert "unknown check 'toy_check'" in result.err and "audio.toml" in result.err
        assert len(result.err_lines) == 1
    finally:
        REGISTRY.register(ToyCheck)
