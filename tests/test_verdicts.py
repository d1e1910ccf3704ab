"""A call is a pass only when every check ran and found nothing failing. Calls that were not
fully checked are `incomplete`, with the reason, and are counted apart from pass and fail in
every output; a call with no words is an error, never a pass; counts add up everywhere."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from etiquette.registry import REGISTRY

try:
    from cli_helpers import SAMPLES, read_report, run
except ImportError:
    from tests.cli_helpers import SAMPLES, read_report, run


def _write(path: Path, call_id: str, turns: list[tuple[str, str]], language: str = "en",
           speakers: dict | None = None, duration: float | None = None, gap_after: int | None = None) -> Path:
    words, now = [], 0.5
    for n, (speaker, text) in enumerate(turns):
        for token in text.split():
            words.append({"word": token, "start": round(now, 2), "end": round(now + 0.3, 2), "conf": 0.9, "speaker": speaker})
            now += 0.4
        now += 12.0 if n == gap_after else 0.8
    data = {"call_id": call_id, "language": language, "words": words,
            "speakers": speakers or {"agent": {"role": "agent"}, "customer": {"role": "customer"}}}
    if duration is not None:
        data["duration"] = duration
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A clean call, a mono call, a Korean call and a call with dead air."""
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder / "clean.transcript.json", "clean", [("customer", "hello"), ("agent", "hi is this ana"), ("customer", "yes")])
    _write(folder / "mono.transcript.json", "mono", [("mixed", "hello is this ana yes it is")], speakers={"mixed": {"role": "unknown"}})
    _write(folder / "korean.transcript.json", "korean", [("agent", "안녕하세요 고객님"), ("customer", "네")], language="ko")
    _write(folder / "quiet.transcript.json", "quiet", [("agent", "one moment please"), ("customer", "okay")], gap_after=0)
    return folder


def test_unchecked_calls_are_incomplete_everywhere(mixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    result = run(capsys, "check", mixed, "--out", out, "--html", "--format", "md")
    assert result.code == 0, result.err  # incomplete is not a failure unless --fail-on says so
    verdicts = {c: read_report(out, c)["verdict"] for c in ("clean", "mono", "korean", "quiet")}
    assert verdicts == {"clean": "pass", "mono": "incomplete", "korean": "incomplete", "quiet": "pass"}
    for call_id in ("mono", "korean"):
        report = read_report(out, call_id)
        assert report["verdict_reason"] and report["skipped_checks"]
    rows = {row["call_id"]: row for row in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert rows["mono"]["verdict"] == "incomplete" and "attribution" in rows["mono"]["error"]
    assert rows["korean"]["verdict"] == "incomplete" and "no rule file" in rows["korean"]["error"]
    text = " ".join(result.out.split())
    assert "2 passed, 2 incomplete" in text
    assert "Incomplete calls:" in text and "korean:" in text
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-stat="incomplete">2<' in page and 'data-stat="passed">2<' in page
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "2 passed; 2 incomplete" in summary and "_incomplete_" in summary

    strict = run(capsys, "check", mixed, "--out", tmp_path / "strict", "--fail-on", "medium,incomplete", "--quiet")
    assert strict.code == 1


def test_counts_add_up_in_every_output(mixed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    run(capsys, "check", mixed, SAMPLES / "transcripts", "--out", out, "--html", "--format", "md,jsonl", "--quiet")
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.report.json")]
    per_check = {name: sum(1 for r in reports for f in r["findings"] if f["check"] == name) for name in REGISTRY.names()}
    assert per_check["dead_air"] >= 1  # the quiet call
    total = sum(len(r["findings"]) for r in reports)
    assert sum(per_check.values()) == total
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    for row in rows:
        if row["findings"]:
            assert sum(int(row[name]) for name in REGISTRY.names()) == int(row["findings"]), row
    page = (out / "report.html").read_text(encoding="utf-8")
    html_counts = {key: int(value) for key, value in re.findall(r'data-count="(\w+)">(\d+)<', page)}
    assert html_counts == per_check
    assert int(re.search(r'data-stat="findings">(\d+)<', page).group(1)) == total
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert f"{total} findings" in summary
    assert len((out / "findings.jsonl").read_text(encoding="utf-8").splitlines()) == total


@pytest.mark.parametrize("duration", [None, 300.0])
def test_a_transcript_without_words_is_an_error_not_a_pass(duration, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.transcript.json"
    empty.write_text(json.dumps({"call_id": "empty", "language": "en", "words": [], "duration": duration,
                                 "speakers": {"agent": {"role": "agent"}}}), encoding="utf-8")
    for _ in range(2):  # and the same again: a re-run never turns it into a pass
        result = run(capsys, "check", empty, "--out", tmp_path / "out", "--quiet")
        assert result.code == 3 and "no words" in result.err
        assert not (tmp_path / "out" / "empty.report.json").exists()


def test_a_re_run_says_the_reports_still_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    first = run(capsys, "check", SAMPLES / "transcripts", "--out", out)
    times = {p.name: p.stat().st_mtime_ns for p in out.glob("*.report.json")}
    second = run(capsys, "check", SAMPLES / "transcripts", "--out", out)
    assert first.code == second.code == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.report.json")} == times  # left alone
    text = " ".join(second.out.split())
    assert "8 checked, 6 failed" in text and "8 of the checked calls had reports from an earlier run that still say the same" in text
    assert "skipped" not in text
    assert {row["status"] for row in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))} == {"unchanged"}


def test_failed_inputs_are_recapped_at_the_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.transcript.json").write_text("{not json", encoding="utf-8")
    result = run(capsys, "check", tmp_path / "broken.transcript.json", SAMPLES / "transcripts" / "en-sample-clean.transcript.json",
                 "--out", tmp_path / "out")
    assert result.code == 3
    tail = result.out.strip().splitlines()[-2:]
    assert tail[0].startswith("Could not be processed (1)") and "broken.transcript.json" in tail[1]


def test_spanish_calls_are_explained_in_spanish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    run(capsys, "check", SAMPLES / "transcripts" / "es-sample-tercero.transcript.json", "--out", out, "--quiet")
    [finding] = [f for f in read_report(out, "es-sample-tercero")["findings"] if f["check"] == "third_party_disclosure"][:1]
    assert finding["explanation"].startswith("se habló de la deuda")
    assert " while " not in finding["explanation"]


def test_evidence_is_the_matched_clause_not_the_turn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call = _write(tmp_path / "c.transcript.json", "c", [
        ("customer", "hello"), ("agent", "is this ana"), ("customer", "yes"),
        ("agent", "listen i have heard it all month that's what every deadbeat tells me listen if you want to fix this pay today")])
    run(capsys, "check", call, "--out", tmp_path / "out", "--quiet")
    [insult] = [f for f in read_report(tmp_path / "out", "c")["findings"] if f["rule"] == "insult"]
    assert insult["evidence"] == "that's what every deadbeat tells me"


def test_the_progress_bar_moves_with_the_audio_decoded() -> None:
    """A long call moves the bar while it is decoded, not only when it ends."""
    import io

    from rich.console import Console

    from etiquette.cli.console import BatchProgress

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with BatchProgress(console, enabled=True) as progress:
        progress.started(1)
        progress.audio_queued(7200.0)  # a two-hour call
        progress.decoded(1800.0)
        task = progress.bar.tasks[0]
        assert task.total == 7200.0 and task.completed == 1800.0
        assert "0.50/2.00 h audio" in task.fields["done"]
