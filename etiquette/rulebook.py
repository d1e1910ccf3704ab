"""Loading the rule files: what the checks look for, per language and jurisdiction.

Each language has one TOML file in `etiquette/rules/` (or a folder given with
`--rules`). A file holds:

- `[jurisdictions.X]`: which regions of the language tag map to X, and its
  settings (for example whether the debtor's spouse counts as the consumer);
- `[text]`: fillers to ignore and how the language negates;
- `[speaking_rate]`: thresholds;
- `[vocab]`: named word lists used in patterns as `{NAME}`;
- `[cues.NAME]`: conversation cues (someone confirms being the debtor, a
  voicemail greeting, debt talk...), each with patterns and examples;
- `[[rules]]`: the rules findings are raised under, each with an id, check,
  severity, message, why, known false positives, references per jurisdiction
  and examples that must fire and must not.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from etiquette.matching import Negation, compile_pattern, fold
from etiquette.errors import RulesError
from etiquette.types import Role, Severity, Speaker, Transcript, Word

RULES_DIR = Path(__file__).parent / "rules"
CHECKS = ("speaking_rate", "third_party_disclosure", "aggressive_language")  # the contract's three
AUDIO_CHECKS = ("interruptions", "dead_air")  # measured from the recording, any language

# Built-in gaps for patterns: {W3} is "up to three more words".
_GAPS = {f"W{n}": [rf"(?:[\w']+ ){{0,{n}}}"] for n in range(1, 9)}


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    regions: tuple[str, ...]
    spouse_is_consumer: bool


@dataclass(frozen=True)
class PatternSet:
    """Named patterns with the examples that document (and test) them."""

    name: str
    description: str
    patterns: tuple[re.Pattern[str], ...]
    sources: tuple[str, ...]
    matches: tuple[str, ...] = ()
    no_matches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    check: str
    severity: Severity
    message: str
    why: str
    false_positives: str
    references: dict[str, str]
    patterns: PatternSet | None
    negatable: bool
    negation_inside: bool  # a negator inside the matched words cancels it (off when the pattern itself says "without a court")
    exceptions: tuple[re.Pattern[str], ...]  # matches overlapping these are not findings ("police report")
    fire: tuple[str, ...]
    pass_: tuple[str, ...]
    language: str

    def reference(self, jurisdiction: Jurisdiction) -> str:
        return self.references.get(jurisdiction.code) or self.references.get("default", "")


@dataclass(frozen=True)
class RateSettings:
    threshold_wpm: float
    window_seconds: float
    part_seconds: float
    min_part_wpm: float
    max_gap_seconds: float


@dataclass(frozen=True)
class RuleSet:
    language: str
    path: Path
    jurisdictions: dict[str, Jurisdiction]
    default_jurisdiction: str
    fillers: frozenset[str]
    function_words: frozenset[str]  # never a person's name
    negation: Negation
    rate: RateSettings
    cues: dict[str, PatternSet]
    rules: tuple[Rule, ...]
    vocab: dict[str, list[str]] = field(repr=False, default_factory=dict)

    def jurisdiction_for(self, language_tag: str) -> Jurisdiction:
        parts = language_tag.replace("_", "-").split("-")
        region = parts[1].upper() if len(parts) > 1 else ""
        for jurisdiction in self.jurisdictions.values():
            if region and region in jurisdiction.regions:
                return jurisdiction
        return self.jurisdictions[self.default_jurisdiction]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rules_for(self, check: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.check == check)

    def cue(self, name: str) -> PatternSet:
        try:
            return self.cues[name]
        except KeyError:
            raise RulesError(f"{self.path}: missing cue [cues.{name}]") from None


def available_languages(rules_dir: Path = RULES_DIR) -> list[str]:
    return sorted(path.stem for path in rules_dir.glob("*.toml") if path.stem not in NON_LANGUAGE_FILES)


NON_LANGUAGE_FILES = {"audio", "redaction"}


@lru_cache(maxsize=None)
def load_rules(language: str, rules_dir: Path = RULES_DIR) -> RuleSet | None:
    """The rules for a language tag's primary language, or None if there is no rule file."""
    primary = language.replace("_", "-").split("-")[0].lower()
    path = rules_dir / f"{primary}.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _build(primary, path, data)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as error:
        raise RulesError(f"{path}: {type(error).__name__}: {error}") from None


