"""`--redact`: each kind of personal data is masked in English and Spanish, spoken or
written; amounts and ordinary numbers are not; word times never move; and a redacted
run finds exactly what an unredacted one finds while none of its files (reports,
transcripts, HTML, jsonl, md) holds the personal data."""

from __future__ import annotations

import html.parser
import json
import re
import wave
from pathlib import Path

import pytest

from etiquette.cli import main
from etiquette.redact import (
    find_personal,
    is_mask,
    is_redacted,
    redact_report_dict,
    redact_text,
    redact_transcript,
)
from etiquette.transcripts import read_transcript, transcript_from_dict, write_transcript
from etiquette.types import Role, Speaker, Transcript, Word

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import DEV, SAMPLES, run
except ImportError:
    from tests.cli_helpers import DEV, SAMPLES, run

# (language, what was said, the words that must not survive, the mask they become)
PERSONAL = [
    # card numbers
    ("en", "my card number is four one one one one one one one one one one one one one one one",
     "four one one one one one one one one one one one one one one one", "card"),
    ("en", "the card is 4111 1111 1111 1111 okay", "4111 1111 1111 1111", "card"),
    ("en", "give me the last four of your card please. eight eight one two", "eight eight one two", "card"),
    ("es", "mi tarjeta es cuatro uno uno uno cuatro uno uno uno cuatro uno uno uno cuatro uno uno uno",
     "cuatro uno uno uno cuatro uno uno uno cuatro uno uno uno cuatro uno uno uno", "card"),
    ("es", "los últimos cuatro dígitos de su tarjeta por favor cinco cero siete uno", "cinco cero siete uno", "card"),
    # account numbers
    ("en", "with your account number three three one eight zero", "three three one eight zero", "account"),
    ("en", "the routing number is 263170421 and that's it", "263170421", "account"),
    ("es", "su cuenta es la cero uno dos tres cuatro cinco seis siete", "cero uno dos tres cuatro cinco seis siete", "account"),
    ("es", "el número de contrato es ochenta y ocho cuarenta y dos quince", "ochenta y ocho cuarenta y dos quince", "account"),
    # social security and national id numbers
    ("en", "my social is one two three four five six seven eight nine", "one two three four five six seven eight nine", "id"),
    ("en", "the last four of my social are twelve ninety four", "twelve ninety four", "id"),
    ("en", "social security number 123-45-6789 right", "123-45-6789", "id"),
    ("es", "mi número de seguro social es uno dos tres cuatro cinco", "uno dos tres cuatro cinco", "id"),
    ("es", "su cédula es diez veinticuatro cincuenta y ocho setenta y tres doce",
     "diez veinticuatro cincuenta y ocho setenta y tres doce", "id"),
    ("es", "mi rut es doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho guion k gracias",
     "doce millones trescientos cuarenta y cinco mil seiscientos setenta y ocho guion k", "id"),
    ("es", "el dni es treinta y cuatro millones quinientos mil", "treinta y cuatro millones quinientos mil", "id"),
    # phone numbers, with "oh" for zero and "double" / "doble"
    ("en", "you can reach me at eight hundred five five five oh one nine two", "eight hundred five five five oh one nine two", "phone"),
    ("en", "the number is eight eight eight, four one two, zero nine seven three",
     "eight eight eight, four one two, zero nine seven three", "phone"),
    ("en", "call me at five five five double oh one nine today", "five five five double oh one nine", "phone"),
    ("en", "my cell is 555-0192", "555-0192", "phone"),
    ("es", "el número es cincuenta y cinco cuarenta y dos dieciocho noventa", "cincuenta y cinco cuarenta y dos dieciocho noventa", "phone"),
    ("es", "llámeme al ochocientos doble cinco cero uno nueve dos", "ochocientos doble cinco cero uno nueve dos", "phone"),
    # dates of birth
    ("en", "i was born march third nineteen eighty", "march third nineteen eighty", "date"),
    ("en", "my date of birth is the third of march nineteen eighty", "third of march nineteen eighty", "date"),
    ("en", "can you confirm your date of birth. sure, november twenty ninth", "november twenty ninth", "date"),
    ("en", "date of birth? june nine nineteen ninety one", "june nine nineteen ninety one", "date"),
    ("en", "i was born in nineteen eighty in ohio", "nineteen eighty", "date"),
    ("en", "born 03/12/1980", "03/12/1980", "date"),
    ("es", "nací el doce de marzo del ochenta", "doce de marzo del ochenta", "date"),
    ("es", "su fecha de nacimiento por favor. el tres de octubre", "tres de octubre", "date"),
    ("es", "primero de mayo de mil novecientos noventa", "primero de mayo de mil novecientos noventa", "date"),
    # email addresses, spelled and written
    ("en", "my email is john dot smith at gmail dot com thanks", "john dot smith at gmail dot com", "email"),
    ("en", "send it to j underscore smith eighty two at yahoo dot com", "j underscore smith eighty two at yahoo dot com", "email"),
    ("en", "email me at John.Smith@example.org today", "John.Smith@example.org", "email"),
    ("es", "mi correo es juan punto perez arroba gmail punto com", "juan punto perez arroba gmail punto com", "email"),
    ("es", "mándelo a cobranza arroba credifacil punto com punto eme equis hoy", "cobranza arroba credifacil punto com punto eme equis", "email"),
]

