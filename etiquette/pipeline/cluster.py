"""Transcribing a batch on a Dask cluster (`--cluster`): the calls go out to the workers, their transcripts come back.

`--cluster tcp://HOST:8786` connects to a running scheduler; `--cluster local:N`
starts a `LocalCluster` of N worker processes on this machine (its cores shared
among them) and closes it at the end. Only the decoding leaves this process:
each worker loads the speech model itself and reads the recording from the
shared path (`cluster_worker.py`); the transcripts come back as they are done,
and the batch checks and writes them here exactly as a local run does.

Faults are Dask's to handle, with Dask's settings:
- a worker that dies mid-call (killed, out of memory) costs the calls it was
  decoding a retry on another worker. A call whose workers keep dying is failed
  (Dask's `KilledWorker`) after `distributed.scheduler.allowed-failures` + 1
  tries: 3 on `local:N`, the scheduler's own setting (Dask's default: 4) on
  a scheduler of your own;
- a scheduler that cannot be reached, or goes away mid-run, ends the run
  (`ClusterLost`); the same command finishes it later.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from pathlib import Path

import dask
from distributed import Client, LocalCluster, as_completed
from distributed.comm import parse_address
from distributed.comm.addressing import parse_host_port
from distributed.comm.registry import backends
from distributed.scheduler import KilledWorker

from etiquette.errors import EtiquetteError
from etiquette.pipeline.cluster_worker import PROGRESS_TOPIC, RunOnWorker, transcribe_on_worker
from etiquette.pipeline.decoding import ClusterLost, DecodeJob, Decoded
from etiquette.pipeline.options import CheckOptions

LOCAL_PREFIX = "local:"
LOCAL_TRIES = 3  # a call whose worker processes die this many times is failed
LOCAL_WORKER_PRELOAD = "etiquette.pipeline.local_worker"
CLOSE_SECONDS_AFTER_LOSS = 1.0
# No dashboard; the scheduler still serves a few HTTP routes, and without a port of its own it takes 8787, or
# warns on stderr that 8787 is taken (by another cluster on this machine) and takes another.
NO_DASHBOARD = {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}


@dataclass(frozen=True)
class ClusterTarget:
    """Where to decode: a running scheduler's address, or a number of local worker processes."""

    address: str | None = None
    local_workers: int = 0

    def __str__(self) -> str:
        return self.address or f"{LOCAL_PREFIX}{self.local_workers}"


def parse_cluster(value: str) -> ClusterTarget:
    """`local:N` or a scheduler address (`tcp://host:8786`); ValueError saying what is wrong."""
    value = value.strip()
    if value.startswith(LOCAL_PREFIX):
        count = value.removeprefix(LOCAL_PREFIX)
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"{value!r}: local:N needs a number of worker processes, 1 or more (local:4)")
        return ClusterTarget(local_workers=int(count))
    wrong = ValueError(f"{value!r} is not a Dask scheduler address such as tcp://host:8786, nor local:N")
    try:
        scheme, location = parse_address(value, strict=False)
        host, _ = parse_host_port(location, 8786) if scheme != "inproc" else (location, None)
    except ValueError:
        raise wrong from None
    if scheme not in backends or not host:
        raise wrong
    return ClusterTarget(address=value)


