"""A throwaway PostgreSQL server for tests: initdb in a temp dir, loopback port, stopped after.

``postgres`` refuses to run as root; when the tests run as root the cluster is created and run
as the ``postgres`` system user (``runuser``), on a directory it owns. Tests that need the server
are skipped with a clear reason only when the PostgreSQL binaries are absent.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .app import free_port
from collections.abc import Iterator

PG_BIN_DIRS = [Path(p) for p in (os.environ.get("MUSEBENCH_PG_BIN", ""), "/usr/lib/postgresql/17/bin",
                                 "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin") if p]


def pg_bin() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``, or None."""
    for d in PG_BIN_DIRS:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").is_file() else None


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


@contextmanager
def postgres_server(*, user: str = "musebench", durable: bool = False) -> Iterator[str]:
    """Start a fresh cluster; yield its SQLAlchemy URL (database ``postgres``); stop and delete it.

    ``durable=False`` (tests) turns fsync off for speed; the load test keeps PostgreSQL's defaults.
    """
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install -y postgresql)")
    tmp = Path(tempfile.mkdtemp(prefix="musebench-pg-"))
    data = tmp / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        subprocess.run(_as_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8",
                                 "--no-sync"]), check=True, capture_output=True, env=env, timeout=120)
        opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB"
        if not durable:
            opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "log"), "-w",
                                 "-t", "60", "start"]), check=True, capture_output=True, env=env, timeout=90)
        url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        _wait(url)
        yield url
    finally:
        subprocess.run(_as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, env=env, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait(url: str, timeout: float = 30.0) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fresh_database(url: str, name: str) -> str:
    """Create database ``name`` on the server at ``url``; return its URL."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"
