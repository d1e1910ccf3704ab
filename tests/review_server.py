"""`etiquette review` as a real server process for the tests and benchmarks: started on a free port, its address
read from what it prints, stopped with SIGTERM (as Ctrl-C would)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

START_SECONDS = 30


@dataclass
class Server:
    process: subprocess.Popen
    url: str  # as printed: http://127.0.0.1:PORT/ (with ?token=... when one was made up)
    lines: list[str] = field(default_factory=list)  # everything it printed

    @property
    def base(self) -> str:
        """http://host:port, without the path and token."""
        return re.match(r"http://[^/]+", self.url).group(0)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start(*arguments: str) -> Server:
    """`etiquette review ARGUMENTS... --port 0 --no-browser`, once it says where it is."""
    process = subprocess.Popen([sys.executable, "-c", "from etiquette.cli import run; run()", "review", *arguments,
                                "--port", "0", "--no-browser"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line.rstrip("\n"))
            if not found and (address := re.search(r"http://\S+", line)):
                found.append(address.group(0))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while not found and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not found:
        process.kill()
        process.wait()
        raise RuntimeError("etiquette review did not start: " + " | ".join(lines))
    return Server(process, found[0], lines)
