"""What a run is asked to do: `etiquette check`'s options, typed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from etiquette import __version__
from etiquette.redact import RULES_FILE as REDACTION_RULES
from etiquette.report import FailOn
from etiquette.rulebook import RULES_DIR


@dataclass(frozen=True)
class CheckOptions:
    out_dir: Path
    language: str = "en"  # of audio inputs; a transcript carries its own
    model: Path | None = None
    agent_channel: str = "left"
    fail_on: FailOn = field(default_factory=FailOn)
    retranscribe: bool = False
    rules_dir: Path = RULES_DIR
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout: float | None = None  # seconds a call may take
    offline: bool = False  # never touch the network, not even to offer a model download
    download_model: bool = False  # download the catalogue's small model when none is installed
    redact: bool = False  # mask personal data in every file written (the checks still see it all)
    formats: tuple[str, ...] = ()  # extra outputs: jsonl, md, html
    debug: bool = False  # let an unexpected error in a call raise, with its traceback
    manifest: Path | None = None  # the call log: agents, teams, accounts, start times (CSV or JSON lines)
    manifest_columns: Path | None = None  # how that log's columns map onto etiquette's fields (TOML)
    db: str | None = None  # the results database: a SQLAlchemy URL or a file; default OUT/results.db
    cluster: str | None = None  # transcribe on a Dask cluster: a scheduler's address, or local:N worker processes

    def fingerprint(self) -> str:
        """Everything besides the input that a report depends on."""
        digest = hashlib.sha256(
            f"{__version__}|{self.fail_on.severity.value}|{self.agent_channel}|{self.language}|{self.redact}".encode()
        )
        for path in sorted(self.rules_dir.glob("*.toml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        if self.redact:  # what is masked is part of what a redacted report says
            digest.update(REDACTION_RULES.read_bytes())
        return digest.hexdigest()[:16]