def _build(language: str, path: Path, data: dict) -> RuleSet:
    vocab = {**_GAPS, **data.get("vocab", {})}
    text = data["text"]
    negation = text["negation"]
    rate = data["speaking_rate"]
    jurisdictions = {
        code: Jurisdiction(
            code=code,
            name=entry["name"],
            regions=tuple(region.upper() for region in entry.get("regions", [])),
            spouse_is_consumer=bool(entry.get("spouse_is_consumer", False)),
        )
        for code, entry in data["jurisdictions"].items()
    }
    default = data["default_jurisdiction"]
    if default not in jurisdictions:
        raise ValueError(f"default_jurisdiction {default!r} is not defined")
    cues = {name: _pattern_set(name, entry, vocab) for name, entry in data.get("cues", {}).items()}
    rules = []
    for entry in data.get("rules", []):
        if entry["check"] not in CHECKS:
            raise ValueError(f"rule {entry['id']}: unknown check {entry['check']!r}")
        examples = entry.get("examples", {})
        rules.append(
            Rule(
                id=entry["id"],
                check=entry["check"],
                severity=Severity(entry["severity"]),
                message=entry["message"],
                why=entry.get("why", ""),
                false_positives=entry.get("false_positives", ""),
                references=dict(entry.get("references", {})),
                patterns=_pattern_set(entry["id"], entry, vocab) if entry.get("patterns") else None,
                negatable=bool(entry.get("negatable", True)),
                negation_inside=bool(entry.get("negation_inside", True)),
                exceptions=tuple(compile_pattern(source, vocab) for source in entry.get("exceptions", [])),
                fire=tuple(examples.get("fire", [])),
                pass_=tuple(examples.get("pass", [])),
                language=language,
            )
        )
    return RuleSet(
        language=language,
        path=path,
        jurisdictions=jurisdictions,
        default_jurisdiction=default,
        fillers=frozenset(text.get("fillers", [])),
        function_words=frozenset(text.get("function_words", [])),
        negation=Negation(
            words=frozenset(negation["words"]),
            weak=frozenset(negation.get("weak", [])),
            weak_followers=frozenset(negation.get("weak_followers", [])),
            weak_blockers=frozenset(negation.get("weak_blockers", [])),
            breakers=frozenset(negation.get("breakers", [])),
            conditionals=frozenset(negation.get("conditionals", [])),
            hedges=frozenset(negation.get("hedges", [])),
            weak_after=frozenset(negation.get("weak_after", [])),
            window=int(negation.get("window", 6)),
        ),
        rate=RateSettings(
            threshold_wpm=float(rate["threshold_wpm"]),
            window_seconds=float(rate["window_seconds"]),
            part_seconds=float(rate["part_seconds"]),
            min_part_wpm=float(rate["min_part_wpm"]),
            max_gap_seconds=float(rate["max_gap_seconds"]),
        ),
        cues=cues,
        rules=tuple(rules),
        vocab=vocab,
    )


def _pattern_set(name: str, entry: dict, vocab: dict[str, list[str]]) -> PatternSet:
    sources = tuple(entry["patterns"])
    examples = entry.get("examples", {})
    return PatternSet(
        name=name,
        description=entry.get("description", ""),
        patterns=tuple(compile_pattern(source, vocab) for source in sources),
        sources=sources,
        matches=tuple(examples.get("match", [])),
        no_matches=tuple(examples.get("no_match", [])),
    )


def example_transcript(text: str, language: str, call_id: str = "example") -> Transcript:
    """A rule example as a transcript: "A: ..." agent and "C: ..." other-party lines.

    A single line without a prefix is one agent turn. Words are spaced at a
    normal pace, so examples exercise the wording, never the speaking rate.
    """
    words: list[Word] = []
    now = 0.5
    for line in text.strip().splitlines():
        who, _, said = line.partition(":") if line[:2] in ("A:", "C:") else ("A", ":", line)
        speaker = "agent" if who.strip() == "A" else "customer"
        for token in said.split():
            words.append(Word(text=token, start=round(now, 3), end=round(now + 0.3, 3), conf=1.0, speaker=speaker))
            now += 0.4
        now += 0.8
    return Transcript(
        call_id=call_id,
        language=language,
        duration=round(now, 3),
        speakers={"agent": Speaker(Role.AGENT), "customer": Speaker(Role.CUSTOMER)},
        words=tuple(words),
    )


@dataclass(frozen=True)
class AudioRules:
    """The language-independent rules measured from the recording (rules/audio.toml)."""

    path: Path
    shouting: dict
    interruptions: dict
    dead_air: dict
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# Where the call's language has no rule file, audio rules cite their "default" reference.
NO_JURISDICTION = Jurisdiction(code="default", name="no jurisdiction (no rule file for the language)", regions=(), spouse_is_consumer=False)


@lru_cache(maxsize=None)
def load_audio_rules(rules_dir: Path = RULES_DIR) -> AudioRules:
    path = rules_dir / "audio.toml"
    if not path.is_file():
        path = RULES_DIR / "audio.toml"  # a custom --rules folder may hold only language files
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = tuple(
            Rule(
                id=entry["id"], check=entry["check"], severity=Severity(entry["severity"]), message=entry["message"],
                why=entry.get("why", ""), false_positives=entry.get("false_positives", ""),
                references=dict(entry.get("references", {})), patterns=None, negatable=False, negation_inside=False,
                exceptions=(), fire=(), pass_=(), language="any",
            )
            for entry in data.get("rules", [])
        )
        backchannels = tuple(fold(word) for word in data["interruptions"].get("backchannels", []))
        return AudioRules(path, dict(data["shouting"]), {**data["interruptions"], "backchannels": backchannels},
                          dict(data["dead_air"]), rules)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise RulesError(f"{path}: {type(error).__name__}: {error}") from None
