"""What the words miss, measured from real audio and real Vosk (Korean, espeak-ng, sox):
shouting, talking over the other party, dead air."""

from __future__ import annotations

import array
import json
import wave
from pathlib import Path

import pytest

try:
    import speech
except ImportError:  # run as a package
    from tests import speech

from etiquette.cli import main

pytestmark = pytest.mark.vosk

AGENT = ["안녕하세요 저는 국민은행 채권팀의 김민수입니다", "고객님의 카드 대금이 두 달째 연체되어 연락드렸습니다",
         "이번 달 말까지 최소 결제 금액을 납부해 주시면 됩니다", "분할 납부도 가능하니 편하신 방법을 말씀해 주세요"]
CUSTOMER = ["네 말씀하세요 무슨 일 때문에 전화하셨어요", "요즘 회사 사정이 안 좋아서 조금 늦어졌습니다 다음 주에는 꼭 내겠습니다",
            "분할로 하면 한 달에 얼마씩 내야 하는지 자세히 알려 주시면 좋겠습니다"]
QUIET_DB = -14.0  # the test speech is recorded this much below full scale, so +12 dB never clips


def scaled(src: Path, out: Path, db: float, start: float = 0.0, end: float | None = None) -> Path:
    """A copy of a mono WAV with `db` of gain applied between `start` and `end` seconds."""
    with wave.open(str(src)) as reader:
        params = reader.getparams()
        samples = array.array("h", reader.readframes(reader.getnframes()))
    rate = params.framerate
    first, last = int(start * rate), len(samples) if end is None else int(end * rate)
    factor = 10 ** (db / 20)
    for i in range(first, min(last, len(samples))):
        samples[i] = max(-32768, min(32767, int(samples[i] * factor)))
    with wave.open(str(out), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(samples.tobytes())
    return out


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    speech.require_korean_speech()
    work = tmp_path_factory.mktemp("voices")
    agent = [scaled(speech.speak(t, work / f"a{i}.wav"), work / f"qa{i}.wav", QUIET_DB) for i, t in enumerate(AGENT)]
    customer = [scaled(speech.speak(t, work / f"c{i}.wav", voice="ko+f3"), work / f"qc{i}.wav", QUIET_DB)
                for i, t in enumerate(CUSTOMER)]
    backchannel = [scaled(speech.speak("네", work / "yes.wav"), work / "qyes.wav", QUIET_DB)]
    return {"agent": agent, "customer": customer, "backchannel": backchannel}


def conversation(voices, work: Path, name: str) -> tuple[Path, Path, float, tuple[float, float]]:
    """Agent speech (four sentences back to back), then the customer: (left, right, length, agent span)."""
    at, left = 0.5, []
    for clip in voices["agent"]:
        left.append((at, clip))
        at += speech.seconds(clip) + 0.3
    agent_span = (0.5, at)
    at += 1.0
    right = []
    for clip in voices["customer"][:2]:
        right.append((at, clip))
        at += speech.seconds(clip) + 0.4
    total = at + 0.8
    return (speech.place(left, total, work / f"{name}-l.wav"), speech.place(right, total, work / f"{name}-r.wav"),
            total, agent_span)


def check(call: Path, out: Path) -> dict:
    assert main(["check", str(call), "--language", "ko", "--out", str(out), "--quiet"]) in (0, 1)  # 1: a failing finding
    return json.loads((out / f"{call.stem}.report.json").read_text(encoding="utf-8"))


def findings(report: dict, rule: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_shouting_is_found_where_the_agent_raised_their_voice(voices, tmp_path):
    left, right, total, (speech_start, speech_end) = conversation(voices, tmp_path, "base")
    loud_from = speech_start + 3.0
    loud_to = loud_from + 5.0
    assert loud_to < speech_end
    calls = tmp_path / "calls"
    calls.mkdir()
    speech.stereo(scaled(left, tmp_path / "loud-l.wav", 12.0, loud_from, loud_to), right, calls / "agent-shouts.wav")
    speech.stereo(left, scaled(right, tmp_path / "loud-r.wav", 12.0, speech_end + 1.0, speech_end + 6.0), calls / "customer-loud.wav")
    speech.stereo(left, right, calls / "uniform.wav")

    shouts = check(calls / "agent-shouts.wav", tmp_path / "out")
    found = findings(shouts, "shouting")
    assert len(found) == 1, shouts["findings"]
    assert found[0]["check"] == "aggressive_language" and found[0]["speaker"] == "agent"
    assert loud_from - 1.0 <= found[0]["start"] and found[0]["end"] <= loud_to + 1.0  # inside the raised stretch
    assert "dB above" in found[0]["explanation"]
    rise = float(found[0]["explanation"].split(" dB above")[0].split()[-1])
    assert 9.0 <= rise <= 14.0
    metrics = shouts["metrics"]["agent"]
    assert metrics["loudness_peak_lufs"] - metrics["loudness_median_lufs"] >= 9.0

    assert findings(check(calls / "customer-loud.wav", tmp_path / "out"), "shouting") == []
    uniform = check(calls / "uniform.wav", tmp_path / "out")
    assert findings(uniform, "shouting") == []
    assert uniform["metrics"]["agent"]["loudness_peak_lufs"] - uniform["metrics"]["agent"]["loudness_median_lufs"] < 6.0


def overlapping(voices, work: Path, name: str, agent_clips: list[Path]) -> Path:
    """The customer speaks three long sentences; the agent comes in 1.5 s into each."""
    at, right, left = 0.5, [], []
    for n in range(3):
        clip = voices["customer"][(n % 2) + 1]
        right.append((at, clip))
        left.append((at + 1.5, agent_clips[n % len(agent_clips)]))
        at += max(speech.seconds(clip), 1.5 + speech.seconds(agent_clips[n % len(agent_clips)])) + 1.0
    total = at + 0.5
    out = work / "calls"
    out.mkdir(exist_ok=True)
    return speech.stereo(speech.place(left, total, work / f"{name}-l.wav"), speech.place(right, total, work / f"{name}-r.wav"),
                         out / f"{name}.wav")


def test_talking_over_the_customer_three_times_is_an_interruptions_finding(voices, tmp_path):
    report = check(overlapping(voices, tmp_path, "talks-over", voices["agent"][1:4]), tmp_path / "out")
    found = findings(report, "talking-over")
    assert len(found) == 1, report["findings"]
    assert found[0]["check"] == "interruptions" and "3 times" in found[0]["explanation"]
    assert report["call_metrics"]["interruptions"] == 3
    assert report["call_metrics"]["overlap_seconds"] >= 3.0


def test_backchannels_over_the_customer_are_not_interruptions(voices, tmp_path):
    report = check(overlapping(voices, tmp_path, "listens", voices["backchannel"]), tmp_path / "out")
    assert findings(report, "talking-over") == []
    assert report["call_metrics"]["interruptions"] == 0


def test_twelve_seconds_of_silence_on_both_channels_is_dead_air(voices, tmp_path):
    first, second = voices["agent"][0], voices["customer"][0]
    gap_from = 0.5 + speech.seconds(first)
    gap_to = gap_from + 12.0
    total = gap_to + speech.seconds(second) + 0.5
    calls = tmp_path / "calls"
    calls.mkdir()
    call = speech.stereo(speech.place([(0.5, first)], total, tmp_path / "l.wav"),
                         speech.place([(gap_to, second)], total, tmp_path / "r.wav"), calls / "on-hold.wav")
    report = check(call, tmp_path / "out")
    found = findings(report, "dead-air")
    assert len(found) == 1, report["findings"]
    assert found[0]["severity"] == "low" and found[0]["check"] == "dead_air"
    assert abs(found[0]["start"] - gap_from) < 1.5 and abs(found[0]["end"] - gap_to) < 1.5
    assert report["call_metrics"]["longest_silence"] >= 10.0
