"""Reading and writing transcripts in the contract's schema (etiquette.transcript/1)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from etiquette.errors import TranscriptError
from etiquette.files import atomic_write_text
from etiquette.types import Loudness, Role, Speaker, Transcript, Word

SCHEMA = "etiquette.transcript/1"
SUFFIX = ".transcript.json"


def call_id_from_path(path: Path) -> str:
    name = path.name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else path.stem


def read_transcript(path: Path) -> Transcript:
    """Parse and validate a transcript file; every problem is one TranscriptError line."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TranscriptError("not a UTF-8 text file") from None
    except OSError as error:
        raise TranscriptError(f"cannot read: {error.strerror or error}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise TranscriptError(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    return transcript_from_dict(data, default_call_id=call_id_from_path(path), source=str(path))


def transcript_from_dict(data: Any, *, default_call_id: str, source: str | None = None) -> Transcript:
    if not isinstance(data, dict):
        raise TranscriptError("the top level must be a JSON object")
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise TranscriptError(f"unsupported schema {schema!r} (expected {SCHEMA!r})")
    language = data.get("language")
    if not isinstance(language, str) or not language.strip():
        raise TranscriptError("missing field 'language' (a BCP-47 tag such as 'en' or 'es-MX')")
    speakers = _speakers(data.get("speakers"))
    words = _words(data.get("words"), speakers)
    call_id = data.get("call_id", default_call_id)
    if not isinstance(call_id, str) or not call_id.strip() or "/" in call_id or "\\" in call_id:
        raise TranscriptError("'call_id' must be a non-empty string without slashes")
    duration = data.get("duration")
    if duration is None:
        duration = max((word.end for word in words), default=0.0)
    if not _is_number(duration) or duration < 0:
        raise TranscriptError("'duration' must be a non-negative number of seconds")
    return Transcript(
        call_id=call_id.strip(),
        language=language.strip(),
        duration=float(duration),
        speakers=speakers,
        words=words,
        source=source,
        loudness=_loudness(data.get("loudness"), speakers),
        call=data.get("call"),  # checked where it is used: broken call metadata never stops the call being checked
    )


def _loudness(value: Any, speakers: dict[str, Speaker]) -> dict[str, Loudness]:
    """The optional per-speaker loudness a transcript made from audio carries."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not _is_number(value.get("step")) or value["step"] <= 0:
        raise TranscriptError("'loudness' must be an object with a positive 'step' and a list per speaker")
    levels = {}
    for speaker, values in value.get("speakers", {}).items():
        if speaker not in speakers or not isinstance(values, list):
            raise TranscriptError(f"'loudness' has a list for {speaker!r}, which is not a speaker")
        if not all(v is None or _is_number(v) for v in values):
            raise TranscriptError(f"'loudness' for {speaker!r} must hold numbers (LUFS) or null")
        levels[speaker] = Loudness(float(value["step"]), tuple(None if v is None else float(v) for v in values))
    return levels


def _speakers(value: Any) -> dict[str, Speaker]:
    if not isinstance(value, dict) or not value:
        raise TranscriptError("missing field 'speakers' (an object mapping each speaker to its role)")
    speakers = {}
    for key, entry in value.items():
        role = entry.get("role") if isinstance(entry, dict) else None
        try:
            speakers[key] = Speaker(role=Role(role), channel=entry.get("channel"))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise TranscriptError(f"speaker {key!r} has role {role!r}; expected one of: {allowed}") from None
    return speakers


def _words(value: Any, speakers: dict[str, Speaker]) -> tuple[Word, ...]:
    if not isinstance(value, list):
        raise TranscriptError("missing field 'words' (a list of words with start, end, conf and speaker)")
    words = []
    for index, entry in enumerate(value):
        where = f"words[{index}]"
        if not isinstance(entry, dict):
            raise TranscriptError(f"{where} is not an object")
        text, start, end = entry.get("word"), entry.get("start"), entry.get("end")
        conf, speaker = entry.get("conf", 1.0), entry.get("speaker")
        if not isinstance(text, str):
            raise TranscriptError(f"{where} has no 'word' text")
        if not (_is_number(start) and _is_number(end)) or start < 0 or end < start:
            raise TranscriptError(f"{where} needs numeric 'start' <= 'end' in seconds")
        if not _is_number(conf) or not 0.0 <= conf <= 1.0:
            raise TranscriptError(f"{where} has 'conf' outside 0..1")
        if speaker not in speakers:
            raise TranscriptError(f"{where} has speaker {speaker!r}, which is not a key of 'speakers'")
        words.append(Word(text=text, start=float(start), end=float(end), conf=float(conf), speaker=speaker))
    # The contract says words are in time order; a stable sort forgives exports that are not.
    words.sort(key=lambda word: word.start)
    return tuple(words)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    speakers: dict[str, dict[str, Any]] = {}
    for key, speaker in transcript.speakers.items():
        speakers[key] = {"role": speaker.role.value}
        if speaker.channel is not None:
            speakers[key]["channel"] = speaker.channel
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "call_id": transcript.call_id,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "speakers": speakers,
    }
    if transcript.loudness:
        step = next(iter(transcript.loudness.values())).step
        data["loudness"] = {
            "step": step,
            "speakers": {
                key: [None if v is None else round(v, 1) for v in level.values] for key, level in transcript.loudness.items()
            },
        }
    data["words"] = [
        {"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3), "conf": round(w.conf, 3), "speaker": w.speaker}
        for w in transcript.words
    ]
    return data


def transcript_to_json(transcript: Transcript, extra: dict[str, Any] | None = None) -> str:
    """The transcript file's text, one word a line: readable and diff-friendly.

    `extra` adds fields of the tool's own (the contract allows them), such as the
    digest of the audio it was transcribed from.
    """
    data = {**transcript_to_dict(transcript), **(extra or {})}
    words = data.pop("words")
    loudness = data.pop("loudness", None)
    head = json.dumps(data, ensure_ascii=False, indent=1)[:-2]
    if loudness is not None:  # one line per speaker, not one line per number
        lines = ",\n  ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in loudness["speakers"].items())
        head += f',\n "loudness": {{"step": {loudness["step"]}, "speakers": {{\n  {lines}\n }}}}'
    body = ",\n  ".join(json.dumps(word, ensure_ascii=False) for word in words)
    return head + ',\n "words": [' + ("\n  " + body + "\n " if words else "") + "]\n}\n"


def write_transcript(transcript: Transcript, path: Path, extra: dict[str, Any] | None = None) -> None:
    """Write atomically (see `transcript_to_json`)."""
    atomic_write_text(path, transcript_to_json(transcript, extra))
