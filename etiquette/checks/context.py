"""What every check reads about one call, computed once: the call context.

Turns, each speaker's words, who is on the line when (the identity timeline),
the jurisdiction and the rules. Checks receive the context and never recompute
any of it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from etiquette.checks.conversation import Status, Turn, follow_identity, turns_of
from etiquette.registry import Need
from etiquette.rulebook import NO_JURISDICTION, AudioRules, Explanations, Jurisdiction, RuleSet
from etiquette.types import Role, Transcript, Word

if TYPE_CHECKING:
    from etiquette.metadata import Attempt, CallMetadata


class CallContext:
    def __init__(
        self,
        transcript: Transcript,
        rules: RuleSet | None,
        audio_rules: AudioRules,
        metadata: "CallMetadata | None" = None,
        history: "tuple[Attempt, ...]" = (),
        metadata_problem: str | None = None,
    ):
        self.transcript = transcript
        self.rules = rules
        self.audio_rules = audio_rules
        self.metadata = metadata  # the call's row of a manifest (or its transcript's `call` object), when given
        # Every other call placed to (or taken from) the same account that the run knows of: this run's manifest
        # and the results database's earlier runs. The pipeline gathers it; the checks only read it.
        self.history = history
        self.metadata_problem = metadata_problem  # metadata was given for this call, but could not be used: why

    @cached_property
    def jurisdiction(self) -> Jurisdiction:
        return self.rules.jurisdiction_for(self.transcript.language) if self.rules else NO_JURISDICTION

    @cached_property
    def agents(self) -> tuple[str, ...]:
        return tuple(sorted(self.transcript.speakers_with_role(Role.AGENT)))

    @cached_property
    def others(self) -> tuple[str, ...]:
        return tuple(sorted(self.transcript.speakers_with_role(Role.CUSTOMER)))

    @cached_property
    def words_by_speaker(self) -> dict[str, tuple[Word, ...]]:
        grouped: dict[str, list[Word]] = {speaker: [] for speaker in self.transcript.speakers}
        for word in self.transcript.words:
            grouped.setdefault(word.speaker, []).append(word)
        return {speaker: tuple(words) for speaker, words in grouped.items()}

    @cached_property
    def turns(self) -> tuple[Turn, ...]:
        """Maximal runs of one speaker's words; needs the language's rules (fillers)."""
        if self.rules is None:
            return ()
        return tuple(turns_of(self.transcript, self.rules))

    @cached_property
    def identity(self) -> tuple[tuple[Turn, Status], ...]:
        """Each turn with who was on the line when it started (debtor, third party, voicemail...)."""
        if self.rules is None:
            return ()
        return tuple(follow_identity(self.turns, self.rules, self.jurisdiction))

    @property
    def explain(self) -> Explanations:
        """Sentences in the call's language (English where the language has no rule file)."""
        return self.rules.explain if self.rules is not None else self.audio_rules.explain

    def has(self, need: Need) -> bool:
        if need is Need.WORD_RULES:
            return self.rules is not None
        if need is Need.ATTRIBUTION:
            return self.transcript.has_attribution
        if need is Need.LOUDNESS:
            return bool(self.transcript.loudness)
        if need is Need.METADATA:
            return self.metadata is not None
        return False

    def expected(self, need: Need) -> bool:
        """Whether a call that lacks `need` was meant to have it. A call given no metadata at all (no manifest,
        no `call` object) is simply not judged by the checks that need it; one whose metadata was broken is
        incomplete."""
        return need is not Need.METADATA or self.metadata_problem is not None

    def missing(self, needs: frozenset[Need]) -> Need | None:
        """The first need this call cannot meet, in a fixed order, or None."""
        return next((need for need in Need if need in needs and not self.has(need)), None)

    def reason(self, need: Need) -> str:
        if need is Need.METADATA and self.metadata_problem:
            return self.metadata_problem
        return need.value.format(language=self.transcript.language)

    def reason_no_rules(self) -> str:
        return self.reason(Need.WORD_RULES)
