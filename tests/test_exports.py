"""`--format jsonl,md`: findings.jsonl (one finding a line) and summary.md (a ticket-ready
summary) agree with the reports; the console summary names the worst calls and the files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from etiquette.writers import parse_formats
from etiquette.writers.markdown import md_escape

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import SAMPLES, files_left, read_report, read_summary, run
except ImportError:
    from tests.cli_helpers import SAMPLES, files_left, read_report, read_summary, run

TRANSCRIPTS = SAMPLES / "transcripts"
FINDING_FIELDS = ("check", "rule", "severity", "speaker", "start", "end", "evidence", "reference", "message", "explanation")


def _reports(out: Path) -> dict[str, dict]:
    return {row["call_id"]: read_report(out, row["call_id"]) for row in read_summary(out) if row["status"] == "ok"}


def test_jsonl_has_one_line_per_finding_with_its_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", TRANSCRIPTS, "--out", tmp_path, "--format", "jsonl", "--quiet")
    assert result.code == 1, result.err
    lines = (tmp_path / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    reports = _reports(tmp_path)
    expected = [(call_id, finding) for call_id, report in reports.items() for finding in report["findings"]]
    assert len(records) == len(expected) > 0
    for record, (call_id, finding) in zip(records, expected):
        assert record["call_id"] == call_id
        assert record["language"] == reports[call_id]["language"]
        assert record["verdict"] == reports[call_id]["verdict"]
        for name in FINDING_FIELDS:
            assert record[name] == finding[name], name
    assert not (tmp_path / "summary.md").exists() and not (tmp_path / "report.html").exists()
    assert not [name for name in files_left(tmp_path) if name.endswith(".tmp")]


def test_markdown_lists_every_call_then_each_failing_calls_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", TRANSCRIPTS, "--out", tmp_path, "--format", "md", "--quiet")
    assert result.code == 1
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    reports = _reports(tmp_path)
    failed = [c for c, r in reports.items() if r["verdict"] == "fail"]
    assert text.startswith(f"# etiquette: {len(reports)} calls checked, {len(failed)} failed\n")
    table = text.split("| call | language | verdict |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    rows = {line.split(" | ")[0].lstrip("| ").replace("\\", ""): line for line in table}
    assert list(rows) == sorted(reports, key=lambda c: (
        reports[c]["verdict"] != "fail",
        -sum(f["severity"] == "high" for f in reports[c]["findings"]),
        -sum(f["severity"] == "medium" for f in reports[c]["findings"]),
        -len(reports[c]["findings"]), c))  # worst first
    for call_id, report in reports.items():
        row = rows[call_id]
        assert ("| **fail** |" if report["verdict"] == "fail" else "| pass |") in row
        assert f"| {len(report['findings'])} |" in row
        heading = f"## {md_escape(call_id)} ("
        if report["verdict"] == "fail":
            section = text.split(heading, 1)[1].split("\n## ", 1)[0]
            for finding in report["findings"]:
                assert md_escape(finding["rule"]) in section
                assert md_escape(finding["evidence"]) in section
                assert md_escape(finding["reference"]) in section
        else:
            assert heading not in text


def test_markdown_cells_cannot_carry_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Transcript words are untrusted: a pipe, a link or a tag must not escape its table cell."""
    evil_words = "| <img/src=x/onerror=alert(1)> [click](http://x.example) *now*"
    words, now = [], 0.0
    said = [("agent", "hello is this sam"), ("customer", "no this is his brother"),
            # evidence is the matched words with two words of context: the markup sits right after each match
            ("agent", "tell him he owes | <img/src=x/onerror=alert(1)> the debt or we will have him arrested "
                      "[click](http://x.example) *now*")]
    for speaker, text in said:
        for token in text.split():
            words.append({"word": token, "start": round(now, 2), "end": round(now + 0.25, 2), "speaker": speaker})
            now += 0.3
        now += 1.0
    path = tmp_path / "evil.transcript.json"
    path.write_text(json.dumps({"call_id": "evil", "language": "en", "speakers": {"agent": {"role": "agent"},
                                "customer": {"role": "customer"}}, "words": words}), encoding="utf-8")
    out = tmp_path / "out"
    assert run(capsys, "check", path, "--out", out, "--format", "md", "--quiet").code == 1
    text = (out / "summary.md").read_text(encoding="utf-8")
    finding_rows = [line for line in text.splitlines() if line.startswith("| ") and ":" in line.split(" | ")[0]]
    assert finding_rows
    for line in finding_rows:
        cells = [cell for cell in line.replace("\\|", "").split("|")]
        assert len(cells) == 8, line  # six cells: no pipe from the words split a cell
    assert "\\<img" in text and "\\[click\\]" in text
    for markup in ("<", "[", "]", "*"):  # each one from the words is escaped
        assert re.search(r"(?<!\\)" + re.escape(markup), text.split("## evil", 1)[1].replace("“", "")) is None, markup


