"""Issue 12, audio: a cut WAV or Ogg/Opus file is damage, not a short complete call (item 10);
a recording with more channels than two says which were transcribed (item 14). The files are
real Korean speech from espeak-ng, converted and cut with sox and ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from etiquette.audio import AudioInfo, probe
from etiquette.errors import AudioError
from etiquette.transcribe import ChannelTranscript, assemble, channel_plan
from etiquette.transcripts import read_transcript, write_transcript
from etiquette.types import Word

try:  # tests/ as a plain folder (pytest's default) or as a package
    import speech
    from cli_helpers import read_html, read_report, read_summary, run, threat_data, write_json
except ImportError:
    from tests import speech
    from tests.cli_helpers import read_html, read_report, read_summary, run, threat_data, write_json

FORMATS = {  # name: ffmpeg options
    "pcm.wav": [],
    "stereo.wav": ["-ac", "2"],
    "six.wav": ["-af", "pan=6c|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0"],  # the speech on every channel
    "mulaw.wav": ["-ar", "8000", "-c:a", "pcm_mulaw"],
    "vorbis.ogg": ["-c:a", "libvorbis"],
    "opus.opus": ["-c:a", "libopus"],
}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if speech.missing_tools():
        pytest.skip(f"needs {speech.missing_tools()}")
    folder = tmp_path_factory.mktemp("recordings")
    said = speech.speak(f"{speech.AGENT_KO} {speech.CUSTOMER_KO} {speech.AGENT_KO}", folder / "said.wav")
    return {name: speech.convert(said, folder / name, *options) for name, options in FORMATS.items()}


def _ogg_pages(data: bytes) -> list[int]:
    return [at for at in range(len(data) - 4) if data.startswith(b"OggS", at)]


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_whole_recording_is_whole(recordings: dict[str, Path], name: str) -> None:
    info = probe(recordings[name])
    assert info.duration == pytest.approx(speech.seconds(recordings["pcm.wav"]), abs=0.1)


@pytest.mark.parametrize("name", list(FORMATS))
def test_a_recording_cut_to_30_percent_is_damage(recordings: dict[str, Path], name: str, tmp_path: Path) -> None:
    """Item 10: a 28 s WAV cut to 30% was reported as an 8.4 s call that passed."""
    whole = recordings[name]
    cut = speech.truncate(whole, tmp_path / f"cut-{name}", int(whole.stat().st_size * 0.3))
    with pytest.raises(AudioError, match="^the audio ends early: "):
        probe(cut)


@pytest.mark.parametrize("name", ["vorbis.ogg", "opus.opus"])
def test_an_ogg_file_cut_between_two_pages_is_damage(recordings: dict[str, Path], name: str, tmp_path: Path) -> None:
    data = recordings[name].read_bytes()
    pages = _ogg_pages(data)
    cut = tmp_path / f"page-{name}"
    cut.write_bytes(data[: pages[len(pages) // 2]])
    with pytest.raises(AudioError, match="the Ogg stream has no end-of-stream page"):
        probe(cut)


def test_a_cut_recording_fails_alone_in_a_batch(recordings: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Before any speech model is needed: the damage is found in the container."""
    calls = tmp_path / "calls"
    calls.mkdir()
    whole = recordings["stereo.wav"]
    speech.truncate(whole, calls / "cut.wav", int(whole.stat().st_size * 0.3))
    write_json(calls / "good.transcript.json", threat_data("good"))
    result = run(capsys, "check", calls, "--out", tmp_path / "out", "--language", "ko", "--model", tmp_path)
    assert result.code == 3
    seconds = speech.seconds(whole)
    assert result.err_lines == [f"{calls}/cut.wav: the audio ends early: its WAV header declares {seconds:.1f} s but the "
                                f"file holds only {seconds * 0.3:.1f} s (truncated or damaged file?)"]
    assert [row["status"] for row in read_summary(tmp_path / "out")] == ["error", "ok"]


# ------------------------------------------------------------------ more than two channels


def test_six_channels_say_only_two_were_transcribed(tmp_path: Path) -> None:
    """Item 14: 6-channel audio was transcribed from channels 1-2 with no note."""
    info = AudioInfo(duration=3.0, channels=6, sample_rate=16000, codec="pcm_s16le")
    speakers, plan = channel_plan(info)
    assert plan == [(0, "agent"), (1, "customer")]
    parts = [ChannelTranscript((Word("hello", 0.5, 0.9, 1.0, speaker),), 3.0, (), speaker) for _, speaker in plan]
    transcript = assemble(parts, info, speakers, call_id="six", language="ko", source="six.wav")
    note = "the recording has 6 channels: only the first two were transcribed"
    assert transcript.notes == (note,)
    write_transcript(transcript, tmp_path / "six.transcript.json")  # a re-check from the saved transcript keeps it
    assert read_transcript(tmp_path / "six.transcript.json").notes == (note,)
    stereo = assemble(parts, AudioInfo(3.0, 2, 16000, "pcm_s16le"), speakers, call_id="two", language="ko", source="two.wav")
    assert stereo.notes == ()


@pytest.mark.vosk
def test_a_six_channel_call_is_reported_with_the_note(recordings: dict[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], clean_env: Path) -> None:
    speech.require_korean_speech()
    result = run(capsys, "check", recordings["six.wav"], "--language", "ko", "--out", tmp_path / "out", "--html", "--quiet")
    assert result.code == 0, result.err
    note = "the recording has 6 channels: only the first two were transcribed"
    assert note in read_report(tmp_path / "out", "six")["notes"]
    assert note in read_html(tmp_path / "out")
