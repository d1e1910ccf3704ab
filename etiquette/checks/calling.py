"""What the calling-hours and call-frequency checks share: calling.toml's settings, whose rules apply to a
call, the consumer's time zones and public holidays, and the examples of the rule file.

Whose rules: the row's `region` (a country, or country-subdivision such as ES-MD), else the country of the
phone number, else the jurisdiction of the call's language tag. The consumer's time zones: the row's
`timezone`, else every time zone of the phone number (libphonenumber's data), else (no number) every zone the
jurisdiction lists; none when the number has no known zone ("Etc/Unknown") or is not geographic (toll-free,
premium, VoIP), which leaves the time unknown rather than passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_zones

from etiquette.checks.context import CallContext
from etiquette.errors import RulesError
from etiquette.metadata import CONVERSATION, Attempt, CallMetadata, MetadataError, metadata_from
from etiquette.registry import Check, Need
from etiquette.rulebook import Jurisdiction, Rule
from etiquette.types import CheckOutput, Finding, Severity

CONFIDENCE = ("confirmed", "secondary", "unconfirmed")
DAYS = ("weekdays", "saturday", "sunday", "holidays")
UNKNOWN_ZONE = "Etc/Unknown"
_NOT_GEOGRAPHIC = {PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST,
                   PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN, PhoneNumberType.PAGER,
                   PhoneNumberType.VOICEMAIL}


@dataclass(frozen=True)
class Window:
    """Allowed local times, [start, end)."""

    start: time
    end: time

    def __contains__(self, moment: time) -> bool:
        return self.start <= moment.replace(tzinfo=None) < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Hours:
    windows: Mapping[str, Window]  # a key of DAYS -> its window; a day without one allows no calls
    confidence: str
    advisory: bool = False

    def window(self, day: date, holiday: str | None) -> tuple[Window | None, str]:
        """The window of a local date, and what kind of day it is."""
        if holiday:
            return self.windows.get("holidays"), f"a public holiday ({holiday})"
        kind = "sunday" if day.weekday() == 6 else "saturday" if day.weekday() == 5 else "weekdays"
        return self.windows.get(kind), day.strftime("%A")


@dataclass(frozen=True)
class Frequency:
    confidence: str
    max_calls: int | None = None
    days: int | None = None
    after_conversation_days: int | None = None


@dataclass(frozen=True)
class CallingJurisdiction:
    code: str
    name: str
    regions: tuple[str, ...]
    holidays: str | None
    timezones: tuple[str, ...]  # the jurisdiction's zones, where they are few enough to check them all
    hours: Hours | None
    frequency: Frequency | None
    notes: str = ""

    @property
    def as_jurisdiction(self) -> Jurisdiction:
        """For citing a rule's reference."""
        return Jurisdiction(self.code, self.name, self.regions, False)


@dataclass(frozen=True)
class CallingRules:
    """calling.toml [calling]: per jurisdiction, its calling hours and frequency limits."""

    jurisdictions: Mapping[str, CallingJurisdiction]

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str) -> "CallingRules":
        entries = table.get("jurisdictions")
        if not isinstance(entries, dict) or set(table) != {"jurisdictions"}:
            raise RulesError(f"{where} must hold only [calling.jurisdictions.CODE] tables")
        return cls({code: _jurisdiction(code, entry, f"{where} jurisdictions.{code}") for code, entry in entries.items()})

    def for_country(self, country: str | None) -> CallingJurisdiction | None:
        for jurisdiction in self.jurisdictions.values():
            if country and country.upper() in jurisdiction.regions:
                return jurisdiction
        return None


def _jurisdiction(code: str, entry: Any, where: str) -> CallingJurisdiction:
    if not isinstance(entry, dict):
        raise RulesError(f"{where} must be a table")
    unknown = sorted(set(entry) - {"name", "regions", "holidays", "timezones", "notes", "hours",
                              "frequency"})
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(unknown)}")
    try:
        hours = entry.get("hours")
        frequency = entry.get("frequency")
        return CallingJurisdiction(
            code=code, name=str(entry["name"]), regions=tuple(str(r).upper() for r in entry.get("regions", [])),
            holidays=entry.get("holidays"), notes=str(entry.get("notes", "")),
            timezones=tuple(_zone(name, where) for name in entry.get("timezones", [])),
            hours=_hours(hours, f"{where}.hours") if hours is not None else None,
            frequency=_frequency(frequency, f"{where}.frequency") if frequency is not None else None,
        )
    except KeyError as error:
        raise RulesError(f"{where}: missing key {error.args[0]!r}") from None


