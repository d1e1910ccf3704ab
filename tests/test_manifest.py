"""Call metadata: the manifest (CSV and JSON lines, another platform's column names), its bad rows (one line
each, naming the file and line; the calls still checked, their metadata checks not run), a transcript's
`call` object, and the per-agent and per-team outputs it gives."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from etiquette.manifest import ManifestError, load_columns, read_manifest

try:
    from cli_helpers import SAMPLES, read_report, run
except ImportError:
    from tests.cli_helpers import SAMPLES, read_report, run

TRANSCRIPTS = SAMPLES / "transcripts"
CALLING = {"calling_time", "call_frequency"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_call_log_is_read_into_typed_rows(tmp_path: Path) -> None:
    manifest = read_manifest(_write(tmp_path / "log.csv", (
        "Call ID;Agent Name;Queue;Account Number;Call Direction;Start Time;Phone Number;TZ;Country;Disposition\n"
        "c-1;Ana;East;ACC-1;OUT;2025-03-10T20:55:00-05:00;+12125550123;;us;Right Party Contact\n"
        "c-2;Ben;East;ACC-2;inbound;2025-03-10 09:00:00;;America/Chicago;US;No Answer\n"
        ";Ana;East;ACC-1;outbound;2025-03-09T10:00:00Z;;;;vm\n")))
    assert manifest.problems == []
    first, second, attempt = manifest.rows
    assert (first.call_id, first.agent, first.team, first.account, first.direction) == ("c-1", "Ana", "East", "ACC-1",
                                                                                         "outbound")
    assert first.started_at.isoformat() == "2025-03-10T20:55:00-05:00" and first.region == "US"
    assert first.outcome == "connected" and second.outcome == "no_answer" and attempt.outcome == "voicemail"
    assert second.started_at.utcoffset().total_seconds() == -5 * 3600  # 9 am in Chicago on daylight time
    assert attempt.call_id is None and attempt.account_key == first.account_key
    assert first.origin.endswith("log.csv:2") and attempt.origin.endswith("log.csv:4")


def test_json_lines_and_a_platform_column_table(tmp_path: Path) -> None:
    columns = _write(tmp_path / "columns.toml", '[columns]\ncall_id = ["InteractionID"]\nstarted_at = ["StartTimeISO"]\n'
                     '[outcomes]\nconnected = ["promise kept"]\n')
    log = _write(tmp_path / "log.jsonl", json.dumps({"InteractionID": "x-9", "agent": "Cleo", "StartTimeISO":
                                                     "2025-03-10T10:00:00+01:00", "outcome": "Promise kept"}) + "\n"
                 + "\n[1, 2]\n{not json\n")
    manifest = read_manifest(log, load_columns(columns))
    [row] = manifest.rows
    assert (row.call_id, row.agent, row.outcome) == ("x-9", "Cleo", "connected")
    assert [str(p) for p in manifest.problems] == [f"{log}:3: not a JSON object",
                                                   f"{log}:4: not a JSON object (Expecting property name enclosed in "
                                                   "double quotes)"]
    with pytest.raises(ManifestError, match="unknown table or field"):
        load_columns(_write(tmp_path / "bad.toml", '[columns]\ncall_number = ["n"]\n'))


BAD_LOG = """call_id,agent,account,started_at,timezone,direction
en-sample-clean,Ana,ACC-1,2025-03-10T10:00:00-04:00,,outbound
en-sample-fast,Ana,ACC-2,yesterday evening,,outbound
en-sample-threat,Ben,ACC-3,2025-03-10T10:00:00,,outbound
es-sample-limpia,Ben,ACC-4,2025-03-10T10:00:00-06:00,Mars/Olympus,outbound
en-sample-clean,Ana,ACC-1,2025-03-10T11:00:00-04:00,,outbound
es-sample-rapida,Cleo,ACC-5,2025-03-10T10:00:00-06:00,,sideways
es-sample-tercero,Cleo,ACC-6,2025-03-09T02:30:00,America/New_York,outbound
es-sample-amenaza,Cleo,ACC-7,2025-03-10T10:00:00-06:00,,outbound,extra
"""


def test_bad_rows_are_one_line_each_naming_file_and_line(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.csv", BAD_LOG)
    manifest = read_manifest(log)
    lines = [str(problem) for problem in manifest.problems]
    assert lines == [
        f"{log}:3: started_at 'yesterday evening' is not an ISO 8601 time (such as 2025-03-10T20:55:00-05:00)",
        f"{log}:4: started_at '2025-03-10T10:00:00' has no UTC offset and the row gives no timezone",
        f"{log}:5: timezone 'Mars/Olympus' is not an IANA time zone (such as America/New_York)",
        f"{log}:6: a second row for the same call (line 2)",
        f"{log}:7: direction 'sideways' is neither outbound nor inbound",
        f"{log}:8: started_at '2025-03-09T02:30:00' does not exist in America/New_York (the clocks went forward)",
        f"{log}:9: 1 more cell(s) than the header has columns",
    ]
    assert [row.call_id for row in manifest.rows] == ["en-sample-clean"]


def test_a_run_with_bad_rows_checks_every_call_and_marks_their_metadata_checks_not_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _write(tmp_path / "log.csv", BAD_LOG)
    out = tmp_path / "out"
    result = run(capsys, "check", TRANSCRIPTS, "--out", out, "--manifest", log)
    assert result.code == 1
    problems = [line for line in result.err_lines if line.startswith(str(log))]
    assert len(problems) == 7 and len(result.err_lines) == 7
    for call_id in ("en-sample-fast", "en-sample-threat", "es-sample-limpia", "es-sample-rapida", "es-sample-tercero",
                    "es-sample-amenaza", "en-sample-clean"):
        report = read_report(out, call_id)
        skipped = {s["check"]: s["reason"] for s in report["skipped_checks"]}
        assert set(skipped) >= CALLING, call_id
        assert "could not be used" in skipped["calling_time"] and str(log) in skipped["calling_time"]
        assert report["verdict"] in ("fail", "incomplete")
    # A call the log does not mention at all: not run either, and said why.
    disclosure = read_report(out, "en-sample-disclosure")
    assert {s["reason"] for s in disclosure["skipped_checks"] if s["check"] in CALLING} == {
        f"no row for this call in the manifest {log}"}
    assert read_report(out, "en-sample-clean")["verdict"] == "incomplete"


def test_rows_by_file_attempts_without_a_recording_and_unknown_files(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    log = _write(tmp_path / "log.csv", (
        "file,agent,team,account,started_at,phone,outcome\n"
        f"{TRANSCRIPTS / 'en-sample-clean.transcript.json'},Ana,East,ACC-1,2025-03-10T10:00:00-04:00,+12125550123,connected\n"
        ",Ana,East,ACC-1,2025-03-10T09:00:00-04:00,+12125550123,connected\n"
        "calls/elsewhere.wav,Ana,East,ACC-1,2025-03-10T09:30:00-04:00,+12125550123,no answer\n"))
    out = tmp_path / "out"
    result = run(capsys, "check", TRANSCRIPTS / "en-sample-clean.transcript.json", "--out", out, "--manifest", log)
    assert result.err_lines == [f"{log}:4: file 'calls/elsewhere.wav' is not among the inputs (counted as a call "
                                "attempt only)"]
    report = read_report(out, "en-sample-clean")
    assert report["call"]["agent"] == "Ana" and report["call"]["call_id"] == "en-sample-clean"
    # The attempt at 9:00 was a conversation: a call an hour later is within seven days of it.
    assert [f["rule"] for f in report["findings"] if f["check"] == "call_frequency"] == ["call-after-conversation"]
    assert result.code == 1


def test_a_transcripts_call_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((TRANSCRIPTS / "en-sample-clean.transcript.json").read_text(encoding="utf-8"))
    good = dict(data, call_id="with-call", call={"agent": "Dana", "team": "East", "account": "ACC-9",
                                                 "started_at": "2025-03-10T22:10:00-04:00", "phone": "+12125550123"})
    broken = dict(data, call_id="broken-call", call={"agent": "Dana", "started_at": "tonight"})
    folder = tmp_path / "calls"
    folder.mkdir()
    for item in (good, broken):
        _write(folder / f"{item['call_id']}.transcript.json", json.dumps(item))
    out = tmp_path / "out"
    result = run(capsys, "check", folder, "--out", out)
    assert result.err_lines == [f"{folder / 'broken-call.transcript.json'}: call: started_at 'tonight' is not an ISO "
                                "8601 time (such as 2025-03-10T20:55:00-05:00)"]
    report = read_report(out, "with-call")
    assert report["call"]["team"] == "East"
    assert [f["rule"] for f in report["findings"]] == ["call-outside-hours"]
    assert {s["check"] for s in read_report(out, "broken-call")["skipped_checks"]} == CALLING
    assert result.code == 1


def test_per_agent_and_team_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = (SAMPLES / "manifest.csv").read_text(encoding="utf-8").replace("Marcus Bell", "=HYPERLINK(1)")
    out = tmp_path / "out"
    result = run(capsys, "check", TRANSCRIPTS, "--out", out, "--manifest", _write(tmp_path / "log.csv", log),
                 "--format", "md,html")
    assert result.code == 1 and "By agent" in result.out and "By team" in result.out
    with (out / "by_agent.csv").open(encoding="utf-8", newline="") as stream:
        rows = {(row["group"], row["name"]): row for row in csv.DictReader(stream)}
    reports = {path.name[: -len(".report.json")]: json.loads(path.read_text(encoding="utf-8"))
               for path in out.glob("*.report.json")}
    for (group, name), row in rows.items():
        mine = [r for r in reports.values() if r["call"][group] == name.lstrip("'")]
        assert int(row["calls"]) == len(mine) == 4 if group == "team" else 2
        assert int(row["failed"]) == sum(r["verdict"] == "fail" for r in mine)
        assert int(row["findings"]) == sum(len(r["findings"]) for r in mine)
        assert float(row["findings_per_100_calls"]) == round(100 * int(row["findings"]) / len(mine), 1)
        for report in mine:
            if report["verdict"] == "fail":
                assert f"{report['call_id']}.report.json" in row["calls_to_review"]
    assert ("agent", "'=HYPERLINK(1)") in rows  # a name a spreadsheet would run is made text
    assert rows[("agent", "Dana Whitfield")]["teams"] == "Recovery East"
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "## By agent" in markdown and "## By team" in markdown
    assert "[en-sample-threat](en-sample-threat.report.json)" in markdown
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-group="team:Recovery East"' in html and 'data-groups="agent"' in html
    assert "=HYPERLINK(1)" in html and "<a href=\"report/" in html
