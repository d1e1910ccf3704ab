"""Audio -> Transcript with Vosk: find a model, load it once, decode each channel.

Stereo calls are decoded one channel at a time (left = agent by default), which is
what tells the agent's words from the customer's. Mono calls get one speaker,
`MIXED_SPEAKER`, whose role is unknown.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from etiquette.audio import AudioInfo, Limit, LoudnessMeter, decoded_seconds, ensure_complete, pcm_chunks, probe
from etiquette.errors import ModelError, ModelNotFoundError
from etiquette.types import MIXED_SPEAKER, Loudness, Role, Speaker, Transcript, Word

if TYPE_CHECKING:
    import vosk

SAMPLE_RATE = 16000
LOUDNESS_STEP = 0.5  # seconds: the PCM chunk size, and the resolution of the loudness measure
MODEL_ENV = "ETIQUETTE_MODEL"
MODELS_URL = "https://alphacephei.com/vosk/models"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model folder to use and why it was chosen (for `--verbose` output and errors)."""

    path: Path
    reason: str  # "--model flag", "ETIQUETTE_MODEL environment variable", ...


@dataclass(frozen=True, slots=True)
class ChannelTranscript:
    """The words decoded from one channel, how much audio it held, and how loud it was."""

    words: tuple[Word, ...]
    seconds: float
    loudness: tuple[float | None, ...] = ()  # LUFS every LOUDNESS_STEP seconds
    speaker: str = ""


# ---------------------------------------------------------------- model resolution


def resolve_model(
    language: str,
    explicit: str | Path | None = None,
    *,
    models_dirs: Sequence[Path] | None = None,
    user_dir: Path | None = None,
) -> ModelChoice:
    """Find the Vosk model for `language` (a BCP-47 tag such as "es-MX").

    Order: the `--model` flag, the ETIQUETTE_MODEL environment variable,
    `models/<tag>/` then `models/<primary language>/` (in the current directory's
    `models/` and the project's own; `models_dirs` replaces both), then the user
    models folder where `etiquette models` installs (`user_dir`, default
    $ETIQUETTE_MODELS_DIR or the platform's data folder), then an installed
    `vosk_model_<primary language>` package. A place that is named but holds no
    model is an error, never silently skipped.
    """
    if explicit is not None and str(explicit) != "":
        return ModelChoice(_checked_model_dir(Path(explicit), "--model"), "--model flag")

    env = os.environ.get(MODEL_ENV, "").strip()
    if env:
        return ModelChoice(_checked_model_dir(Path(env), MODEL_ENV), f"{MODEL_ENV} environment variable")

    primary = language.split("-")[0].split("_")[0].lower()
    roots = list(models_dirs) if models_dirs is not None else default_models_dirs()
    looked: list[str] = []
    for root in roots:
        for name in _folder_names(language):
            folder = root / name
            looked.append(str(folder))
            if folder.is_dir():
                return ModelChoice(_checked_model_dir(folder, "the models folder"), f"models/{name}/ folder")

    from etiquette import models  # here, not at the top: etiquette.models imports this module

    user_root = models.user_models_dir() if user_dir is None else user_dir
    user_label = models.user_models_label(user_dir)
    installed = models.find_installed(language, user_root)
    if installed is not None:
        return ModelChoice(_checked_model_dir(installed.path, f"the {user_label}"), f"{user_label} ({installed.name})")

    package = f"vosk_model_{primary}"
    if primary.isalpha() and primary.isascii():
        package_dir = _package_dir(package)
        if package_dir is not None:
            model_dir = _checked_model_dir(package_dir / "model", f"package {package}")
            return ModelChoice(model_dir, f"installed package {package.replace('_', '-')}")

    raise ModelNotFoundError(
        f"no Vosk model for language '{language}': looked at the --model flag, the {MODEL_ENV} "
        f"environment variable, {', '.join(looked) or 'no models folder'}, the {user_label} {user_root} "
        f"and the Python package {package}; `etiquette models download` fetches one into the {user_label}, "
        f"or download one from {MODELS_URL} and pass --model DIR, set {MODEL_ENV}=DIR "
        f"or unpack it into models/{primary}/"
    )


def default_models_dirs() -> list[Path]:
    """`./models` and, when running from a source checkout, the project's own `models/`."""
    dirs = [Path.cwd() / "models"]
    if (_PROJECT_ROOT / "pyproject.toml").is_file():
        project = _PROJECT_ROOT / "models"
        if project.resolve() != dirs[0].resolve():
            dirs.append(project)
    return dirs


def _folder_names(language: str) -> list[str]:
    """Folder names to try, most specific first: "es-MX" (as given, then canonical), "es"."""
    parts = language.replace("_", "-").split("-")
    canonical = "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    names = [language, canonical, parts[0].lower()]
    return [n for i, n in enumerate(names) if n and n not in names[:i]]


