"""Checking one call's transcript, within the call's time limit when there is one.

Without `--timeout` the checks run here, in the calling thread. With it they run
in a worker process of a `pebble.ProcessPool`, which kills the worker when the
call's time is up: a rule with a catastrophic regex (from a `--rules` folder)
cannot be interrupted from inside Python, but its process can be ended. The
call then fails with one line and the batch goes on with a fresh worker.

The worker loads the rules itself (once per process) from the rules folder, so
only the transcript and the result cross the process boundary. Workers are
forked from a clean forkserver, never from this process and its threads.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING

from etiquette.checks import run_checks
from etiquette.errors import CallTimeout, EtiquetteError
from etiquette.rulebook import available_languages, load_audio_rules, load_rules
from etiquette.types import CheckResult, Metrics, Transcript

if TYPE_CHECKING:
    from etiquette.metadata import Attempt, CallMetadata

_WORKER_PRELOAD = ["etiquette.pipeline.checking"]


def check_transcript(transcript: Transcript, rules_dir: Path, metadata: CallMetadata | None = None,
                     history: tuple[Attempt, ...] = (), metadata_problem: str | None = None) -> CheckResult:
    """Every check on one transcript (and its call metadata, and the account's earlier attempts),
    with the rules of its language from `rules_dir`."""
    return run_checks(transcript, load_rules(transcript.language, rules_dir), load_audio_rules(rules_dir), metadata,
                      history=history, metadata_problem=metadata_problem)


def _warm_up(rules_dir: Path) -> None:
    """A new worker loads every rule file before it is given a call: that time is nobody's --timeout."""
    load_audio_rules(rules_dir)
    for language in available_languages(rules_dir):
        load_rules(language, rules_dir)


def _check_in_worker(transcript: Transcript, rules_dir: Path, *facts) -> CheckResult:
    result = check_transcript(transcript, rules_dir, *facts)
    metrics = result.metrics  # its read-only mappings do not pickle: plain dicts cross the boundary
    plain = Metrics({speaker: dict(values) for speaker, values in metrics.speakers.items()}, dict(metrics.call), metrics.series)
    return dataclasses.replace(result, metrics=plain)


class Checker:
    """Runs the checks of one call after another; `close()` ends the worker, if one was started."""

    def __init__(self, rules_dir: Path, timeout: float | None):
        self.rules_dir = rules_dir
        self.timeout = timeout
        self._pool = None
        if timeout is not None:
            self._workers()  # started now: it warms up while the first calls are read or transcribed

    def check(self, transcript: Transcript, budget: float | None = None, metadata: CallMetadata | None = None,
              history: tuple[Attempt, ...] = (), metadata_problem: str | None = None) -> CheckResult:
        """The checks' result; CallTimeout when they take longer than `budget` seconds (default: the
        whole --timeout), and the worker is killed."""
        facts = (metadata, history, metadata_problem)
        if self.timeout is None:
            return check_transcript(transcript, self.rules_dir, *facts)
        from pebble import ProcessExpired

        limit = max(1.0, self.timeout if budget is None else budget)
        future = self._workers().schedule(_check_in_worker, args=(transcript, self.rules_dir, *facts), timeout=limit)
        try:
            return future.result()
        except FutureTimeout:
            raise CallTimeout(f"stopped: took longer than the {self.timeout:g} s limit (--timeout) while checking "
                              "(a slow rule?)") from None
        except ProcessExpired as error:
            raise EtiquetteError(f"the checks stopped abnormally (their process ended with {error.exitcode})") from None

    def _workers(self):
        if self._pool is None:
            from pebble import ProcessPool

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_WORKER_PRELOAD)
            self._pool = ProcessPool(max_workers=1, context=context, initializer=_warm_up, initargs=(self.rules_dir,))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None