def _zone(name: Any, where: str) -> str:
    try:
        ZoneInfo(str(name))
    except (ValueError, OSError):
        raise RulesError(f"{where}: {name!r} is not an IANA time zone") from None
    return str(name)


def _confidence(table: Mapping[str, Any], where: str) -> str:
    confidence = table.get("confidence")
    if confidence not in CONFIDENCE:
        raise RulesError(f"{where}: confidence must be one of {', '.join(CONFIDENCE)}")
    return confidence


def _hours(table: Any, where: str) -> Hours:
    if not isinstance(table, dict) or set(table) - {*DAYS, "confidence", "advisory"}:
        raise RulesError(f"{where}: keys are {', '.join(DAYS)}, confidence and advisory")
    windows = {}
    for day in DAYS:
        if day in table:
            value = table[day]
            try:
                start, end = (time.fromisoformat(part) for part in value)
            except (TypeError, ValueError):
                raise RulesError(f"{where}.{day} must be two times, [\"08:00\", \"21:00\"]") from None
            if not start < end:
                raise RulesError(f"{where}.{day}: the window must end after it starts")
            windows[day] = Window(start, end)
    return Hours(windows, _confidence(table, where), bool(table.get("advisory", False)))


def _frequency(table: Any, where: str) -> Frequency:
    keys = {"max_calls", "days", "after_conversation_days"}
    if not isinstance(table, dict) or set(table) - {*keys, "confidence"}:
        raise RulesError(f"{where}: keys are {', '.join(sorted(keys))} and confidence")
    numbers = {key: table[key] for key in keys if key in table}
    if not all(isinstance(value, int) and not isinstance(value, bool) and value > 0 for value in numbers.values()):
        raise RulesError(f"{where}: limits must be positive whole numbers")
    if ("max_calls" in numbers) != ("days" in numbers):
        raise RulesError(f"{where}: max_calls and days go together")
    return Frequency(_confidence(table, where), **numbers)


# ------------------------------------------------------------------ a call's jurisdiction, zones, holidays


def phone_number(metadata: CallMetadata, country: str | None) -> phonenumbers.PhoneNumber | None:
    if not metadata.phone:
        return None
    try:
        return phonenumbers.parse(metadata.phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None


def calling_jurisdiction(context: CallContext, rules: CallingRules) -> tuple[CallingJurisdiction | None, str]:
    """The jurisdiction whose calling rules apply, or None and why."""
    metadata = context.metadata
    assert metadata is not None
    if metadata.country:
        found = rules.for_country(metadata.country)
        return found, "" if found else f"no calling rules for region {metadata.region} (calling.toml)"
    number = phone_number(metadata, context.transcript.region)
    country = phonenumbers.region_code_for_number(number) if number is not None else None
    if country and country != "ZZ" and (found := rules.for_country(country)):
        return found, ""
    found = rules.jurisdictions.get(context.jurisdiction.code) or rules.for_country(context.transcript.region)
    if found is None:
        return None, ("the consumer's jurisdiction is unknown: give the call a region (US, MX, CO...) in the manifest, "
                      "a phone number with its country code, or a language tag with a region")
    return found, ""


def consumer_zones(metadata: CallMetadata, jurisdiction: CallingJurisdiction) -> tuple[str, ...]:
    """The consumer's possible time zones; () when unknown."""
    if metadata.timezone:
        return (metadata.timezone,)
    if not metadata.phone:
        return jurisdiction.timezones
    number = phone_number(metadata, metadata.country or (jurisdiction.regions[0] if jurisdiction.regions else None))
    if number is None or not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) in _NOT_GEOGRAPHIC:
        return ()
    return tuple(zone for zone in phone_zones.time_zones_for_number(number) if zone != UNKNOWN_ZONE)


@lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:  # a subdivision the library does not know: the country's holidays
        return _calendar(country, None) if subdivision else None


