"""Preloaded into the worker processes that `--cluster local:N` starts (Dask's `dask_setup` hook).

They are this command's children, in its terminal's process group, so Ctrl-C
reaches them too. They ignore it and leave it to the command, which stops
their calls and closes them; otherwise each would die printing a traceback.
"""

from __future__ import annotations

import signal


def dask_setup(worker: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
