#!/usr/bin/env python
"""Load test of the listening app through the real server: N simulated raters over Streamlit's own
WebSocket protocol (its BackMsg/ForwardMsg protobufs), audio fetched over HTTP, on SQLite and PostgreSQL.

Each simulated rater does what a browser does for one session, message for message (the messages
were taken from Chromium driving the app): open ``/?study=<id>&worker=<id>`` (a ``rerun_script``
BackMsg), tick the consent box, press Start (the server answers with the rater's resume token in
``page_info_changed``), then per trial: fetch the clips the page names (``GET /audio/<name>.flac``,
once each, like a browser cache), listen (sleep as long as the clip), send the player's
``{"listened": 1}``, pick an answer, press Submit. It measures **submit to acknowledgement**: from
sending the Submit message to the end of the script run that shows the next page
(``script_finished``), which is what the rater waits for. Answers the server refuses ("Answer
refused") and script exceptions count as errors; at the end the database must hold exactly the
answers sent, without duplicates. The server's CPU (utime + stime of the Streamlit process, from
/proc) and resident memory are sampled every second.

Loopback only, bounded: at most ``--max-raters`` raters and ``--timeout-s`` seconds per run.

With ``--servers N`` it starts N app processes on one database and gives rater k to process
k % N, as a load balancer with sticky sessions would (a Streamlit session lives in one process;
the audio route reads only the database).

Usage: python scripts/load_test_app.py [--raters 50 100 200] [--backend sqlite|postgres|both]
           [--servers 1] [--clip-s 8] [--trials 6] [--ramp-s 30] [--out results/listening/load_app.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from musebench.testing.app import AppDidNotStart, free_port, start_app

ROOT = Path(__file__).resolve().parent.parent
_ID = re.compile(rb"\$\$ID-[0-9a-f]{32}-[A-Za-z0-9_-]+")
_AUDIO = re.compile(rb"audio/[0-9a-f]{32}\.flac")
_QUERY_R = re.compile(rb"r=([A-Za-z0-9_-]{20,64})")


def build(url: str, folder: Path, *, name: str, items: int, conditions: int, clip_s: float, trials: int):
    from musebench.listening_app.store import Store
    from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
    from musebench.listening_app.synthetic import make_study_folder

    if not (folder / "manifest.csv").exists():
        make_study_folder(folder, conditions=[f"cond{k}" for k in range(conditions)], n_items=items,
                          seconds=clip_s, sample_rate=16000)
    built = build_study(entries_from_manifest(folder), StudyConfig(
        name=name, family="generation", sample_rate=16000, max_seconds=clip_s, per_rater=trials - 1, n_gold=1,
        n_traps=0, training=False, headphone_trials=0, headphone_pass=0))
    store = Store(url)
    save_study(store, built)
    store.dispose()
    return built


class Sampler:
    """CPU (cores in use) and RSS of the server processes together, from /proc, once a second."""

    def __init__(self, pids: list[int]):
        self.pids, self.samples = pids, []
        self.tick = os.sysconf("SC_CLK_TCK")

    def _read(self) -> tuple[float, float]:
        cpu = rss = 0.0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / self.tick
            rss += next(int(ln.split()[1]) for ln in Path(f"/proc/{pid}/status").read_text().splitlines()
                        if ln.startswith("VmRSS:")) / 1024
        return cpu, rss

    async def run(self, stop: asyncio.Event) -> None:
        last_cpu, last_t = self._read()[0], time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(1.0)
            cpu, rss = self._read()
            now = time.monotonic()
            self.samples.append(((cpu - last_cpu) / (now - last_t), rss))
            last_cpu, last_t = cpu, now


class Session:
    """One browser session: the WebSocket, the widget states the page holds, the ids it has seen."""

    def __init__(self, ws):
        self.ws, self.widgets, self.ids, self.query = ws, {}, {}, ""
        self.page = b""

    async def rerun(self, timeout: float) -> bytes:
        """Send the widget states; return the bytes of the page the finished run shows."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        for wid, (kind, value) in self.widgets.items():
            w = rs.widget_states.widgets.add()
            w.id = wid
            if kind == "trigger":
                w.trigger_value = True
            else:
                setattr(w, kind, value)
        rs.context_info.timezone = "UTC"
        rs.context_info.locale = "en-US"
        rs.context_info.url = "http://127.0.0.1/"
        await self.ws.send(msg.SerializeToString())
        self.widgets = {k: v for k, v in self.widgets.items() if v[0] != "trigger"}  # triggers fire once
        page: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                page = []
            elif kind == "delta":
                page.append(raw)
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "script_finished" and fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                break
        self.page = b"".join(page)
        for m in _ID.finditer(self.page):
            ident = m.group().decode()
            self.ids[ident.split("-", 2)[2]] = ident
        return self.page

    def key(self, key: str) -> str:
        return self.ids[key]


