"""Issue 12: no transcript or file name can sink a batch. Each reproduction of the issue is a test:
the bad input fails alone with one line (`path: what is wrong`) and its summary row, the good
inputs are still reported, and nothing ends the run with exit 4, a MemoryError or a RecursionError.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from etiquette.errors import TranscriptError
from etiquette.pipeline.plan import NAME_MAX
from etiquette.rulebook import load_rules
from etiquette.transcripts import read_transcript

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import files_left, one_line_per_input, read_report, read_summary, run, threat_data, write_json
except ImportError:
    from tests.cli_helpers import files_left, one_line_per_input, read_report, read_summary, run, threat_data, write_json


def _edit(change: Callable[[dict[str, Any]], Any], call_id: str = "bad") -> dict[str, Any]:
    data = copy.deepcopy(threat_data(call_id))
    change(data)
    return data


def _nested(depth: int) -> str:
    return json.dumps(threat_data("deep"))[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"


# what each broken transcript holds, and what its one line says
BROKEN: dict[str, tuple[Any, str]] = {
    # item 4: a transcript under 1 kB must not exhaust memory
    "loudness-step-1e-9": (_edit(lambda d: d.update(loudness={"step": 1e-9, "speakers": {"agent": [-20.0]}})),
                           "'loudness' needs a 'step' of 0.01"),
    "loudness-step-0": (_edit(lambda d: d.update(loudness={"step": 0, "speakers": {}})), "'loudness' needs a 'step'"),
    "loudness-too-many": (_edit(lambda d: d.update(duration=3.5, loudness={"step": 0.5, "speakers": {"agent": [-20.0] * 100}})),
                          "'loudness' for 'agent' has 100 values, more than the call has steps"),
    "loudness-speakers-list": (_edit(lambda d: d.update(loudness={"step": 0.5, "speakers": [[-20.0]]})),
                               "'loudness' must be an object"),
    "loudness-not-numbers": (_edit(lambda d: d.update(loudness={"step": 0.5, "speakers": {"agent": ["loud"]}})),
                             "must hold numbers (LUFS) or null"),
    "duration-1e308": (_edit(lambda d: d.update(duration=1e308)), "'duration' must be a non-negative number of seconds, at most 86400"),
    "duration-25-hours": (_edit(lambda d: d.update(duration=25 * 3600)), "'duration' must be"),
    "start-1e308": (_edit(lambda d: d["words"][0].update(start=1e308, end=1e308)), "words[0] needs numeric 'start' <= 'end'"),
    "time-401-digits": (_edit(lambda d: d["words"][1].update(end=int("9" * 401))), "words[1] needs numeric 'start' <= 'end'"),
    "conf-401-digits": (_edit(lambda d: d["words"][2].update(conf=int("9" * 401))), "words[2] has 'conf' outside 0..1"),
    "conf-nan": ('{"language": "en", "speakers": {"a": {"role": "agent"}}, "words": [{"word": "x", "start": 0, "end": 1, '
                 '"conf": NaN, "speaker": "a"}]}', "words[0] has 'conf' outside 0..1"),
    "integer-5000-digits": ('{"language": "en", "duration": ' + "9" * 5000 + "}", "not valid JSON"),
    # item 7
    "nested-1000-deep": (_nested(1000), "nested too deeply"),
    "speakers-a-list": (_edit(lambda d: d.update(speakers=[{"role": "agent"}])), "missing field 'speakers'"),
    "speaker-role-a-list": (_edit(lambda d: d["speakers"].update(agent={"role": ["agent"]})), "speaker 'agent' has role a list"),
    "channel-not-a-number": (_edit(lambda d: d["speakers"]["agent"].update(channel="left")), "a 'channel' that is not a channel"),
    "word-speaker-a-list": (_edit(lambda d: d["words"][0].update(speaker=["agent"])), "words[0] has speaker a list"),
    "lone-surrogate": ('{"language": "en", "speakers": {"a": {"role": "agent"}}, "words": [{"word": "\\udce9", "start": 0, '
                       '"end": 1, "speaker": "a"}]}', "words[0] has no 'word' text (or text that is not Unicode)"),
    # item 1: a language that is not a BCP-47 tag never names a file
    "language-path": (_edit(lambda d: d.update(language="../../../tmp/x/quiet")), "is not a BCP-47 language tag"),
    "language-a-list": (_edit(lambda d: d.update(language=["en"])), "missing field 'language'"),
    # item 7: call ids that cannot be file names
    "call-id-nul": (_edit(lambda d: d.update(call_id="call\x00one")), "the call id holds control characters"),
    "call-id-250": (_edit(lambda d: d.update(call_id="c" * 250)), "the call id is too long for a file name (250 bytes"),
}


@pytest.mark.parametrize("case", [case for case in BROKEN if case not in ("call-id-nul", "call-id-250")])
def test_the_reader_turns_every_broken_transcript_into_one_line(tmp_path: Path, case: str) -> None:
    data, message = BROKEN[case]
    path = write_json(tmp_path / f"{case}.transcript.json", data)
    with pytest.raises(TranscriptError) as error:
        read_transcript(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value) and len(str(error.value)) < 300


def test_every_broken_transcript_fails_alone_in_one_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    for case, (data, _) in BROKEN.items():
        write_json(calls / f"{case}.transcript.json", data)
    write_json(calls / "good.transcript.json", threat_data("good"))
    out = tmp_path / "out"

    result = run(capsys, "check", calls, "--out", out, "--html", "--format", "jsonl,md")

    assert result.code == 3, result.err
    one_line_per_input(result, [str(calls / f"{case}.transcript.json") for case in BROKEN])
    for case, (_, message) in BROKEN.items():
        line = next(line for line in result.err_lines if line.startswith(f"{calls / case}.transcript.json: "))
        assert message in line, (case, line)
    rows = read_summary(out)
    assert len(rows) == len(BROKEN) + 1
    assert {row["status"] for row in rows if row["call_id"] != "good"} == {"error"}
    assert read_report(out, "good")["verdict"] == "fail"
    assert files_left(out) == ["findings.jsonl", "good.report.json", "report", "report.html", "summary.csv", "summary.md"]


def test_a_planted_rule_file_is_never_loaded_through_the_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 1: `"language": "../../../tmp/x/quiet"` once loaded x/quiet.toml, and a threat passed."""
    planted = tmp_path / "x"
    planted.mkdir()
    (planted / "quiet.toml").write_text('[[rules]]\nid = "nothing"\n', encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    depth = "../" * len(rules.resolve().parts)
    language = f"{depth}{planted.resolve().relative_to('/')}/quiet"
    assert load_rules(language, rules) is None
    write_json(tmp_path / "call.transcript.json", threat_data("call", language=language))
    result = run(capsys, "check", tmp_path / "call.transcript.json", "--out", tmp_path / "out", "--rules", rules)
    assert result.code == 3
    assert result.err_lines == [f"{tmp_path / 'call.transcript.json'}: 'language' '{language[:36]}... is not a BCP-47 "
                                "language tag (for example en, en-US, es, es-MX, es-CO, es-PE, es-CL, es-AR, es-ES, es-419)"]
    # a tag is a tag: the rules folder's files are looked up among the files it holds
    assert load_rules("en", rules) is None and load_rules("quiet", planted) is None


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 16: some exporters write a BOM before the JSON."""
    path = tmp_path / "bom.transcript.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(threat_data("bom")).encode("utf-8"))
    assert read_transcript(path).call_id == "bom"
    result = run(capsys, "check", path, "--out", tmp_path / "out", "--quiet")
    assert result.code == 1 and read_report(tmp_path / "out", "bom")["verdict"] == "fail"


# ------------------------------------------------------------------ file names and call ids


def test_file_names_that_are_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 7: a Latin-1 byte in a file name ended the run with exit 4 and no summary."""
    calls = tmp_path / "calls"
    calls.mkdir()
    named = write_json(bytes(calls) + b"/caf\xe9-named.transcript.json", threat_data("cafe"))  # its call_id is UTF-8
    unnamed = write_json(bytes(calls) + b"/caf\xe9.transcript.json", threat_data())  # the id would be the name
    audio = Path(bytes(calls).decode() + "/caf\udce9-audio.wav")
    audio.write_bytes(b"RIFF")
    write_json(calls / "good.transcript.json", threat_data("good"))
    out = tmp_path / "out"

    result = run(capsys, "check", calls, "--out", out)

    assert result.code == 3, result.err
    one_line_per_input(result, [f"{calls}/caf\\xe9-audio.wav", f"{calls}/caf\\xe9.transcript.json"])
    assert all("the call id is not UTF-8 text" in line for line in result.err_lines)
    rows = {row["input"]: row for row in read_summary(out)}
    assert rows[f"{calls}/caf\\xe9-named.transcript.json"]["status"] == "ok"
    assert rows[f"{calls}/caf\\xe9.transcript.json"]["status"] == "error"
    assert rows[f"{calls}/caf\\xe9-audio.wav"]["status"] == "error"
    assert read_report(out, "cafe")["source"] == f"{calls}/caf\\xe9-named.transcript.json"
    assert named.exists() and unnamed.exists()


def test_an_out_folder_that_is_not_utf8_with_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 7: `--out` with a Latin-1 byte plus `--html` ended with exit 4."""
    call = write_json(tmp_path / "call.transcript.json", threat_data("call"))
    out = Path(str(tmp_path) + "/out-\udce9")
    result = run(capsys, "check", call, "--out", out, "--html", "--format", "md,jsonl")
    assert result.code == 1, result.err
    assert files_left(out) == ["call.report.json", "findings.jsonl", "report", "report.html", "summary.csv", "summary.md"]
    assert "out-\\xe9" in (out / "report.html").read_text(encoding="utf-8")
    assert "\udce9" not in result.out and "out-\\xe9" in result.out


@pytest.mark.parametrize("length", [230, NAME_MAX - len(".transcript.json")])
def test_long_call_ids_that_fit_a_file_name_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], length: int) -> None:
    """Item 7: a 246-byte transcript name without call_id (230 bytes of id), and a 230-character call_id, were
    ENAMETOOLONG; up to a 255-byte name works."""
    unnamed = write_json(tmp_path / ("n" * length + ".transcript.json"), threat_data())
    named = write_json(tmp_path / "named.transcript.json", threat_data("i" * length))
    result = run(capsys, "check", unnamed, named, "--out", tmp_path / "out", "--quiet")
    assert result.code == 1, result.err
    assert read_report(tmp_path / "out", "n" * length)["verdict"] == "fail"
    assert read_report(tmp_path / "out", "i" * length)["verdict"] == "fail"
    assert not [name for name in files_left(tmp_path / "out") if name.startswith(".")]


def test_an_audio_name_too_long_for_its_transcript_fails_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 7: a legal 244-byte audio file name: its transcript's name would not be (before any model is needed)."""
    audio = tmp_path / ("a" * 240 + ".wav")
    audio.write_bytes(b"RIFF")
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    result = run(capsys, "check", audio, good, "--out", tmp_path / "out")
    assert result.code == 3, result.err
    assert result.err_lines == [f"{audio}: the call id is too long for a file name (240 bytes; at most 239): give the "
                                "transcript a shorter call_id or rename the file"]
    assert [row["status"] for row in read_summary(tmp_path / "out")] == ["error", "ok"]
