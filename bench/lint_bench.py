"""Wall time of `diana lint` on a large synthetic story (10,000 fragments by default).

Run: python bench/lint_bench.py [--fragments N] [--runs R] [--seed S] [--profile] [--keep DIR]

Generates a valid story with `engine.synth` into a temporary directory, then:

- runs the full lint in this process R times (`engine.load.load` + `engine.lint.lint`, the
  functions `diana lint` calls) and prints the median wall time with its breakdown:
  read/parse (read the files, parse the YAML into data with positions),
  schema (JSON Schema validation), model (build the typed model), checks (every lint check)
  and the rest (walking the directory, hashing, sorting, severities);
- runs `diana lint DIR` and `diana fmt --check DIR` (as `python -m cli.main`, from this
  tree) as cold subprocesses R times each, alternated, and prints the median wall times
  (interpreter start and imports included) and their ratio; the synthetic story is in the
  canonical layout, so this times fmt's quick check (engine/fmt_fast.py), not ruamel's
  round trip, which a file outside that check's subset still takes;
- with --profile, prints the top of a cProfile of one in-process run.

The target from the issue: under 3 s for 10,000 fragments on the 2-core machine. This is a
benchmark to run by hand (`make bench`), not a timed test: figures vary with the machine's
load, so each is a median over the runs and the range is shown.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import engine.lint as lint_module  # noqa: E402
import engine.load as load_module  # noqa: E402
from engine import synth  # noqa: E402
from engine.lint import lint  # noqa: E402
from engine.load import load  # noqa: E402

TARGET_S = 3.0
FMT_TARGET = 2.0  # `fmt --check` within this factor of `lint` on the same content
STAGES = ("read/parse", "schema", "model", "checks")


@contextmanager
def timed_stages(totals: dict[str, float]) -> Iterator[None]:
    """Add up the time spent in each stage of load + lint while the block runs, by wrapping
    the functions `load` and `lint` call for them."""

    def wrap(owner: Any, name: str, stage: str) -> Callable[[], None]:
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                totals[stage] += time.perf_counter() - t0

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, inner)

    undo = [
        wrap(load_module, "_read", "read/parse"),
        wrap(load_module, "validate", "schema"),
        wrap(load_module._Builder, "build", "model"),
        wrap(lint_module, "run_checks", "checks"),
    ]
    try:
        yield
    finally:
        for u in undo:
            u()


def lint_once(root: Path) -> tuple[float, dict[str, float], int]:
    totals: dict[str, float] = defaultdict(float)
    with timed_stages(totals):
        t0 = time.perf_counter()
        diagnostics = lint(load(root))
        wall = time.perf_counter() - t0
    totals["rest"] = wall - sum(totals[s] for s in STAGES)
    return wall, dict(totals), len(diagnostics)


def diana_command() -> list[str]:
    """`diana` run from this tree (the installed script may point at another checkout)."""
    return [sys.executable, "-m", "cli.main"]


def cold_once(root: Path, *command: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([*diana_command(), *command, str(root)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc.returncode


def spread(values: list[float]) -> str:
    return (f"{statistics.median(values):7.3f} s  (min {min(values):.3f}, "
            f"max {max(values):.3f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fragments", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    parser.add_argument("--keep", type=Path, help="write the story here and keep it")
    args = parser.parse_args(argv)

    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="diana-lint-bench-"))
    try:
        t0 = time.perf_counter()
        root = synth.write(out_dir, args.fragments, args.seed)
        size = sum(p.stat().st_size for p in out_dir.rglob("*.yaml"))
        files = sum(1 for _ in out_dir.rglob("*.yaml"))
        print(f"story: {args.fragments:,} fragments, {files} files, {size / 1e6:.1f} MB "
              f"(generated in {time.perf_counter() - t0:.1f} s) at {root}")

        walls: list[float] = []
        stages: dict[str, list[float]] = defaultdict(list)
        count = 0
        for _ in range(args.runs):
            wall, totals, count = lint_once(root)
            walls.append(wall)
            for stage, seconds in totals.items():
                stages[stage].append(seconds)
        print(f"\nin-process load + lint, {args.runs} runs, {count} diagnostics")
        print(f"  {'total':<11} {spread(walls)}")
        for stage in (*STAGES, "rest"):
            print(f"  {stage:<11} {spread(stages[stage])}")

        colds: dict[str, list[float]] = defaultdict(list)
        codes: dict[str, int] = {}
        commands = {"lint": ("lint",), "fmt --check": ("fmt", "--check", "--no-diff")}
        for _ in range(args.runs):  # alternated, so both see the same machine
            for name, command in commands.items():
                seconds, codes[name] = cold_once(root, *command)
                colds[name].append(seconds)
        for name in commands:
            print(f"\ncold `diana {name} DIR` subprocess, {args.runs} runs (exit status"
                  f" {codes[name]})")
            print(f"  {'wall':<11} {spread(colds[name])}")
        ratio = statistics.median(colds["fmt --check"]) / statistics.median(colds["lint"])
        print(f"  fmt --check / lint: {ratio:.1f}x (target: at most {FMT_TARGET:g}x)")

        median = statistics.median(walls)
        verdict = "within" if median < TARGET_S else "OVER"
        print(f"\ntarget: < {TARGET_S:.0f} s in process for 10,000 fragments: {median:.2f} s, "
              f"{verdict} target" + ("" if args.fragments == 10_000 else
                                     f" (this run: {args.fragments:,} fragments)"))

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            lint(load(root))
            profiler.disable()
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(30)
            print(buf.getvalue())
    finally:
        if args.keep is None:
            shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
