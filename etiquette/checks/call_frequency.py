"""call_frequency: more calls placed to one account than the jurisdiction allows in a few days, or a call
too soon after a telephone conversation. Counted from the call's history: the manifest's rows (with or
without a recording) and the results database's earlier runs, which the pipeline gathers into the context.
Days are calendar days in the consumer's time zone (the call's own offset when that is unknown)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from etiquette.checks.calling import CallingCheck, CallingJurisdiction, Frequency, calling_finding, consumer_zones, shown_time
from etiquette.checks.context import CallContext
from etiquette.metadata import Attempt, CallMetadata
from etiquette.registry import register
from etiquette.types import CheckOutput, Finding, Metrics


@register
class CallFrequency(CallingCheck):
    """Too many calls to one account in a few days, or a call too soon after a conversation."""

    name = "call_frequency"
    title = "Call frequency"
    short = "freq"
    order = 75
    counts_calls = True
    part = "frequency"
    explanations = ("calling_count", "calling_conversation")
    description = "more calls to one account than allowed in a few days, or a call too soon after a conversation"

    def judge(self, context: CallContext, metadata: CallMetadata, jurisdiction: CallingJurisdiction,
              limit: Frequency) -> CheckOutput:
        assert metadata.started_at is not None
        zones = consumer_zones(metadata, jurisdiction)
        where: tzinfo = ZoneInfo(zones[0]) if zones else metadata.started_at.tzinfo  # type: ignore[assignment]
        started = metadata.started_at
        today = started.astimezone(where).date()

        def day(attempt: Attempt) -> date:
            return attempt.started_at.astimezone(where).date()

        earlier = [a for a in context.history if a.key != metadata.key and (a.started_at, a.key) < (started, metadata.key)]
        findings: list[Finding] = []
        metrics = {}
        if limit.max_calls and limit.days:
            first = date.fromordinal(today.toordinal() - limit.days + 1)
            placed = sorted(a.started_at for a in earlier if a.placed and first <= day(a) <= today)
            count = len(placed) + 1
            metrics["calls_in_window"] = float(count)
            if count > limit.max_calls:
                findings.append(calling_finding(
                    context.audio_rules.rule("too-many-calls"), context, jurisdiction, limit.confidence, False,
                    f"call {count} in {limit.days} days ({_date(first)} to {_date(today)}), started "
                    f"{shown_time(started.astimezone(where))}",
                    context.explain("calling_count", count=count, days=limit.days, first=_date(first), last=_date(today),
                                    limit=limit.max_calls, name=jurisdiction.name)))
        if limit.after_conversation_days:
            talks = [a for a in earlier if a.conversation and 0 <= (today - day(a)).days < limit.after_conversation_days]
            if talks:
                talk = max(talks, key=lambda a: a.started_at).started_at.astimezone(where)
                later = _later(started.astimezone(where), talk)
                findings.append(calling_finding(
                    context.audio_rules.rule("call-after-conversation"), context, jurisdiction, limit.confidence, False,
                    f"started {shown_time(started.astimezone(where))}, {later} after a conversation on {shown_time(talk)}",
                    context.explain("calling_conversation", conversation=shown_time(talk), later=later,
                                    days=limit.after_conversation_days, name=jurisdiction.name)))
        return CheckOutput(tuple(findings), Metrics(call=metrics))


def _date(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def _later(moment: datetime, earlier: datetime) -> str:
    hours = (moment - earlier).total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
