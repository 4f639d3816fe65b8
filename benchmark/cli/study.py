"""``musebench study create|list|stats|export|verify-code`` and ``musebench app``: blind listening studies."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="create, inspect and export listening studies (MOS)",
                       description="Blind MOS listening studies: build a study from runs or a folder of audio, "
                                   "print MOS with confidence intervals and the screening report, export ratings.")
    ssub = p.add_subparsers(dest="study_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    c = ssub.add_parser("create", help="build a study from runs in results/ or from a folder with a manifest",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                        description="Pick items and stimuli, add the hidden reference and a low anchor where "
                                    "there is a reference, gold and trap items and training examples, normalise "
                                    "loudness (ITU-R BS.1770, one target, nothing clips) and store everything "
                                    "under opaque ids. Give either --task (runs) or --folder (manifest).")
    c.add_argument("name", help="study name (server side only; letters, digits, '-', '_', '.')")
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("--task", help="task whose runs to use (results/runs/<task>/<model>/<run-id>/)")
    src.add_argument("--folder", type=Path, help="folder of audio with manifest.csv/manifest.json")
    c.add_argument("--manifest", type=Path, help="manifest file (default: FOLDER/manifest.csv or .json)")
    c.add_argument("--model", action="append", dest="models", metavar="MODEL",
                   help="model to include (repeatable; default: every model with a run)")
    c.add_argument("--run", action="append", default=[], metavar="MODEL=RUN_ID",
                   help="use this run of a model instead of its newest (repeatable)")
    c.add_argument("--results", type=Path, default=None, help="results folder (default: $MUSEBENCH_RESULTS or ./results)")
    c.add_argument("--family", choices=["translation", "generation", "transcription"],
                   help="task family (default: from the runs; translation for a folder)")
    c.add_argument("--title", default="Listening study", help="title shown to raters (no model names)")
    c.add_argument("--protocol", choices=["acr", "dcr", "mushra", "ab"], default="acr",
                   help="acr: absolute 1-5 ratings (ITU-T P.800/P.808); dcr: degradation against the reference, "
                        "DMOS (P.800 Annex D); mushra: 0-100 multi-stimulus with hidden reference and anchors "
                        "(ITU-R BS.1534-3); ab: pairwise preference, Bradley-Terry")
    c.add_argument("--questions", help="ACR: comma-separated quality, similarity (default per family)")
    c.add_argument("--items", type=int, help="items for the test trials (default: all, less the items held out "
                                             "for gold/trap/training clips); more than the runs have is an error")
    c.add_argument("--per-rater", type=int, help="test trials per rater (MUSHRA: pages; default: all)")
    c.add_argument("--raters-per-trial", type=int,
                   help="fill every test trial (MUSHRA: page) to N raters, then refuse new raters")
    c.add_argument("--gold", type=int, default=None, help="gold items (known answer) per rater "
                                                          "(default: 2; MUSHRA: 0, its hidden reference screens)")
    c.add_argument("--traps", type=int, default=None, help="trap items (beep count) per rater (default: ACR/DCR 1, "
                                                           "else 0)")
    c.add_argument("--no-training", action="store_true", help="no training examples")
    c.add_argument("--no-reference", action="store_true", help="no hidden reference condition")
    c.add_argument("--no-anchor", action="store_true", help="no low-anchor condition")
    c.add_argument("--anchor-cutoff", type=float, default=3500.0, help="low-anchor low-pass cutoff (Hz)")
    c.add_argument("--sample-rate", type=int, default=44100, help="sample rate of every stimulus")
    c.add_argument("--max-seconds", type=float, default=10.0, help="crop clips to this length (s)")
    c.add_argument("--target-lufs", type=float, default=-23.0, help="preferred loudness (lowered if needed)")
    c.add_argument("--headphone-trials", type=int, default=6,
                   help="antiphase headphone-check trials (Woods et al. 2017; 0: off)")
    c.add_argument("--headphone-pass", type=int, default=5,
                   help="headphone-check trials needed to pass (5 of 6: a guesser passes 1.8 %% of the time)")
    c.add_argument("--min-listen", type=float, default=0.9,
                   help="share of a clip's duration that must pass on the server between showing a trial and "
                        "accepting its answer (0: off)")
    c.add_argument("--completion-code", help="fixed completion code (default: one random code per rater)")
    c.add_argument("--completion-url", help="send a finishing rater here ({code} is replaced by the code; "
                                            "else cc=CODE is appended), e.g. Prolific's completion URL")
    c.add_argument("--duplicate-workers", choices=["resume", "refuse"], default="resume",
                   help="a second start with the same worker id resumes the first rater, or is refused")
    c.add_argument("--seed", type=int, default=0, help="seed for item sampling and gold/trap choice")
    c.add_argument("--replace", action="store_true", help="replace a study of the same name with no raters")
    _db_arg(c)
    c.set_defaults(func=cmd_create)

    ls = ssub.add_parser("list", help="list studies with rater and rating counts")
    _db_arg(ls)
    ls.set_defaults(func=cmd_list)

    s = ssub.add_parser("stats", help="print MOS with 95%% CIs, ties and the screening report",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    s.add_argument("name", help="study name")
    _analysis_args(s)
    s.set_defaults(func=cmd_stats)

    e = ssub.add_parser("export", help="export raw ratings, screening, MOS, pairwise tests, leaderboard",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("name", help="study name")
    e.add_argument("--format", choices=["csv", "json"], default="csv", help="one CSV per table, or one JSON")
    e.add_argument("--out", type=Path, help="output folder (default: <results>/listening/exports)")
    _analysis_args(e)
    e.set_defaults(func=cmd_export)

    v = ssub.add_parser("verify-code", help="say whether a completion code is real, whose, and whether that rater "
                                            "passed screening (exit 1 if not a code of the study)",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    v.add_argument("name", help="study name")
    v.add_argument("code", help="the completion code a worker submitted")
    _analysis_args(v)
    v.set_defaults(func=cmd_verify_code)

    a = sub.add_parser("app", help="serve the listening app (Streamlit)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Serve the rater pages (/?study=<public id>) and, behind "
                                   "$MUSEBENCH_ADMIN_SECRET, /admin and /leaderboard.")
    a.add_argument("--address", default="127.0.0.1", help="address to listen on")
    a.add_argument("--port", type=int, default=8501, help="port to listen on")
    _db_arg(a)
    a.set_defaults(func=cmd_app)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="database URL (sqlite:///path.db or postgresql://user@host:port/db; "
                                              "default: $MUSEBENCH_LISTENING_DB or results/listening/studies.db)")


def _analysis_args(p: argparse.ArgumentParser) -> None:
    _db_arg(p)
    p.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples for a second CI (0: off)")
    p.add_argument("--test", choices=["mannwhitney", "wilcoxon", "ttest"], default=None,
                   help="pairwise test (default: mannwhitney for ACR/DCR, paired ttest for MUSHRA; "
                        "A/B always uses the bootstrap over raters)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm correction")
    p.add_argument("--keep-unfinished", action="store_true", help="do not exclude unfinished raters")
    p.add_argument("--max-gold-failures", type=int, default=0, help="gold failures allowed per rater")
    p.add_argument("--max-trap-failures", type=int, default=0, help="trap failures allowed per rater")
    p.add_argument("--min-correlation", type=float, default=0.25, help="min. correlation with the other raters")
    p.add_argument("--min-common", type=int, default=4, help="shared ratings needed to judge the correlation")
    p.add_argument("--require-headphones", action="store_true", help="exclude raters failing the headphone check")
    p.add_argument("--keep-duplicates", action="store_true", help="do not exclude later raters with a repeated worker id")
    p.add_argument("--min-answer-ratio", type=float, default=0.0,
                   help="exclude raters whose median answer came sooner than this times the clip length (0: off)")


def _store(args):
    from musebench.listening_app.store import Store

    return Store(args.db)


def _analyse(args):
    from musebench.listening_app.analysis import analyse

    return analyse(_store(args), args.name, thresholds=_analyse_thresholds(args), bootstrap=args.bootstrap,
                   method=args.test, alpha=args.alpha)


def cmd_create(args) -> int:
    import json

    from musebench.errors import ConfigError
    from musebench.io_utils import atomic_write_text
    from musebench.paths import results_home
    from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, entries_from_runs, save_study

    results = results_home(args.results)
    family = args.family
    if args.task:
        runs = {}
        for spec in args.run:
            if "=" not in spec:
                raise ConfigError(f"--run {spec!r}: expected MODEL=RUN_ID")
            model, run_id = spec.split("=", 1)
            runs[model] = run_id
        entries = entries_from_runs(results_dir=results, task=args.task, models=args.models, run_ids=runs)
        if family is None:
            first = next((e.run_dir for e in entries if e.run_dir), None)
            family = (json.loads((first / "results.json").read_text()).get("task") or {}).get("family") if first else None
    else:
        entries = entries_from_manifest(args.folder, args.manifest)
    config = StudyConfig(
        name=args.name, title=args.title, family=family or "translation",
        questions=tuple(q.strip() for q in args.questions.split(",") if q.strip()) if args.questions else (),
        protocol=args.protocol, n_items=args.items, per_rater=args.per_rater,
        raters_per_trial=args.raters_per_trial, n_gold=args.gold, n_traps=args.traps,
        training=not args.no_training, hidden_reference=not args.no_reference, low_anchor=not args.no_anchor,
        anchor_cutoff_hz=args.anchor_cutoff, sample_rate=args.sample_rate, max_seconds=args.max_seconds,
        target_lufs=args.target_lufs, headphone_trials=args.headphone_trials, headphone_pass=args.headphone_pass,
        min_listen_fraction=args.min_listen, completion_code=args.completion_code,
        completion_url=args.completion_url, duplicate_workers=args.duplicate_workers, seed=args.seed)
    built = build_study(entries, config)
    store = _store(args)
    save_study(store, built, replace=args.replace)
    log = built.loudness_log()
    log_path = results / "listening" / args.name / "loudness.csv"
    import pandas as pd

    atomic_write_text(log_path, pd.DataFrame(log).to_csv(index=False))
    kinds: dict[str, int] = {}
    for t in built.trials:
        kinds[t.kind] = kinds.get(t.kind, 0) + 1
    gains = [r["gain_db"] for r in log]
    from musebench.listening_app.stimuli import guess_pass_rate

    print(f"study {args.name!r} ({config.protocol.upper()}) created in {store.url}")
    conds = [c["name"] if c["kind"] == "system" else f"{c['name']} ({c['kind']})" for c in built.conditions]
    print(f"  conditions: {', '.join(conds)}")
    print(f"  items: {len(built.items)} for the tests"
          + (f", {len(built.check_items)} held out for gold/trap/training clips" if built.check_items else "")
          + f"; questions: {', '.join(config.questions)}; trials: "
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if config.headphone_trials:
        print(f"  headphone check: {config.headphone_pass} of {config.headphone_trials} right to pass; a listener "
              f"who guesses passes with probability {guess_pass_rate(config.headphone_trials, config.headphone_pass):.1%}")
    if config.raters_per_trial:
        print(f"  fills every test {'page' if config.protocol == 'mushra' else 'trial'} to {config.raters_per_trial} "
              "raters, then refuses new raters")
    print(f"  loudness target {built.target_lufs:.2f} LUFS; gains {min(gains):+.1f} to {max(gains):+.1f} dB; "
          f"highest true peak after gain {max(r['peak_dbfs'] for r in log):.2f} dBFS")
    print(f"  loudness log (gain and peak of each clip): {log_path}")
    print(f"  rater link: http://<host>:<port>/?study={built.public_id}")
    return 0


def cmd_list(args) -> int:
    from musebench.listening_app.data import raters_frame
    from musebench.listening_app.ratings import list_studies

    store = _store(args)
    studies = list_studies(store)
    if not studies:
        print(f"no study in {store.url}")
        return 0
    print(f"{'study':<28} {'family':<14} {'status':<7} {'raters':>6} {'finished':>8}  rater link")
    for s in studies:
        rf = raters_frame(store, s.id)
        print(f"{s.name:<28} {s.family:<14} {s.status:<7} {len(rf):>6} {int(rf['finished'].sum()) if len(rf) else 0:>8}"
              f"  /?study={s.public_id}")
    return 0


def cmd_stats(args) -> int:
    from musebench.listening_app.analysis import format_mos
    from musebench.listening_app.screening import format_screening

    an = _analyse(args)
    print(f"study {args.name!r}: {len(an.raters)} rater(s), {len(an.ratings)} rating(s) stored")
    print(format_screening(an.screening))
    print(format_mos(an.mos, an.ranks))
    if len(an.wins):
        print("win matrix (row beat column; 'no preference' counts half to each):")
        print("  " + an.wins.round(1).to_string().replace("\n", "\n  "))
    if args.bootstrap and len(an.mos) and an.protocol != "ab":
        print(f"bootstrap 95% CIs ({args.bootstrap} resamples):")
        for r in an.mos.itertuples(index=False):
            print(f"  {r.question:<11} {r.condition:<28} [{r.boot_low:.2f}, {r.boot_high:.2f}]")
    if len(an.pairs):
        print(f"pairwise tests ({an.pairs['test'].iloc[0]}, Holm-corrected, alpha {args.alpha}):")
        for r in an.pairs.itertuples(index=False):
            print(f"  {r.question:<11} {r.a} vs {r.b}: diff {r.diff:+.2f}, p {r.p:.4g}, p_holm {r.p_holm:.4g}"
                  f"{' *' if r.significant else ''}")
    return 0


def cmd_export(args) -> int:
    from musebench.paths import results_home
    from musebench.listening_app.export import export

    an = _analyse(args)
    out = args.out or results_home() / "listening" / "exports"
    for path in export(an, fmt=args.format, out_dir=out):
        print(path)
    return 0


def cmd_verify_code(args) -> int:
    from musebench.listening_app.analysis import verify_code
    from musebench.listening_app.ratings import get_study

    store = _store(args)
    get_study(store, args.name)  # unknown study: one-line error with close matches
    th = _analyse_thresholds(args)
    check = verify_code(store, args.name, args.code, thresholds=th)
    print(check.describe(args.code.strip(), args.name))
    return 0 if check.real else 1


def _analyse_thresholds(args):
    from musebench.listening_app.screening import Thresholds

    return Thresholds(require_finished=not args.keep_unfinished, max_gold_failures=args.max_gold_failures,
                      max_trap_failures=args.max_trap_failures, min_correlation=args.min_correlation,
                      min_common=args.min_common, require_headphones=args.require_headphones,
                      exclude_duplicates=not args.keep_duplicates, min_answer_ratio=args.min_answer_ratio)


def cmd_app(args) -> int:
    import signal
    import subprocess

    import musebench.listening_app as listening_app

    app = Path(listening_app.__file__).resolve().parent / "server.py"
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    if args.db:
        env["MUSEBENCH_LISTENING_DB"] = args.db
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.address", args.address, "--server.port", str(args.port),
           "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
           "--client.toolbarMode", "minimal", "--server.fileWatcherType", "none"]
    print(f"serving the listening app on http://{args.address}:{args.port}/ (Ctrl-C to stop)", flush=True)
    if not env.get("MUSEBENCH_ADMIN_SECRET"):
        print("note: MUSEBENCH_ADMIN_SECRET is not set, so /admin and /leaderboard are disabled", flush=True)
    child = subprocess.Popen(cmd, env=env)

    class _Stop(Exception):
        pass

    def stop(signum, _frame):  # only unwind here: waiting inside a handler that interrupted wait() deadlocks
        raise _Stop(signum)

    signals = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)  # Ctrl-C takes the same path (no KeyboardInterrupt
    for sig in signals:                                         # raised at an arbitrary point of Popen.wait)
        signal.signal(sig, stop)
    try:
        return child.wait()
    except KeyboardInterrupt:
        return 130
    except _Stop as exc:  # SIGTERM/SIGHUP/SIGINT: stop the server too, exit with the usual 128 + signal
        return 128 + int(exc.args[0])
    finally:
        for sig in signals:
            signal.signal(sig, signal.SIG_DFL)
        _stop_child(child)


def _stop_child(child, timeout: float = 10.0) -> None:
    """Terminate the Streamlit child (SIGTERM, then SIGKILL after ``timeout`` s) and reap it."""
    import subprocess

    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
