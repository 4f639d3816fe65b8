"""The real listening-app server on a loopback port, for browser tests and load tests.

``start_app(url)`` runs ``streamlit run listening_app/server.py`` (the pages plus ``/audio/``)
against the study database ``url`` and returns once ``/_stcore/health`` answers;
``running_app(url)`` does the same as a context manager that stops the server afterwards.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import musebench.listening_app as listening_app

#: the ASGI entry point: Streamlit's pages plus the audio route (wherever the package is installed)
SERVER = Path(listening_app.__file__).resolve().parent / "server.py"


class AppDidNotStart(RuntimeError):
    """The server exited or did not answer its health check in time (the message has its output)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, *, timeout: float = 90.0) -> None:
    """Return once Streamlit's health endpoint answers 200; raise :class:`AppDidNotStart` if the
    process exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AppDidNotStart(f"the listening app did not start on port {port}: {out[-2000:]}")
        time.sleep(0.2)


def start_app(url: str, *, port: int | None = None, cwd: Path | None = None, log: IO[bytes] | None = None,
              timeout: float = 90.0) -> tuple[subprocess.Popen, int]:
    """Start the app on the study database ``url``; returns (process, port) once it is healthy.

    The admin pages stay disabled (``MUSEBENCH_ADMIN_SECRET`` is removed from the child's
    environment). Output goes to ``log`` if given, else to a pipe read on failure.
    """
    port = port or free_port()
    env = dict(os.environ, MUSEBENCH_LISTENING_DB=url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    env.pop("MUSEBENCH_ADMIN_SECRET", None)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(SERVER), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
                             "--server.fileWatcherType", "none"],
                            env=env, stdout=log if log is not None else subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=cwd)
    wait_healthy(port, proc, timeout=timeout)
    return proc, port


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def running_app(url: str, *, cwd: Path | None = None, timeout: float = 60.0) -> Iterator[str]:
    """The app on ``url`` for the duration of the block; yields its base URL."""
    proc, port = start_app(url, cwd=cwd, timeout=timeout)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(proc)
