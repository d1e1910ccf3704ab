"""The shared vocabulary of every stage: words, transcripts, findings, results.

Everything before `Transcript` produces one; everything after it reads one.
The objects are frozen so that no stage can quietly change what another one saw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from etiquette.language import primary_language, region_of


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


class Verdict(str, enum.Enum):
    """What a call's report concludes.

    `incomplete`: no finding fails the call, but some check could not run (no rule
    file for the language, a mono recording...), so nobody can call it a pass.
    """

    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float  # seconds from the start of the call
    end: float
    conf: float  # recogniser confidence, 0..1
    speaker: str  # a key of Transcript.speakers


class SpanOfWords:
    """Something made of consecutive words (a turn, a stretch of speech): where it starts and ends."""

    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end


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
    notes: tuple[str, ...] = ()  # what the reader of its report should know about the recording
    call: Mapping | None = None  # the transcript's `call` object (call metadata, read by etiquette.manifest), as given

    @property
    def primary_language(self) -> str:
        return primary_language(self.language)

    @property
    def region(self) -> str | None:
        return region_of(self.language)

    def speakers_with_role(self, role: Role) -> set[str]:
        return {key for key, speaker in self.speakers.items() if speaker.role is role}

    @property
    def has_attribution(self) -> bool:
        """True when we know which words are the agent's (stereo audio or a labelled transcript)."""
        return bool(self.speakers_with_role(Role.AGENT))


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # the name of the check that raised it (a key of the check registry)
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
class Series:
    """A measure over the call that a check computed and a chart can draw (the agent's rate line)."""

    name: str  # the check that measured it
    speaker: str
    unit: str  # "wpm"
    points: tuple[tuple[float, float], ...]  # (call time in seconds, value)
    threshold: float | None = None
    caption: str = ""


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Metrics:
    """Numbers a check measured: per speaker, for the call as a whole, and series to draw.

    Per-speaker and call-level figures are kept apart, so a speaker named "call"
    never collides with the call's own figures.
    """

    speakers: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    call: Mapping[str, float] = field(default_factory=dict)
    series: tuple[Series, ...] = ()

    def __getitem__(self, speaker: str) -> Mapping[str, float]:
        """One speaker's figures: `metrics["agent"]["wpm"]`."""
        return self.speakers[speaker]

    def merged(self, other: "Metrics") -> "Metrics":
        speakers = {key: dict(values) for key, values in self.speakers.items()}
        for key, values in other.speakers.items():
            speakers.setdefault(key, {}).update(values)
        return Metrics(
            speakers=_frozen({key: _frozen(values) for key, values in speakers.items()}),
            call=_frozen({**self.call, **other.call}),
            series=self.series + other.series,
        )


NO_METRICS = Metrics()


@dataclass(frozen=True)
class CheckOutput:
    """What one check returns for one call."""

    findings: tuple[Finding, ...] = ()
    metrics: Metrics = NO_METRICS
    notes: tuple[str, ...] = ()
    incomplete: str = ""  # part of the check could not run, and why (the call is then not a pass)


@dataclass(frozen=True)
class CheckResult:
    """What the checks found in one transcript, and which of them could not run."""

    findings: tuple[Finding, ...]
    metrics: Metrics = NO_METRICS
    skipped: tuple[SkippedCheck, ...] = ()
    notes: tuple[str, ...] = ()

    def verdict(self, fail_on: Severity) -> Verdict:
        if any(finding.severity >= fail_on for finding in self.findings):
            return Verdict.FAIL
        return Verdict.INCOMPLETE if self.skipped else Verdict.PASS