async def rater(k: int, *, base: str, port: int, public_id: str, clip_s: float, delay: float, stats: dict,
                http, timeout: float, rng: np.random.Generator) -> None:
    import websockets

    await asyncio.sleep(delay)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                      origin=base, max_size=None, open_timeout=timeout) as ws:
            s = Session(ws)
            s.query = f"study={public_id}&worker=load{k}"
            t0 = time.monotonic()
            await s.rerun(timeout)
            stats["load_ms"].append(1000 * (time.monotonic() - t0))
            s.widgets[s.key("consent_agree")] = ("bool_value", True)
            await s.rerun(timeout)
            s.widgets[s.key("consent_start")] = ("trigger", True)
            page = await s.rerun(timeout)
            fetched: set[bytes] = set()
            while b"Thank you!" not in page:
                trial = re.search(rb"-submit-([0-9a-f]{32})", page)
                if trial is None:
                    raise RuntimeError("no trial on the page: " + page[-300:].decode(errors="replace"))
                tid = trial.group(1).decode()
                s.widgets = {}  # a new page: the previous page's widgets are gone
                for name in set(_AUDIO.findall(page)) - fetched:
                    async with http.get(f"{base}/{name.decode()}") as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"GET {name.decode()}: HTTP {resp.status}")
                        stats["audio_bytes"] += len(body)
                    fetched.add(name)
                await asyncio.sleep(clip_s * 1.05)  # listening to the clip, in real time
                s.widgets[s.key(f"stim-{tid}")] = ("json_value", json.dumps({"listened": 1}))
                await s.rerun(timeout)
                await asyncio.sleep(0.5 + rng.random())  # choosing an answer
                value = int(rng.integers(1, 6))
                label = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}[value]
                s.widgets[s.key(f"ans-{tid}-quality")] = ("string_value", f"{value} - {label}")
                await s.rerun(timeout)
                await asyncio.sleep(0.3 + 0.5 * rng.random())
                s.widgets[s.key(f"submit-{tid}")] = ("trigger", True)
                t0 = time.monotonic()
                page = await s.rerun(timeout)
                stats["submit_ms"].append(1000 * (time.monotonic() - t0))
                if b"Answer refused" in page or b"exception" in page.lower():
                    stats["errors"].append(f"rater {k}: the server refused or failed a submit")
                    break
                stats["sent"] += 1
            stats["finished"] += 1
    except Exception as exc:  # noqa: BLE001 - every failure is a counted error with its reason
        stats["errors"].append(f"rater {k}: {type(exc).__name__}: {exc}"[:300])


