"""Loading the rule files: what the checks look for, per language and jurisdiction.

A rules folder (`etiquette/rules/`, or one given with `--rules`) holds one TOML
file per language (`en.toml`, `es.toml`) and `audio.toml`, the rules measured
from the recording itself, which apply to every language. A language file holds:

- `[jurisdictions.X]`: which regions of the language tag map to X, and its
  settings (for example whether the debtor's spouse counts as the consumer);
- `[text]`: fillers to ignore and how the language negates;
- `[vocab]`: named word lists used in patterns as `{NAME}`; `{W3}` in a pattern
  is "up to three more words", `{W1-3}` "one to three";
- `[cues.NAME]`: conversation cues (someone confirms being the debtor, a
  voicemail greeting, debt talk...), each with patterns and examples;
- `[explanations]`: the sentences findings explain themselves with, in the language;
- a settings table for each check that has settings (`[speaking_rate]`);
- `[[rules]]`: the rules findings are raised under, each with an id, check,
  severity, message, why, known false positives, references per jurisdiction
  and examples that must fire and must not.

Every check, cue and settings table is checked against the check registry when
the file loads, so a typo fails at once, naming the file and the key.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from etiquette.errors import RulesError
from etiquette.language import LanguageTagError, parse_tag
from etiquette.matching import Hearing, Negation, fold
from etiquette.patterns import Pattern, PatternIndex, PatternSet, compile_pattern, pattern_set, rule_words
from etiquette.registry import CONTRACT_CHECKS, REGISTRY
from etiquette.scenarios import conversation
from etiquette.settings import settings_from
from etiquette.types import Severity, Transcript

RULES_DIR = Path(__file__).parent / "rules"
AUDIO_FILE = "audio.toml"
CALLING_FILE = "calling.toml"  # calling hours and frequency, judged from call metadata
# The language-independent files, read together as the "audio rules" (every language's calls use them).
INDEPENDENT_FILES = (AUDIO_FILE, CALLING_FILE)
CHECKS = CONTRACT_CHECKS  # the contract's three, as the labelled sets know them



@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    regions: tuple[str, ...]
    spouse_is_consumer: bool


# Where the call's language has no rule file, audio rules cite their "default" reference.
NO_JURISDICTION = Jurisdiction(code="default", name="no jurisdiction (no rule file for the language)", regions=(), spouse_is_consumer=False)


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
    exceptions: tuple[Pattern, ...]  # matches overlapping these are not findings ("police report")
    fire: tuple[str, ...]
    pass_: tuple[str, ...]
    language: str  # "en", "es", or "any" for the rules measured from the audio

    def reference(self, jurisdiction: Jurisdiction) -> str:
        return self.references.get(jurisdiction.code) or self.references.get("default", "")


@dataclass(frozen=True)
class Explanations:
    """The sentences findings are explained with: `key = "template with {fields}"`."""

    templates: Mapping[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        template = self.templates.get(key)
        if template is None:
            raise RulesError(f"no explanation '{key}' in the rule files")
        return template.format(**values)


@dataclass(frozen=True)
class RuleSet:
    language: str
    path: Path
    jurisdictions: dict[str, Jurisdiction]
    default_jurisdiction: str
    fillers: frozenset[str]
    function_words: frozenset[str]  # never a person's name
    negation: Negation
    hearing: Hearing  # how speech in this language is read: fillers, lemmas, misheard rule words
    cues: dict[str, PatternSet]
    rules: tuple[Rule, ...]
    explain: Explanations
    settings: Mapping[str, Any] = field(default_factory=dict)  # typed settings per table name
    nicknames: Mapping[str, str] = field(default_factory=dict)  # short form -> the name it stands for
    vocab: dict[str, list[str]] = field(repr=False, default_factory=dict)

    def jurisdiction_for(self, language_tag: str) -> Jurisdiction:
        try:
            region = parse_tag(language_tag).region or ""
        except LanguageTagError:
            region = ""
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

    @property
    def rate(self):
        """The speaking-rate settings (kept as a name: the HTML and the tests read them)."""
        return self.settings["speaking_rate"]


@dataclass(frozen=True)
class AudioRules:
    """The language-independent rules measured from the recording (audio.toml)."""

    path: Path
    rules: tuple[Rule, ...]
    settings: Mapping[str, Any]
    explain: Explanations

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# ------------------------------------------------------------------ which files a folder holds


def available_languages(rules_dir: Path = RULES_DIR) -> list[str]:
    """The languages a rules folder has a file for: `xx.toml` whose name is a language tag."""
    languages = []
    for path in rules_dir.glob("*.toml"):
        try:
            if path.is_file() and parse_tag(path.stem).tag == path.stem:
                languages.append(path.stem)
        except LanguageTagError:
            continue  # audio.toml, notes.toml...
    return sorted(languages)


def load_rules(language: str, rules_dir: Path = RULES_DIR) -> RuleSet | None:
    """The rules for a language tag's primary language, or None if the folder has no file for it.

    The file is looked up by name among the files the folder holds, never built
    from the tag, so a tag cannot point outside the folder.
    """
    try:
        primary = parse_tag(language).language
    except LanguageTagError:
        return None
    if primary not in available_languages(rules_dir):
        return None
    return _load_language(primary, rules_dir.resolve())


@lru_cache(maxsize=None)
def _load_language(primary: str, rules_dir: Path) -> RuleSet:
    path = rules_dir / f"{primary}.toml"
    data = _read(path)
    with _blamed_on(path):
        _check_shape(data, path)
        return _build(primary, path, data, validate=rules_dir != RULES_DIR.resolve())  # a folder being tried: every pattern compiled now


@contextlib.contextmanager
def _blamed_on(path: Path) -> Iterator[None]:
    """Whatever goes wrong while a rule file is built is that file's fault, said in one line."""
    try:
        yield
    except RulesError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as error:
        raise RulesError(f"{path}: {_describe(error)}") from None
    except Exception as error:  # whatever else a strange file does
        raise RulesError(f"{path}: not a usable rule file ({type(error).__name__})") from None


