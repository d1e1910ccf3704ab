"""Issue 12, the batch itself: time limits that hold for the checks too (item 6), only regular files
as inputs (6, 12), one run per output folder (8), a full or read-only output folder (9), the output
folder never read as input (11), what the HTML page shows (13), call metrics apart from speakers and
folders that cannot be listed (14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etiquette.files import RunLock

try:  # tests/ as a plain folder (pytest's default) or as a package
    from cli_helpers import (REPO, files_left, one_line_per_input, read_html, read_report, read_summary, run, threat_data,
                             without_root_powers, write_json)
except ImportError:
    from tests.cli_helpers import (REPO, files_left, one_line_per_input, read_html, read_report, read_summary, run, threat_data,
                                   without_root_powers, write_json)

RULES = REPO / "etiquette" / "rules"


def _slow_rules(folder: Path) -> Path:
    """The built-in rules plus a catastrophic pattern: exponential on a long run of words after 'zzqx'."""
    shutil.copytree(RULES, folder)
    text = (folder / "en.toml").read_text(encoding="utf-8")
    at = text.index("patterns = [", text.index('id = "threat-of-arrest"')) + len("patterns = [")
    (folder / "en.toml").write_text(text[:at] + "\n  'zzqx (?:(?:\\w+ ?)+)+zzqy'," + text[at:], encoding="utf-8")
    return folder


def test_the_timeout_bounds_the_checks_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 6: a catastrophic regex in --rules hung for minutes with --timeout 5."""
    rules = _slow_rules(tmp_path / "rules")
    # both literal ends are there ("zzqyz"), so the pattern index cannot rule the pattern out
    slow = write_json(tmp_path / "slow.transcript.json", threat_data("slow", said="zzqx " + "word " * 30 + "zzqyz"))
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    began = time.monotonic()
    result = run(capsys, "check", slow, good, "--rules", rules, "--out", tmp_path / "out", "--timeout", "3")
    assert time.monotonic() - began < 60
    assert result.code == 3
    assert result.err_lines == [f"{slow}: stopped: took longer than the 3 s limit (--timeout) while checking (a slow rule?)"]
    assert read_report(tmp_path / "out", "good")["verdict"] == "fail"
    assert [row["status"] for row in read_summary(tmp_path / "out")] == ["error", "ok"]  # in the order given
    # the same checks, within the limit, find what they find without one
    again = run(capsys, "check", good, "--out", tmp_path / "again", "--timeout", "30")
    assert again.code == 1 and read_report(tmp_path / "again", "good")["findings"] == read_report(tmp_path / "out", "good")["findings"]


