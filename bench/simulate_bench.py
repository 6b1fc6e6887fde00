"""What `diana simulate` costs and proves: for explore, goal and `lint --deep` on the sample,
and explore on a generated story, the states explored, the time and whether the search
completed; and the time of random runs of the sample.

Run: python bench/simulate_bench.py [--rounds R] [--states N] [--fragments N] [--stats N]
                                    [--runs N] [--against GIT_REF]

Prints the median time over R rounds (default 1: a search of 100,000 states takes tens of
seconds) of each figure; states and completion do not vary between rounds. The generated
story is `engine.synth` with `--fragments` fragments (default 1,000) and `--stats` numeric
stats (default 20). `--against REF` measures the same figures on the engine as committed
at REF (`git archive` into a temporary directory, run in a subprocess on the same content
and the same generated story) in the same run, and prints both with the ratio of times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GOAL = "ending:ending_velvet_door"


def measure(engine_root: Path, story: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure, with the engine found under `engine_root`."""
    sys.path.insert(0, str(engine_root))
    from engine.game import compile_game
    from engine.lint.deep import deep
    from engine.load import load
    from engine.simulate import explore, goal, random_runs

    def game_of(directory: Path):
        result = load(directory)
        if result.content is None:
            raise SystemExit(f"{directory} does not load")
        return compile_game(result.content)

    sample = game_of(REPO / "content")
    big = game_of(story)
    rows: dict[str, Any] = {}

    def timed(name: str, run) -> None:
        times, figures = [], {}
        for _ in range(args.rounds):
            t = time.perf_counter()
            figures = run()
            times.append(time.perf_counter() - t)
        rows[name] = {**figures, "seconds": statistics.median(times)}

    def explored(ex) -> dict[str, Any]:
        return {"states": ex.states, "complete": ex.complete,
                "multipliers": [list(m) for m in getattr(ex, "multipliers", [])[:3]]}

    # Warm the rule matcher's memo and the walks of each content first: otherwise the first
    # figure of a run pays for them and the later ones (the coarsenings switched off) do not.
    explore(sample, max_states=min(args.states, 5_000), probe=0)
    explore(big, max_states=min(args.states, 5_000), probe=0)
    timed("explore sample", lambda: explored(explore(sample, max_states=args.states,
                                                     probe=0)))

    def goal_run() -> dict[str, Any]:
        w, ex = goal(sample, GOAL, max_states=args.states)
        return {"states": ex.states, "complete": ex.complete, "found": w is not None}

    timed(f"goal {GOAL.partition(':')[2]}", goal_run)

    def deep_run() -> dict[str, Any]:
        r = deep(sample.content, max_states=args.states)
        return {"states": r.states, "complete": r.complete}

    timed("lint --deep sample", deep_run)
    timed(f"explore synth {args.fragments}",
          lambda: explored(explore(big, max_states=args.states, probe=0)))
    from engine.simulate import abstraction

    for name in getattr(abstraction, "REDUCTIONS", ()):  # what each coarsening buys
        timed(f"  without `{name}`: sample", lambda n=name: explored(
            explore(sample, max_states=args.states, probe=0, off=(n,))))
        timed(f"  without `{name}`: synth", lambda n=name: explored(
            explore(big, max_states=args.states, probe=0, off=(n,))))
    timed(f"random sample {args.runs}",
          lambda: (random_runs(sample, runs=args.runs, seed=0, policy="uniform"), {})[1])
    return rows


def run_ref(ref: str, story: Path, args: argparse.Namespace) -> dict[str, Any]:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "engine", "schemas"],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        proc = subprocess.run(
            [sys.executable, __file__, "--engine-root", tmp, "--story", str(story),
             "--rounds", str(args.rounds), "--states", str(args.states), "--runs",
             str(args.runs), "--fragments", str(args.fragments), "--json"],
            capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the run at {ref} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def show(title: str, rows: dict[str, Any], base: dict[str, Any] | None = None) -> None:
    print(title)
    for name, r in rows.items():
        states = f"{r['states']:>9,} states" if "states" in r else " " * 16
        done = ("complete" if r.get("complete") else "bound hit") if "complete" in r else ""
        if "found" in r:
            done = "found" if r["found"] else f"not found, {done}"
        line = f"  {name:<28} {states} {r['seconds']:>8.2f} s  {done}"
        if base is not None and name in base and base[name]["seconds"]:
            line += f"  ({r['seconds'] / base[name]['seconds']:.2f}x the time at the ref)"
        if r.get("multipliers"):
            line += "; grew with " + ", ".join(f"{m[0]} ({m[1]:,})" for m in r["multipliers"])
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--states", type=int, default=100_000,
                    help="bound on the states of each search (the CLI's default)")
    ap.add_argument("--fragments", type=int, default=1_000)
    ap.add_argument("--stats", type=int, default=20)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--against", metavar="GIT_REF", help="also measure the engine at REF")
    ap.add_argument("--engine-root", type=Path, default=REPO, help=argparse.SUPPRESS)
    ap.add_argument("--story", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.json:  # the subprocess of --against
        print(json.dumps(measure(args.engine_root, args.story, args)))
        return
    sys.path.insert(0, str(REPO))
    from engine import synth

    with tempfile.TemporaryDirectory() as tmp:
        story = synth.write(Path(tmp), args.fragments, seed=1, stats=args.stats)
        print(f"generated story: {args.fragments:,} fragments, {args.stats} numeric stats; "
              f"bound {args.states:,} states per search")
        base = run_ref(args.against, story, args) if args.against else None
        rows = measure(REPO, story, args)
    if base is not None:
        show(f"engine at {args.against}", base)
    show("this engine", rows, base)


if __name__ == "__main__":
    main()
