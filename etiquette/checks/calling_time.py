"""calling_time: a call started outside the hours (or on a day) the consumer's jurisdiction allows, in the
consumer's local time. Judged from call metadata; see calling.toml and `etiquette.checks.calling`."""

from __future__ import annotations

from etiquette.checks.calling import CallingCheck, CallingJurisdiction, Hours, calling_finding, consumer_zones, holiday, local, shown_time
from etiquette.checks.context import CallContext
from etiquette.metadata import CallMetadata
from etiquette.registry import register
from etiquette.types import CheckOutput


@register
class CallingTime(CallingCheck):
    """Calls placed outside the allowed hours or days, in the consumer's local time."""

    name = "calling_time"
    title = "Calling hours"
    short = "hours"
    order = 70
    part = "hours"
    explanations = ("calling_hours", "calling_day")
    description = "a call started outside the hours or days the consumer's jurisdiction allows (from call metadata)"

    def judge(self, context: CallContext, metadata: CallMetadata, jurisdiction: CallingJurisdiction,
              hours: Hours) -> CheckOutput:
        assert metadata.started_at is not None
        zones = consumer_zones(metadata, jurisdiction)
        if not zones:
            return CheckOutput(incomplete="the consumer's time zone is unknown (no timezone in the call's metadata, and "
                               "the phone number has none: missing, invalid, toll-free or 'Etc/Unknown'), so the "
                               "calling hours could not be checked")
        for zone in zones:
            moment = local(metadata.started_at, zone)
            day_off = holiday(jurisdiction, metadata, moment.date())
            window, day = hours.window(moment.date(), day_off)
            if window is not None and moment.time() in window:
                continue
            where = zone if len(zones) == 1 else f"{zone}; the number's time zones are {', '.join(zones)}"
            evidence = f"started {shown_time(moment)} ({where})"
            if window is None:
                rule = context.audio_rules.rule("call-on-a-day-off")
                explanation = context.explain("calling_day", local=shown_time(moment), zone=zone, day=day,
                                              name=jurisdiction.name)
            else:
                rule = context.audio_rules.rule("call-outside-hours")
                explanation = context.explain("calling_hours", local=shown_time(moment), zone=zone, window=str(window),
                                              name=jurisdiction.name)
            finding = calling_finding(rule, context, jurisdiction, hours.confidence, hours.advisory, evidence,
                                      explanation)
            return CheckOutput((finding,))
        return CheckOutput()
