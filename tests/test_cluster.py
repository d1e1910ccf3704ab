"""The batch on a Dask cluster (`--cluster`): real worker processes, real Vosk, real faults.

Most tests send Korean calls (batch_calls.py) to one LocalCluster of 2 worker
processes that this module starts and shares, with `--cluster tcp://...`. Each
of its workers carries the test's instrument (`Executions`): a line for each
call it starts decoding, so a test can tell which worker to kill and count how
many times each call was decoded. The lost-scheduler test runs `dask scheduler`
and `dask worker` processes of its own, so that it can kill the scheduler.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    from batch_calls import (ETIQUETTE, Layout, assert_same_report, assert_words_on_their_own_channel, check, comparable,
                             etiquette_env, make_calls)
    from cli_helpers import SAMPLES, read_summary, run
except ImportError:  # run as a package
    from tests.batch_calls import (ETIQUETTE, Layout, assert_same_report, assert_words_on_their_own_channel, check,
                                   comparable, etiquette_env, make_calls)
    from tests.cli_helpers import SAMPLES, read_summary, run

distributed = pytest.importorskip("distributed")

DASK = Path(sys.executable).with_name("dask")
WAIT = 240  # seconds: a guard against a hang, never a measure


class Executions(distributed.WorkerPlugin):
    """The test's instrument on each worker: `pid call_id` appended to a file whenever the worker starts
    decoding a call, and a worker that kills itself (SIGKILL) as it starts a call whose id begins with
    `poison`, as a recording that crashes the decoder would."""

    name = "test-executions"

    def __init__(self, log: str):
        self.log = log

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish != "executing" or not isinstance(key, (tuple, list)) or key[0] != "etiquette-transcribe":
            return
        with open(self.log, "a", encoding="utf-8") as stream:
            stream.write(f"{os.getpid()} {key[2]}\n")
        if key[2].startswith("poison"):
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Cluster:
    address: str
    log: Path

    def mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def executions(self, since: int) -> list[tuple[int, str]]:
        """(worker pid, call id) for every call a worker started decoding since `mark()` said `since`."""
        if not self.log.exists():
            return []
        with self.log.open(encoding="utf-8") as stream:
            stream.seek(since)
            return [(int(pid), call_id) for pid, call_id in (line.split(" ", 1) for line in stream.read().splitlines())]


# Shorter calls than test_batch's (7 to 9 seconds): every test here decodes them again, on one thread per worker.
SHORT_CALLS = [(0.3, 0.5, 0.4), (0.9, 0.7, 0.6), (0.5, 1.0, 0.8)]
AGENT_SAYS = "안녕하세요 김민수입니다 통화 가능하십니까"
CUSTOMER_SAYS = "네 말씀하세요 지금은 회사에 있어요"


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Layout]]:
    return make_calls(tmp_path_factory.mktemp("cluster-audio"), SHORT_CALLS, AGENT_SAYS, CUSTOMER_SAYS)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, calls) -> Cluster:
    """A LocalCluster of 2 worker processes of one thread each. A call is tried twice at most (Dask's
    allowed-failures), and a worker is given only the call it decodes (worker-saturation 1.0), as
    `--cluster local:N` sets them."""
    import dask

    from etiquette.pipeline.cluster import NO_DASHBOARD

    log = tmp_path_factory.mktemp("cluster") / "executions.log"
    settings = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         env={"ETIQUETTE_MODEL": ""}, **NO_DASHBOARD)
    client = distributed.Client(local, set_as_default=False)
    client.register_plugin(Executions(str(log)))
    try:
        yield Cluster(local.scheduler_address, log)
    finally:
        client.close()
        local.close()


@pytest.mark.vosk
def test_a_local_cluster_writes_what_two_threads_write(calls, tmp_path):
    folder, layouts = calls
    threads, cluster = tmp_path / "threads", tmp_path / "cluster"
    assert check(folder, "--out", threads, "--jobs", "2").returncode == 0
    result = check(folder, "--out", cluster, "--cluster", "local:2")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert_words_on_their_own_channel(cluster, layouts)
    for call_id in layouts:
        first = json.loads((threads / f"{call_id}.report.json").read_text(encoding="utf-8"))
        second = json.loads((cluster / f"{call_id}.report.json").read_text(encoding="utf-8"))
        assert_same_report(comparable(first), comparable(second))
        assert second["transcript"] == f"{cluster}/{call_id}.transcript.json"
    assert (threads / "summary.csv").read_text() == (cluster / "summary.csv").read_text()

    again = check(folder, "--out", cluster, "--cluster", "local:2")  # resumed by content: nothing decoded again
    assert again.returncode == 0, again.stderr
    assert {row["status"] for row in read_summary(cluster)} == {"unchanged"}


@pytest.mark.vosk
def test_the_progress_hears_every_second_decoded_on_the_workers(calls, cluster, tmp_path):
    from etiquette.pipeline import CheckOptions, run_batch

    class Heard:
        def __init__(self):
            self.queued_seconds = self.decoded_seconds = 0.0
            self.outcomes = []

        def started(self, calls: int) -> None: ...

        def audio_queued(self, seconds: float) -> None:
            self.queued_seconds += seconds

        def decoded(self, seconds: float) -> None:  # from the client's event loop, as workers report
            self.decoded_seconds += seconds

        def finished(self, outcome) -> None:
            self.outcomes.append(outcome)

    folder, layouts = calls
    heard = Heard()
    result = run_batch([folder / "call-0.wav"], CheckOptions(tmp_path / "out", language="ko", cluster=cluster.address),
                       heard)
    assert result.exit_code == 0
    assert heard.queued_seconds == pytest.approx(layouts["call-0"].total, abs=0.05)
    assert heard.decoded_seconds == pytest.approx(2 * layouts["call-0"].total, abs=0.1)  # both channels
    assert [outcome.call_id for outcome in heard.outcomes] == ["call-0"]


@pytest.mark.vosk
def test_a_worker_killed_mid_call_costs_that_call_one_more_try_and_nothing_else(calls, cluster, tmp_path):
    folder, layouts = calls
    out = tmp_path / "out"
    since = cluster.mark()
    command = [ETIQUETTE, "check", folder, "--out", out, "--language", "ko", "--quiet", "--cluster", cluster.address]
    batch = subprocess.Popen(command, env=etiquette_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + WAIT
    while not cluster.executions(since) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim_pid, victim = cluster.executions(since)[0]
    time.sleep(1.0)  # into the decoding, which takes seconds
    assert not (out / f"{victim}.report.json").exists()
    os.kill(victim_pid, signal.SIGKILL)
    _, stderr = batch.communicate(timeout=WAIT)

    assert batch.returncode == 0 and stderr == "", stderr
    for call_id in layouts:
        report = json.loads((out / f"{call_id}.report.json").read_text(encoding="utf-8"))
        assert report["schema"] == "etiquette.report/1" and report["call_id"] == call_id
    assert_words_on_their_own_channel(out, layouts)
    decoded = collections.Counter(call_id for _, call_id in cluster.executions(since))
    assert decoded == {call_id: 2 if call_id == victim else 1 for call_id in layouts}
    assert {row["status"] for row in read_summary(out)} == {"ok"}


@pytest.mark.vosk
def test_a_call_that_kills_its_worker_every_time_fails_after_a_bounded_number_of_tries(calls, cluster, tmp_path):
    folder, _ = calls
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(folder / "call-0.wav", batch / "good.wav")
    shutil.copy(folder / "call-1.wav", batch / "poison.wav")
    out = tmp_path / "out"
    since = cluster.mark()
    result = check(batch, "--out", out, "--cluster", cluster.address, timeout=WAIT)

    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{batch}/poison.wav: stopped: the worker decoding this call died"), lines
    assert "2 tries" in lines[0]
    assert collections.Counter(call_id for _, call_id in cluster.executions(since)) == {"poison": 2, "good": 1}
    rows = {row["call_id"]: row for row in read_summary(out)}
    assert rows["good"]["status"] == "ok" and rows["poison"]["status"] == "error"
    assert not (out / "poison.report.json").exists()


@pytest.mark.vosk
def test_a_recording_that_a_worker_cannot_read_fails_alone_naming_the_worker(calls, cluster, tmp_path):
    """The command sees a folder that the workers do not (a file system mounted in its own mount namespace),
    as when a worker's machine lacks the shared mount."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a file system only the command sees")
    folder, _ = calls
    batch = tmp_path / "batch"
    hidden = batch / "share"
    hidden.mkdir(parents=True)
    shutil.copy(folder / "call-0.wav", batch / "good.wav")
    out = tmp_path / "out"
    script = 'mount -t tmpfs tmpfs "$1" || exit 99; cp "$2" "$1/"; shift 2; exec "$@"'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", hidden, folder / "call-1.wav",
               ETIQUETTE, "check", batch, "--out", out, "--language", "ko", "--quiet", "--cluster", cluster.address]
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=WAIT, env=etiquette_env())
    if result.returncode == 99:
        pytest.skip(f"cannot mount a file system here: {result.stderr.strip()}")

    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{hidden}/call-1.wav: worker {cluster.address.rsplit(':', 1)[0]}"), lines
    assert lines[0].endswith(f" cannot read {hidden}/call-1.wav: No such file or directory"), lines
    rows = {row["call_id"]: row for row in read_summary(out)}
    assert rows["good"]["status"] == "ok" and rows["call-1"]["status"] == "error"
    assert (out / "good.report.json").is_file() and not (out / "call-1.report.json").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_scheduler_and_worker(port: int) -> list[subprocess.Popen]:
    """A `dask scheduler` and a `dask worker` of one thread, each in a process group of its own."""
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "env": etiquette_env()}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)
    worker = subprocess.Popen([DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], **quiet)
    return [scheduler, worker]


