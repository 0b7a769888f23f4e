"""`plantagent models qualify [MODEL]`: measure a model against the demo plant and mark it
qualified or NOT qualified against the site's policy ([qualification] thresholds).

A throw-away encrypted site and loopback demo plants are used; the site the settings name
only gives the thresholds and keeps the record ($PLANTAGENT_HOME/qualification/). Exit
code 0 when qualified, 1 when not.

Measured on 2 shared cores, one model thread: the default model's full run (12 questions,
9 faults, 18 payloads) about 10 minutes, --quick (6, 2, 6) 4 to 7; SmolLM2's --quick 24
(most of its questions use the whole per-question budget, 6 steps / 120 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from agent.cli.common import open_runtime, print_json, settings_from_args
from agent.errors import ModelError, UsageError
from agent.qualification.attest import attest


def add_to(models_sub: Any) -> None:
    """Add `qualify` to the models commands."""
    q = models_sub.add_parser(
        "qualify", help="run the evaluation suites against a model and judge it against "
        "the policy's thresholds (default model on 2 shared cores: full ~10 min, --quick "
        "4-7 min; a model that wanders uses every budget: SmolLM2 --quick ~24 min)")
    q.add_argument("model", nargs="?", help="manifest model name (default: model.name)")
    q.add_argument("--quick", action="store_true",
                   help="6 questions, 6 injection payloads, 2 triage faults")
    q.add_argument("--out", type=Path, default=None,
                   help="directory for the report (default: the site's qualification/runs/)")
    q.add_argument("--json", action="store_true", help="print the record as JSON")
    q.add_argument("--models-dir", type=Path, default=None,
                   help="where the GGUF files are (default: the site's model directory)")
    q.add_argument("--threads", type=int, default=None,
                   help="model threads (default: model.threads)")
    for name, what in (("questions", "ask-suite questions"), ("payloads", "injection payloads"),
                       ("faults", "triage faults")):
        q.add_argument(f"--{name}", type=int, default=None,
                       help=f"run only this many {what} (0 leaves the suite out; the run "
                       "then cannot qualify)")
    q.set_defaults(handler=_qualify)


def _qualify(args: argparse.Namespace) -> int:
    from agent.cli.models_cmd import ProgressBar
    from agent.llm.registry import load_manifest
    from agent.policy import load_policy
    from agent.qualification.store import QualificationStore
    from harness.bench.machine import describe_machine
    from harness.qualify.criteria import deltas
    from harness.qualify.report import write_report
    from harness.qualify.runner import default_plan, run_qualification

    for name in ("questions", "payloads", "faults"):
        if (getattr(args, name) or 0) < 0:
            raise UsageError(f"--{name} {getattr(args, name)}", fix=f"give --{name} 0 or more")
    settings = settings_from_args(args)
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # session-timeout notices
    name = args.model or settings.model.name
    entry = load_manifest(settings).get(name)
    if entry.role != "chat":
        raise ModelError(f"{name} is an {entry.role} model", fix="qualify a chat model "
                         "(`plantagent models list`)")
    thresholds = load_policy(settings.home).policy.qualification
    plan = default_plan(name, args.models_dir or settings.models_dir,
                        threads=args.threads or settings.model.threads, quick=args.quick,
                        questions=args.questions, payloads=args.payloads, faults=args.faults)
    if plan.total == 0:
        raise UsageError("nothing to run", fix="leave at least one suite in")
    # The record is vouched for by this site's audit log: unlock it now (a missing site or
    # a wrong passphrase is said before the run, not after it).
    with open_runtime(settings) as runtime:
        _ = runtime.audit
    sys.stderr.write(f"qualifying {name} ({plan.total} steps: {len(plan.cases)} questions, "
                     f"{len(plan.faults)} triage faults, {len(plan.payloads)} payloads)\n")
    record = asyncio.run(run_qualification(
        plan, thresholds, progress=ProgressBar(unit=""),
        machine=describe_machine(name, entry.sha256)))
    store = QualificationStore(settings.home)
    baseline = store.last_qualified(excluding=record.sha256)
    if baseline is not None:
        record.compared_with = f"{baseline.model} ({baseline.started})"
        record.deltas = deltas({**record.metrics, **record.speed},
                               {**baseline.metrics, **baseline.speed})
    store.save(record)
    with open_runtime(settings) as runtime:  # the audit log vouches for the record
        attest(runtime.audit, record, actor=settings.agent.user)
    files = write_report(record, args.out or store.run_dir(record))
    if args.json:
        print_json(record.model_dump(mode="json"))
    else:
        verdict = "QUALIFIED" if record.qualified else "NOT qualified"
        sys.stdout.write(f"{name}: {verdict} ({record.seconds:.0f} s)\n")
        for c in record.criteria:
            sign = ">=" if c.kind == "min" else "<="
            sys.stdout.write(f"  {'ok  ' if c.passed else 'FAIL'} {c.name:<22} {c.value:8.3g}"
                             f"  ({sign} {c.limit:g})\n")
        if record.speed:
            sp = record.speed
            sys.stdout.write(f"  speed: {sp['tokens_per_s']:.1f} tokens/s, first token "
                             f"{sp['first_token_s']:.2f} s, question {sp['question_s']:.1f} s\n")
        if record.compared_with:
            sys.stdout.write(f"  compared with {record.compared_with}\n")
        sys.stdout.write("report: " + "\n        ".join(str(p) for p in files) + "\n")
    return 0 if record.qualified else 1
