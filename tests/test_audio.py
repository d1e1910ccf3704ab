"""etiquette.audio against real files made with sox, espeak-ng and ffmpeg (no Vosk)."""

from __future__ import annotations

import array
import os
import subprocess
from pathlib import Path

import pytest

from etiquette import audio
from etiquette.audio import AudioInfo, ensure_complete, ffmpeg_exe, parse_ffmpeg_banner, pcm_chunks, probe
from etiquette.errors import AudioError

try:  # tests/ as a plain folder (pytest's default) or as a package
    import speech
except ImportError:
    from tests import speech

pytestmark = pytest.mark.skipif(bool(speech.missing_tools()), reason=f"needs {speech.missing_tools()}")


def peak(pcm: bytes) -> int:
    """Largest absolute sample in 16-bit little-endian PCM."""
    samples = array.array("h", pcm)
    return max((abs(s) for s in samples), default=0)


def assert_one_line(err: pytest.ExceptionInfo[AudioError]) -> str:
    message = str(err.value)
    assert message and "\n" not in message
    return message


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audio")
    wav = speech.tone(d / "tone.wav", 3.0)
    f = {
        "mono": wav,
        "stereo": speech.tone(d / "stereo.wav", 2.0, channels=2, rate=22050),
        "left_only": speech.tone(d / "left_only.wav", 2.0, channels=2, silent_right=True),
        "six": speech.tone(d / "six.wav", 1.0, channels=6, rate=8000),
        "long": speech.tone(d / "long.wav", 12.0, channels=2, rate=44100),
        "mp3": speech.to_mp3(wav, d / "tone.mp3"),
        "mulaw": speech.to_mulaw_8k(wav, d / "tone_mulaw.wav"),
        "flac": speech.to_flac_44k(wav, d / "tone.flac"),
    }
    f["empty"] = d / "empty.wav"
    f["empty"].write_bytes(b"")
    f["text"] = d / "notes.wav"
    f["text"].write_text("this is not audio, just a text file renamed\n" * 20, encoding="utf-8")
    # Cut after 3000 bytes: the header still declares 3 s, but only ~0.3 s of frames remain.
    f["truncated_mp3"] = speech.truncate(f["mp3"], d / "truncated.mp3", 3000)
    # Cut inside the first frames: nothing left to decode.
    f["header_only_mp3"] = speech.truncate(f["mp3"], d / "header_only.mp3", 200)
    return f


# ------------------------------------------------------------------ ffmpeg_exe


