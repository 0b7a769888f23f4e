"""The speed probe: run in a child process, it loads one verified model file, times prompt
evaluation and token-by-token generation at each thread count, and prints JSON.

A child process, because a model that crashes llama.cpp (the AMX fault this VM's CPU
triggers, see agent/llm/llama_loader.py) or exhausts memory must not take the command
down, and because the child's peak resident memory is the model's real footprint.
Each figure is timed twice and the faster run kept. Generation is timed as one forward
pass per token (feeding the next token of a fixed text): sampling and the schema
constraint cost about a millisecond a token, a forward pass tens to hundreds, so the
figure is what a step's generation costs. Started only by
:func:`agent.recommend.speed.measure_speed`, after the file was verified.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

#: Enough distinct text for any probe size (a plant log: numbers and names, as evidence is).
PROBE_TEXT = "\n".join(
    f"{h:02d}:{m:02d} T-{100 + i % 7} level {40 + (i * 37) % 31}.{i % 10} %, pump "
    f"P-{200 + i % 5} {'running' if i % 3 else 'stopped'}, flow {(i * 13) % 97 / 4:.2f} m3/h, "
    f"outlet pressure {1 + (i * 7) % 9 / 3:.2f} bar, alarm {'none' if i % 4 else 'HI level'}."
    for i, (h, m) in enumerate((h, m) for h in range(24) for m in range(0, 60, 15))
)


#: Timed runs per thread count; the fastest counts.
REPEATS = 2


def _rss_bytes() -> int:
    """Current resident memory of this process (from /proc/self/statm)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def run_probe(path: Path, threads: list[int], *, prompt_tokens: int, gen_tokens: int,
              n_ctx: int) -> list[dict[str, float | int]]:  # fmt: skip
    """Time ``path`` at each thread count; one dict of figures per count."""
    import llama_cpp  # noqa: F401  (imported before the baseline, so it is not counted)

    from agent.llm.llama_loader import open_llama

    baseline = _rss_bytes()
    rows: list[dict[str, float | int]] = []
    for count in threads:
        started = time.perf_counter()
        llm = open_llama(path, n_ctx=n_ctx, threads=count, n_batch=512)
        load_s = time.perf_counter() - started
        try:
            tokens = llm.tokenize(PROBE_TEXT.encode("utf-8"), add_bos=False)
            need = prompt_tokens + gen_tokens
            if len(tokens) < need or need > n_ctx:
                raise SystemExit(f"probe text too short: {len(tokens)} tokens, need {need}")
            # Warm-up: pages the weights in, so the timed runs do not measure the disk.
            llm.eval(tokens[:8])
            prompt_s = gen_s = float("inf")
            # Best of REPEATS: other work on a shared machine only ever slows a run down.
            for _ in range(REPEATS):
                llm.reset()
                t0 = time.perf_counter()
                llm.eval(tokens[:prompt_tokens])
                prompt_s = min(prompt_s, time.perf_counter() - t0)
                t0 = time.perf_counter()
                for token in tokens[prompt_tokens:need]:
                    llm.eval([token])
                gen_s = min(gen_s, time.perf_counter() - t0)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        finally:
            llm.close()
        rows.append({
            "threads": count, "prompt_tokens": prompt_tokens, "gen_tokens": gen_tokens,
            "prompt_tps": prompt_tokens / prompt_s, "gen_tps": gen_tokens / gen_s,
            "load_s": load_s, "memory_bytes": max(0, peak - baseline), "n_ctx": n_ctx,
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m agent.recommend.probe FILE --threads 1,2 ...``: JSON figures on stdout."""
    parser = argparse.ArgumentParser(prog="agent.recommend.probe")
    parser.add_argument("path", type=Path)
    parser.add_argument("--threads", default="1")
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--gen-tokens", type=int, default=24)
    parser.add_argument("--n-ctx", type=int, default=1024)
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    rows = run_probe(args.path, threads, prompt_tokens=args.prompt_tokens,
                     gen_tokens=args.gen_tokens, n_ctx=args.n_ctx)  # fmt: skip
    sys.stdout.write(json.dumps(rows) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
