"""Calls written as text: `.call` scenario files, rule examples and `etiquette rules try`.

The format is the labelled sets' (../shared/eval/README.md), read here so the
project's own scenarios never depend on a file outside the checkout:

    # id: en-tp-child-01
    # lang: en
    # expect: third_party_disclosure
    # note: a child answers; the agent mentions the overdue loan
    A: hi is your mom home
    C@130: no she's at work who is this
    A@190: ok sweetie tell her the bank called about her overdue loan payment
    [pause 3.0]

`A` is the agent, `C` the other party, `@N` a turn's pace in words a minute
(defaults: A 150, C 145). Words are timed the way the shared `scenario.py`
times them (by syllables, with the same seeded jitter), so a `.call` file gives
the same transcript through either. Two additions, for the rules measured from
the audio: `A>:` starts a turn while the other party is still talking (1.5 s
before they stop), and `A+12dB:` speaks a turn 12 dB above the speaker's usual
level (a loudness track is then added to the transcript). A rule example may
be one bare line (one agent turn); `rules try` separates turns with " / ".
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from etiquette.language import primary_language
from etiquette.types import Loudness, Role, Speaker, Transcript, Word

DEFAULT_WPM = {"agent": 150, "customer": 145}
_VOWELS = {"en": "aeiouy", "es": "aeiouáéíóúü"}
_TURN = re.compile(r"([AC])(>)?(?:@(\d+))?(?:([+-]\d+(?:\.\d+)?)\s*dB)?\s*:\s*(.*)", re.IGNORECASE)
_TOKENS = re.compile(r"[\w'áéíóúüñ]+|[,.;:?!]")
OVERLAP_SECONDS = 1.5
LOUDNESS_STEP = 0.5
BASE_LUFS = {"agent": -20.0, "customer": -22.0}


@dataclass(frozen=True)
class Turn:
    speaker: str  # "agent" | "customer" | "pause"
    wpm: float  # or the pause's seconds
    text: str = ""
    overlaps: bool = False
    gain_db: float | None = None


@dataclass
class Scenario:
    meta: dict[str, str] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)

    @property
    def expect(self) -> list[str]:
        return [item.strip() for item in self.meta.get("expect", "").split(",") if item.strip()]


class ScenarioError(ValueError):
    """A line of a scenario that is not a turn, a pause or a header."""


def parse(text: str, where: str = "scenario") -> Scenario:
    scenario = Scenario()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            header = re.match(r"#\s*(\w+)\s*:\s*(.*)", line)
            if header:
                scenario.meta[header.group(1)] = header.group(2).strip()
            continue
        pause = re.match(r"\[pause\s+([\d.]+)\]", line)
        if pause:
            scenario.turns.append(Turn("pause", float(pause.group(1))))
            continue
        turn = _TURN.fullmatch(line)
        if not turn:
            raise ScenarioError(f"{where}: cannot read line: {raw.strip()[:80]}")
        who = "agent" if turn.group(1).upper() == "A" else "customer"
        wpm = float(turn.group(3)) if turn.group(3) else DEFAULT_WPM[who]
        gain = float(turn.group(4)) if turn.group(4) else None
        scenario.turns.append(Turn(who, wpm, turn.group(5), overlaps=bool(turn.group(2)), gain_db=gain))
    return scenario


def read_call(path: Path, seed: int = 0) -> tuple[Transcript, Scenario]:
    """A `.call` file as a transcript (timed like the shared scenario tool) and its headers."""
    scenario = parse(path.read_text(encoding="utf-8-sig"), str(path))
    call_id = scenario.meta.get("id", path.stem)
    transcript = build(scenario, scenario.meta.get("lang", "en"), call_id, random.Random(f"{seed}-{path.stem}"))
    return transcript, scenario


def conversation(text: str, language: str, call_id: str = "example") -> Transcript:
    """Turns written as text ("A: ...", "C: ...", one a line or separated by " / ").

    A text without any "A:" or "C:" is one agent turn.
    """
    if "\n" not in text.strip() and " / " in text:
        text = "\n".join(part.strip() for part in text.split(" / "))
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and not any(_TURN.fullmatch(line) or line.startswith("[pause") for line in lines):
        lines = ["A: " + " ".join(lines)]
    return build(parse("\n".join(lines)), language, call_id, random.Random(f"0-{call_id}"))


def build(scenario: Scenario, language: str, call_id: str, rng: random.Random) -> Transcript:
    vowels = _VOWELS.get(primary_language(language), _VOWELS["en"])
    now, words = 0.3, []
    gains: list[tuple[str, float, float, float]] = []  # (speaker, start, end, gain) for the loudness track
    previous: tuple[float, float] | None = None
    for turn in scenario.turns:
        if turn.speaker == "pause":
            now += turn.wpm
            continue
        tokens = _TOKENS.findall(turn.text.lower())
        spoken = [token for token in tokens if re.match(r"[\w']", token)]
        if not spoken:
            continue
        if turn.overlaps and previous is not None:
            now = max(previous[0] + 0.6, previous[1] - OVERLAP_SECONDS)
        syllables = [max(1, len(re.findall(f"[{vowels}]+", token))) for token in spoken]
        per_syllable = len(spoken) / turn.wpm * 60.0 / sum(syllables)
        start, index = now, 0
        for token in tokens:
            if not re.match(r"[\w']", token):
                now += 0.12 if token == "," else 0.2
                continue
            length = syllables[index] * per_syllable * rng.uniform(0.9, 1.1)
            words.append(Word(token, round(now, 3), round(now + length * 0.92, 3), round(rng.uniform(0.82, 1.0), 3), turn.speaker))
            now += length
            index += 1
        previous = (start, now)
        gains.append((turn.speaker, start, now, turn.gain_db or 0.0))
        now += rng.uniform(0.35, 0.9)
    words.sort(key=lambda word: word.start)
    loudness = _loudness(gains, now) if any(turn.gain_db for turn in scenario.turns) else {}
    return Transcript(
        call_id=call_id,
        language=language,
        duration=round(now, 3),
        speakers={"agent": Speaker(Role.AGENT), "customer": Speaker(Role.CUSTOMER)},
        words=tuple(words),
        loudness=loudness,
    )


def _loudness(gains: list[tuple[str, float, float, float]], duration: float) -> dict[str, Loudness]:
    """A loudness track per speaker: their usual level while they speak, plus a turn's gain."""
    blocks = int(duration / LOUDNESS_STEP) + 1
    tracks: dict[str, list[float | None]] = {speaker: [None] * blocks for speaker in BASE_LUFS}
    for speaker, start, end, gain in gains:
        for block in range(int(start / LOUDNESS_STEP), min(blocks, int(end / LOUDNESS_STEP) + 1)):
            tracks[speaker][block] = BASE_LUFS[speaker] + gain
    return {speaker: Loudness(LOUDNESS_STEP, tuple(values)) for speaker, values in tracks.items()}
