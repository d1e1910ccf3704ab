"""Issue 12: random JSON shapes, names and numbers never produce exit 4, a traceback or a missing
summary row. Property-based (Hypothesis), with few examples and a deadline so the suite stays fast."""

from __future__ import annotations

import copy
import io
import json
import math
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etiquette.checks import run_checks
from etiquette.errors import TranscriptError
from etiquette.rulebook import load_audio_rules, load_rules
from etiquette.transcripts import parse_json, transcript_from_dict

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import read_summary, threat_data
except ImportError:
    from tests.cli_helpers import read_summary, threat_data

NUMBERS = st.one_of(
    st.integers(), st.integers(min_value=10**300, max_value=10**400), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e-9, 1e308, -0.0, 86400, 86401, 0.01, 2**63]),
)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["agent", "customer", "en", "es-MX", "../x", "=1+1", "[reverse]x", "a\nb", "\x1b[2J", ".", "", " "])
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
# where in a transcript a random value goes
PLACES = [("call_id",), ("language",), ("duration",), ("speakers",), ("speakers", "agent"), ("speakers", "agent", "role"),
          ("speakers", "agent", "channel"), ("words",), ("words", 0), ("words", 0, "word"), ("words", 1, "start"),
          ("words", 2, "end"), ("words", 3, "conf"), ("words", 4, "speaker"), ("loudness",), ("loudness", "step"),
          ("loudness", "speakers"), ("loudness", "speakers", "agent"), ("notes",), ("schema",)]


def _mutated(place: tuple, value: Any) -> dict:
    data = copy.deepcopy(threat_data("fuzz"))
    data["loudness"] = {"step": 0.5, "speakers": {"agent": [-20.0, None, -18.5]}}
    target: Any = data
    for key in place[:-1]:
        target = target[key] if not isinstance(target, dict) or key in target else target.setdefault(key, {})
    target[place[-1]] = value
    return data


def _read(data: Any) -> Any:
    """Through the reader as a file would go: JSON text, then the schema."""
    text = json.dumps(data, allow_nan=True)
    return transcript_from_dict(parse_json(text), default_call_id="fuzz")


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON)
def test_any_json_is_a_transcript_or_one_line(data: Any) -> None:
    try:
        _read(data)
    except TranscriptError as error:
        assert "\n" not in str(error) and len(str(error)) < 400


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), value=JSON)
def test_any_value_anywhere_is_checked_or_one_line(place: tuple, value: Any) -> None:
    try:
        transcript = _read(_mutated(place, value))
    except TranscriptError as error:
        assert "\n" not in str(error)
        return
    assert math.isfinite(transcript.duration) and 0 <= transcript.duration <= 86400
    for word in transcript.words:  # what the checks get is in range
        assert 0 <= word.start <= word.end <= 86400 and 0 <= word.conf <= 1
    for level in transcript.loudness.values():
        span = max([transcript.duration] + [word.end for word in transcript.words])
        assert level.step >= 0.01 and len(level.values) <= span / level.step * 1.01 + 5  # the checks' work is bounded
    run_checks(transcript, load_rules(transcript.language), load_audio_rules())


NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=["Cs"]),
                min_size=1, max_size=60).filter(lambda name: name not in (".", ".."))


@settings(max_examples=25, deadline=20000, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.tuples(NAMES, st.sampled_from(PLACES), JSON, st.booleans()), min_size=1, max_size=4))
def test_a_batch_of_random_files_reports_every_input(files: list[tuple[str, tuple, Any, bool]]) -> None:
    from etiquette.cli import main

    with tempfile.TemporaryDirectory() as work:
        calls = Path(work) / "calls"
        calls.mkdir()
        names = set()
        for n, (name, place, value, as_audio) in enumerate(files):
            filename = f"{name}{n}.wav" if as_audio else f"{name}{n}.transcript.json"
            if len(filename.encode()) > 255:
                continue
            data = _mutated(place, value)
            if n % 2:  # the file name gives the call id
                data.pop("call_id")
            (calls / filename).write_text(json.dumps(data, allow_nan=True), encoding="utf-8")
            names.add(filename)
        (calls / "good.transcript.json").write_text(json.dumps(threat_data("good-call")), encoding="utf-8")
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            code = main(["check", str(calls), "--out", str(Path(work) / "out"), "--offline"])
        assert code in (1, 2, 3), err.getvalue()  # 2: audio that needs a speech model (none for English here)
        assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()
        rows = read_summary(Path(work) / "out")
        assert len(rows) == len(names) + 1
        assert [row["status"] for row in rows if row["call_id"] == "good-call"] in (["ok"], ["error"])  # error: a clash
