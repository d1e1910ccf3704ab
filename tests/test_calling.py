"""Calling hours and call frequency: the examples in calling.toml, the edge cases (a change of daylight saving
time, a number with two time zones, a holiday, exactly 9:00 pm, an unknown time zone), the calls a check
skips and why, and seven-in-seven counted across two runs through the results database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etiquette.checks import run_checks
from etiquette.checks.calling import CONFIDENCE, example_call
from etiquette.metadata import metadata_from
from etiquette.pipeline.book import HISTORY_DAYS
from etiquette.rulebook import example_transcript, load_audio_rules, load_rules

try:
    from cli_helpers import SAMPLES, read_report, run
except ImportError:
    from tests.cli_helpers import SAMPLES, read_report, run

CALLING = ("calling_time", "call_frequency")
RULES = [rule for rule in load_audio_rules().rules if rule.check in CALLING]
CALL = "A: hello this is sam from acme recovery\nC: hello"


def _run(metadata, history=(), problem=None):
    return run_checks(example_transcript(CALL, "en-US"), load_rules("en"), load_audio_rules(), metadata,
                      history=history, metadata_problem=problem)


def _examples(kind: str):
    for rule in RULES:
        for example in rule.fire if kind == "fire" else rule.pass_:
            yield pytest.param(rule, example, id=f"{rule.id}:{example[:48]}")


@pytest.mark.parametrize("rule, example", list(_examples("fire")))
def test_calling_example_fires(rule, example: str) -> None:
    metadata, history = example_call(example)
    assert rule.id in {finding.rule for finding in _run(metadata, history).findings}


@pytest.mark.parametrize("rule, example", list(_examples("pass")))
def test_calling_example_does_not_fire(rule, example: str) -> None:
    metadata, history = example_call(example)
    assert rule.id not in {finding.rule for finding in _run(metadata, history).findings}


def test_every_calling_rule_has_examples_and_every_jurisdiction_says_how_sure_it_is() -> None:
    settings = load_audio_rules().settings["calling"]
    assert {rule.check for rule in RULES} == set(CALLING)
    for rule in RULES:
        assert rule.fire and rule.pass_ and rule.why and rule.references.get("default"), rule.id
    assert set(settings.jurisdictions) == {"US", "MX", "CO", "PE", "CL", "AR", "ES"}
    for jurisdiction in settings.jurisdictions.values():
        for part in (jurisdiction.hours, jurisdiction.frequency):
            assert part is None or part.confidence in CONFIDENCE
        assert jurisdiction.hours is not None or jurisdiction.notes, jurisdiction.code
        if jurisdiction.hours is not None and not jurisdiction.hours.advisory:
            assert load_audio_rules().rule("call-outside-hours").references.get(jurisdiction.code), jurisdiction.code
    for jurisdiction in settings.jurisdictions.values():  # the history read covers every window
        if jurisdiction.frequency is not None:
            assert max(jurisdiction.frequency.days or 0, jurisdiction.frequency.after_conversation_days or 0) < HISTORY_DAYS


def _call(started_at: str, **fields: str):
    return metadata_from({"call_id": "c", "account": "A-1", "direction": "outbound", "started_at": started_at, **fields},
                         "test")


def _hours(started_at: str, **fields: str) -> list[str]:
    result = _run(_call(started_at, **fields))
    return [finding.rule for finding in result.findings if finding.check == "calling_time"]


@pytest.mark.parametrize("started_at, fires", [
    ("2025-03-10T21:00:00-04:00", True),   # exactly 9:00 pm: outside (Reg F's "after 9:00 p.m." read on the safe side)
    ("2025-03-10T20:59:59-04:00", False),
    ("2025-03-10T08:00:00-04:00", False),  # exactly 8:00 am: inside
    ("2025-03-10T07:59:59-04:00", True),
])
def test_the_edges_of_the_us_window(started_at: str, fires: bool) -> None:
    assert _hours(started_at, phone="+12125550123") == (["call-outside-hours"] if fires else [])


def test_a_change_of_daylight_saving_time() -> None:
    # 9 March 2025, New York springs forward at 2 am. A dialler logging in standard time (-05:00) all day:
    assert _hours("2025-03-09T07:30:00-05:00", phone="+12125550123") == []  # 8:30 am EDT: inside
    assert _hours("2025-03-09T06:30:00-05:00", phone="+12125550123") == ["call-outside-hours"]  # 7:30 am EDT
    # 2 November 2025, clocks fall back: 20:30 logged in daylight time is 19:30 EST; 21:30 EDT-logged is 20:30 EST.
    assert _hours("2025-11-02T21:30:00-04:00", phone="+12125550123") == []
    assert _hours("2025-11-02T22:00:00-04:00", phone="+12125550123") == ["call-outside-hours"]  # 21:00 EST
    # A time without an offset is read in the row's time zone, daylight time included.
    assert _hours("2025-03-10T20:30:00", timezone="America/New_York") == []
    assert _hours("2025-03-10T21:15:00", timezone="America/New_York") == ["call-outside-hours"]


def test_a_number_with_two_time_zones_must_be_inside_the_window_in_both() -> None:
    # +1 208 (Idaho): America/Boise and America/Los_Angeles. 8:30 in Boise is 7:30 in Los Angeles.
    result = _run(_call("2025-03-10T08:30:00-06:00", phone="+12085550123"))
    [finding] = [f for f in result.findings if f.check == "calling_time"]
    assert "07:30 PDT" in finding.evidence and "America/Boise, America/Los_Angeles" in finding.evidence
    assert finding.reference == "15 U.S.C. 1692c(a)(1); 12 CFR 1006.6(b)(1)(i)" and finding.severity.value == "medium"
    # 20:30 in Los Angeles is 21:30 in Boise: outside there.
    assert _hours("2025-03-10T20:30:00-07:00", phone="+12085550123") == ["call-outside-hours"]
    assert _hours("2025-03-10T19:30:00-07:00", phone="+12085550123") == []


def test_a_public_holiday() -> None:
    # Colombia: 20 July (Independence Day) 2025 is a Sunday; 18 August 2025 is Assumption, moved to Monday.
    [finding] = _run(_call("2025-08-18T10:00:00-05:00", region="CO")).findings
    assert finding.rule == "call-on-a-day-off" and "public holiday" in finding.explanation
    assert _hours("2025-08-19T10:00:00-05:00", region="CO") == []
    # Regional holidays where the region names the subdivision: 2 May is Madrid's day (advisory window in Spain).
    madrid = _run(_call("2025-05-02T10:00:00+02:00", region="ES-MD")).findings
    assert [f.rule for f in madrid] == ["call-on-a-day-off"] and madrid[0].severity.value == "low"
    assert _hours("2025-05-02T10:00:00+02:00", region="ES-CT") == []  # not a holiday in Catalonia
    # No holiday rule in the US: Independence Day is an ordinary calling day.
    assert _hours("2025-07-04T10:00:00-04:00", phone="+12125550123") == []


@pytest.mark.parametrize("phone", ["+15555550123", "+18005550123", ""])
def test_an_unknown_time_zone_is_reported_as_unknown_never_passed(phone: str) -> None:
    fields = {"phone": phone} if phone else {"region": "US"}
    result = _run(_call("2025-03-10T12:00:00-04:00", **fields))
    [skipped] = [s for s in result.skipped if s.check == "calling_time"]
    assert "time zone is unknown" in skipped.reason
    assert result.verdict(load_rules("en").rules[0].severity).value in ("incomplete", "fail")


def test_calls_without_metadata_are_not_judged_and_broken_metadata_is_not_run() -> None:
    plain = _run(None)
    assert not {s.check for s in plain.skipped} & set(CALLING) and plain.findings == ()
    broken = _run(None, problem="manifest.csv:4: started_at 'soon' is not an ISO 8601 time")
    assert {s.check: s.reason for s in broken.skipped if s.check in CALLING} == {
        check: "manifest.csv:4: started_at 'soon' is not an ISO 8601 time" for check in CALLING}


def test_inbound_calls_are_never_flagged() -> None:
    metadata = _call("2025-03-10T23:30:00-04:00", phone="+12125550123", direction="inbound")
    assert _run(metadata).findings == () and not _run(metadata).skipped


def test_jurisdictions_without_a_rule_say_so() -> None:
    result = _run(_call("2025-03-10T23:30:00-03:00", region="AR"))
    assert result.findings == () and not result.skipped
    assert any("no rule for Argentina" in note for note in result.notes)
    unknown = _run(_call("2025-03-10T23:30:00+01:00", region="FR"))
    assert {s.check for s in unknown.skipped} == set(CALLING)


# ------------------------------------------------------------------ seven in seven, across two runs


def _night(folder: Path, call_id: str, started_at: str, attempts: list[str]) -> Path:
    """A recorded call on account ACC-7 and earlier attempts without a recording, as one night's call log."""
    folder.mkdir(parents=True)
    data = json.loads((SAMPLES / "transcripts" / "en-sample-clean.transcript.json").read_text(encoding="utf-8"))
    data["call_id"] = call_id
    (folder / f"{call_id}.transcript.json").write_text(json.dumps(data), encoding="utf-8")
    lines = ["call_id,agent,team,account,direction,started_at,phone,outcome",
             f"{call_id},Dana,East,ACC-7,outbound,{started_at},+12125550166,no answer"]
    lines += [f"{folder.name}-{n},Dana,East,ACC-7,outbound,{when},+12125550166,no answer" for n, when in enumerate(attempts)]
    (folder / "log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_seven_in_seven_across_two_runs(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _night(tmp_path / "monday", "call-mon", "2025-03-10T19:00:00-04:00",
                   ["2025-03-10T10:00:00-04:00", "2025-03-10T12:00:00-04:00", "2025-03-10T15:00:00-04:00"])
    second = _night(tmp_path / "tuesday", "call-tue", "2025-03-11T19:00:00-04:00",
                    ["2025-03-11T10:00:00-04:00", "2025-03-11T12:00:00-04:00", "2025-03-11T15:00:00-04:00"])
    for night in (first, second):
        result = run(capsys, "check", night / f"call-{night.name[:3]}.transcript.json", "--out", night / "out",
                     "--manifest", night / "log.csv", "--db", database_url, "-q")
        assert result.code in (0, 1), result.err
    monday = read_report(first / "out", "call-mon")
    assert [f for f in monday["findings"] if f["check"] == "call_frequency"] == []  # 4 calls so far
    tuesday = read_report(second / "out", "call-tue")
    [finding] = [f for f in tuesday["findings"] if f["check"] == "call_frequency"]
    assert finding["rule"] == "too-many-calls" and finding["evidence"].startswith("call 8 in 7 days")
    assert "19:00 EDT" in finding["evidence"] and finding["reference"].startswith("12 CFR 1006.14(b)(2)")
    # Alone, the second night has only its own four calls: no finding.
    alone = run(capsys, "check", second / "call-tue.transcript.json", "--out", tmp_path / "alone", "--manifest",
                second / "log.csv", "-q")
    assert alone.code in (0, 1)
    assert not [f for f in read_report(tmp_path / "alone", "call-tue")["findings"] if f["check"] == "call_frequency"]