def test_fifos_and_devices_are_refused_at_once(tmp_path: Path) -> None:
    """Item 6: a FIFO or /dev/zero as an input hung the run."""
    calls = tmp_path / "calls"
    calls.mkdir()
    os.mkfifo(calls / "pipe.wav")
    os.mkfifo(tmp_path / "given.transcript.json")
    (calls / "zero.wav").symlink_to("/dev/zero")
    write_json(calls / "good.transcript.json", threat_data("good"))
    command = [sys.executable, "-c", "import sys; from etiquette.cli import main; sys.exit(main())", "check", str(calls),
               str(tmp_path / "given.transcript.json"), "/dev/zero", "--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 3, done.stderr
    lines = sorted(line for line in done.stderr.splitlines() if line.strip())
    assert lines == sorted([
        f"{calls}/pipe.wav: not a regular file (a broken link, a device or a FIFO)",
        f"{calls}/zero.wav: not a regular file (a broken link, a device or a FIFO)",
        f"{tmp_path}/given.transcript.json: not a regular file (a device, a FIFO or a socket): only files and folders are read",
        "/dev/zero: not a regular file (a device, a FIFO or a socket): only files and folders are read",
    ])
    assert len(read_summary(tmp_path / "out")) == 5


def test_links_are_named_by_their_own_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 12: a `call-0193.transcript.json` link to a content-addressed file was read as audio named
    after the hash; a dangling link was skipped silently."""
    store = tmp_path / "store"
    store.mkdir()
    write_json(store / "3f9a0c1b", threat_data())  # no call_id: the link's name gives it
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "call-0193.transcript.json").symlink_to(store / "3f9a0c1b")
    (calls / "gone.transcript.json").symlink_to(store / "nothing-here")
    result = run(capsys, "check", calls, "--out", tmp_path / "out")
    assert result.code == 3
    assert result.err_lines == [f"{calls}/gone.transcript.json: not a regular file (a broken link, a device or a FIFO)"]
    assert read_report(tmp_path / "out", "call-0193")["source"] == f"{calls}/call-0193.transcript.json"


# ------------------------------------------------------------------ the output folder


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 8: two runs on one --out deleted each other's files in flight."""
    out = tmp_path / "out"
    out.mkdir()
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    with RunLock(out):
        result = run(capsys, "check", good, "--out", out)
    assert result.code == 2
    assert result.err_lines == [f"etiquette: {out} is being written by another etiquette run; wait for it to finish or "
                                "choose another --out"]
    assert run(capsys, "check", good, "--out", out, "--quiet").code == 1  # and once it is done, it is free


def test_a_run_removes_only_its_own_kind_of_temporaries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 8: each run deleted every `.*.tmp` in --out, someone's `.draft-notes.tmp` included."""
    out = tmp_path / "out"
    out.mkdir()
    for name in (".etiquette-abc123.tmp", ".draft-notes.tmp", ".x.report.json.tmp", "notes.tmp"):
        (out / name).write_text("kept?")
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    assert run(capsys, "check", good, "--out", out, "--quiet").code == 1
    assert files_left(out) == [".draft-notes.tmp", ".x.report.json.tmp", "good.report.json", "notes.tmp", "summary.csv"]


def test_the_output_folder_is_never_read_as_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 11: with --out inside the input folder, saved transcripts were read back as calls."""
    calls = tmp_path / "calls"
    out = calls / "reports"
    out.mkdir(parents=True)
    write_json(calls / "good.transcript.json", threat_data("good"))
    write_json(out / "earlier.transcript.json", threat_data("earlier"))  # as a run from audio leaves it
    (tmp_path / "link-to-reports").symlink_to(out)
    for given in (out, tmp_path / "link-to-reports"):
        result = run(capsys, "check", calls, "--out", given, "--quiet")
        assert result.code == 1
        assert [row["call_id"] for row in read_summary(out)] == ["good"]


def _full_disk_run(args: list[str], tmp_path: Path, size: str) -> subprocess.CompletedProcess:
    """`etiquette ARGS` with a tmpfs of `size` mounted at tmp_path/mnt, in a mount namespace of its own
    (the mount ends with the command)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small file system")
    (tmp_path / "mnt").mkdir()
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; shift 2; "$@"; code=$?; ls -a "$ETQ_OUT" > "$ETQ_LIST"; ' \
             'cp "$ETQ_OUT/summary.csv" "$ETQ_LIST.csv" 2>/dev/null; exit $code'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", size, str(tmp_path / "mnt"),
               sys.executable, "-c", "import sys; from etiquette.cli import main; sys.exit(main())", *args]
    env = {**os.environ, "ETQ_OUT": str(tmp_path / "mnt" / "out"), "ETQ_LIST": str(tmp_path / "left")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if done.returncode == 99 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a file system here: {done.stderr.strip()}")
    return done


def test_a_full_disk_fails_the_calls_that_do_not_fit_and_says_where(tmp_path: Path) -> None:
    """Item 9: a full --out ended with `internal error (OSError)`, no file named and no summary.csv."""
    calls = tmp_path / "calls"
    calls.mkdir()
    for n in range(40):
        write_json(calls / f"c{n:02d}.transcript.json", threat_data(f"c{n:02d}"))
    out = tmp_path / "mnt" / "out"
    # the results database elsewhere: on a disk this small it could not even be created (which stops
    # the run before any work, exit 2: test_a_full_disk_for_the_database_stops_the_run_at_once)
    done = _full_disk_run(["check", str(calls), "--out", str(out), "--quiet", "--html", "--format", "jsonl,md",
                           "--db", f"sqlite:///{tmp_path}/results.db"], tmp_path, "96k")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    lines = done.stderr.splitlines()
    failed = [line for line in lines if "cannot write its report" in line]
    assert failed and all(line.startswith(f"{calls}/c") and f"(No space left on device: {out}/c" in line for line in failed)
    assert f"No space left on device: {out}/report.html" in lines
    left = (tmp_path / "left").read_text().split()
    assert not [name for name in left if name.startswith(".etiquette-")]  # no temporary left behind
    assert len([name for name in left if name.endswith(".report.json")]) == 40 - len(failed)
    if "summary.csv" in left:  # it fitted: a row for every input
        assert len((tmp_path / "left.csv").read_text().splitlines()) == 41


def test_a_full_disk_for_the_database_stops_the_run_at_once(tmp_path: Path) -> None:
    """With the results database in a full --out, the run cannot record anything: one line, exit 2."""
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    out = tmp_path / "mnt" / "out"
    done = _full_disk_run(["check", str(good), "--out", str(out), "--quiet"], tmp_path, "16k")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("etiquette: cannot open the results database")


def test_a_read_only_out_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    """Item 9: a read-only --out said `internal error (OSError)`."""
    good = write_json(tmp_path / "good.transcript.json", threat_data("good"))
    out = tmp_path / "mnt"
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a file system read-only")
    out.mkdir()
    script = 'mount -t tmpfs -o ro,size=64k tmpfs "$1" || exit 99; shift; exec "$@"'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(out), sys.executable, "-c",
               "import sys; from etiquette.cli import main; sys.exit(main())", "check", str(good), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode == 99:
        pytest.skip(f"cannot mount a file system here: {done.stderr.strip()}")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"Error: Invalid value for --out: {out} cannot be written to: Read-only file system"


# ------------------------------------------------------------------ what is reported


def test_the_page_shows_the_transcript_that_was_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 13: report.html showed a stale saved transcript when a transcript input had the same call id."""
    out = tmp_path / "out"
    out.mkdir()
    write_json(out / "call.transcript.json", threat_data("call", said="stale words from an older transcript"))
    given = write_json(tmp_path / "call.transcript.json", threat_data("call"))
    assert run(capsys, "check", given, "--out", out, "--html", "--quiet").code == 1
    page = read_html(out)
    assert "deadbeat" in page and "stale" not in page


def test_a_speaker_named_call_keeps_its_own_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 14: a speaker named "call" collided with the call-level metrics."""
    data = threat_data("named-call")
    data["speakers"] = {"agent": {"role": "agent"}, "call": {"role": "customer"}}
    data["words"] += [{"word": "what", "start": 25.0, "end": 25.3, "conf": 0.9, "speaker": "call"}]
    assert run(capsys, "check", write_json(tmp_path / "c.transcript.json", data), "--out", tmp_path / "out", "--quiet").code == 1
    report = read_report(tmp_path / "out", "named-call")
    assert report["metrics"]["call"] == {"talk_share": report["metrics"]["call"]["talk_share"]}
    assert report["call_metrics"]["longest_silence"] > 20 and "interruptions" in report["call_metrics"]


def test_a_folder_that_cannot_be_listed_is_an_error_row(tmp_path: Path) -> None:
    """Item 14: an unlistable subfolder was skipped silently."""
    calls = tmp_path / "calls"
    (calls / "locked").mkdir(parents=True)
    write_json(calls / "locked" / "hidden.transcript.json", threat_data("hidden"))
    write_json(calls / "good.transcript.json", threat_data("good"))
    (calls / "locked").chmod(0)
    try:
        done = without_root_powers(["check", str(calls), "--out", str(tmp_path / "out"), "--quiet"], tmp_path)
    finally:
        (calls / "locked").chmod(0o755)
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [f"{calls}/locked: cannot list this folder: Permission denied"]
    assert {row["status"] for row in read_summary(tmp_path / "out")} == {"ok", "error"}
