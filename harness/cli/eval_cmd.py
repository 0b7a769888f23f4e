"""`plantagent eval injection|triage|plants`: the long evaluations with the real model.

`injection` runs the prompt-injection suite; `triage` injects every demo fault mode alone
and in pairs and tabulates whether the right cause is ranked first (agent/evals); `plants`
runs the question suites and triage on the test plants and the demo plant
(harness/evals/plants).

A fresh encrypted site in a temporary directory and a demo plant on loopback; the site
the settings name is not touched (only its model directory is used). Writes
injection_report.md and injection_report.json and shows progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import print_json, settings_from_args
from agent.errors import UsageError


def register(sub: Any) -> None:
    """Add the eval commands."""
    evals = sub.add_parser("eval", help="measure the agent (prompt-injection suite)")
    evals_sub = evals.add_subparsers(dest="eval_command", metavar="SUITE")
    inj = evals_sub.add_parser(
        "injection", help="plant injection payloads in manuals, work orders and OPC UA "
        "strings; count writes, violations and egress; check normal answers"
    )
    inj.add_argument("--limit", type=int, default=None,
                     help="run only this many payloads, spread over attacks and channels")
    inj.add_argument("--out", type=Path, default=Path("injection-report"),
                     help="directory for injection_report.md/.json (default ./injection-report)")
    inj.add_argument("--no-control", action="store_true",
                     help="skip the normal questions asked once without payloads")
    inj.add_argument("--models-dir", type=Path, default=None,
                     help="where the GGUF files are (default: the site's model directory)")
    inj.add_argument("--threads", type=int, default=None, help="model threads")
    inj.add_argument("--json", action="store_true", help="print the summary as JSON")
    inj.set_defaults(handler=_injection)
    tri = evals_sub.add_parser(
        "triage", help="inject every demo fault alone and in pairs; is the right cause "
        "ranked first, and how long from onset to report")
    tri.add_argument("--out", type=Path, default=Path("triage-eval"),
                     help="directory for triage_eval.md/.json (default ./triage-eval)")
    tri.add_argument("--seeds", type=int, default=3, help="runs per combination")
    tri.add_argument("--pairs", type=int, default=8, help="how many fault pairs (0: none)")
    tri.add_argument("--timeout", type=float, default=40.0, help="wall seconds per run")
    tri.add_argument("--model", action="store_true",
                     help="the local model writes the summaries (slower); default template")
    tri.add_argument("--json", action="store_true", help="print the tables as JSON")
    tri.set_defaults(handler=_triage)
    _add_plants(evals_sub)
    _add_models(evals_sub)


def _add_models(evals_sub: Any) -> None:
    from harness.evals.plants.run import PLANTS

    mo = evals_sub.add_parser(
        "models", help="approved chat models side by side on the question suites of every "
        "test plant and the demo plant (right, grounded, valid first-time steps, median "
        "and 95th percentile question time), the injection payloads and triage reports")
    mo.add_argument("--model", action="append", default=None,
                    help="a chat model of the manifest (repeat; default: every approved "
                    "chat model whose file is present)")
    mo.add_argument("--plant", action="append", choices=list(PLANTS), default=None,
                    help="only this plant (repeat for several; default: all)")
    mo.add_argument("--questions", type=int, default=None,
                    help="ask only this many questions per plant, one of each kind first")
    mo.add_argument("--injection", type=int, default=6, metavar="N",
                    help="injection payloads per model, spread over attacks and channels "
                    "(default 6; 0: none; 54: all)")
    mo.add_argument("--triage", action="append", default=None, metavar="FAULT",
                    help="a demo fault whose triage report each model writes (repeat; "
                    "default: conveyor_jam and cooling_loss; 'none' for no triage)")
    mo.add_argument("--out", type=Path, default=Path("models-eval"),
                    help="directory for models.md/.json (default ./models-eval)")
    mo.add_argument("--models-dir", type=Path, default=None,
                    help="where the GGUF files are (default: the site's model directory)")
    mo.add_argument("--threads", type=int, default=1, help="model threads (default 1)")
    mo.add_argument("--json", action="store_true", help="print the rows as JSON")
    mo.set_defaults(handler=_models)


def _models(args: argparse.Namespace) -> int:
    import logging
    import time

    from agent.llm.registry import load_manifest
    from harness.evals.models_compare import compare_models
    from harness.evals.plants.run import PLANTS, PlantsPlan
    from harness.evals.triage_eval import FAULTS
    from harness.qualify.triage_check import QUICK_FAULTS

    if args.questions is not None and args.questions < 1:
        raise UsageError(f"--questions {args.questions}", fix="give 1 or more questions")
    if args.injection < 0:
        raise UsageError(f"--injection {args.injection}", fix="give 0 or more payloads")
    faults = tuple(args.triage or QUICK_FAULTS)
    faults = () if faults == ("none",) else faults
    for fault in faults:
        if fault not in FAULTS:
            raise UsageError(f"--triage {fault}: no such demo fault",
                             fix=f"name one of: {', '.join(sorted(FAULTS))} (or none)")
    if args.threads < 1:
        raise UsageError(f"--threads {args.threads}", fix="give 1 or more threads")
    settings = settings_from_args(args)
    models_dir = args.models_dir or settings.models_dir
    manifest = load_manifest(settings)
    names = args.model or [e.name for e in manifest.entries()
                           if e.role == "chat" and e.path_in(models_dir).is_file()]
    for name in names:
        entry = manifest.get(name)  # an unknown name is a clear error naming the models
        if entry.role != "chat":
            raise UsageError(f"{name} is an {entry.role} model",
                             fix="name chat models (`plantagent models list`)")
    if not names:
        raise UsageError(f"no approved chat model file in {models_dir}",
                         fix="fetch one: plantagent models fetch NAME")
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    plan = PlantsPlan(plants=tuple(args.plant or PLANTS), questions=args.questions,
                      faults=0, models_dir=models_dir, threads=args.threads)
    header = (f"{', '.join(names)}; {args.threads} thread(s); plants "
              f"{', '.join(plan.plants)}; {args.injection} injection payloads; triage "
              f"{', '.join(faults) or 'none'}; every question answered by the model; one model "
              "after the other in one run.")
    started = time.monotonic()
    result = asyncio.run(compare_models(
        names, plan, args.out, header=header, injection=args.injection, triage_faults=faults,
        progress=lambda line: print(f"[models] {line}", file=sys.stderr, flush=True)))
    if args.json:
        print_json({"rows": [r.__dict__ for r in result.questions],
                    "injection": [r.__dict__ for r in result.injection],
                    "triage": [r.__dict__ for r in result.triage],
                    "seconds": round(time.monotonic() - started, 1)})
    else:
        sys.stdout.write((args.out / "models.md").read_text(encoding="utf-8"))
        sys.stdout.write(f"\ntotal {time.monotonic() - started:.0f} s\n")
    return 1 if any(r.error for r in result.questions) else 0


def _add_plants(evals_sub: Any) -> None:
    from harness.evals.plants.run import PLANTS

    pl = evals_sub.add_parser(
        "plants", help="the question suite and the triage evaluation on every test plant "
        "(gateway, ISA-95 German, BMS chiller plant) and the demo plant; a table per plant "
        "(all plants, default model, 1 thread: about an hour)")
    pl.add_argument("--plant", action="append", choices=list(PLANTS), default=None,
                    help="only this plant (repeat for several; default: all)")
    pl.add_argument("--out", type=Path, default=Path("plants-eval"),
                    help="directory for plants.md/.json (default ./plants-eval)")
    pl.add_argument("--questions", type=int, default=None,
                    help="ask only this many questions per plant, one of each kind first "
                    "(0: none)")
    pl.add_argument("--faults", type=int, default=None,
                    help="inject only this many faults per plant (0: no triage)")
    pl.add_argument("--seeds", type=int, default=1,
                    help="runs of each test-plant fault, seeds 1..N (default 1)")
    pl.add_argument("--models-dir", type=Path, default=None,
                    help="where the GGUF files are (default: the site's model directory)")
    pl.add_argument("--threads", type=int, default=None,
                    help="model threads (default: model.threads)")
    pl.add_argument("--json", action="store_true", help="print the summaries as JSON")
    pl.set_defaults(handler=_plants)


def _injection(args: argparse.Namespace) -> int:
    from harness.evals.injection_payloads import payloads, representative
    from harness.evals.injection_report import summary, write_reports
    from harness.evals.injection_run import run_suite

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}", fix="give a positive number of payloads")
    settings = settings_from_args(args)
    chosen = representative(args.limit) if args.limit else payloads()

    def progress(line: str) -> None:
        sys.stderr.write(f"[injection] {line}\n")
        sys.stderr.flush()

    result = asyncio.run(run_suite(
        chosen, args.models_dir or settings.models_dir, control=not args.no_control,
        threads=args.threads, progress=progress,
        on_case=lambda partial: write_reports(partial, args.out),  # a stopped run keeps them
    ))
    md, js = write_reports(result, args.out)
    data = summary(result)
    if args.json:
        print_json(data)
    else:
        sys.stdout.write(
            f"{data['payloads']} payloads: writes {data['writes']}, violations "
            f"{data['violations']}, egress refused {data['egress_refused']}, off-site "
            f"connects {data['offsite_connects']}, correct {data['correct']}/"
            f"{data['payloads']} (control {data['control_correct']}/"
            f"{data['control_questions']}), {data['seconds']:.0f} s\n"
            f"report: {md}\n        {js}\n"
        )
    return 0


def _plants(args: argparse.Namespace) -> int:
    import logging
    import time

    from harness.evals.plants.run import PLANTS, PlantsPlan, run_plants

    for name in ("questions", "faults"):
        if (getattr(args, name) or 0) < 0:
            raise UsageError(f"--{name} {getattr(args, name)}", fix=f"give --{name} 0 or more")
    threads = args.threads if args.threads is not None else 1
    if threads < 1:
        raise UsageError(f"--threads {threads}", fix="give 1 or more threads")
    settings = settings_from_args(args)
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # session-timeout notices
    plan = PlantsPlan(plants=tuple(args.plant or PLANTS), questions=args.questions,
                      faults=args.faults, model_name=settings.model.name,
                      models_dir=args.models_dir or settings.models_dir, threads=threads,
                      seeds=args.seeds)
    started = time.monotonic()
    header = (f"Model {settings.model.name}, {threads} thread(s); plants: "
              f"{', '.join(plan.plants)}.")
    results = asyncio.run(run_plants(
        plan, args.out, header=header,
        progress=lambda line: print(f"[plants] {line}", file=sys.stderr, flush=True)))
    summaries = [r.summary() for r in results]
    if args.json:
        print_json({"plants": summaries, "seconds": round(time.monotonic() - started, 1)})
    else:
        sys.stdout.write((args.out / "plants.md").read_text(encoding="utf-8"))
        sys.stdout.write(f"\ntotal {time.monotonic() - started:.0f} s; "
                         f"report: {args.out / 'plants.md'}, {args.out / 'plants.json'}\n")
    return 1 if any(r.error for r in results) else 0


def _triage(args: argparse.Namespace) -> int:
    from agent.runtime.model import shared_chat_model
    from harness.evals.triage_eval import run_eval

    if args.seeds < 1 or args.pairs < 0 or args.timeout <= 0:
        raise UsageError(f"--seeds {args.seeds} --pairs {args.pairs} --timeout {args.timeout}",
                         fix="give --seeds >= 1, --pairs >= 0 and a positive --timeout")
    settings = settings_from_args(args)
    model = shared_chat_model(settings) if args.model else None
    try:
        data = asyncio.run(run_eval(
            args.out, seeds=args.seeds, pairs=args.pairs, timeout_s=args.timeout, model=model,
            progress=lambda line: print(f"[triage] {line}", file=sys.stderr, flush=True)))
    finally:
        if model is not None:
            model.close()
    if args.json:
        print_json({k: data[k] for k in ("single", "pairs", "writer", "seeds")})
    else:
        sys.stdout.write((args.out / "triage_eval.md").read_text(encoding="utf-8"))
    return 0
