"""Issue 12, item 2: with --redact no leak the red team found survives in any file the run writes:
the report, the transcript it saves (a saved unmasked one is masked before the report points at
it), findings.jsonl, summary.md and report.html, and a card number after "paid"/"pague" that is in
a finding's evidence is masked there too."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import pytest

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import read_html, read_report, read_summary, run
except ImportError:
    from tests.cli_helpers import read_html, read_report, read_summary, run

# name: (language, turns (a turn is a text, or a list of words when a word holds spaces), what must not survive)
LEAKS: dict[str, tuple[str, list[tuple[str, str | list[str]]], list[str]]] = {
    "card-after-paid": ("en", [("agent", "you paid 4111 1111 1111 1111 you deadbeat")], ["4111", "1111"]),
    "card-after-pay-spoken": ("en", [("agent", "pay four one one one one one one one you deadbeat")], ["four one", "one one one"]),
    "card-after-pague": ("es", [("agent", "pague cuatro uno uno uno uno uno uno uno sinvergüenza")], ["cuatro uno", "uno uno"]),
    "phone-after-around": ("en", [("agent", "call around 555-0192 you deadbeat")], ["555-0192", "0192"]),
    "card-with-a-prefix": ("en", [("agent", "your cc#5500000000000004 you deadbeat")], ["5500", "0004", "cc#"]),
    "ssn-with-a-prefix": ("en", [("agent", "ssn:123-45-6789 you deadbeat")], ["123-45", "6789"]),
    "phone-with-a-prefix": ("en", [("agent", "tel.5558675309 you deadbeat")], ["5558675309", "8675309", "tel."]),
    "phone-in-chunks": ("en", [("agent", "five five five"), ("customer", "uh huh go on then"), ("agent", "oh one"),
                               ("customer", "uh huh go on then"), ("agent", "nine two you deadbeat")],
                        ["five five five", "oh one", "nine two"]),
    "date-of-birth": ("en", [("agent", "your date of birth 14 june 1975 you deadbeat")], ["birth 14", "14 june", "1975"]),
    "word-holding-spaces": ("en", [("agent", ["6011 0009 9013 9424", "you", "deadbeat"])], ["6011", "0009", "9424"]),
    "email-without-a-domain": ("en", [("agent", "john smith at gmail you deadbeat")], ["smith at gmail", "at gmail"]),
    "email-with-at-in-brackets": ("en", [("agent", "john.smith(at)gmail.com you deadbeat")], ["smith(at)", "gmail.com"]),
}
OUTPUTS = ["report", "transcript", "findings.jsonl", "summary.md", "report.html"]


def _transcript(name: str, language: str, turns: list[tuple[str, str | list[str]]], audio: bytes) -> dict:
    """What an earlier run without --redact saved after transcribing `audio`: unmasked."""
    words, now = [], 0.5
    for speaker, text in turns:
        for word in text.split() if isinstance(text, str) else text:
            words.append({"word": word, "start": round(now, 2), "end": round(now + 0.3, 2), "conf": 0.9, "speaker": speaker})
            now += 0.4
        now += 0.8
    return {"schema": "etiquette.transcript/1", "call_id": name, "language": language, "duration": round(now, 2),
            "speakers": {"agent": {"role": "agent", "channel": 0}, "customer": {"role": "customer", "channel": 1}},
            "words": words, "source_sha256": hashlib.sha256(audio).hexdigest(),
            "transcribed": {"model": "an earlier run", "agent_channel": "left", "etiquette": "0.1.0"}}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One --redact run per language over audio whose unmasked transcripts an earlier run saved."""
    from etiquette.cli import main

    folders = {}
    for language in ("en", "es"):
        calls = tmp_path_factory.mktemp(f"calls-{language}")
        out = tmp_path_factory.mktemp(f"out-{language}")
        for name, (said_in, turns, _) in LEAKS.items():
            if said_in != language:
                continue
            audio = f"not decoded: the saved transcript of {name} is used".encode()
            (calls / f"{name}.wav").write_bytes(audio)
            (out / f"{name}.transcript.json").write_text(json.dumps(_transcript(name, language, turns, audio)), encoding="utf-8")
        code = main(["check", str(calls), "--out", str(out), "--language", language, "--redact", "--html",
                     "--format", "jsonl,md", "--quiet"])
        assert code == 1
        assert {row["status"] for row in read_summary(out)} == {"ok"}
        folders[language] = out
    return folders


def _text(path: Path) -> str:
    text = read_html(path.parent) if path.name == "report.html" else path.read_text(encoding="utf-8")
    if path.suffix == ".html":  # what a reader of the pages (the index and each call's) sees
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.split())


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("case", list(LEAKS))
def test_no_leak_survives_in_any_output(outputs: dict[str, Path], case: str, output: str) -> None:
    language, _, secrets = LEAKS[case]
    out = outputs[language]
    name = {"report": f"{case}.report.json", "transcript": f"{case}.transcript.json"}.get(output, output)
    text = _text(out / name)
    if output in ("report", "transcript"):
        assert "[" in text  # a mask is there, in place of what was said
    for secret in secrets:
        assert secret not in text, (case, output, secret)


@pytest.mark.parametrize("case", ["card-after-paid", "card-after-pague", "phone-after-around"])
def test_a_number_in_a_findings_evidence_is_masked(outputs: dict[str, Path], case: str) -> None:
    language = LEAKS[case][0]
    evidence = [finding["evidence"] for finding in read_report(outputs[language], case)["findings"]]
    assert any(re.search(r"\[(card|phone|number)\]", text) for text in evidence), evidence
    jsonl = [json.loads(line) for line in (outputs[language] / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [record["evidence"] for record in jsonl if record["call_id"] == case] == evidence


def test_the_saved_transcript_is_masked_before_the_report_points_at_it(outputs: dict[str, Path]) -> None:
    report = read_report(outputs["en"], "card-after-paid")
    saved = json.loads((outputs["en"] / "card-after-paid.transcript.json").read_text(encoding="utf-8"))
    assert report["transcript"].endswith("card-after-paid.transcript.json") and report["redacted"] is True
    assert [word["word"] for word in saved["words"]][:3] == ["you", "paid", "[card]"]
