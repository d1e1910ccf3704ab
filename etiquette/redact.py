"""Masking personal data in what etiquette writes (issue 7; a placeholder until it lands).

The checks always run on the words as said; only the files written are masked.
"""

from __future__ import annotations

from typing import Any

from etiquette.types import Transcript


def redact_transcript(transcript: Transcript) -> Transcript:
    """The transcript with personal data masked. Placeholder: returns it unchanged."""
    return transcript


def redact_report_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A report (as written) with personal data in its evidence masked. Placeholder: unchanged."""
    return data
