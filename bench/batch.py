#!/usr/bin/env python3
"""What a batch costs beyond transcription, and what a second worker buys.

    python bench/batch.py [--calls 20] [--work DIR]

Makes (once, cached in --work) stereo calls of 1 to 5 minutes of Korean speech
with espeak-ng, then times on the same audio:

  (a) Vosk alone: the model loaded once, every channel's PCM fed to a recogniser
      one after the other, in this process: the limit;
  (b) `etiquette check --jobs 1`, end to end;
  (c) `etiquette check --jobs 2`, end to end;

and prints (b)/(a) (target <= 1.10), (b)/(c) (target >= 1.8 on two cores) and
the peak memory of the --jobs 2 run against a process that only loads the model
(target: no more than 300 MB above it). It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import speech  # noqa: E402  (the test suite's TTS helpers: espeak-ng + sox)

AGENT_LINES = [
    "안녕하세요 저는 국민은행 채권팀의 김민수입니다 잠시 통화 가능하십니까",
    "고객님의 카드 대금이 두 달째 연체되어 연락드렸습니다",
    "이번 달 말까지 최소 결제 금액을 납부해 주시면 됩니다",
    "분할 납부도 가능하니 편하신 방법을 말씀해 주세요",
    "확인 감사합니다 오늘 안내드린 내용은 문자로도 보내드리겠습니다",
]
CUSTOMER_LINES = [
    "네 말씀하세요 무슨 일 때문에 전화하셨어요",
    "요즘 회사 사정이 안 좋아서 조금 늦어졌습니다",
    "다음 주 금요일까지는 꼭 내겠습니다",
    "분할로 하면 한 달에 얼마씩 내야 하나요",
    "알겠습니다 감사합니다 좋은 하루 되세요",
]


def make_calls(work: Path, count: int) -> list[Path]:
    calls = work / "calls"
    done = sorted(calls.glob("*.wav"))
    if len(done) >= count:
        return done[:count]
    shutil.rmtree(calls, ignore_errors=True)
    calls.mkdir(parents=True)
    clips = work / "clips"
    clips.mkdir(exist_ok=True)
    agent = [speech.speak(t, clips / f"a{i}.wav") for i, t in enumerate(AGENT_LINES)]
    customer = [speech.speak(t, clips / f"c{i}.wav", voice="ko+f3") for i, t in enumerate(CUSTOMER_LINES)]
    rng = random.Random(7)
    for n in range(count):
        length = 60 + (240 * n) / max(1, count - 1)  # 1 to 5 minutes
        left, right, now, turn = [], [], 0.5, 0
        while True:
            clip = rng.choice(agent if turn % 2 == 0 else customer)
            if now + speech.seconds(clip) > length - 0.5:
                break
            (left if turn % 2 == 0 else right).append((round(now, 2), clip))
            now += speech.seconds(clip) + rng.uniform(0.3, 1.2)
            turn += 1
        l = speech.place(left, length, work / "l.wav")
        r = speech.place(right, length, work / "r.wav")
        speech.stereo(l, r, calls / f"call-{n:02d}.wav")
    return sorted(calls.glob("*.wav"))


def vosk_alone(calls: list[Path]) -> tuple[float, float]:
    """Seconds to load the model and decode every channel, one after the other; audio seconds."""
    from etiquette import audio, models

    pcm = [b"".join(audio.pcm_chunks(call, channel)) for call in calls for channel in (0, 1)]  # decoded beforehand
    import vosk

    vosk.SetLogLevel(-1)
    began = time.perf_counter()
    model = vosk.Model(str(models.resolve_model("ko").path))
    for data in pcm:
        recognizer = vosk.KaldiRecognizer(model, 16000)
        recognizer.SetWords(True)
        for start in range(0, len(data), 16000):
            recognizer.AcceptWaveform(data[start : start + 16000])
        recognizer.FinalResult()
    audio_seconds = sum(len(data) for data in pcm) / 2 / 16000 / 2
    return time.perf_counter() - began, audio_seconds


def timed_run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def model_only_memory() -> float:
    code = "from etiquette import models, transcribe; transcribe.load_model(models.resolve_model('ko').path)"
    command = [sys.executable, "-c", code]
    result = subprocess.run(
        ["/usr/bin/env", "python3", "-c",
         "import resource,subprocess,sys; subprocess.run(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
         *command], capture_output=True, text=True, check=True)
    return int(result.stdout.strip()) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/etiquette-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    calls = make_calls(args.work, args.calls)
    folder = calls[0].parent
    etiquette = str(Path(sys.executable).with_name("etiquette"))
    print(f"{len(calls)} stereo calls in {folder}, {os.cpu_count()} cores")

    limit, audio_seconds = vosk_alone(calls)
    print(f"(a) Vosk alone:           {limit:7.1f} s for {audio_seconds / 60:.1f} min of calls ({audio_seconds / limit:.1f}x real time)")
    results = {}
    for jobs in (1, 2):
        out = args.work / f"out-jobs{jobs}"
        shutil.rmtree(out, ignore_errors=True)
        command = [etiquette, "check", str(folder), "--out", str(out), "--language", "ko", "--jobs", str(jobs), "--quiet"]
        results[jobs] = timed_run(command)
        label = "(b) etiquette --jobs 1" if jobs == 1 else "(c) etiquette --jobs 2"
        print(f"{label}: {results[jobs][0]:7.1f} s, peak memory {results[jobs][1]:.0f} MB")
    model_mb = model_only_memory()
    one, two = results[1][0], results[2][0]
    print(f"(b)/(a) = {one / limit:.3f}   (target <= 1.10: overhead beyond transcription)")
    print(f"(b)/(c) = {one / two:.2f}    (target >= 1.8 on two cores)")
    print(f"memory: --jobs 2 peak {results[2][1]:.0f} MB, the loaded model alone {model_mb:.0f} MB, "
          f"difference {results[2][1] - model_mb:.0f} MB (target <= 300)")
    summary = {"vosk_alone_s": limit, "jobs1_s": one, "jobs2_s": two, "b_over_a": one / limit, "b_over_c": one / two,
               "peak_jobs2_mb": results[2][1], "model_only_mb": model_mb, "audio_min": audio_seconds / 60}
    print(json.dumps({k: round(v, 3) for k, v in summary.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
