"""A throwaway PostgreSQL server for the tests: a new cluster (initdb) on a free port, started with pg_ctl and
removed afterwards. The server refuses to run as root, so as root (CI) it runs as the `postgres` user the
Debian package creates (through runuser). No mock: the results database is tested on the real thing."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """PostgreSQL cannot be started here (and why)."""


@dataclass
class Server:
    root: Path
    bindir: Path
    port: int
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://etiquette@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on the server; its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=etiquette dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise Unavailable("no initdb: install the Debian postgresql package (`make test` does)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start() -> Server:
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="etiquette-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable("running as root and there is no 'postgres' user to run the server as") from None
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(root, 0o700)
    port = _free_port()
    server = Server(root, bindir, port, as_user)
    try:
        steps = [
            [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "etiquette", "--auth=trust", "-E", "UTF8", "-N"],
            [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"), "-w", "-t", "60", "-o",
             f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40", "start"],
        ]
        for step in steps:
            done = subprocess.run([*as_user, *step], capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                log = (root / "server.log").read_text(errors="replace")[-800:] if (root / "server.log").exists() else ""
                raise Unavailable(f"{Path(step[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]} {log}")
    except (Unavailable, OSError, subprocess.TimeoutExpired) as error:
        server.stop()
        raise error if isinstance(error, Unavailable) else Unavailable(str(error)) from None
    return server