def _package_dir(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def _checked_model_dir(path: Path, source: str) -> Path:
    """`path` if it holds a Vosk model (or its only subfolder does), else ModelError."""
    if not path.exists():
        raise ModelError(f"the model folder given by {source} does not exist: {path}")
    if not path.is_dir():
        raise ModelError(f"the model given by {source} is not a folder: {path}")
    problem = model_layout_problem(path)
    if problem is None:
        return path
    # A downloaded zip unpacked into models/es/ gives models/es/vosk-model-small-es-0.42/.
    subdirs = [p for p in path.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and model_layout_problem(subdirs[0]) is None:
        return subdirs[0]
    raise ModelError(
        f"{path} (from {source}) is not a Vosk model: {problem}; "
        f"download a model from {MODELS_URL} and unpack it there"
    )


def model_layout_problem(path: Path) -> str | None:
    """What keeps `path` from being a Vosk model folder, or None when it looks like one.

    Checks the files Kaldi needs before Kaldi is touched: its own errors are cryptic
    and printed straight to the terminal.
    """
    if not path.is_dir():
        return "not a folder"

    def has(*names: str) -> bool:
        return any((path / name).is_file() for name in names)

    if not has("am/final.mdl", "final.mdl"):
        return "no am/final.mdl"
    if not (path / "conf").is_dir() and not has("mfcc.conf"):
        return "no conf/ folder"
    if not has("graph/HCLG.fst", "HCLG.fst") and not (
        has("graph/HCLr.fst", "HCLr.fst") and has("graph/Gr.fst", "Gr.fst")
    ):
        return "no decoding graph (graph/HCLG.fst, or graph/HCLr.fst and graph/Gr.fst)"
    return None


# ---------------------------------------------------------------- model loading

_model_cache: dict[Path, vosk.Model] = {}
_model_lock = threading.Lock()


def load_model(path: str | Path) -> vosk.Model:
    """Load the Vosk model at `path`, once per process (thread-safe)."""
    key = Path(path).resolve()
    with _model_lock:
        cached = _model_cache.get(key)
        if cached is not None:
            return cached
        problem = model_layout_problem(key)
        if problem is not None:
            raise ModelError(f"{key} is not a Vosk model: {problem}")
        import vosk

        vosk.SetLogLevel(-1)  # keep Kaldi's log lines off the terminal
        try:
            model = vosk.Model(str(key))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelError(f"Vosk could not load the model in {key}: {exc}") from exc
        _model_cache[key] = model
        return model


# ---------------------------------------------------------------- decoding


def transcribe_channel(model: vosk.Model, path: str | Path, channel: int | None, speaker: str) -> list[Word]:
    """The words Vosk hears on one channel (None = all channels mixed), in time order."""
    return list(decode_channel(model, path, channel, speaker).words)


def decode_channel(
    model: vosk.Model, path: str | Path, channel: int | None, speaker: str, *, limit: Limit | None = None
) -> ChannelTranscript:
    """Decode one channel with its own recogniser; safe to run channels in parallel threads.

    With a `limit`, decoding stops (CallTimeout, Interrupted) when the call runs
    out of time or the run is interrupted.
    """
    import vosk

    recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    recognizer.SetWords(True)
    meter = LoudnessMeter(SAMPLE_RATE)
    words: list[Word] = []
    levels: list[float | None] = []
    byte_count = 0
    for chunk in pcm_chunks(path, channel, sample_rate=SAMPLE_RATE, chunk_seconds=LOUDNESS_STEP, limit=limit):
        byte_count += len(chunk)
        levels.append(meter.measure(chunk))
        if recognizer.AcceptWaveform(chunk):
            words.extend(_words(recognizer.Result(), speaker))
    words.extend(_words(recognizer.FinalResult(), speaker))
    return ChannelTranscript(tuple(words), decoded_seconds(byte_count, SAMPLE_RATE), tuple(levels), speaker)


def _words(result_json: str, speaker: str) -> Iterable[Word]:
    for item in json.loads(result_json).get("result", []):
        yield Word(
            text=str(item["word"]),
            start=float(item["start"]),
            end=float(item["end"]),
            conf=min(1.0, max(0.0, float(item.get("conf", 1.0)))),
            speaker=speaker,
        )


def channel_plan(info: AudioInfo, agent_channel: str = "left") -> tuple[dict[str, Speaker], list[tuple[int | None, str]]]:
    """Which channels to decode and who speaks on each.

    Stereo (2+ channels): channels 0 and 1 are decoded separately, the left one is
    the agent unless `agent_channel="right"`; further channels are ignored. Mono:
    one pass over the mixed audio, every word said by `MIXED_SPEAKER`.
    """
    if agent_channel not in ("left", "right"):
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    if info.channels >= 2:
        agent, customer = (0, 1) if agent_channel == "left" else (1, 0)
        speakers = {"agent": Speaker(Role.AGENT, channel=agent), "customer": Speaker(Role.CUSTOMER, channel=customer)}
        return speakers, [(agent, "agent"), (customer, "customer")]
    return {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}, [(None, MIXED_SPEAKER)]


def assemble(
    parts: list[ChannelTranscript], info: AudioInfo, speakers: dict[str, Speaker], *, call_id: str, language: str, source: str | Path
) -> Transcript:
    """One transcript from the decoded channels: words merged in time order.

    A file that decoded to far less audio than it declares is an AudioError. The
    duration is the file's own, or the decoded length when ffmpeg only guessed it.
    """
    seconds = max(part.seconds for part in parts)
    ensure_complete(info, seconds)
    words = sorted((w for part in parts for w in part.words), key=lambda w: (w.start, w.end, w.speaker))
    loudness = {part.speaker: Loudness(LOUDNESS_STEP, part.loudness) for part in parts if part.loudness}
    return Transcript(
        call_id=call_id,
        language=language,
        duration=seconds if info.duration is None or info.duration_estimated else info.duration,
        speakers=speakers,
        words=tuple(words),
        source=str(source),
        loudness=loudness,
    )


def transcribe_audio(
    path: str | Path,
    *,
    call_id: str,
    language: str,
    model: vosk.Model,
    agent_channel: Literal["left", "right"] = "left",
) -> Transcript:
    """Transcribe a call recording, one channel after the other (see `channel_plan`).

    Silence gives zero words, not an error. The batch pipeline runs the same
    steps with the channels in parallel.
    """
    if agent_channel not in ("left", "right"):  # before touching the file
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    info = probe(path)
    speakers, plan = channel_plan(info, agent_channel)
    parts = [decode_channel(model, path, channel, speaker) for channel, speaker in plan]
    return assemble(parts, info, speakers, call_id=call_id, language=language, source=path)
