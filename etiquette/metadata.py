"""What a call log says about a call: who made it, for which account, when, to which number.

`CallMetadata` is one row of a manifest (`check --manifest`), or the `call`
object of a transcript, typed and validated. `Attempt` is the little of it that
call frequency counts. `metadata_from` builds one from a mapping of field names
to values (the manifest reader has already mapped the platform's column names
to these), and raises `MetadataError` with one line that says what is wrong.

Times: `started_at` is ISO 8601 with a UTC offset (`2025-03-10T20:55:00-05:00`);
a time without an offset is read in the row's `timezone` (IANA), and is an error
without one, or when it does not exist there (the hour skipped when the clocks
go forward). The account number is kept as given and, for matching calls of one
account across runs, as `account_key` (a SHA-256), which survives `--redact`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIELDS = ("call_id", "file", "agent", "team", "account", "direction", "started_at", "phone", "timezone", "region",
          "outcome")
DIRECTIONS = {"outbound": "outbound", "out": "outbound", "outgoing": "outbound", "o": "outbound",
              "inbound": "inbound", "in": "inbound", "incoming": "inbound", "i": "inbound"}
CONVERSATION = "connected"  # the outcome of a call in which someone spoke with the account's person
_REGION = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")
_MAX_TEXT = 255


class MetadataError(ValueError):
    """One line: what is wrong with a row of call metadata."""


@dataclass(frozen=True)
class CallMetadata:
    call_id: str | None = None
    file: str | None = None
    agent: str | None = None
    team: str | None = None
    account: str | None = None
    direction: str | None = None  # outbound or inbound; None when the log does not say
    started_at: datetime | None = None  # aware
    phone: str | None = None
    timezone: str | None = None  # IANA, the consumer's, when known
    region: str | None = None  # ISO 3166 country, or country-subdivision ("US", "ES-MD")
    outcome: str | None = None  # connected, voicemail, no_answer, busy, failed, or the log's own word
    origin: str = ""  # where it was read: "manifest.csv:12", "calls/x.transcript.json: call"
    account_key: str | None = None

    @property
    def key(self) -> str:
        """What identifies this attempt across runs: its call id, else account, time and number."""
        if self.call_id:
            return _digest("call", self.call_id)
        stamp = self.started_at.astimezone(timezone.utc).isoformat() if self.started_at else ""
        return _digest("attempt", self.account_key or "", stamp, self.phone or "")

    @property
    def country(self) -> str | None:
        return self.region.split("-")[0] if self.region else None

    @property
    def subdivision(self) -> str | None:
        return self.region.split("-", 1)[1] if self.region and "-" in self.region else None

    def to_dict(self) -> dict[str, Any]:
        """The fields a report shows under `call` (the origin and the key stay inside)."""
        data = asdict(self)
        data.pop("origin")
        data.pop("account_key")
        if self.started_at is not None:
            data["started_at"] = self.started_at.isoformat()
        return {key: value for key, value in data.items() if value is not None}

    def redacted(self) -> "CallMetadata":
        """Account and phone number masked as `--redact` masks them in speech; the account key stays."""
        return replace(self, account="[account]" if self.account else None, phone="[phone]" if self.phone else None)


@dataclass(frozen=True)
class Attempt:
    """One call placed to (or taken from) an account: what call frequency counts."""

    key: str
    account_key: str
    started_at: datetime  # aware
    direction: str | None
    outcome: str | None
    call_id: str | None = None

    @property
    def placed(self) -> bool:
        """Placed by the collector (a log that does not say counts as placed)."""
        return self.direction != "inbound"

    @property
    def conversation(self) -> bool:
        return self.outcome == CONVERSATION

    @classmethod
    def of(cls, metadata: CallMetadata) -> "Attempt | None":
        if metadata.account_key is None or metadata.started_at is None:
            return None
        return cls(metadata.key, metadata.account_key, metadata.started_at, metadata.direction, metadata.outcome,
                   metadata.call_id)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def account_key(account: str) -> str:
    return _digest("account", account.strip())


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise MetadataError(f"{name} must be text, not {type(value).__name__}")
    text = " ".join(value.split())
    if len(text) > _MAX_TEXT:
        raise MetadataError(f"{name} is longer than {_MAX_TEXT} characters")
    if text and not text.isprintable():
        raise MetadataError(f"{name} holds control characters")
    return text or None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise MetadataError(f"timezone {name!r} is not an IANA time zone (such as America/New_York)") from None


def parse_time(text: str, zone_name: str | None) -> datetime:
    """ISO 8601 with an offset; without one, in `zone_name` (which must then be given)."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise MetadataError(f"started_at {text!r} is not an ISO 8601 time (such as 2025-03-10T20:55:00-05:00)") from None
    if moment.tzinfo is not None:
        return moment
    if zone_name is None:
        raise MetadataError(f"started_at {text!r} has no UTC offset and the row gives no timezone")
    local = zone(zone_name)
    aware = moment.replace(tzinfo=local)
    if aware.astimezone(timezone.utc).astimezone(local).replace(tzinfo=None) != moment:
        raise MetadataError(f"started_at {text!r} does not exist in {zone_name} (the clocks went forward)")
    return aware


def metadata_from(values: Mapping[str, Any], origin: str, outcomes: Mapping[str, str] | None = None) -> CallMetadata:
    """Typed, validated metadata from field values (empty cells are absent); MetadataError says what is wrong."""
    text = {name: _text(values, name) for name in FIELDS}
    if text["timezone"] is not None:
        zone(text["timezone"])
    direction = text["direction"]
    if direction is not None:
        if direction.lower() not in DIRECTIONS:
            raise MetadataError(f"direction {direction!r} is neither outbound nor inbound")
        direction = DIRECTIONS[direction.lower()]
    region = text["region"].upper().replace("_", "-") if text["region"] else None
    if region is not None and not _REGION.match(region):
        raise MetadataError(f"region {text['region']!r} is not a country code such as US, MX or ES-MD")
    started = parse_time(text["started_at"], text["timezone"]) if text["started_at"] else None
    outcome = text["outcome"]
    if outcome is not None:
        word = " ".join(outcome.lower().replace("_", " ").replace("-", " ").split())
        outcome = (outcomes or {}).get(word, word.replace(" ", "_"))
    account = text["account"]
    return CallMetadata(
        call_id=text["call_id"], file=text["file"], agent=text["agent"], team=text["team"], account=account,
        direction=direction, started_at=started, phone=text["phone"], timezone=text["timezone"], region=region,
        outcome=outcome, origin=origin, account_key=account_key(account) if account else None,
    )