# What is said about the debt and the call itself stays readable.
NOT_PERSONAL = [
    ("en", "the balance is four thousand one hundred twelve dollars and thirty cents"),
    ("en", "you owe three hundred eighty seven dollars and it's four months overdue"),
    ("en", "we can do twelve payments of three hundred forty two"),
    ("en", "i guess i can try one fifty starting the first"),
    ("en", "we'd need at least two hundred a month"),
    ("en", "back in twenty nineteen i paid five hundred"),
    ("en", "oh okay so one more thing, call me on june first"),
    ("en", "you can pay on the twentieth of each month"),
    ("en", "may i speak with june please"),
    ("es", "debe siete mil doscientos pesos desde hace cuatro meses"),
    ("es", "le puedo dar dos mil el viernes"),
    ("es", "un descuento del cincuenta por ciento en seis pagos de mil novecientos pesos"),
    ("es", "el primer pago para el día quince de cada mes"),
    ("es", "llega como a las nueve o diez de la noche"),
]


def _tokens(text: str) -> list[str]:
    return re.findall(r"[\w@.'/-]+", text.lower())


@pytest.mark.parametrize("language,said,secret,kind", PERSONAL, ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(PERSONAL)])
def test_each_kind_of_personal_data_is_masked(language: str, said: str, secret: str, kind: str) -> None:
    redacted = redact_text(said, language, edges=False)
    assert f"[{kind}]" in redacted, redacted
    left = _tokens(redacted)
    # every word of the secret that is not an ordinary word of the sentence is gone
    rest = said.lower().replace(secret.lower(), " ")
    for word in set(_tokens(secret)) - set(_tokens(rest)):
        assert word not in left, (word, redacted)


@pytest.mark.parametrize("language,said", NOT_PERSONAL, ids=[f"{c[0]}-{i}" for i, c in enumerate(NOT_PERSONAL)])
def test_amounts_and_ordinary_numbers_are_kept(language: str, said: str) -> None:
    assert redact_text(said, language, edges=False) == said


def _transcript(turns: list[tuple[str, str]], language: str = "en") -> Transcript:
    """A transcript of (speaker, text) turns, 0.3 s a word, with a pause between turns."""
    words, now = [], 0.0
    for speaker, text in turns:
        for token in text.split():
            words.append(Word(token, round(now, 3), round(now + 0.25, 3), 0.9, speaker))
            now += 0.3
        now += 1.0
    speakers = {"agent": Speaker(Role.AGENT), "customer": Speaker(Role.CUSTOMER)}
    return Transcript("t", language, now, speakers, tuple(words))


def test_redacted_transcript_keeps_every_word_time_and_speaker() -> None:
    transcript = _transcript([
        ("agent", "can you verify your date of birth"),
        ("customer", "april second nineteen eighty four"),
        ("agent", "thanks and the last four of your social"),
        ("customer", "zero five five one"),
        ("agent", "you owe four hundred dollars call me at eight hundred five five five zero one nine two"),
    ])
    redacted = redact_transcript(transcript)
    assert len(redacted.words) == len(transcript.words)
    for before, after in zip(transcript.words, redacted.words):
        assert (before.start, before.end, before.conf, before.speaker) == (after.start, after.end, after.conf, after.speaker)
    texts = [w.text for w in redacted.words]
    assert "april" not in texts and "eighty" not in texts and "zero" not in texts and "nine" not in texts
    assert texts.count("[date]") == 5 and texts.count("[id]") == 4 and texts.count("[phone]") == 9
    assert "four hundred dollars" in " ".join(texts)
    assert is_redacted(redacted) and not is_redacted(transcript)
    assert redact_transcript(redacted) == redacted  # masking twice changes nothing


