"""``--address``: a run on a Ray cluster started beforehand (``ray start --head``), not by MuseBench.

Kept apart from test_ray_backend.py, whose module fixture starts Ray inside the test process.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import core_fixtures
from musebench.results import stable_view
from musebench.runner import RunOptions, run_task

pytest.importorskip("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_run_on_an_existing_cluster_by_address(tmp_path, monkeypatch):
    root, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=textwrap.dedent("""\
        name: toy-ray-address
        family: transcription
        version: 1
        dataset: toy
        split: test
        metrics: [onset_f1, frame_f1]
    """))
    port = _free_port()
    ray_cli = Path(sys.executable).with_name("ray")
    # its own temp dir, so the address file `ray start` leaves behind does not point other Ray
    # users of this machine (and later tests) at a cluster that is gone
    temp_dir = tempfile.mkdtemp(prefix="mbray-", dir="/tmp")  # short: Ray's socket paths must fit
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
                            env={**os.environ, "MUSEBENCH_TOY_ROOT": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:  # wait for the GCS to accept connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None, "ray start exited"
                assert time.monotonic() < deadline, "the Ray head did not come up in 90 s"
                time.sleep(0.5)

        def run(backend, run_id, **kw):
            return run_task(RunOptions(task=str(task), model="noisy-oracle", results_dir=tmp_path / "res",
                                       progress=False, device="cpu", backend=backend, run_id=run_id, **kw))

        local = run("local", "same")
        (local.run_dir.parent / "same").rename(local.run_dir.parent / "local")
        # the driver is the command line in its own process, as a user runs it: `ray start` turned
        # on token authentication (its token is in ~/.ray/auth_token), so the driver opts in
        driver = ("import sys, core_fixtures; core_fixtures.install(); from musebench.cli import main; "
                  "sys.exit(main(sys.argv[1:]))")
        out = subprocess.run([sys.executable, "-c", driver, "run", "--task", str(task), "--model", "noisy-oracle",
                              "--results-dir", str(tmp_path / "res"), "--run-id", "same", "--device", "cpu",
                              "--backend", "ray", "--address", f"127.0.0.1:{port}", "--no-progress"],
                             env={**os.environ, "RAY_AUTH_MODE": "token",
                                  "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.getcwd()])},
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        remote = json.loads((local.run_dir.parent / "same" / "results.json").read_text())
        assert remote["n_scored"] == 4
        assert stable_view(local.results) == stable_view(remote)
    finally:
        os.killpg(head.pid, 15)  # `ray start --block` takes its cluster down on SIGTERM
        head.wait(timeout=60)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_a_cluster_that_refuses_the_driver_is_one_line_with_the_fix():
    from musebench.runner.ray_backend import _connect_error

    try:
        try:
            raise RuntimeError("Failed to connect to GCS. Last connection error: Traceback ...\n  File x\n"
                               "ray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: missing")
        except RuntimeError as inner:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379") from inner
    except ConnectionError as exc:
        message = _connect_error("10.0.0.5:6379", exc)
    assert message == ("--address 10.0.0.5:6379: cannot connect to the Ray cluster (Failed to connect to Ray "
                       "cluster at 10.0.0.5:6379); the cluster uses token authentication (the default of `ray "
                       "start`): set RAY_AUTH_MODE=token and make its token available (~/.ray/auth_token or "
                       "RAY_AUTH_TOKEN)")
    plain = _connect_error("nowhere:1", ConnectionError("Failed to connect to Ray cluster at nowhere:1"))
    assert plain == "--address nowhere:1: cannot connect to the Ray cluster (Failed to connect to Ray cluster at nowhere:1)"