@lru_cache(maxsize=None)
def load_audio_rules(rules_dir: Path = RULES_DIR) -> AudioRules:
    """The language-independent rules: audio.toml (measured from the recording) and calling.toml (from call
    metadata), read as one set. A custom --rules folder may hold only language files: what it lacks is built in."""
    paths = [path if (path := rules_dir / name).is_file() else RULES_DIR / name for name in INDEPENDENT_FILES]
    rules: list[Rule] = []
    settings: dict[str, Any] = {}
    templates: dict[str, str] = {}
    for path in paths:
        data = _read(path)
        with _blamed_on(path):
            _check_shape(data, path)
            rules += [_rule(entry, "any", data.get("vocab", {}), path, PatternIndex(validate=True)) for entry in _rule_entries(data, path)]
            settings.update(_settings(data, path))
            templates.update(data.get("explanations", {}))
    explain = Explanations(templates)
    _check_explanations(explain, REGISTRY.explanation_keys(audio=True), " or ".join(map(str, paths)))
    return AudioRules(paths[0], tuple(rules), settings, explain)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: not valid TOML: {error}") from None


_TABLES = {"text": "a table", "jurisdictions": "a table of tables", "cues": "a table of tables",
           "vocab": "a table of word lists", "explanations": "a table of sentences"}


def _check_shape(data: dict, path: Path) -> None:
    """The top-level tables are tables (of what they must hold), so a wrong one is named, key and all."""
    for key, kind in _TABLES.items():
        value = data.get(key, {})
        inner = {"a table of tables": dict, "a table of word lists": list, "a table of sentences": str}.get(kind)
        if not isinstance(value, dict) or (inner and not all(isinstance(item, inner) for item in value.values())):
            raise RulesError(f"{path}: '{key}' must be {kind}")
        if inner is list and not all(isinstance(word, str) for words in value.values() for word in words):
            raise RulesError(f"{path}: '{key}' must be {kind}")


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error.args[0]!r}"
    return f"{error}"


# ------------------------------------------------------------------ building


