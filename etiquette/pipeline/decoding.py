"""Where a batch's audio is decoded: this process's threads, or the workers of a Dask cluster.

The batch hands every call to transcribe to a `Decoders` object and reads back,
as each finishes, either the call's transcript or why it failed. Whatever does
the decoding, the batch checks and writes every call itself, one after the
other, so the outputs never depend on where the audio was decoded.

`ThreadDecoders` (the default) decodes on worker threads of this process, all
sharing one loaded model per language (Vosk releases the GIL), at most
`--jobs` channels at once. `ClusterDecoders` (`cluster.py`) sends the calls to
a Dask cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from etiquette.audio import AudioInfo, Limit
from etiquette.errors import EtiquetteError
from etiquette.pipeline.plan import PlannedCall
from etiquette.pipeline.transcription import AudioCall, transcribe_call
from etiquette.types import Transcript


@dataclass(frozen=True)
class DecodeJob:
    """One call to transcribe, probed and ready."""

    call: PlannedCall
    digest: str  # SHA-256 of the audio, recorded in the saved transcript
    info: AudioInfo
    audio: AudioCall


@dataclass(frozen=True)
class Decoded:
    """One call's transcript, the model folder that made it, and what is left of its --timeout."""

    transcript: Transcript
    model: str
    budget: float | None = None  # seconds; None without --timeout


class ClusterLost(EtiquetteError):
    """The Dask scheduler could not be reached, or went away mid-run: the run ends, finished calls are kept."""


class Decoders(Protocol):
    def submit(self, job: DecodeJob) -> None: ...

    def completed(self) -> Iterator[tuple[DecodeJob, Decoded | BaseException]]:
        """Every submitted job once, as it finishes, with its result or its error; ClusterLost when
        the decoding cannot go on."""
        ...

    def interrupt(self) -> None:
        """Ctrl-C: stop the calls still decoding, now."""
        ...

    def close(self) -> None: ...


class ThreadDecoders:
    """Decodes on threads of this process: `jobs` channels at once, one loaded model per language."""

    def __init__(self, jobs: int, timeout: float | None, model_for: Callable[[str], tuple[Path, object]],
                 on_seconds: Callable[[float], None] | None = None):
        self.timeout = timeout
        self.model_for = model_for  # (model folder, loaded model) for a language, loaded once
        self.on_seconds = on_seconds
        self.cancel = threading.Event()
        self.slots = threading.Semaphore(max(1, jobs))
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="decode")
        self.pending: dict[Future, DecodeJob] = {}

    def submit(self, job: DecodeJob) -> None:
        model_path, model = self.model_for(job.audio.language)
        self.pending[self.pool.submit(self._decode, job, str(model_path), model)] = job

    def _decode(self, job: DecodeJob, model_path: str, model: object) -> Decoded:
        limit = Limit(self.timeout, self.cancel)
        transcript = transcribe_call(job.audio, model, limit=limit, slots=self.slots, on_seconds=self.on_seconds,
                                     info=job.info)
        return Decoded(transcript, model_path, limit.remaining())

    def completed(self) -> Iterator[tuple[DecodeJob, Decoded | BaseException]]:
        while self.pending:
            finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = self.pending.pop(future)
                error = future.exception()
                yield job, error if error is not None else future.result()

    def interrupt(self) -> None:
        self.cancel.set()  # the watchdogs kill ffmpeg, so the threads return at once
        for future in self.pending:
            future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