async def run_raters(n: int, *, ports: list[int], public_id: str, clip_s: float, ramp_s: float,
                     timeout_s: float, pids: list[int]) -> dict:
    import aiohttp

    stats = {"load_ms": [], "submit_ms": [], "errors": [], "sent": 0, "finished": 0, "audio_bytes": 0}
    sampler = Sampler(pids)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    t0 = time.monotonic()
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        # rater k stays on server k % len(ports): what a load balancer with sticky sessions does
        tasks = [asyncio.create_task(rater(k, base=f"http://127.0.0.1:{ports[k % len(ports)]}",
                                           port=ports[k % len(ports)], public_id=public_id, clip_s=clip_s,
                                           delay=ramp_s * k / n, stats=stats, http=http, timeout=120.0,
                                           rng=np.random.default_rng(k))) for k in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for t in pending:
            t.cancel()
        if pending:
            stats["errors"].append(f"{len(pending)} rater(s) still running after {timeout_s:.0f} s")
    stop.set()
    await sampling
    stats["wall_s"] = time.monotonic() - t0
    stats["cpu"] = [c for c, _ in sampler.samples]
    stats["rss_mb"] = [r for _, r in sampler.samples]
    return stats


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    try:
        proc, _ = start_app(url, port=port, log=log.open("wb"))
    except AppDidNotStart:
        raise SystemExit(f"load_test_app: the server did not start (log: {log})") from None
    return proc


def check_db(url: str, name: str) -> tuple[int, int]:
    """(ratings stored for study ``name``, duplicate (rater, trial, question) keys)."""
    from sqlalchemy import func, select

    from musebench.listening_app.store import Rater, Rating, Store, Study

    store = Store(url)
    with store.read() as conn:
        q = (select(Rating.rater_id, Rating.trial_id, Rating.question).join(Rater, Rater.id == Rating.rater_id)
             .join(Study, Study.id == Rater.study_id).where(Study.name == name))
        rows = conn.execute(q).all()
        _ = func
    store.dispose()
    return len(rows), len(rows) - len(set(map(tuple, rows)))


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def measure(url: str, backend: str, counts: list[int], args, tmp: Path) -> list[dict]:
    ports = [free_port() for _ in range(args.servers)]
    studies = {n: build(url, tmp / "audio", name=f"load{n}", items=args.items, conditions=args.conditions,
                        clip_s=args.clip_s, trials=args.trials) for n in counts}
    procs = [start_server(url, port, tmp / f"server-{backend}-{port}.log") for port in ports]
    out = []
    try:
        for n in counts:
            load = os.getloadavg()[0]
            st = asyncio.run(run_raters(n, ports=ports, public_id=studies[n].public_id, clip_s=args.clip_s,
                                        ramp_s=args.ramp_s, timeout_s=args.timeout_s, pids=[p.pid for p in procs]))
            stored, dups = check_db(url, f"load{n}")
            row = {"backend": backend, "servers": len(ports), "raters": n, "finished": st["finished"], "submits": st["sent"],
                   "stored": stored, "duplicates": dups, "errors": len(st["errors"]),
                   "error_examples": st["errors"][:5],
                   "submit_p50_ms": pct(st["submit_ms"], 50), "submit_p95_ms": pct(st["submit_ms"], 95),
                   "submit_p99_ms": pct(st["submit_ms"], 99), "load_p95_ms": pct(st["load_ms"], 95),
                   "cpu_mean_cores": float(np.mean(st["cpu"])) if st["cpu"] else float("nan"),
                   "cpu_max_cores": float(np.max(st["cpu"])) if st["cpu"] else float("nan"),
                   "rss_max_mb": float(np.max(st["rss_mb"])) if st["rss_mb"] else float("nan"),
                   "audio_mb_per_rater": st["audio_bytes"] / max(st["finished"], 1) / 1e6,
                   "wall_s": st["wall_s"], "loadavg_before": load}
            print(f"{backend:<10} x{len(ports)} {n:>4} raters: submit p50 {row['submit_p50_ms']:.0f} ms, p95 "
                  f"{row['submit_p95_ms']:.0f} ms, p99 {row['submit_p99_ms']:.0f} ms; {row['errors']} error(s); "
                  f"{stored} stored of {st['sent']} acknowledged, {dups} duplicate(s); server CPU mean "
                  f"{row['cpu_mean_cores']:.2f} / max {row['cpu_max_cores']:.2f} cores, RSS max "
                  f"{row['rss_max_mb']:.0f} MB; {row['wall_s']:.0f} s; load average before {load:.1f}",
                  flush=True)
            out.append(row)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--raters", type=int, nargs="+", default=[50, 100, 200], help="rater counts to run, in order")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--clip-s", type=float, default=8.0, help="clip length: each rater listens this long per trial")
    p.add_argument("--trials", type=int, default=6, help="trials per rater (one of them a gold item)")
    p.add_argument("--items", type=int, default=6, help="items in the synthetic study (one held out)")
    p.add_argument("--conditions", type=int, default=3, help="systems in the synthetic study")
    p.add_argument("--ramp-s", type=float, default=30.0, help="raters start spread over this many seconds")
    p.add_argument("--timeout-s", type=float, default=600.0, help="give up on a run after this many seconds")
    p.add_argument("--servers", type=int, default=1,
                   help="app processes behind the one database (rater k uses process k %% N, as sticky sessions)")
    p.add_argument("--max-raters", type=int, default=400, help="refuse larger runs (this is a loopback test)")
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = p.parse_args(argv)
    if max(args.raters) > args.max_raters:
        p.error(f"at most --max-raters {args.max_raters} raters")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="musebench-load-app-") as d:
        tmp = Path(d)
        if args.backend in ("sqlite", "both"):
            rows += measure(f"sqlite:///{tmp}/load.db", "sqlite", args.raters, args, tmp)
        if args.backend in ("postgres", "both"):
            from musebench.testing.postgres import postgres_server

            with postgres_server(durable=True) as url:
                rows += measure(url, "postgresql", args.raters, args, tmp)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"cpus": os.cpu_count(), "args": {k: str(v) for k, v in vars(args).items()},
                                        "runs": rows}, indent=1) + "\n")
    return 0 if all(r["errors"] == 0 and r["duplicates"] == 0 and r["stored"] == r["submits"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
