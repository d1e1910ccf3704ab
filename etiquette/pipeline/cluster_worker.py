"""What runs on each Dask worker of a `--cluster` run: the run's speech model, and one call's transcription.

The model never crosses the network. Each worker finds it on its own disk the
way `check` does (`--model`'s folder, $ETIQUETTE_MODEL, models/<language>/,
the user models folder, an installed vosk-model-* package) and loads it once
per process, when the run's plugin is set up on it: as the run starts, and on
a worker that joins or is restarted mid-run, before it is given a call. A
worker decodes a call's channels on threads of its own, at most as many
channels at once as it has threads (`dask worker --nthreads`).

The recording is read from the path the client gives (absolute), which must
name the same file on every machine: a shared file system.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from etiquette import __version__, transcribe
from etiquette.audio import AudioInfo, Limit
from etiquette.errors import AudioError, ModelError
from etiquette.models.locate import resolve_model
from etiquette.pipeline.decoding import Decoded
from etiquette.pipeline.transcription import AudioCall, transcribe_call
from etiquette.printable import shown

PLUGIN_PREFIX = "etiquette-run-"
# Workers tell the seconds of audio they decode as events (run id, seconds) on this topic. One topic
# for every run: the scheduler keeps a bounded log per topic, and a topic per run would never go away.
PROGRESS_TOPIC = "etiquette-decoded"


class RunOnWorker(WorkerPlugin):
    """One run on one worker: its model, its decoding slots, and whether the run was called off."""

    def __init__(self, run_id: str, language: str, model: str | None):
        self.name = PLUGIN_PREFIX + run_id
        self.language = language
        self.model_folder = model  # --model, made absolute by the client; None: found on the worker
        self.version = __version__  # the client's: a worker with another version must not transcribe

    async def setup(self, worker) -> None:
        self.address = worker.address
        self.cancel = threading.Event()
        self.slots = threading.Semaphore(max(1, worker.state.nthreads))
        # Loading takes seconds: off the event loop, which must keep answering the scheduler.
        self.model = await asyncio.get_running_loop().run_in_executor(None, self._load)

    def teardown(self, worker) -> None:
        self.cancel.set()  # the run ended or was interrupted: its calls still decoding stop now

    def _load(self) -> tuple[str, object] | ModelError:
        if self.version != __version__:
            return ModelError(f"worker {self.address} has etiquette {__version__}, this command {self.version}: "
                              "install the same version on every worker")
        try:
            choice = resolve_model(self.language, self.model_folder)
            return str(choice.path), transcribe.load_model(choice.path)
        except ModelError as error:
            return ModelError(f"on worker {self.address}: {error}")

    def loaded(self) -> tuple[str, object]:
        if isinstance(self.model, ModelError):
            raise self.model
        return self.model


def transcribe_on_worker(run_id: str, call: AudioCall, info: AudioInfo, timeout: float | None) -> Decoded:
    """The task: one call's transcript, made on this worker with the run's model."""
    worker = get_worker()
    run: RunOnWorker = worker.plugins[PLUGIN_PREFIX + run_id]
    try:
        with Path(call.path).open("rb"):
            pass
    except OSError as error:  # the shared folder is not mounted here, or not readable by the worker's user
        reason = error.strerror or type(error).__name__
        raise AudioError(f"worker {worker.address} cannot read {shown(call.path)}: {reason}") from None
    model_folder, model = run.loaded()
    limit = Limit(timeout, run.cancel)
    transcript = transcribe_call(call, model, limit=limit, slots=run.slots, info=info,
                                 on_seconds=lambda seconds: worker.log_event(PROGRESS_TOPIC, (run_id, seconds)))
    return Decoded(transcript, model_folder, limit.remaining())