def _build(language: str, path: Path, data: dict, validate: bool = False) -> RuleSet:
    vocab = dict(data.get("vocab", {}))
    index = PatternIndex(validate)  # every pattern of the file, tried on a turn in one pass
    text = data["text"]
    negation = text["negation"]
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
        raise RulesError(f"{path}: default_jurisdiction {default!r} is not a [jurisdictions] entry")
    cues = {name: pattern_set(name, entry, vocab, index) for name, entry in data.get("cues", {}).items()}
    _check_cues(cues, path)
    explain = Explanations(dict(data.get("explanations", {})))
    _check_explanations(explain, REGISTRY.explanation_keys(), path)
    return RuleSet(
        language=language,
        path=path,
        jurisdictions=jurisdictions,
        default_jurisdiction=default,
        fillers=frozenset(text.get("fillers", [])),
        function_words=frozenset(text.get("function_words", [])),
        hearing=Hearing(
            language=language,
            fillers=frozenset(text.get("fillers", [])),
            doubtful_fillers=frozenset(text.get("doubtful_fillers", [])),
            spoken_pairs=frozenset(tuple(pair.split()) for pair in text.get("spoken_pairs", []) if len(pair.split()) == 2),
            function_words=frozenset(text.get("function_words", [])),
            lexicon=rule_words(data, frozenset(text.get("function_words", []))),
            doubtful_conf=float(text.get("doubtful_confidence", 0.75)),
            min_similarity=float(text.get("repair_similarity", 85.0)),
        ),
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
        cues=cues,
        rules=tuple(_rule(entry, language, vocab, path, index) for entry in _rule_entries(data, path)),
        explain=explain,
        nicknames={fold(short): fold(full) for short, full in data.get("names", {}).get("nicknames", {}).items()},
        settings=_settings(data, path),
        vocab=vocab,
    )


def _rule_entries(data: dict, path: Path) -> list[dict]:
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        raise RulesError(f"{path}: no [[rules]] tables")
    return entries


def _rule(entry: dict, language: str, vocab: dict[str, list[str]], path: Path, index: PatternIndex) -> Rule:
    rule_id = entry.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise RulesError(f"{path}: a [[rules]] table has no 'id'")
    where = f"{path}: rule {rule_id!r}"
    check = entry.get("check")
    if check not in REGISTRY:
        raise RulesError(f"{where}: unknown check {check!r} (known: {', '.join(REGISTRY.names())})")
    try:
        severity = Severity(entry.get("severity"))
    except ValueError:
        raise RulesError(f"{where}: severity must be low, medium or high") from None
    examples = entry.get("examples", {})
    try:
        return Rule(
            id=rule_id,
            check=check,
            severity=severity,
            message=str(entry["message"]),
            why=str(entry.get("why", "")),
            false_positives=str(entry.get("false_positives", "")),
            references={str(k): str(v) for k, v in entry.get("references", {}).items()},
            patterns=pattern_set(rule_id, entry, vocab, index) if entry.get("patterns") or entry.get("lemmas") else None,
            negatable=bool(entry.get("negatable", True)),
            negation_inside=bool(entry.get("negation_inside", True)),
            exceptions=tuple(compile_pattern(source, vocab, index) for source in entry.get("exceptions", [])),
            fire=tuple(examples.get("fire", [])),
            pass_=tuple(examples.get("pass", [])),
            language=language,
        )
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as error:
        raise RulesError(f"{where}: {_describe(error)}") from None


def _check_cues(cues: dict[str, PatternSet], path: Path) -> None:
    """Every cue a check reads is defined, and every defined cue is read by some check."""
    wanted = REGISTRY.cues()
    missing = sorted(wanted - set(cues))
    if missing:
        raise RulesError(f"{path}: missing cue(s) {', '.join(f'[cues.{name}]' for name in missing)}")
    unknown = sorted(set(cues) - wanted)
    if unknown:
        raise RulesError(f"{path}: no check reads cue(s) {', '.join(f'[cues.{name}]' for name in unknown)} (a typo?)")


def _check_explanations(explain: Explanations, keys: set[str], path: Path | str) -> None:
    missing = sorted(keys - set(explain.templates))
    if missing:
        raise RulesError(f"{path}: [explanations] lacks {', '.join(missing)}")


def _settings(data: dict, path: Path) -> dict[str, Any]:
    """The typed settings tables the registered checks declare, from this file."""
    typed: dict[str, Any] = {}
    for check in REGISTRY:
        for table, kind in check.settings.items():
            if table in data:
                typed[table] = settings_from(kind, data[table], f"{path}: [{table}]")
    return typed


def example_transcript(text: str, language: str, call_id: str = "example") -> Transcript:
    """A rule example as a transcript (see etiquette.scenarios)."""
    return conversation(text, language, call_id=call_id)