def test_formats_are_a_comma_list_or_repeated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_formats(["jsonl,md", "md", " HTML "]) == ["jsonl", "md", "html"]
    assert parse_formats(["json,csv"]) == []  # always written anyway
    with pytest.raises(ValueError):
        parse_formats(["xml"])
    result = run(capsys, "check", TRANSCRIPTS / "en-sample-clean.transcript.json", "--out", tmp_path, "--format", "jsonl",
                 "--format", "md", "--quiet")
    assert result.code == 0
    assert (tmp_path / "findings.jsonl").read_text(encoding="utf-8") == ""  # a clean call: no finding lines
    assert "en-sample-clean" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    bad = run(capsys, "check", TRANSCRIPTS, "--out", tmp_path / "x", "--format", "pdf")
    assert bad.code == 2 and "pdf" in bad.err
    assert not (tmp_path / "x" / "summary.csv").exists()


def test_console_summary_names_the_findings_the_worst_calls_and_the_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", TRANSCRIPTS, "--out", tmp_path, "--format", "jsonl,md", "--html")
    assert result.code == 1
    text = " ".join(result.out.split())
    reports = _reports(tmp_path)
    failed = sum(1 for r in reports.values() if r["verdict"] == "fail")
    assert f"{len(reports)} checked, {failed} failed, 0 could not be processed." in text
    totals = {check: sum(1 for r in reports.values() for f in r["findings"] if f["check"] == check)
              for check in ("speaking_rate", "third_party_disclosure", "aggressive_language")}
    assert "Findings by check: " + ", ".join(f"{c.replace('_', ' ')} {n}" for c, n in totals.items()) in text
    assert "Top offending calls:" in text
    top = text.split("Top offending calls:", 1)[1].split("Outputs in", 1)[0]
    named = [call_id for call_id in reports if f"{call_id}:" in top]
    assert 0 < len(named) <= 5
    worst = max(reports, key=lambda c: (reports[c]["verdict"] == "fail", sum(f["severity"] == "high" for f in reports[c]["findings"]),
                                        len(reports[c]["findings"])))
    assert top.strip().startswith(f"{worst}:")
    assert all(reports[c]["verdict"] == "fail" for c in named)
    outputs = text.split("Outputs in", 1)[1]
    for name in ("summary.csv", "findings.jsonl", "summary.md", "report.html"):
        assert name in outputs


def test_a_big_batch_prints_totals_not_a_row_per_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = json.loads((TRANSCRIPTS / "en-sample-clean.transcript.json").read_text(encoding="utf-8"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(30):
        (inputs / f"c{n:02d}.transcript.json").write_text(json.dumps({**source, "call_id": f"c{n:02d}"}), encoding="utf-8")
    result = run(capsys, "check", inputs, "--out", tmp_path / "out")
    assert result.code == 0
    assert "c07" not in result.out  # no table
    assert "30 checked, 0 failed, 0 could not be processed." in " ".join(result.out.split())
    assert "Top offending calls" not in result.out
