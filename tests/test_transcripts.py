"""etiquette.transcripts: the contract's transcript schema, read, validated and written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from etiquette.errors import TranscriptError
from etiquette.transcripts import SCHEMA, read_transcript, transcript_to_dict, write_transcript
from etiquette.types import Role, Speaker, Transcript, Word

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "transcripts" / "es-sample-tercero.transcript.json"


def valid() -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "call_id": "en-roundtrip-01",
        "language": "en-US",
        "duration": 4.5,
        "speakers": {"agent": {"role": "agent", "channel": 0}, "customer": {"role": "customer", "channel": 1}},
        "words": [
            {"word": "hello", "start": 0.3, "end": 0.62, "conf": 0.97, "speaker": "agent"},
            {"word": "is", "start": 0.7, "end": 0.8, "conf": 1.0, "speaker": "agent"},
            {"word": "maría", "start": 0.85, "end": 1.3, "conf": 0.61, "speaker": "agent"},
            {"word": "speaking", "start": 2.0, "end": 2.5, "conf": 0.9, "speaker": "customer"},
        ],
    }


def write(tmp_path: Path, data: Any, name: str = "call.transcript.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ================================================================== reading and writing


def test_read_gives_typed_objects(tmp_path: Path) -> None:
    path = write(tmp_path, valid())
    tr = read_transcript(path)
    assert tr.call_id == "en-roundtrip-01" and tr.language == "en-US" and tr.duration == 4.5
    assert tr.primary_language == "en" and tr.region == "US"
    assert tr.speakers == {"agent": Speaker(Role.AGENT, channel=0), "customer": Speaker(Role.CUSTOMER, channel=1)}
    assert tr.words[2] == Word(text="maría", start=0.85, end=1.3, conf=0.61, speaker="agent")
    assert tr.source == str(path)
    assert tr.has_attribution


def test_write_then_read_gives_the_same_transcript(tmp_path: Path) -> None:
    first = read_transcript(write(tmp_path, valid()))
    again_path = tmp_path / "copy.transcript.json"
    write_transcript(first, again_path)
    again = read_transcript(again_path)
    assert again.source == str(again_path)
    assert _without_source(again) == _without_source(first)
    # What was written is the contract's JSON, byte-for-byte stable on a second write.
    data = json.loads(again_path.read_text(encoding="utf-8"))
    assert data == transcript_to_dict(first)
    assert data["schema"] == SCHEMA and data["words"][2]["word"] == "maría"
    write_transcript(again, tmp_path / "third.transcript.json")
    assert (tmp_path / "third.transcript.json").read_text(encoding="utf-8") == again_path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_sample_transcript_round_trips(tmp_path: Path) -> None:
    original = read_transcript(SAMPLE)
    write_transcript(original, tmp_path / "out.transcript.json")
    assert _without_source(read_transcript(tmp_path / "out.transcript.json")) == _without_source(original)
    assert len(original.words) > 50


def test_writes_one_word_a_line(tmp_path: Path) -> None:
    tr = read_transcript(write(tmp_path, valid()))
    write_transcript(tr, tmp_path / "out.transcript.json")
    lines = (tmp_path / "out.transcript.json").read_text(encoding="utf-8").splitlines()
    assert sum('"word":' in line for line in lines) == len(tr.words)
    assert all(line.count('"word":') <= 1 for line in lines)


def test_empty_words_round_trip(tmp_path: Path) -> None:
    data = valid() | {"words": []}
    tr = read_transcript(write(tmp_path, data))
    assert tr.words == () and tr.duration == 4.5
    write_transcript(tr, tmp_path / "out.transcript.json")
    assert _without_source(read_transcript(tmp_path / "out.transcript.json")) == _without_source(tr)


def test_missing_call_id_is_the_file_name(tmp_path: Path) -> None:
    data = valid()
    del data["call_id"]
    tr = read_transcript(write(tmp_path, data, "es-llamada-07.transcript.json"))
    assert tr.call_id == "es-llamada-07"


def test_optional_fields_have_defaults(tmp_path: Path) -> None:
    data = valid()
    del data["schema"], data["duration"]
    del data["words"][0]["conf"]
    tr = read_transcript(write(tmp_path, data))
    assert tr.words[0].conf == 1.0
    assert tr.duration == 2.5  # the end of the last word


def test_words_out_of_order_are_put_in_time_order(tmp_path: Path) -> None:
    data = valid()
    data["words"].reverse()
    tr = read_transcript(write(tmp_path, data))
    assert [w.text for w in tr.words] == ["hello", "is", "maría", "speaking"]


# ================================================================== malformed transcripts


def _edit(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    data = copy.deepcopy(valid())
    change(data)
    return data


MALFORMED = {
    "missing language": (_edit(lambda d: d.pop("language")), "missing field 'language'"),
    "empty language": (_edit(lambda d: d.update(language=" ")), "missing field 'language'"),
    "missing words": (_edit(lambda d: d.pop("words")), "missing field 'words'"),
    "words not a list": (_edit(lambda d: d.update(words={"word": "hi"})), "missing field 'words'"),
    "missing speakers": (_edit(lambda d: d.pop("speakers")), "missing field 'speakers'"),
    "unknown role": (_edit(lambda d: d["speakers"]["agent"].update(role="boss")),
                     "speaker 'agent' has role 'boss'; expected one of: agent, customer, unknown"),
    "word by an unknown speaker": (_edit(lambda d: d["words"][1].update(speaker="narrator")),
                                   "words[1] has speaker 'narrator', which is not a key of 'speakers'"),
    "end before start": (_edit(lambda d: d["words"][2].update(start=1.3, end=0.85)),
                         "words[2] needs numeric 'start' <= 'end' in seconds"),
    "negative start": (_edit(lambda d: d["words"][0].update(start=-0.1)), "words[0] needs numeric 'start' <= 'end'"),
    "start as text": (_edit(lambda d: d["words"][0].update(start="0.3")), "words[0] needs numeric 'start' <= 'end'"),
    "conf above 1": (_edit(lambda d: d["words"][3].update(conf=1.2)), "words[3] has 'conf' outside 0..1"),
    "conf below 0": (_edit(lambda d: d["words"][3].update(conf=-0.01)), "words[3] has 'conf' outside 0..1"),
    "word without text": (_edit(lambda d: d["words"][0].pop("word")), "words[0] has no 'word' text"),
    "word not an object": (_edit(lambda d: d["words"].__setitem__(1, "is")), "words[1] is not an object"),
    "wrong schema": (_edit(lambda d: d.update(schema="whisperx/2")),
                     "unsupported schema 'whisperx/2' (expected 'etiquette.transcript/1')"),
    "call id with a slash": (_edit(lambda d: d.update(call_id="../escape")), "'call_id' must be a non-empty string"),
    "negative duration": (_edit(lambda d: d.update(duration=-1)), "'duration' must be a non-negative number"),
    "not an object": ([valid()], "the top level must be a JSON object"),
    "not JSON": ('{"schema": "etiquette.transcript/1", "language": ', "not valid JSON (line 1, column"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_transcripts_are_one_line_errors(tmp_path: Path, case: str) -> None:
    data, message = MALFORMED[case]
    with pytest.raises(TranscriptError) as error:
        read_transcript(write(tmp_path, data))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_errors_never_quote_the_words(tmp_path: Path) -> None:
    # Transcripts are personal data: messages name fields and positions, not what was said.
    data = _edit(lambda d: d["words"][2].update(conf=7))
    with pytest.raises(TranscriptError) as error:
        read_transcript(write(tmp_path, data))
    assert "maría" not in str(error.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.transcript.json"
    path.write_bytes(json.dumps(valid(), ensure_ascii=False).encode("latin-1"))
    with pytest.raises(TranscriptError, match="not a UTF-8 text file"):
        read_transcript(path)


def test_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "folder.transcript.json").mkdir()
    with pytest.raises(TranscriptError, match="cannot read"):
        read_transcript(tmp_path / "folder.transcript.json")


def _without_source(tr: Transcript) -> Transcript:
    return Transcript(tr.call_id, tr.language, tr.duration, tr.speakers, tr.words, source=None)


def test_a_transcript_as_stored_is_what_its_file_gives_back(tmp_path: Path) -> None:
    """A call is checked as its file keeps it, so re-checking it from the file gives the same report."""
    import dataclasses

    from etiquette.transcripts import as_stored
    from etiquette.types import Loudness

    fresh = Transcript(
        call_id="c1", language="ko", duration=12.3456789,
        speakers={"agent": Speaker(Role.AGENT, 0), "customer": Speaker(Role.CUSTOMER, 1)},
        words=(Word("네", 0.3333333, 0.6666666, 0.98765432, "agent"), Word("안녕", 1.0004999, 1.2345678, 0.5, "customer")),
        loudness={"agent": Loudness(0.5, (-20.74999, None, -31.25001)), "customer": Loudness(0.5, (-19.95, -20.05, None))},
    )
    write_transcript(fresh, tmp_path / "c1.transcript.json")
    read_back = read_transcript(tmp_path / "c1.transcript.json")
    stored = as_stored(fresh)
    assert stored != fresh  # rounded: the fresh one has more digits than the file keeps
    assert stored == dataclasses.replace(read_back, source=fresh.source)
