"""The supervised worker process of the local backend.

The runner (parent) never imports or calls the model itself: one child process holds the
loaded model and turns groups of items into item records with :class:`ItemWorker`, writing
predictions and records into the run directory exactly as an in-process run does, and sending
each record back over a pipe. The parent watches the child while an item runs and, when the
child dies (a segfault, ``os._exit``, SIGKILL, ``SystemExit`` or ``KeyboardInterrupt`` raised
by the model), hangs past the item's time limit in code that Python cannot interrupt, or grows
past ``--max-memory``, it kills what is left of it, records that item as failed with one line
(``killed_worker: true``, so a resume does not retry it unless ``--retry-failed``), and starts
a fresh worker for the next item. A model whose construction and ``load()`` take longer than
``--load-timeout`` (default 900 s) is killed the same way and the run stops (exit 2), as for
any failed load.

Processes come from the ``forkserver`` context where there is one (Linux, macOS): a clean
server process, started once per runner process with this module and its dependencies
imported, forks each worker, so a worker starts in milliseconds and no state of the runner
(threads, a CUDA context, torch's thread pools) is ever forked. Elsewhere ``spawn`` is used.
The worker takes the runner's environment and working directory at each start, ignores SIGINT
(Ctrl-C stops the runner, which then kills the worker) and dies with its parent on Linux.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from typing import Any
from collections.abc import Callable

from .. import errors
from ..errors import ModelLoadError, MuseBenchError
from .core import ItemWorker, peak_rss_mb
from .plan import RunPlan
from .store import failure_record, write_record

#: the parent polls the pipe, the worker's liveness, clock and memory this often (seconds)
POLL_S = 0.05
#: groups of items sent to the worker ahead of time, so that it never waits for the runner
WINDOW = 2


def _grace(seconds: float) -> float:
    """How long past an item's limit the parent waits before it kills the worker: the worker's
    own alarm stops Python-level hangs at the limit itself, with the usual message."""
    return max(1.0, min(0.1 * seconds, 30.0))


def context(plan: RunPlan | None = None
            ) -> multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext:
    """``forkserver`` (see the module docstring), or ``spawn`` where there is none or where the
    plan holds a class defined in the running script (``__main__``): a spawned worker imports
    the script again (as ``__mp_main__``, guarded by ``if __name__ == "__main__"``) and so finds
    it; the fork server never imports the script."""
    methods = multiprocessing.get_all_start_methods()
    from_main = plan is not None and any(
        getattr(type(obj) if not isinstance(obj, type) else obj, "__module__", "") == "__main__"
        for obj in (plan.model_cls, plan.dataset, plan.family))
    if "forkserver" in methods and not from_main:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def signal_name(code: int | None) -> str:
    """``exitcode`` of a dead worker in words: ``killed by SIGSEGV``, ``exited with status 3``."""
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort; the pipe's EOF also ends the worker
        pass


# ------------------------------------------------------------------------------ child side
def worker_main(conn: Any, plan_bytes: bytes, env: dict[str, str], cwd: str) -> None:
    """The worker process: receive groups of items, send back their records.

    The plan comes pickled and is unpickled only after the runner's environment and working
    directory are in place: rebuilding it may look things up (a dataset added with
    ``datasets add`` is found through ``$MUSEBENCH_CONFIG``), and the fork server's own
    environment is that of the moment it started.
    """
    import pickle

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    plan = pickle.loads(plan_bytes)
    def send(msg: tuple) -> None:
        try:
            conn.send(msg)
        except (OSError, ValueError):  # the runner is gone (killed): nothing to report to
            os._exit(0)

    worker = ItemWorker(plan)
    worker.on_event = send
    send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "group":
            return
        items = msg[1]
        try:
            if len(items) > 1:
                worker.process_group(items)
            else:
                worker.process(items[0])
            send(("done", peak_rss_mb()))
        except MuseBenchError as exc:  # a failed load, a full disk: the run stops
            send(("error", type(exc).__name__, str(exc)))
            return
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt from a model
            what = f"SystemExit({exc.code!r})" if isinstance(exc, SystemExit) else type(exc).__name__
            try:
                send(("died", f"the model raised {what}"))
            finally:
                os._exit(70)


# ----------------------------------------------------------------------------- parent side
class WorkerDied(Exception):
    def __init__(self, reason: str, kind: str = "died"):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


class SupervisedWorker:
    """The parent's handle on the worker process (started on first use, restarted after a death).

    ``stats`` records what supervision costs: ``starts``, ``start_s`` (until the worker is
    ready, summed), ``load_s`` (the model's construction and ``load()`` in the worker),
    ``items`` and ``ipc_s`` (per item, the parent's wall time minus the worker's own time for
    the item: pipe, pickling, polling), ``item_wall_s`` (each item's wall time as the parent
    sees it, model loading excluded).
    """

    def __init__(self, plan: RunPlan):
        self.plan = plan
        self.ctx = context(plan)
        self.proc: Any = None
        self.conn: Any = None
        self._plan_bytes: bytes | None = None
        self.model_info: dict[str, Any] | None = None
        self.on_model_info: Callable[[dict[str, Any]], None] | None = None
        self.peak_mb = 0.0
        self.max_bytes = (plan.options.max_memory_mb or 0) * 1024 * 1024
        self.stats: dict[str, Any] = {"starts": 0, "start_s": 0.0, "load_s": 0.0, "items": 0, "ipc_s": 0.0,
                                      "worker_s": 0.0, "item_wall_s": []}

    # ---- process management -------------------------------------------------------------
    def _start(self) -> None:
        t0 = time.perf_counter()
        import pickle

        if self._plan_bytes is None:
            self._plan_bytes = pickle.dumps(self.plan, protocol=pickle.HIGHEST_PROTOCOL)
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        self.proc = self.ctx.Process(target=worker_main, name="musebench-worker", daemon=True,
                                     args=(child_conn, self._plan_bytes, dict(os.environ), os.getcwd()))
        self.proc.start()
        child_conn.close()
        self.conn = parent_conn
        self.stats["starts"] += 1
        try:
            msg = self._recv(deadline=time.monotonic() + 600, in_flight=None)
        except WorkerDied as exc:
            self.kill()
            raise ModelLoadError(f"model {self.plan.options.model}: its worker process could not start "
                                 f"({exc.reason})") from None
        if msg[0] != "ready":
            raise ModelLoadError(f"model {self.plan.options.model}: unexpected first message {msg[0]!r} from its worker")
        self.stats["start_s"] += time.perf_counter() - t0

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
            try:
                self.proc.close()
            except ValueError:
                pass
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(("stop",))
                self.proc.join(5)
            except (OSError, ValueError):
                pass
        self.kill()

    def _rss_bytes(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def _recv(self, *, deadline: float | None, in_flight: Any) -> tuple:
        """The next message; raises WorkerDied when the worker dies, overruns ``deadline`` or
        its memory limit (it is then killed)."""
        while True:
            if self.conn.poll(POLL_S):
                try:
                    return self.conn.recv()
                except (EOFError, OSError):
                    pass  # died: fall through to the exit code
                self.proc.join(5)
                code = self.proc.exitcode
                raise WorkerDied(signal_name(code))
            if not self.proc.is_alive():
                if self.conn.poll(0):
                    continue  # a last message sent just before it exited
                self.proc.join(5)
                raise WorkerDied(signal_name(self.proc.exitcode))
            if deadline is not None and time.monotonic() > deadline:
                self.kill()
                raise WorkerDied("timeout", kind="timeout")
            if self.max_bytes:
                rss = self._rss_bytes()
                self.peak_mb = max(self.peak_mb, rss / 2 ** 20)
                if rss > self.max_bytes:
                    self.kill()
                    raise WorkerDied(f"{rss / 2 ** 20:.0f} MB", kind="memory")

    # ---- items --------------------------------------------------------------------------
    def run(self, groups: list[list], *, emit: Callable[[dict[str, Any]], None]) -> None:
        """Process ``groups`` of items in order (a group is one model call when the model batches),
        calling ``emit(record)`` per item.

        The worker always has the next group queued (``WINDOW`` groups are sent ahead), so it
        never waits for the runner between items. When it dies, the item it was on fails (a
        batched call's items go through again one by one in a fresh worker, so the failure is
        pinned on the item that causes it) and the unfinished groups are sent to a fresh worker.
        """
        queue: list[tuple[list, bool]] = [(list(g), False) for g in groups if g]  # (items, one by one)
        while queue:
            if self.proc is None:
                self._start()
            queue = self._run(queue, emit)

    def _run(self, queue: list[tuple[list, bool]], emit: Callable[[dict[str, Any]], None]
             ) -> list[tuple[list, bool]]:
        """Feed ``queue`` to the live worker until it is empty (returns []) or the worker dies
        (returns what is left to do, the failure recorded)."""
        _plan, opts = self.plan, self.plan.options
        sent: list[tuple[list, bool]] = []
        done: set[str] = set()

        def send_ahead() -> None:
            while queue and len(sent) < WINDOW:
                group, single = queue.pop(0)
                for part in ([[it] for it in group] if single else [group]):
                    sent.append((part, single))  # counted as to do even if the send fails
                    try:
                        self.conn.send(("group", part))
                    except OSError:  # the worker just died; _recv reports how
                        pass

        def left_over(*, drop: str | None = None, split_first: bool = False) -> list[tuple[list, bool]]:
            rest = []
            for k, (group, single) in enumerate(sent):
                todo = [it for it in group if it.id not in done and it.id != drop]
                if todo:
                    rest.append((todo, single or (k == 0 and split_first)))
            return rest + queue

        send_ahead()
        t_item = time.perf_counter()
        in_flight: list[str] | None = None
        limit = 0.0
        deadline: float | None = None
        loading = False
        t_load = 0.0
        while True:
            try:
                msg = self._recv(deadline=deadline, in_flight=in_flight)
            except WorkerDied as death:
                self.kill()
                if loading:
                    if death.kind == "timeout":
                        raise ModelLoadError(f"model {opts.model}: loading the model did not finish in "
                                             f"{self.plan.load_timeout:g} s (--load-timeout); its worker was "
                                             "killed") from None
                    raise ModelLoadError(f"model {opts.model}: its worker {death.reason} while loading the model"
                                         if death.kind == "died" else
                                         f"model {opts.model}: loading the model used {death.reason}, above "
                                         f"--max-memory {opts.max_memory_mb:g} MB") from None
                current = [it for it in sent[0][0] if it.id not in done] if sent else []
                if in_flight is None:  # between items: pin it on the next item of a single, else split
                    if len(current) != 1:
                        return left_over(split_first=True)
                    in_flight = [current[0].id]
                if len(in_flight) > 1:
                    return left_over(split_first=True)  # a batched call: again one by one
                (item_id,) = in_flight
                if death.kind == "timeout":
                    error = (f"item {item_id}: timed out after {limit:g} s (stuck where Python cannot interrupt "
                             f"it; its worker was killed after {limit + _grace(limit):g} s)")
                elif death.kind == "memory":
                    error = (f"item {item_id}: the model's worker used {death.reason}, above --max-memory "
                             f"{opts.max_memory_mb:g} MB (worker killed)")
                else:
                    error = f"item {item_id}: the model's worker process {death.reason}"
                self._fail(item_id, error, emit)
                done.add(item_id)
                return left_over()
            kind = msg[0]
            if kind == "begin":
                in_flight, limit = msg[1], float(msg[2])
                deadline = time.monotonic() + limit + _grace(limit)
            elif kind == "loading":
                loading, t_load = True, time.perf_counter()
                deadline = time.monotonic() + self.plan.load_timeout
            elif kind == "loaded":
                loading, deadline = False, None
                self.stats["load_s"] += time.perf_counter() - t_load
                t_item = time.perf_counter()  # an item's time does not include loading the model
                self.model_info = msg[1]
                if self.on_model_info:
                    self.on_model_info(msg[1])
            elif kind == "record":
                record, worker_s, peak = msg[1], msg[2], msg[3]
                self.peak_mb = max(self.peak_mb, peak)
                now = time.perf_counter()
                self.stats["items"] += 1
                self.stats["worker_s"] += worker_s
                self.stats["ipc_s"] += max(0.0, (now - t_item) - worker_s)
                self.stats["item_wall_s"].append(now - t_item)
                t_item = now
                done.add(record["id"])
                in_flight, deadline = None, None
                emit(record)
            elif kind == "died":
                # SystemExit/KeyboardInterrupt in the model: the worker exits; pin it on the item
                self.kill()
                if loading:
                    raise ModelLoadError(f"model {opts.model}: {msg[1]} while loading") from None
                if in_flight is None or len(in_flight) > 1:
                    return left_over(split_first=True)
                (item_id,) = in_flight
                self._fail(item_id, f"item {item_id}: {msg[1]}", emit)
                done.add(item_id)
                return left_over()
            elif kind == "error":
                self.kill()
                cls = getattr(errors, msg[1], None)
                if not (isinstance(cls, type) and issubclass(cls, MuseBenchError)) or cls is errors.UnknownNameError:
                    cls = MuseBenchError
                raise cls(msg[2])
            elif kind == "done":
                self.peak_mb = max(self.peak_mb, msg[1])
                sent.pop(0)
                t_item = time.perf_counter()
                send_ahead()
                if not sent:
                    return []

    def _fail(self, item_id: str, error: str, emit: Callable[[dict[str, Any]], None]) -> None:
        item = next(it for it in self.plan.items if it.id == item_id)
        record = failure_record(item, error, killed_worker=True)
        write_record(self.plan, record)
        emit(record)
