"""Helpers for the end-to-end tests: run `etiquette.cli.main`, read what it wrote,
and check a report against the contract (../shared/CONTRACT.md, section 3)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from etiquette.cli import main
from etiquette.registry import REGISTRY

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
# The labelled calls live next to the checkout, not in it: tests that use them skip without them.
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev"

CHECKS = {"speaking_rate", "third_party_disclosure", "aggressive_language"}
SEVERITIES = ["low", "medium", "high"]
REPORT_FIELDS = {"schema", "call_id", "source", "language", "duration", "verdict", "metrics", "findings"}
FINDING_FIELDS = {"check", "rule", "severity", "speaker", "start", "end", "evidence", "reference"}


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run(capsys: pytest.CaptureFixture[str], *args: object) -> Run:
    """`etiquette ARGS...` in this process; its exit status and what it printed."""
    capsys.readouterr()  # drop anything printed before
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def read_summary(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "summary.csv").open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def read_html(out_dir: Path) -> str:
    """`--html`'s pages as one text: report.html (the index), then every call's page in report/."""
    pages = [out_dir / "report.html", *sorted((out_dir / "report").glob("*.html"))]
    return "".join(page.read_text(encoding="utf-8") for page in pages)


def read_report(out_dir: Path, call_id: str) -> dict[str, Any]:
    return json.loads((out_dir / f"{call_id}.report.json").read_text(encoding="utf-8"))


def transcript_call_id(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("call_id") or path.name.removesuffix(".transcript.json")


def assert_valid_report(report: dict[str, Any], transcript: dict[str, Any], fail_on: str = "medium") -> None:
    """Every contract field, with values that agree with the transcript the report is about."""
    missing = REPORT_FIELDS - report.keys()
    assert not missing, f"report lacks {missing}"
    assert report["schema"] == "etiquette.report/1"
    assert report["call_id"] == transcript["call_id"]
    assert report["language"] == transcript["language"]
    assert report["duration"] == pytest.approx(transcript["duration"], abs=0.01)
    assert isinstance(report["source"], str) and report["source"]
    assert isinstance(report["metrics"], dict)
    for speaker, metrics in report["metrics"].items():
        assert speaker in transcript["speakers"], speaker  # what belongs to the whole call is in "call_metrics"
        assert all(isinstance(value, (int, float)) for value in metrics.values()), (speaker, metrics)
        if transcript["speakers"].get(speaker, {}).get("role") == "agent" and report["language"].split("-")[0] in ("en", "es"):
            for name in ("words", "speaking_time", "wpm", "max_window_wpm"):
                assert isinstance(metrics[name], (int, float)) and metrics[name] >= 0, (speaker, name)

    said = transcript["words"]
    for finding in report["findings"]:
        lacking = FINDING_FIELDS - finding.keys()
        assert not lacking, f"finding lacks {lacking}"
        assert finding["check"] in REGISTRY.names()
        assert isinstance(finding["rule"], str) and finding["rule"]
        assert finding["severity"] in SEVERITIES
        assert finding["speaker"] in transcript["speakers"]
        assert 0 <= finding["start"] <= finding["end"] <= report["duration"] + 0.01, finding
        assert isinstance(finding["reference"], str) and finding["reference"].strip()
        if finding["check"] == "dead_air":  # its evidence is the silence itself
            assert "silence" in finding["evidence"], finding
            continue
        # The evidence is words said in that moment (a long stretch may be shortened with "...").
        evidence = [token for token in finding["evidence"].split() if token != "..."]
        assert evidence, finding
        spoken = {w["word"] for w in said if finding["start"] - 0.05 <= w["start"] and w["end"] <= finding["end"] + 0.05}
        assert set(evidence) <= spoken, (finding["evidence"], sorted(set(evidence) - spoken))

    failing = [f for f in report["findings"] if SEVERITIES.index(f["severity"]) >= SEVERITIES.index(fail_on)]
    # A call whose checks did not all run is not a pass: it is incomplete, and says why.
    assert report["verdict"] == ("fail" if failing else "incomplete" if report.get("skipped_checks") else "pass")


RESULTS_DB = "results.db"  # the results database every run records into (issue 14); tested in test_book_db.py


def files_left(out_dir: Path) -> list[str]:
    """Every file in the output folder, hidden ones included (a crashed atomic write leaves `.x.tmp`), but the
    results database every run keeps there. Its journal files (`results.db-wal`, `-shm`) are listed: a run that
    closed the database properly leaves none."""
    return sorted(p.name for p in out_dir.iterdir() if p.name != RESULTS_DB)


THREAT = "you will be arrested today you deadbeat"


def threat_data(call_id: str | None = None, language: str = "en", said: str = THREAT) -> dict[str, Any]:
    """A short transcript in which the agent threatens and insults (issue 12's `mk`): it fails."""
    words = [{"word": word, "start": round(0.5 + 0.4 * i, 2), "end": round(0.8 + 0.4 * i, 2), "conf": 0.9, "speaker": "agent"}
             for i, word in enumerate(said.split())]
    data: dict[str, Any] = {"schema": "etiquette.transcript/1", "language": language,
                            "speakers": {"agent": {"role": "agent"}, "customer": {"role": "customer"}}, "words": words}
    if call_id is not None:
        data["call_id"] = call_id
    return data


def write_json(path: Path | bytes, data: Any) -> Path:
    """Write `data` as JSON at `path` (a bytes path may hold any byte a file name can)."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)
    return Path(path.decode("utf-8", "surrogateescape")) if isinstance(path, bytes) else path


def one_line_per_input(result: Run, inputs: list[str]) -> None:
    """Each input named on exactly one stderr line, and no traceback."""
    assert "Traceback" not in result.err
    assert len(result.err_lines) == len(inputs), result.err
    for name in inputs:
        assert sum(line.startswith(f"{name}: ") for line in result.err_lines) == 1, (name, result.err)


def without_root_powers(args: list[str], work: Path) -> subprocess.CompletedProcess:
    """`etiquette ARGS` run so that file permissions hold for it: root reads anything, unless its
    capabilities to override them are dropped (setpriv, util-linux)."""
    command = [sys.executable, "-c", "import sys; from etiquette.cli import main; sys.exit(main())", *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: every folder is readable")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    env = {**os.environ, "ETIQUETTE_MODELS_DIR": str(work / "user-models")}  # no model outside the test's folder
    env.pop("ETIQUETTE_MODEL", None)
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    if "setpriv:" in done.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {done.stderr.strip()}")
    return done