class ClusterDecoders:
    """Sends each call to the cluster's workers and hands back its transcript as it finishes."""

    def __init__(self, options: CheckOptions, on_seconds: Callable[[float], None] | None = None):
        assert options.cluster is not None
        self.target = parse_cluster(options.cluster)
        self.timeout = options.timeout
        self.run_id = uuid.uuid4().hex[:12]  # this run's tasks and plugin, apart from other runs on the scheduler
        self.pending: dict[object, DecodeJob] = {}
        self.plugin_name = ""  # the run's plugin, while it is registered
        self.lost = False
        self.cluster: LocalCluster | None = None
        self.client: Client | None = None
        if not options.debug:
            _quiet_dask_logs()
        model = str(options.model.absolute()) if options.model else None
        try:
            self._connect(RunOnWorker(self.run_id, options.language, model), on_seconds, options.debug)
        except BaseException:  # Ctrl-C while the workers start included: no worker process is left behind
            self.close()
            raise
        self.results = as_completed(loop=self.client.loop, with_results=True, raise_errors=False)

    def _connect(self, plugin: RunOnWorker, on_seconds: Callable[[float], None] | None, debug: bool) -> None:
        try:
            if self.target.local_workers:
                self.cluster = _local_cluster(self.target.local_workers, debug)
            self.client = Client(self.cluster or self.target.address, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ClusterLost(f"cannot reach the Dask scheduler at {self.target}: {_reason(error)}") from None
        try:
            self.client.register_plugin(plugin)  # every worker loads the model now, and any that joins later
            self.plugin_name = plugin.name
        except Exception as error:  # a worker without etiquette cannot even unpickle the plugin
            raise ClusterLost(f"cannot set up etiquette on the workers of {self.target} ({_reason(error)}): "
                              "install the same etiquette on every worker") from None
        if on_seconds is not None:
            run_id = self.run_id
            self.client.subscribe_topic(PROGRESS_TOPIC, lambda event: event[1][0] == run_id and on_seconds(event[1][1]))

    def submit(self, job: DecodeJob) -> None:
        assert self.client is not None
        audio = replace(job.audio, path=Path(job.audio.path).absolute())  # the same file on every machine
        key = ("etiquette-transcribe", self.run_id, job.call.call_id)  # call ids are unique within a run
        future = self.client.submit(transcribe_on_worker, self.run_id, audio, job.info, self.timeout, key=key)
        self.pending[future.key] = job
        self.results.add(future)

    def completed(self) -> Iterator[tuple[DecodeJob, Decoded | BaseException]]:
        for future, result in self.results:
            job = self.pending.pop(future.key)
            if isinstance(result, CancelledError):  # every call still out is cancelled when the scheduler goes
                self.lost = True
                raise ClusterLost(f"lost the Dask scheduler at {self.target}")
            if future.status == "error":
                _, error, _ = result
                yield job, _explained(error)
            else:  # the transcript names the input as given, not the absolute path the worker read
                yield job, replace(result, transcript=replace(result.transcript, source=str(job.audio.path)))
            del future, result  # the worker keeps a result until the client lets go of it

    def interrupt(self) -> None:
        self._stop_workers()

    def close(self) -> None:
        if self.client is not None:
            self._stop_workers()
            with contextlib.suppress(Exception):  # a lost scheduler is not waited for
                self.client.close(timeout=CLOSE_SECONDS_AFTER_LOSS if self.lost else None)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def _stop_workers(self) -> None:
        """Removing the run's plugin tears it down on every worker, which stops the run's calls still decoding."""
        if self.client is not None and self.client.status == "running" and self.plugin_name:
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(self.plugin_name)
            self.plugin_name = ""


def _local_cluster(workers: int, debug: bool) -> LocalCluster:
    settings = {
        "distributed.scheduler.allowed-failures": LOCAL_TRIES - 1,
        # A worker gets no more calls than it has threads, so a worker that dies takes down only the calls it was decoding.
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        return LocalCluster(n_workers=workers, threads_per_worker=max(1, (os.cpu_count() or 1) // workers),
                            processes=True, host="127.0.0.1", preload=[LOCAL_WORKER_PRELOAD],
                            silence_logs=logging.WARNING if debug else logging.CRITICAL, **NO_DASHBOARD)


def _explained(error: BaseException) -> BaseException:
    if isinstance(error, KilledWorker):
        return EtiquetteError(
            f"stopped: the worker decoding this call died on each of {error.allowed_failures + 1} tries (last "
            f"{error.last_worker.address}); it is not tried again: does this recording crash the decoder or "
            "exhaust the worker's memory?")
    return error


def _reason(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _quiet_dask_logs() -> None:
    """Dask logs what it does on stderr, where a run prints one line per failed call and nothing else
    (--debug lets Dask speak). For the rest of the process: a client closed after its scheduler was
    lost still logs its attempts to reconnect."""
    for handler in logging.getLogger("distributed").handlers:
        handler.setLevel(logging.CRITICAL)
