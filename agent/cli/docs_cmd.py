"""`plantagent docs ...`: index manuals and runbooks, search them, manage the embedder.

plantagent docs add PATH... | --demo      index Markdown, text and PDF files
plantagent docs search "QUERY" [-k 5] [--mode hybrid|fts|vector] [--json]
plantagent docs list [--json]             plantagent docs remove NAME
plantagent docs reindex                   re-embed every chunk (new embedding model)
plantagent docs model                     verify the embedding model

The embedding model is never fetched here: a missing one is an error naming
`plantagent models fetch all-minilm-l6-v2-f16`, the one command that fetches models.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from agent.cli.common import (
    add_service_choice,
    chosen_service,
    count,
    guard_egress,
    open_runtime,
    print_json,
    settings_from_args,
)
from agent.cli.progress import progress_bar
from agent.cli.served import read_served
from agent.errors import UsageError
from agent.runtime import SiteRuntime
from agent.twin.embeddings.runtime import Embedder, load_embedder


def register(sub: Any) -> None:
    """Add the docs commands."""
    docs = sub.add_parser("docs", help="index and search manuals and runbooks")
    docs_sub = docs.add_subparsers(dest="docs_command", metavar="ACTION")

    add = docs_sub.add_parser("add", help="index documents (Markdown, text, PDF, folders)")
    add.add_argument("paths", nargs="*", type=Path, help="files or folders")
    add.add_argument("--demo", action="store_true", help="index the demo plant's documents")
    add.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add.set_defaults(handler=_add)

    search = docs_sub.add_parser("search", help="hybrid search with citations")
    search.add_argument("query")
    search.add_argument("-k", type=count(1, 1000), default=5, help="passages to show (default 5)")
    search.add_argument("--mode", choices=["hybrid", "fts", "vector"], default="hybrid")
    search.add_argument("--json", action="store_true", help="print hits as JSON")
    add_service_choice(search, service_help="search through the site service (no site "
                       "passphrase; it holds the document index)",
                       local_help="open the site in this process (needs the site passphrase)")
    search.set_defaults(handler=_search)

    listing = docs_sub.add_parser("list", help="list indexed documents")
    listing.add_argument("--json", action="store_true")
    add_service_choice(listing, service_help="list through the site service (no site "
                       "passphrase; it holds the document index)",
                       local_help="open the site in this process (needs the site passphrase)")
    listing.set_defaults(handler=_list)

    remove = docs_sub.add_parser("remove", help="remove a document by name or path")
    remove.add_argument("name")
    remove.set_defaults(handler=_remove)

    reindex = docs_sub.add_parser("reindex", help="re-embed every chunk with the current model")
    reindex.set_defaults(handler=_reindex)

    model = docs_sub.add_parser(
        "model", help="verify the embedding model (fetch it with `plantagent models fetch`)")
    model.set_defaults(handler=_model)


def progress_line(done: int, total: int, label: str) -> None:
    """Show progress on stderr (never plant data on stdout)."""
    sys.stderr.write(f"  [{done}/{total}] {label}\n")
    sys.stderr.flush()


@dataclass
class Twin:
    """What a docs or incidents command works with: the site's twin database and its
    embedding model (assembled from its recipe if missing)."""

    conn: apsw.Connection
    embedder: Embedder


def twin_of(runtime: SiteRuntime) -> Twin:
    """The twin database and the embedding model of the command's site runtime (verified
    before the site is opened; never fetched)."""
    embedder = runtime.load_embedder()
    return Twin(runtime.twin_database, embedder)


def _add(args: argparse.Namespace) -> int:
    from agent.cli.plugins import demo_data
    from agent.twin.documents.index import DocumentIndex

    paths = list(args.paths) + (demo_data("documents") if args.demo else [])
    if not paths:
        print("nothing to add: give files or folders, or --demo", file=sys.stderr)
        return 2
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}",
                         fix="check the path (nothing was indexed)")
    with open_runtime(settings_from_args(args)) as runtime, \
            progress_bar("indexing") as update:
        twin = twin_of(runtime)
        index = DocumentIndex(twin.conn, twin.embedder)
        results = index.add_paths(paths, progress=update)
    if args.json:
        print_json([r.__dict__ for r in results])
    else:
        for r in results:
            line = f"{r.status:9} {r.path}" + (f" ({r.chunks} chunks)" if r.chunks else "")
            print(line)
            if r.error:
                print(f"  error: {r.error}", file=sys.stderr)
    return 1 if any(r.status == "skipped" for r in results) else 0


def _search(args: argparse.Namespace) -> int:
    from agent.serve.reads import docs_search
    from agent.twin.documents.index import DocumentIndex
    from agent.twin.documents.search import snippet

    path = chosen_service(args)
    if path is not None:
        hits = read_served(path, lambda client: client.docs(args.query, k=args.k,
                                                           mode=args.mode))
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            twin = twin_of(runtime)
            hits = docs_search(DocumentIndex(twin.conn, twin.embedder), args.query, k=args.k,
                               mode=args.mode)
    if args.json:
        print_json(hits)
        return 0
    if not hits:
        print("no passages found", file=sys.stderr)
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank}. {hit['citation']}  (score {hit['score']:.4f})")
        if hit["suspected_instructions"]:
            print("   ! this passage contains text addressed to an AI agent (shown as data)")
        for line in snippet(hit["text"], args.query).splitlines():
            print(f"   > {line}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from agent.serve.reads import docs_list
    from agent.twin.documents.index import DocumentIndex

    path = chosen_service(args)
    if path is not None:
        docs = read_served(path, lambda client: client.docs_list())
    else:
        with open_runtime(settings_from_args(args)) as runtime:
            twin = twin_of(runtime)
            docs = docs_list(DocumentIndex(twin.conn, twin.embedder))
    if args.json:
        print_json(docs)
    else:
        for d in docs:
            print(f"{d['name']:45} {d['kind']:8} {d['chunk_count']:4} chunks  {d['title']}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from agent.twin.documents.index import DocumentIndex

    with open_runtime(settings_from_args(args)) as runtime:
        twin = twin_of(runtime)
        removed = DocumentIndex(twin.conn, twin.embedder).remove(args.name)
    print(f"removed {removed} document(s)")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from agent.twin.documents.index import DocumentIndex

    with open_runtime(settings_from_args(args)) as runtime:
        twin = twin_of(runtime)
        with progress_bar("re-embedding") as update:
            index = DocumentIndex(twin.conn, twin.embedder, rebuild=True, progress=update)
        print(f"re-embedded {sum(d.chunk_count for d in index.documents())} chunks")
    return 0


def _model(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    guard_egress(settings)
    embedder = load_embedder(settings, assemble=False)
    print(f"{embedder.model_name}: ready ({embedder.dim} dimensions) in {settings.models_dir}")
    embedder.close()
    return 0