def test_ffmpeg_exe_runs_and_pydub_writes_with_it(tmp_path: Path) -> None:
    exe = ffmpeg_exe()
    version = subprocess.run([exe, "-version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("ffmpeg version")

    from pydub import AudioSegment

    assert AudioSegment.converter == exe
    out = tmp_path / "written.mp3"
    AudioSegment.silent(duration=1500, frame_rate=16000).export(out, format="mp3")
    info = probe(out)
    assert info.codec == "mp3"
    assert info.duration == pytest.approx(1.5, abs=0.1)


# ------------------------------------------------------------------ probe


@pytest.mark.parametrize(
    "name, channels, rate, codec, duration",
    [
        ("mono", 1, 16000, "pcm_s16le", 3.0),
        ("stereo", 2, 22050, "pcm_s16le", 2.0),
        ("six", 6, 8000, "pcm_s16le", 1.0),
        ("mp3", 1, 16000, "mp3", 3.0),
        ("mulaw", 1, 8000, "pcm_mulaw", 3.0),
        ("flac", 1, 44100, "flac", 3.0),
    ],
)
def test_probe_reads_the_banner(files: dict[str, Path], name: str, channels: int, rate: int, codec: str, duration: float) -> None:
    info = probe(files[name])
    assert (info.channels, info.sample_rate, info.codec) == (channels, rate, codec)
    assert info.duration == pytest.approx(duration, abs=0.1)
    assert not info.duration_estimated


BANNER = """Input #0, wav, from 'call.wav':
  Duration: {duration}, bitrate: 256 kb/s
  Stream #0:0: Audio: pcm_s16le ([1][0][0][0] / 0x0001), 8000 Hz, {layout}, s16, 256 kb/s
At least one output file must be specified
"""


@pytest.mark.parametrize(
    "layout, channels",
    [("mono", 1), ("stereo", 2), ("1 channels", 1), ("2 channels", 2), ("3 channels", 3),
     ("5.1(side)", 6), ("7.1", 8), ("2.1", 3), ("quad", 4), ("FL+FR+LFE", 3)],
)
def test_banner_channel_layouts(layout: str, channels: int) -> None:
    info = parse_ffmpeg_banner(BANNER.format(duration="00:01:02.50", layout=layout))
    assert info == AudioInfo(duration=62.5, channels=channels, sample_rate=8000, codec="pcm_s16le")


def test_banner_without_duration_or_with_estimate() -> None:
    assert parse_ffmpeg_banner(BANNER.format(duration="N/A", layout="mono")).duration is None
    estimated = "[mp3 @ 0x55d5a2bed580] Estimating duration from bitrate, this may be inaccurate\n"
    info = parse_ffmpeg_banner(estimated + BANNER.format(duration="00:00:04.00", layout="mono"))
    assert info.duration == 4.0 and info.duration_estimated


def test_banner_stream_with_id_and_language_tag() -> None:
    banner = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'call.m4a':
  Duration: 00:00:10.00, start: 0.000000, bitrate: 130 kb/s
  Stream #0:0[0x1](und): Video: h264 (High), yuv420p, 640x480, 100 kb/s
  Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s (default)
"""
    assert parse_ffmpeg_banner(banner) == AudioInfo(10.0, 2, 48000, "aac")


def test_banner_without_audio_stream() -> None:
    banner = """Input #0, image2, from 'cover.png':
  Duration: 00:00:00.04, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: png, rgb24(pc), 64x64, 25 fps
"""
    with pytest.raises(AudioError, match="no audio stream") as err:
        parse_ffmpeg_banner(banner)
    assert_one_line(err)


def test_probe_of_an_image_has_no_audio_stream(tmp_path: Path) -> None:
    png = tmp_path / "cover.wav"  # the name lies; ffmpeg looks at the bytes
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32",
                    "-frames:v", "1", "-f", "image2", "-c:v", "png", str(png)], check=True)
    with pytest.raises(AudioError, match="no audio stream") as err:
        probe(png)
    assert_one_line(err)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("empty", "empty"),
        ("text", "Invalid data found"),
        ("header_only_mp3", "Invalid data found"),
    ],
)
def test_probe_rejects_unreadable_files(files: dict[str, Path], name: str, expected: str) -> None:
    with pytest.raises(AudioError, match=expected) as err:
        probe(files[name])
    assert_one_line(err)


def test_probe_rejects_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        probe(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="not a file"):
        probe(tmp_path)


def test_probe_reads_names_that_look_like_ffmpeg_protocols(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pipe:0").write_bytes(files["mono"].read_bytes())
    assert probe("pipe:0").duration == pytest.approx(3.0, abs=0.05)


# ------------------------------------------------------------------ pcm_chunks


def test_pcm_chunks_streams_bounded_chunks(files: dict[str, Path]) -> None:
    chunks = list(pcm_chunks(files["long"], None, chunk_seconds=1.0))
    size = 16000 * 2  # one second of 16 kHz 16-bit mono
    assert len(chunks) == 12
    assert all(len(c) == size for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= size
    assert sum(map(len, chunks)) == pytest.approx(12 * size, abs=64)


def test_pcm_chunks_picks_one_channel(files: dict[str, Path]) -> None:
    left = b"".join(pcm_chunks(files["left_only"], 0))
    right = b"".join(pcm_chunks(files["left_only"], 1))
    mixed = b"".join(pcm_chunks(files["left_only"], None))
    assert len(left) == len(right) == len(mixed) == 2 * 16000 * 2
    assert peak(left) > 20000  # sox's full-scale sine
    assert peak(right) == 0
    assert 0 < peak(mixed) < peak(left)  # the downmix averages in the silent right side


def test_pcm_chunks_resamples_every_format_to_16k(files: dict[str, Path]) -> None:
    for name in ("mono", "mp3", "mulaw", "flac"):
        pcm = b"".join(pcm_chunks(files[name], None))
        assert len(pcm) / 32000 == pytest.approx(3.0, abs=0.1), name
        assert peak(pcm) > 10000, name


def test_pcm_chunks_rejects_a_channel_that_does_not_exist(files: dict[str, Path]) -> None:
    with pytest.raises(AudioError, match="no channel 2: the audio has 2 channel"):
        next(pcm_chunks(files["left_only"], 2))


def test_pcm_chunks_failure_carries_ffmpeg_stderr(files: dict[str, Path]) -> None:
    with pytest.raises(AudioError, match="ffmpeg failed to decode it: .*Invalid data found") as err:
        list(pcm_chunks(files["text"], None))
    assert_one_line(err)


def test_pcm_chunks_kills_ffmpeg_when_closed_early(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []

    class RecordingPopen(subprocess.Popen):  # type: ignore[type-arg]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    monkeypatch.setattr(audio.subprocess, "Popen", RecordingPopen)
    stream = pcm_chunks(files["long"], None, chunk_seconds=0.1)
    assert len(next(stream)) == 3200
    (proc,) = started
    assert proc.poll() is None  # 12 s of PCM do not fit in the pipe: ffmpeg is still writing
    stream.close()
    assert proc.returncode is not None  # killed and reaped
    assert proc.stdout is not None and proc.stdout.closed


def test_pcm_chunks_kills_ffmpeg_when_the_consumer_fails(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        return proc

    monkeypatch.setattr(audio.subprocess, "Popen", recording_popen)

    def consume() -> None:
        for _chunk in pcm_chunks(files["long"], 0):
            raise KeyError("consumer bug")

    with pytest.raises(KeyError):
        consume()
    # With the channel check, probe's ffmpeg runs first; the decoder is the last one.
    assert started[-1].returncode is not None


def test_pcm_chunks_of_an_empty_file_fails_cleanly(files: dict[str, Path]) -> None:
    with pytest.raises(AudioError, match="empty"):
        list(pcm_chunks(files["empty"], None))


# ------------------------------------------------------------------ truncated files


def test_truncated_mp3_is_rejected_not_checked_in_part(files: dict[str, Path]) -> None:
    """Decision: a file that decodes to far less audio than it declares is an error.

    Checking the surviving part as if it were the whole call could pass a call whose
    missing part broke the rules.
    """
    info = probe(files["truncated_mp3"])
    assert info.duration == pytest.approx(3.0, abs=0.1)  # the header still says 3 s
    pcm = b"".join(pcm_chunks(files["truncated_mp3"], None))
    decoded = audio.decoded_seconds(len(pcm))
    assert 0 < decoded < 1.0
    with pytest.raises(AudioError, match="ends early: the file declares 3.0 s but only 0.[0-9] s") as err:
        ensure_complete(info, decoded)
    assert_one_line(err)


def test_ensure_complete_tolerates_small_differences_and_estimates() -> None:
    declared = AudioInfo(duration=600.0, channels=1, sample_rate=8000, codec="mp3")
    ensure_complete(declared, 599.0)  # codec padding and rounding are not truncation
    with pytest.raises(AudioError):
        ensure_complete(declared, 580.0)
    ensure_complete(AudioInfo(600.0, 1, 8000, "mp3", duration_estimated=True), 300.0)
    ensure_complete(AudioInfo(None, 1, 8000, "mp3"), 300.0)


def test_no_stray_ffmpeg_processes_left(files: dict[str, Path]) -> None:
    """After all the streams above, none of our ffmpeg children is still around."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if not children.exists():
        pytest.skip("needs Linux /proc")
    list(pcm_chunks(files["mono"], 0))
    assert children.read_text().split() == []


def test_a_call_s_time_limit_runs_only_while_one_of_its_channels_decodes(files: dict[str, Path]) -> None:
    """A channel that waits for a decoding slot (held by another call) does not spend its call's time."""
    import time

    from etiquette.audio import Limit
    from etiquette.errors import CallTimeout

    limit = Limit(timeout=1.5)
    began = time.monotonic()
    for _ in pcm_chunks(files["stereo"], 0, limit=limit):  # the first channel, quickly decoded
        pass
    first = time.monotonic() - began
    time.sleep(2.0)  # the second channel waits for a slot: free
    assert limit.exceeded() is None and limit.remaining() >= 1.5 - first
    with pytest.raises(CallTimeout):
        for _ in pcm_chunks(files["stereo"], 1, limit=limit):  # the second channel, slowly consumed: it runs out
            time.sleep(0.5)
    assert limit.remaining() == 0.0
