"""The check registry: every check the pipeline runs, reports, counts and lists.

A check is one module in `etiquette/checks/` defining a `Check` subclass
decorated with `@register`; every module of the package is imported when the
registry is first used, so adding a check edits nothing else. Checks from other
packages register through the `etiquette.checks` entry-point group. Display
names, column headers, skip reasons and per-check counts all come from here.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar, Iterator

if TYPE_CHECKING:
    from etiquette.checks.context import CallContext
    from etiquette.types import CheckOutput

BUILT_IN_CHECKS = "etiquette.checks"  # every module of this package is imported to find the checks

# The contract's three checks (../shared/CONTRACT.md): what the first labelled sets know.
CONTRACT_CHECKS = ("speaking_rate", "third_party_disclosure", "aggressive_language")


class Need(enum.Enum):
    """What a check cannot run without; a call that lacks it gets the check skipped, with this reason."""

    WORD_RULES = "no rule file for language '{language}'"
    ATTRIBUTION = (
        "speaker attribution unavailable (mono recording): nobody can tell the agent's words from the other party's"
    )
    LOUDNESS = "no loudness measured (a transcript without audio levels)"
    METADATA = "no call metadata (start time, account) for this call"


class Check:
    """A check: what it is called, what it needs, and `run(context) -> CheckOutput`.

    Subclasses set the class attributes and implement `run`, a pure function of
    the call context: no files, no terminal, no network.
    """

    name: ClassVar[str]  # the `check` of its findings, a summary.csv column
    title: ClassVar[str]  # for people: "Speaking rate"
    short: ClassVar[str]  # a narrow column header: "rate"
    order: ClassVar[int] = 100  # where it sits among the others in tables
    needs: ClassVar[frozenset[Need]] = frozenset()
    cues: ClassVar[tuple[str, ...]] = ()  # conversation cues it reads from the language's rule file
    settings: ClassVar[dict[str, type]] = {}  # rule-file table name -> the dataclass its settings load into
    explanations: ClassVar[tuple[str, ...]] = ()  # [explanations] keys its findings are explained with
    # ... of those, the ones it may use on a call whose language has no rule file (audio.toml has them)
    audio_explanations: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def run(self, context: "CallContext") -> "CheckOutput":
        raise NotImplementedError


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._discovered = False

    def register(self, check_class: type[Check]) -> type[Check]:
        """Class decorator: register one instance of the check."""
        name = check_class.name
        if name in self._checks and type(self._checks[name]) is not check_class:
            raise ValueError(f"two checks are named {name!r}")
        self._checks[name] = check_class()
        return check_class

    def unregister(self, name: str) -> None:
        self._checks.pop(name, None)

    @contextmanager
    def added(self, check_class: type[Check]) -> Iterator[Check]:
        """A check registered for the duration of a `with` block (tests, experiments)."""
        self.register(check_class)
        try:
            yield self._checks[check_class.name]
        finally:
            self.unregister(check_class.name)

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(BUILT_IN_CHECKS)  # found by name: checks import the registry, not the reverse
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{BUILT_IN_CHECKS}.{module.name}")
        for entry in entry_points(group="etiquette.checks"):
            entry.load()  # the plugin module registers its checks on import

    def __iter__(self) -> Iterator[Check]:
        self._discover()
        return iter(sorted(self._checks.values(), key=lambda check: (check.order, check.name)))

    def names(self) -> tuple[str, ...]:
        return tuple(check.name for check in self)

    def get(self, name: str) -> Check:
        self._discover()
        return self._checks[name]

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._checks

    def title(self, name: str) -> str:
        return self.get(name).title if name in self else name.replace("_", " ").capitalize()

    def short(self, name: str) -> str:
        return self.get(name).short if name in self else name.replace("_", " ")

    def cues(self) -> set[str]:
        return {cue for check in self for cue in check.cues}

    def explanation_keys(self, audio: bool = False) -> set[str]:
        """The [explanations] keys a language file must define (or, with `audio`, audio.toml)."""
        return {key for check in self for key in (check.audio_explanations if audio else check.explanations)}


REGISTRY = Registry()
register = REGISTRY.register