def _kill_groups(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.mark.vosk
def test_a_lost_scheduler_ends_the_run_in_one_line_and_the_same_command_resumes(calls, tmp_path):
    folder, layouts = calls
    out = tmp_path / "out"
    port = _free_port()
    command = [ETIQUETTE, "check", folder, "--out", out, "--language", "ko", "--quiet", "--cluster", f"tcp://127.0.0.1:{port}"]
    processes = _start_scheduler_and_worker(port)
    try:
        first = subprocess.Popen(list(map(str, command)), env=etiquette_env(), stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + WAIT
        while not list(out.glob("*.report.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill_groups(processes[:1])  # the scheduler's machine goes away
        _, stderr = first.communicate(timeout=WAIT)
    finally:
        _kill_groups(processes)
    assert first.returncode == 3, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"etiquette: lost the Dask scheduler at tcp://127.0.0.1:{port}"), lines
    assert "run the same command again" in lines[0]
    done = {path.name: path.stat().st_mtime_ns for path in out.glob("*.json")}
    finished = [row["call_id"] for row in read_summary(out) if row["status"] == "ok"]
    assert 0 < len(finished) < len(layouts), "the scheduler was not lost mid-batch"
    assert {row["status"] for row in read_summary(out)} == {"ok", "interrupted"}

    processes = _start_scheduler_and_worker(port)
    try:
        second = subprocess.run(list(map(str, command)), env=etiquette_env(), capture_output=True, text=True, timeout=WAIT)
    finally:
        _kill_groups(processes)
    assert second.returncode == 0 and second.stderr == "", second.stderr
    for name, mtime in done.items():  # what the first run finished was kept, not redone
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was written again"
    assert_words_on_their_own_channel(out, layouts)
    statuses = {row["call_id"]: row["status"] for row in read_summary(out)}
    assert statuses == {call_id: "unchanged" if call_id in finished else "ok" for call_id in layouts}


@pytest.mark.vosk
def test_ctrl_c_stops_the_workers_and_keeps_what_was_done(calls, tmp_path):
    import psutil

    folder, layouts = calls
    out = tmp_path / "out"
    command = [ETIQUETTE, "check", folder, "--out", out, "--language", "ko", "--quiet", "--cluster", "local:2"]
    # In a process group of its own, as in a terminal, where Ctrl-C sends SIGINT to the whole foreground group.
    batch = subprocess.Popen(list(map(str, command)), env=etiquette_env(), stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    command_process = psutil.Process(batch.pid)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not _decoding_on_a_worker(command_process):
        time.sleep(0.05)
    workers = command_process.children(recursive=True)
    os.killpg(batch.pid, signal.SIGINT)
    _, stderr = batch.communicate(timeout=WAIT)

    assert batch.returncode == 130, stderr
    assert "Traceback" not in stderr and "distributed" not in stderr, stderr
    lines = stderr.splitlines()
    assert lines[-1].startswith("interrupted: finished calls are kept; run the same command again"), lines
    assert all(line.endswith(": interrupted before this call finished") for line in lines[:-1]), lines
    # The worker processes are gone with the command; multiprocessing's resource tracker follows once it sees the
    # command gone (a second or two).
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
    rows = read_summary(out)
    assert len(rows) == len(layouts) and "interrupted" in {row["status"] for row in rows}


def _decoding_on_a_worker(command) -> bool:
    """An ffmpeg started by one of the command's worker processes (the command's own ffmpeg only probes)."""
    import psutil

    try:
        return any(child.name().startswith("ffmpeg") and child.ppid() != command.pid
                   for child in command.children(recursive=True))
    except psutil.Error:  # a process ended while we looked
        return False


# -- the option itself: no speech recognition needed


@pytest.mark.parametrize("value", ["local:0", "local:two", "host:8786:1", "tcp://", "tcp://host:port", "carrier-pigeon://host:8786"])
def test_a_cluster_that_is_not_an_address_is_a_usage_error(capsys, tmp_path, value):
    result = run(capsys, "check", SAMPLES / "transcripts", "--out", tmp_path / "out", "--cluster", value)
    assert result.code == 2 and "--cluster" in result.err


@pytest.mark.parametrize("option", [["--jobs", "2"], ["--download-model"]])
def test_options_about_this_machine_do_not_mix_with_a_cluster(capsys, tmp_path, option):
    result = run(capsys, "check", SAMPLES / "transcripts", "--out", tmp_path / "out", "--cluster", "local:2", *option)
    assert result.code == 2 and option[0] in result.err


def test_transcripts_need_no_cluster(capsys, tmp_path):
    result = run(capsys, "check", SAMPLES / "transcripts", "--out", tmp_path / "out", "--cluster", f"tcp://127.0.0.1:{_free_port()}")
    assert result.code == 1 and result.err == ""  # the samples have findings; nothing tried to reach the scheduler


def test_a_scheduler_that_cannot_be_reached_ends_the_run_in_one_line(tmp_path):
    out = tmp_path / "out"
    env = {**etiquette_env(), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = subprocess.run([str(ETIQUETTE), "check", str(SAMPLES / "audio"), "--out", str(out), "--quiet",
                             "--cluster", f"tcp://127.0.0.1:{_free_port()}"], capture_output=True, text=True, env=env,
                            timeout=WAIT)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("etiquette: cannot reach the Dask scheduler at tcp://127.0.0.1:"), lines
    rows = read_summary(out)
    assert rows and {row["status"] for row in rows} == {"interrupted"}
