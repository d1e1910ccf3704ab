"""Reading and writing transcripts in the contract's schema (etiquette.transcript/1)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from etiquette.errors import TranscriptError
from etiquette.files import atomic_write_text
from etiquette.language import EXAMPLES, LanguageTagError, parse_tag
from etiquette.printable import encodable
from etiquette.types import Loudness, Role, Speaker, Transcript, Word

SCHEMA = "etiquette.transcript/1"
SUFFIX = ".transcript.json"
MAX_SECONDS = 24 * 3600.0  # no call is longer: times beyond are damage, and would size charts and loops
MIN_LOUDNESS_STEP = 0.01  # seconds; finer loudness is noise, and would make the checks' work explode


def call_id_from_path(path: Path) -> str:
    name = path.name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else path.stem


def read_transcript(path: Path) -> Transcript:
    """Parse and validate a transcript file; every problem is one TranscriptError line.

    Whatever the file holds (deep nesting, huge numbers, wrong shapes), the
    result is a Transcript or a TranscriptError, never another exception.
    """
    try:
        raw = path.read_bytes().decode("utf-8-sig")  # a byte-order mark is harmless
    except UnicodeDecodeError:
        raise TranscriptError("not a UTF-8 text file") from None
    except OSError as error:
        raise TranscriptError(f"cannot read: {error.strerror or error}") from None
    return transcript_from_dict(parse_json(raw), default_call_id=call_id_from_path(path), source=str(path))


def parse_json(raw: str) -> Any:
    """JSON text as data, or one TranscriptError line (also for nesting too deep or an integer too long)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise TranscriptError(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:
        raise TranscriptError("not a transcript: its JSON is nested too deeply") from None
    except ValueError as error:  # an integer of thousands of digits
        raise TranscriptError(f"not valid JSON ({str(error).split(':')[0]})") from None


def transcript_from_dict(data: Any, *, default_call_id: str, source: str | None = None) -> Transcript:
    if not isinstance(data, dict):
        raise TranscriptError("the top level must be a JSON object")
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise TranscriptError(f"unsupported schema {_quoted(schema)} (expected {SCHEMA!r})")
    language = data.get("language")
    if not isinstance(language, str) or not language.strip():
        raise TranscriptError("missing field 'language' (a BCP-47 tag such as 'en' or 'es-MX')")
    try:
        parse_tag(language)
    except LanguageTagError:
        raise TranscriptError(f"'language' {_quoted(language)} is not a BCP-47 language tag (for example {EXAMPLES})") from None
    speakers = _speakers(data.get("speakers"))
    words = _words(data.get("words"), speakers)
    call_id = data.get("call_id", default_call_id)
    if not isinstance(call_id, str) or not call_id.strip() or "/" in call_id or "\\" in call_id:
        raise TranscriptError("'call_id' must be a non-empty string without slashes")
    duration = data.get("duration")
    if duration is None:
        duration = max((word.end for word in words), default=0.0)
    duration = _seconds(duration)
    if duration is None:
        raise TranscriptError(f"'duration' must be a non-negative number of seconds, at most {MAX_SECONDS:g} (24 hours)")
    return Transcript(
        call_id=call_id.strip(),
        language=language.strip(),
        duration=duration,
        speakers=speakers,
        words=words,
        source=source,
        loudness=_loudness(data.get("loudness"), speakers, max(duration, words[-1].end if words else 0.0)),
        notes=_notes(data.get("notes")),
        call=data.get("call"),  # checked where it is used: broken call metadata never stops the call being checked
    )


def _notes(value: Any) -> tuple[str, ...]:
    """Notes about the recording that a transcript made from audio carries (channels left out...)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(note, str) and encodable(note) for note in value):
        raise TranscriptError("'notes' must be a list of strings")
    return tuple(value)


def _loudness(value: Any, speakers: dict[str, Speaker], duration: float) -> dict[str, Loudness]:
    """The optional per-speaker loudness a transcript made from audio carries: a value every
    `step` seconds (at least MIN_LOUDNESS_STEP), no more values than the call has steps."""
    if value is None:
        return {}
    shape = "'loudness' must be an object with a 'step' in seconds and an object of lists, one per speaker"
    if not isinstance(value, dict) or not isinstance(value.get("speakers", {}), dict):
        raise TranscriptError(shape)
    step = _seconds(value.get("step"))
    if step is None or step < MIN_LOUDNESS_STEP:
        raise TranscriptError(f"'loudness' needs a 'step' of {MIN_LOUDNESS_STEP:g} to {MAX_SECONDS:g} seconds")
    most = math.ceil(duration / step * 1.01) + 4  # a little slack: decoders round the last block
    levels = {}
    for speaker, values in value.get("speakers", {}).items():
        if speaker not in speakers or not isinstance(values, list):
            raise TranscriptError(f"'loudness' has a list for {_quoted(speaker)}, which is not a speaker")
        if len(values) > most:
            raise TranscriptError(f"'loudness' for {_quoted(speaker)} has {len(values)} values, more than the call "
                                  f"has steps of {step:g} s ({most})")
        numbers = tuple(None if v is None else _number(v) for v in values)
        if any(number is None for number, v in zip(numbers, values) if v is not None):
            raise TranscriptError(f"'loudness' for {_quoted(speaker)} must hold numbers (LUFS) or null")
        levels[speaker] = Loudness(step, numbers)
    return levels


def _speakers(value: Any) -> dict[str, Speaker]:
    if not isinstance(value, dict) or not value:
        raise TranscriptError("missing field 'speakers' (an object mapping each speaker to its role)")
    speakers = {}
    for key, entry in value.items():
        if not encodable(key):
            raise TranscriptError("a speaker's name is not Unicode text")
        role = entry.get("role") if isinstance(entry, dict) else None
        try:
            role = Role(role)
        except (ValueError, TypeError):
            allowed = ", ".join(r.value for r in Role)
            raise TranscriptError(f"speaker {_quoted(key)} has role {_quoted(role)}; expected one of: {allowed}") from None
        channel = entry.get("channel")
        if channel is not None and (type(channel) is not int or not 0 <= channel < 1024):
            raise TranscriptError(f"speaker {_quoted(key)} has a 'channel' that is not a channel number")
        speakers[key] = Speaker(role=role, channel=channel)
    return speakers


def _words(value: Any, speakers: dict[str, Speaker]) -> tuple[Word, ...]:
    if not isinstance(value, list):
        raise TranscriptError("missing field 'words' (a list of words with start, end, conf and speaker)")
    words = []
    for index, entry in enumerate(value):
        where = f"words[{index}]"
        if not isinstance(entry, dict):
            raise TranscriptError(f"{where} is not an object")
        text, start, end = entry.get("word"), _seconds(entry.get("start")), _seconds(entry.get("end"))
        conf, speaker = _number(entry.get("conf", 1.0)), entry.get("speaker")
        if not isinstance(text, str) or not encodable(text):
            raise TranscriptError(f"{where} has no 'word' text (or text that is not Unicode)")
        if start is None or end is None or end < start:
            raise TranscriptError(f"{where} needs numeric 'start' <= 'end' in seconds, from 0 to {MAX_SECONDS:g} (24 hours)")
        if conf is None or not 0.0 <= conf <= 1.0:
            raise TranscriptError(f"{where} has 'conf' outside 0..1")
        if not isinstance(speaker, str) or speaker not in speakers:
            raise TranscriptError(f"{where} has speaker {_quoted(speaker)}, which is not a key of 'speakers'")
        words.append(Word(text=text, start=start, end=end, conf=conf, speaker=speaker))
    # The contract says words are in time order; a stable sort forgives exports that are not.
    words.sort(key=lambda word: word.start)
    return tuple(words)


def _number(value: Any) -> float | None:
    """A JSON number as a finite float, or None (a bool, a string, an integer too big for a float...)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _seconds(value: Any) -> float | None:
    """A time in a call: a number from 0 to MAX_SECONDS, or None."""
    number = _number(value)
    return number if number is not None and 0.0 <= number <= MAX_SECONDS else None


def _quoted(value: Any) -> str:
    """A value from the file, quoted for a message: escaped, and short."""
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
    if transcript.notes:
        data["notes"] = list(transcript.notes)
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


def as_stored(transcript: Transcript) -> Transcript:
    """The transcript as its file keeps it (times, confidences and loudness rounded), which is what a later
    run reads back: a call checked as it is transcribed gives the report a re-check from its file gives."""
    return transcript_from_dict(transcript_to_dict(transcript), default_call_id=transcript.call_id, source=transcript.source)


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