def holiday(jurisdiction: CallingJurisdiction, metadata: CallMetadata, day: date) -> str | None:
    if not jurisdiction.holidays:
        return None
    subdivision = metadata.subdivision if metadata.country == jurisdiction.holidays else None
    calendar = _calendar(jurisdiction.holidays, subdivision)
    return calendar.get(day) if calendar is not None else None


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def shown_time(moment: datetime) -> str:
    """A local time as findings show it: "Mon 10 Mar 2025 21:00 EDT"."""
    return f"{moment:%a %d %b %Y %H:%M} {moment.tzname() or moment.strftime('%z')}"


def calling_finding(rule: Rule, context: CallContext, jurisdiction: CallingJurisdiction, confidence: str,
                    advisory: bool, evidence: str, explanation: str) -> Finding:
    """A finding about the call as a whole, at its start; `low` when the rule is unconfirmed or advisory."""
    speaker = context.agents[0] if context.agents else next(iter(context.transcript.speakers), "")
    severity = Severity.LOW if advisory or confidence == "unconfirmed" else rule.severity
    finding = Finding(check=rule.check, rule=rule.id, severity=severity, speaker=speaker, start=0.0, end=0.0,
                      evidence=evidence, reference=rule.reference(jurisdiction.as_jurisdiction), message=rule.message,
                      explanation=explanation)
    return finding if severity is rule.severity else replace(finding, message=f"{rule.message} ({'advisory' if advisory else 'unconfirmed rule'})")


class CallingCheck(Check):
    """A check judged from call metadata under the consumer's jurisdiction's calling rules: what both share.

    A call without a start time (or, with `counts_calls`, an account) cannot be judged and is incomplete; an
    inbound call (the person called) is never a finding; neither is a call whose jurisdiction has no rule.
    """

    needs = frozenset({Need.METADATA})
    settings = {"calling": CallingRules}
    counts_calls = False  # needs the account, to count its calls
    part = ""  # the jurisdiction's table it applies: "hours" or "frequency"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.audio_explanations = cls.explanations  # calling.toml explains them in English for other languages

    def run(self, context: CallContext) -> CheckOutput:
        metadata = context.metadata
        assert metadata is not None
        if metadata.started_at is None or (self.counts_calls and metadata.account_key is None):
            lacking = "the account or the start time" if self.counts_calls else "a start time (started_at)"
            return CheckOutput(incomplete=f"the call's metadata lacks {lacking}, so it cannot be judged")
        if metadata.direction == "inbound":
            return CheckOutput()
        jurisdiction, why = calling_jurisdiction(context, context.audio_rules.settings["calling"])
        if jurisdiction is None:
            return CheckOutput(incomplete=why)
        rules = getattr(jurisdiction, self.part)
        if rules is None:
            return CheckOutput(notes=(f"{self.title.lower()}: no rule for {jurisdiction.name}. {jurisdiction.notes}".strip(),))
        return self.judge(context, metadata, jurisdiction, rules)

    def judge(self, context: CallContext, metadata: CallMetadata, jurisdiction: CallingJurisdiction, rules) -> CheckOutput:
        """The check itself, for a call that can be judged under `rules` (the jurisdiction's hours or frequency)."""
        raise NotImplementedError


# ------------------------------------------------------------------ the rule file's examples


def example_call(text: str) -> tuple[CallMetadata, tuple[Attempt, ...]]:
    """A calling example, `at=... phone=... earlier=T1,T2 conversation=T3`, as metadata and earlier attempts."""
    fields = dict(part.split("=", 1) for part in text.split())
    names = {"at": "started_at", "tz": "timezone", "phone": "phone", "region": "region", "direction": "direction"}
    unknown = set(fields) - set(names) - {"earlier", "conversation"}
    if unknown:
        raise MetadataError(f"unknown example field(s) {', '.join(sorted(unknown))}")
    values = {names[key]: value for key, value in fields.items() if key in names}
    metadata = metadata_from({**values, "call_id": "example", "account": "example", "direction":
                              values.get("direction", "outbound"), "outcome": "connected"}, "example")
    attempts = []
    for kind, outcome in (("earlier", "no_answer"), ("conversation", CONVERSATION)):
        for n, stamp in enumerate(fields.get(kind, "").split(",") if fields.get(kind) else []):
            row = metadata_from({"call_id": f"{kind}-{n}", "account": "example", "started_at": stamp,
                                 "direction": "outbound", "outcome": outcome}, "example")
            attempts.append(Attempt.of(row))
    return metadata, tuple(attempt for attempt in attempts if attempt is not None)
