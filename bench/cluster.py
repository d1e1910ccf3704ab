#!/usr/bin/env python3
"""What `--cluster` costs on one machine, and what a night on a real cluster would take.

    python bench/cluster.py [--calls 6] [--work DIR]

Makes (once, cached in --work) stereo calls of 1 to 5 minutes of Korean speech
with espeak-ng (bench/batch.py's calls), then, in one run on the same calls:

  (a) `etiquette check --jobs 2`, end to end;
  (b) `etiquette check --cluster local:2`, end to end (the cluster started and
      closed inside), and (a)/(b), the cluster's share of the local throughput
      (target >= 0.9), in wall time and in CPU time (the CPU time of every
      process of the run: on a shared machine, other loads move it less);
  (c) the peak memory (the kernel's high-water mark) of each worker process of
      (b), against a process that only loads the model and a worker that loads
      it and decodes nothing (the difference: one decoding stream's state);
  (d) the scheduler's cost per task, measured: no-op tasks submitted one by one
      as etiquette submits calls, bare and with the progress events a
      five-minute call sends;
  (e) the client's cost per call (reading a transcript, checking, writing the
      report, summary and database), measured on 1,000 transcripts;

and from (b) to (e) projects a night of 10,000 five-minute calls on 10 workers
of 16 cores. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from batch import make_calls  # noqa: E402  (the batch benchmark's calls)

import psutil  # noqa: E402  (a dependency of distributed)

ETIQUETTE = str(Path(sys.executable).with_name("etiquette"))
NIGHT_CALLS, NIGHT_CALL_SECONDS, NIGHT_WORKERS, NIGHT_CORES = 10_000, 300.0, 10, 16
EVENTS_PER_CALL = 2 * 60  # progress events of a five-minute stereo call: one per 5 s of audio, per channel


class ProcessTree:
    """Polls a command's process tree: each process's peak memory (VmHWM) and CPU time, last seen."""

    def __init__(self, pid: int, every: float = 0.2):
        self.root = psutil.Process(pid)
        self.seen: dict[int, dict] = {}
        self.every = every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.done.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
                        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
                    cpu = process.cpu_times()
                    entry = self.seen.setdefault(process.pid, {"cmdline": " ".join(process.cmdline()), "name": process.name()})
                    entry.update(peak_mb=hwm, cpu_s=cpu.user + cpu.system)
                except (psutil.Error, OSError, StopIteration):
                    continue
            time.sleep(self.every)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def workers(self) -> list[dict]:
        """Dask's worker processes (started by multiprocessing's spawn)."""
        return [entry for entry in self.seen.values() if "spawn_main" in entry["cmdline"]]

    def cpu_seconds(self, exclude_root: bool = False) -> float:
        return sum(entry["cpu_s"] for pid, entry in self.seen.items() if not (exclude_root and pid == self.root.pid))


def timed_check(folder: Path, out: Path, *options: str) -> tuple[float, ProcessTree]:
    shutil.rmtree(out, ignore_errors=True)
    command = [ETIQUETTE, "check", str(folder), "--out", str(out), "--language", "ko", "--quiet", *options]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    tree = ProcessTree(process.pid)
    code = process.wait()
    elapsed = time.perf_counter() - began
    tree.stop()
    if code != 0:
        raise SystemExit(f"{' '.join(command)} exited with {code}")
    return elapsed, tree


def model_only() -> tuple[float, float]:
    """(peak MB, seconds to load) of a process that only loads the model."""
    code = ("import time; from etiquette import models, transcribe; p = models.resolve_model('ko').path; "
            "t = time.perf_counter(); transcribe.load_model(p); t = time.perf_counter() - t; "
            "hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')); print(hwm / 1024, t)")
    peak, seconds = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(peak), float(seconds)


def _load_model_here() -> float:
    """On a worker: load the model as a run's plugin does; the process's peak memory (MB)."""
    from etiquette import models, transcribe

    transcribe.load_model(models.resolve_model("ko").path)
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def idle_worker_with_model() -> float:
    """Peak memory (MB) of a Dask worker process that has loaded the model and decoded nothing: the process's
    own cost (Python, Dask, etiquette's imports) on top of the model."""
    from distributed import Client, LocalCluster

    from etiquette.pipeline.cluster import NO_DASHBOARD

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", **NO_DASHBOARD) as cluster, \
            Client(cluster) as client:
        return next(iter(client.run(_load_model_here).values()))


def _noop(events: int) -> None:
    from distributed import get_worker

    worker = get_worker()
    for _ in range(events):
        worker.log_event("etiquette-decoded", ("bench", 5.0))


def scheduler_cost(tasks: int, events: int) -> float:
    """Seconds per task through a LocalCluster of 2 worker processes: submitted one by one, gathered as they finish,
    each sending `events` progress events that the client hears, as etiquette's calls do."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    from etiquette.pipeline.cluster import NO_DASHBOARD

    heard = []
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", **NO_DASHBOARD) as cluster, \
            Client(cluster) as client:
        client.subscribe_topic("etiquette-decoded", heard.append)
        client.submit(_noop, 0, pure=False).result()  # warm: the function is known on the workers
        began = time.perf_counter()
        futures = [client.submit(_noop, events, pure=False) for _ in range(tasks)]
        for _ in as_completed(futures):
            pass
        return (time.perf_counter() - began) / tasks


def client_cost(transcripts: Path, copies: int, work: Path) -> float:
    """Seconds per call of `etiquette check` on saved transcripts: what the client does for every call."""
    folder = work / "transcripts"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sources = sorted(transcripts.glob("*.transcript.json"))
    for n in range(copies):
        data = json.loads(sources[n % len(sources)].read_text(encoding="utf-8"))
        data["call_id"] = f"{data['call_id']}-{n:05d}"
        (folder / f"{data['call_id']}.transcript.json").write_text(json.dumps(data), encoding="utf-8")
    out = work / "out-transcripts"
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    subprocess.run([ETIQUETTE, "check", str(folder), "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - began) / copies


def audio_seconds(out: Path) -> float:
    return sum(json.loads(path.read_text(encoding="utf-8"))["duration"] for path in out.glob("*.transcript.json"))


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "etiquette-bench-cluster")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    calls = make_calls(args.work, args.calls)
    folder = calls[0].parent
    print(f"{len(calls)} stereo calls in {folder}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")

    local_s, local_tree = timed_check(folder, args.work / "out-jobs2", "--jobs", "2")
    seconds = audio_seconds(args.work / "out-jobs2")
    print(f"(a) --jobs 2:          {local_s:7.1f} s for {seconds / 60:.1f} min of calls ({seconds / local_s:.1f}x real time), "
          f"{local_tree.cpu_seconds():.0f} s of CPU")
    cluster_s, tree = timed_check(folder, args.work / "out-cluster", "--cluster", "local:2")
    ratio = local_s / cluster_s
    cpu_ratio = local_tree.cpu_seconds() / tree.cpu_seconds()
    print(f"(b) --cluster local:2: {cluster_s:7.1f} s, {tree.cpu_seconds():.0f} s of CPU; (a)/(b) = {ratio:.2f} of the local "
          f"throughput (target >= 0.9); in CPU time (what the other loads of a shared machine move less): {cpu_ratio:.2f}")

    workers = tree.workers()
    model_mb, load_s = model_only()
    idle_mb = idle_worker_with_model()
    worker_peaks = [entry["peak_mb"] for entry in workers]
    worker_cpu = tree.cpu_seconds(exclude_root=True)  # the workers and their ffmpeg processes
    stream_mb = max(worker_peaks) - idle_mb
    print(f"(c) peak memory per worker process: {', '.join(f'{peak:.0f} MB' for peak in worker_peaks)} "
          f"({len(workers)} workers, one decoding thread each); a process that only loads the model: {model_mb:.0f} MB "
          f"(loaded in {load_s:.1f} s); a worker that loaded it and decoded nothing: {idle_mb:.0f} MB; so a decoding "
          f"stream's working state: {stream_mb:.0f} MB")

    bare = scheduler_cost(2000, 0)
    with_events = scheduler_cost(500, EVENTS_PER_CALL)
    print(f"(d) scheduler: {bare * 1000:.2f} ms a task; {with_events * 1000:.2f} ms a task that sends the "
          f"{EVENTS_PER_CALL} progress events of a five-minute call")
    per_call_client = client_cost(args.work / "out-cluster", 1000, args.work)
    print(f"(e) client: {per_call_client * 1000:.1f} ms a call (check and write, from its transcript; 1,000 calls)")

    # The projection: decoding core-seconds per second of stereo audio, measured on (b)'s workers.
    core_s_per_audio_s = worker_cpu / seconds
    night_audio = NIGHT_CALLS * NIGHT_CALL_SECONDS
    cores = NIGHT_WORKERS * NIGHT_CORES
    decode = night_audio * core_s_per_audio_s / cores
    scheduler = NIGHT_CALLS * with_events  # serial: one scheduler hands out every task and relays every event
    client = NIGHT_CALLS * per_call_client  # serial: one client checks and writes every call
    print(f"projection: {NIGHT_CALLS:,} calls of {NIGHT_CALL_SECONDS / 60:.0f} minutes ({night_audio * 2 / 3600:,.0f} h of "
          f"channel audio) on {NIGHT_WORKERS} workers of {NIGHT_CORES} cores:")
    print(f"  decoding: {core_s_per_audio_s:.3f} core-seconds per second of a stereo call (measured in (b)) -> "
          f"{hours(night_audio * core_s_per_audio_s)} of cores, {hours(decode)} on {cores} cores")
    print(f"  scheduler: {hours(scheduler)} of its time, client: {hours(client)} of its time, both alongside the decoding")
    print(f"  model loads: {load_s:.1f} s, once per worker, all at once")
    print(f"  the night: about {hours(max(decode, scheduler, client) + load_s)}; "
          f"each worker's peak memory about {(idle_mb + NIGHT_CORES * stream_mb) / 1024:.1f} GB "
          f"(the process and its model once, {NIGHT_CORES} streams)")
    summary = {"calls": len(calls), "audio_min": seconds / 60, "jobs2_s": local_s, "cluster_s": cluster_s, "ratio": ratio,
               "cpu_ratio": cpu_ratio,
               "worker_peak_mb": max(worker_peaks), "model_only_mb": model_mb, "idle_worker_mb": idle_mb,
               "stream_mb": stream_mb, "model_load_s": load_s,
               "scheduler_task_ms": bare * 1000, "scheduler_task_events_ms": with_events * 1000,
               "client_call_ms": per_call_client * 1000, "core_s_per_audio_s": core_s_per_audio_s,
               "night_h": (max(decode, scheduler, client) + load_s) / 3600}
    print(f"load average {os.getloadavg()[0]:.1f} at the end (this machine is shared: figures move with it)")
    print(json.dumps({key: round(value, 3) for key, value in summary.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
