"""The shared vocabulary of every stage: words, transcripts, findings, reports.

Everything before `Transcript` produces one; everything after it reads one.
The objects are frozen so that no stage can quietly change what another one saw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(str, enum.Enum):
    AGENT = "agent"  # the collector
    CUSTOMER = "customer"  # whoever else is on the line: debtor, relative, voicemail greeting
    UNKNOWN = "unknown"  # mono recordings: nobody can tell who said what


class Severity(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float  # seconds from the start of the call
    end: float
    conf: float  # recogniser confidence, 0..1
    speaker: str  # a key of Transcript.speakers


@dataclass(frozen=True, slots=True)
class Speaker:
    role: Role
    channel: int | None = None  # audio channel the words came from, when known


MIXED_SPEAKER = "mixed"  # the one speaker of a mono recording


@dataclass(frozen=True, slots=True)
class Loudness:
    """One channel's loudness over the call: a BS.1770 value (LUFS) every `step` seconds.

    None where the block is silent (below the standard's absolute gate).
    """

    step: float
    values: tuple[float | None, ...]

    def at(self, index: int) -> float:
        """Start time of block `index`."""
        return index * self.step


@dataclass(frozen=True, slots=True)
class Transcript:
    call_id: str
    language: str  # BCP-47 tag: "en", "es-MX", ...
    duration: float
    speakers: dict[str, Speaker]
    words: tuple[Word, ...]
    source: str | None = None  # the file it was read or transcribed from
    loudness: dict[str, Loudness] = field(default_factory=dict)  # per speaker, when made from audio

    @property
    def primary_language(self) -> str:
        return self.language.split("-")[0].lower()

    @property
    def region(self) -> str | None:
        parts = self.language.split("-")
        return parts[1].upper() if len(parts) > 1 else None

    def speakers_with_role(self, role: Role) -> set[str]:
        return {key for key, speaker in self.speakers.items() if speaker.role is role}

    @property
    def has_attribution(self) -> bool:
        """True when we know which words are the agent's (stereo audio or a labelled transcript)."""
        return bool(self.speakers_with_role(Role.AGENT))


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # speaking_rate | third_party_disclosure | aggressive_language
    rule: str  # the rule id in the rule files
    severity: Severity
    speaker: str
    start: float
    end: float
    evidence: str  # the words said
    reference: str  # the legal citation
    message: str  # what the rule says is wrong
    explanation: str = ""  # why this moment, in plain words


@dataclass(frozen=True, slots=True)
class SkippedCheck:
    check: str
    reason: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What the checks found in one transcript."""

    findings: tuple[Finding, ...]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: tuple[SkippedCheck, ...] = ()
    notes: tuple[str, ...] = ()
