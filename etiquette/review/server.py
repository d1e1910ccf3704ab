"""Running the review app: bind the address (refusing what is not safe), serve it with uvicorn until Ctrl-C,
say where it is and open the browser."""

from __future__ import annotations

import signal
import socket
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from etiquette.errors import EtiquetteError
from etiquette.printable import shown
from etiquette.review.security import TOKEN_MIN, is_local, new_token


class ReviewRefused(EtiquetteError):
    """The app will not start this way (one line)."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    token: str | None  # required of every request; always set for an address other than this machine's

    @property
    def local(self) -> bool:
        return is_local(self.host)

    def url(self, with_token: bool = True) -> str:
        host = socket.gethostname() if self.host in ("0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token and with_token else "")


def access_token(host: str, token_file: Path | None) -> str | None:
    """The token requests must carry: from `token_file`, else made up for an address other than this machine's
    (None for this machine's without a file). ReviewRefused when the file gives none."""
    if token_file is None:
        return None if is_local(host) else new_token()
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ReviewRefused(f"cannot read the token file {shown(token_file)}: {getattr(error, 'strerror', None) or error}") from None
    if len(token) < TOKEN_MIN or not token.isprintable() or " " in token:
        raise ReviewRefused(f"{shown(token_file)} holds no usable access token (one line of at least {TOKEN_MIN} "
                            "characters, no spaces): refusing to start without one")
    return token


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one); ReviewRefused when the address cannot be had."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # before uvicorn starts: a browser that connects at once waits instead of being refused
    except OSError as error:
        raise ReviewRefused(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def serve(app, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    """Serve until Ctrl-C (or SIGTERM); `on_ready` is called once the app answers."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            on_ready()

    threading.Thread(target=announce, daemon=True).start()
    # uvicorn shuts down cleanly on Ctrl-C or SIGTERM, then raises the signal again: both end here, as a stop.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum, frame) -> None:
    raise KeyboardInterrupt


def open_browser(url: str) -> None:
    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