def test_a_backchannel_does_not_split_a_number_but_a_turn_does() -> None:
    # "mhm" from the agent in the middle of the customer's phone number
    interleaved = _transcript([("customer", "it's eight eight eight four"), ("agent", "mhm"), ("customer", "one two zero nine")])
    assert all(w.text == "[phone]" for w in redact_transcript(interleaved).words[1:5])
    # a year, then (after the agent's question) the last four of a social: two numbers, both masked
    turns = _transcript([("customer", "march twenty second nineteen seventy"), ("agent", "and the last four of your social"),
                         ("customer", "zero five five one")])
    texts = [w.text for w in redact_transcript(turns).words]
    assert texts[:5] == ["[date]"] * 5 and texts[-4:] == ["[id]"] * 4


def test_each_speaker_is_read_alone() -> None:
    """Digits split between two speakers are not one number; each speaker's own are."""
    transcript = _transcript([("agent", "is it two"), ("customer", "nine"), ("agent", "or three")])
    assert not find_personal([w.text for w in transcript.words], "en", [w.speaker for w in transcript.words])


def test_evidence_cut_in_the_middle_of_a_number_is_masked_from_the_transcript() -> None:
    transcript = _transcript([("agent", "he can call us back at eight hundred five five five zero one nine two before friday")])
    words = transcript.words
    # the evidence holds only the last two digits of the number
    evidence_words = words[-4:]
    finding = {"check": "third_party_disclosure", "rule": "r", "severity": "high", "speaker": "agent",
               "start": evidence_words[0].start, "end": evidence_words[-1].end,
               "evidence": " ".join(w.text for w in evidence_words), "reference": "x", "message": "m", "explanation": ""}
    data = {"call_id": "t", "language": "en", "findings": [finding], "notes": []}
    redacted = redact_report_dict(data, transcript=transcript)
    assert redacted["findings"][0]["evidence"] == "[phone] before friday"
    assert redacted["redacted"] is True and "redacted" not in data  # the input is left alone
    # without the transcript, a digit run at the edge of the evidence is masked too
    assert redact_report_dict(data)["findings"][0]["evidence"] == "[number] before friday"


def test_the_redaction_rules_are_data() -> None:
    rules = Path(__file__).resolve().parents[1] / "etiquette" / "redaction.toml"
    text = rules.read_text(encoding="utf-8")
    for word in ("tarjeta", "cedula", "arroba", "nacimiento", "doble", "birth", "social"):
        assert word in text, word


# ------------------------------------------------------------------ end to end

# What the sample calls say that is personal data (from samples/scenarios/*.call).
SAMPLE_SECRETS = {
    "en-sample-clean": ["june ninth nineteen ninety one"],
    "en-sample-disclosure": ["eight eight eight five five five zero one seven three"],
    "en-sample-fast": ["april second nineteen eighty four", "eight hundred five five five zero one nine two"],
    "en-sample-threat": ["eight three three zero"],
    "es-sample-amenaza": ["cinco cero siete uno"],
    "es-sample-limpia": ["tres de octubre del ochenta y ocho"],
    "es-sample-rapida": ["veintidós de febrero del setenta y nueve"],
    "es-sample-tercero": ["cincuenta y cinco cuarenta y dos dieciocho noventa"],
}
DIGIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|cero|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve)"
MONTH_EN = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
MONTH_ES = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)"
# Shapes of personal data that must not survive anywhere, found independently of the redactor.
LEAKS = [
    re.compile(rf"\b{DIGIT}(?: {DIGIT}){{3,}}\b"),  # four or more spoken digits in a row
    re.compile(rf"\b{MONTH_EN}(?: \w+){{1,2}} (?:nineteen|two thousand)\b"),  # a date with a year
    re.compile(rf"\bde {MONTH_ES} del? (?:mil|dos mil|cincuenta|sesenta|setenta|ochenta|noventa)\b"),
    re.compile(r"\b(?:at|arroba) [\w ]{1,30} (?:dot|punto) (?:com|net|org)\b"),  # a spelled email
    re.compile(r"[\w.]+@[\w-]+\.\w+"),  # a written one
]


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _readable(path: Path) -> str:
    """A file's text as a reader sees it: HTML without its tags, JSON and Markdown as they are."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        parser = _Text()
        parser.feed(text)
        text = " ".join(parser.parts)
    return " ".join(text.lower().replace("\\", " ").split())


def _all_outputs(out: Path) -> dict[str, str]:
    files = [*out.iterdir(), *(out / "report").glob("*.html")]  # the call pages of --html are in report/
    return {str(path.relative_to(out)): _readable(path) for path in sorted(files)
            if path.is_file() and path.suffix in (".json", ".jsonl", ".md", ".html")}


def _finding_keys(out: Path) -> dict[str, list[tuple]]:
    keys = {}
    for path in sorted(out.glob("*.report.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        keys[data["call_id"]] = [(f["check"], f["rule"], f["start"], f["end"], f["severity"]) for f in data["findings"]]
    return keys


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample transcripts checked twice, with every output: (plain run, redacted run)."""
    plain, masked = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("masked")
    for out, extra in ((plain, []), (masked, ["--redact"])):
        arguments = ["check", str(SAMPLES / "transcripts"), "--out", str(out), "--html", "--format", "jsonl,md", "--quiet"]
        assert main(arguments + extra) == 1
    return plain, masked


def test_redaction_leaves_the_findings_of_the_samples_identical(sample_runs: tuple[Path, Path]) -> None:
    plain, masked = sample_runs
    assert _finding_keys(plain) == _finding_keys(masked)
    assert sum(len(v) for v in _finding_keys(plain).values()) > 0


def test_no_output_of_a_redacted_run_holds_the_samples_personal_data(sample_runs: tuple[Path, Path]) -> None:
    plain, masked = sample_runs
    plain_text = " ".join(_all_outputs(plain).values())
    outputs = _all_outputs(masked)
    assert {"report.html", "findings.jsonl", "summary.md"} <= outputs.keys()
    for call_id, secrets in SAMPLE_SECRETS.items():
        for secret in secrets:
            assert secret in plain_text, f"{call_id}: the unredacted outputs should show {secret!r}"
            for name, text in outputs.items():
                assert secret not in text, f"{name} shows {secret!r}"
    for name, text in outputs.items():
        for leak in LEAKS:
            assert not leak.search(text), (name, leak.search(text).group(0))
    for path in masked.glob("*.report.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["redacted"] is True


def test_the_dev_set_finds_the_same_with_and_without_redaction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not DEV.is_dir():
        pytest.skip(f"no labelled calls at {DEV}")
    plain, masked = tmp_path / "plain", tmp_path / "masked"
    for out, extra in ((plain, []), (masked, ["--redact"])):
        result = run(capsys, "check", DEV, "--out", out, "--html", "--format", "jsonl,md", "--quiet", *extra)
        assert result.code in (0, 1), result.err
    keys = _finding_keys(plain)
    assert keys == _finding_keys(masked) and len(keys) >= 10
    plain_text = " ".join(_all_outputs(plain).values())
    for leak in LEAKS[:4]:  # the dev calls do hold digits, dates of birth and spelled emails
        assert leak.search(plain_text), leak.pattern
    for name, text in _all_outputs(masked).items():
        for leak in LEAKS:
            found = leak.search(text)
            assert not found, (name, found.group(0) if found else "")


def _silent_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(2)
        stream.setsampwidth(2)
        stream.setframerate(16000)
        stream.writeframes(b"\0\0\0\0" * 16000)


@pytest.mark.parametrize("redacted", [False, True])
def test_a_saved_redacted_transcript_is_never_checked_again(
    redacted: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transcript written with --redact has masks for words: checking it would change the findings,
    so a later run transcribes the audio again instead (here: needs a model, and there is none)."""
    from etiquette.pipeline import sha256_of

    audio = tmp_path / "call.wav"
    _silent_wav(audio)
    out = tmp_path / "out"
    out.mkdir()
    transcript = _transcript([("agent", "hi is this dana"), ("customer", "yes my number is five five five zero one nine two")])
    transcript = transcript_from_dict({
        "call_id": "call", "language": "en", "speakers": {"agent": {"role": "agent"}, "customer": {"role": "customer"}},
        "words": [{"word": w.text, "start": w.start, "end": w.end, "speaker": w.speaker} for w in transcript.words],
    }, default_call_id="call")
    write_transcript(redact_transcript(transcript) if redacted else transcript, out / "call.transcript.json", extra={
        "source_sha256": sha256_of(audio), "transcribed": {"model": "m", "agent_channel": "left", "etiquette": "x"}})
    monkeypatch.setenv("ETIQUETTE_MODEL", str(tmp_path / "no-model-here"))
    result = run(capsys, "check", audio, "--out", out, "--offline", "--quiet")
    if redacted:
        assert result.code == 2 and "model" in result.err
        assert not (out / "call.report.json").exists()
    else:
        assert result.code == 0, result.err
        assert (out / "call.report.json").exists()
    assert is_redacted(read_transcript(out / "call.transcript.json")) is redacted


def test_masks_are_recognisable() -> None:
    assert is_mask("[phone]") and is_mask("[date]") and not is_mask("[laughs]") and not is_mask("phone")
