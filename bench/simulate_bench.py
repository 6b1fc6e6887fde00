"""Speed of `diana simulate`: explore states/s on the sample and on a generated
10,000-fragment story (engine.synth), and 10,000 random runs of the sample.

Run: python bench/simulate_bench.py [--rounds R] [--states N] [--runs N]

Prints the median over R rounds (default 3) of each figure. Targets from the issue: the
10,000 random runs of the sample in under 30 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import synth
from engine.game import compile_game
from engine.load import load
from engine.simulate import explore, random_runs

ROOT = Path(__file__).resolve().parent.parent


def game_of(directory: Path):
    result = load(directory)
    assert result.content is not None, directory
    return compile_game(result.content)


def explore_rate(game, states: int) -> tuple[float, int, bool]:
    t = time.perf_counter()
    ex = explore(game, max_states=states, probe=0)
    dt = time.perf_counter() - t
    return ex.states / dt, ex.states, ex.complete


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--states", type=int, default=20_000,
                    help="bound on the states of each search")
    ap.add_argument("--runs", type=int, default=10_000)
    args = ap.parse_args()

    sample = game_of(ROOT / "content")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        big_dir = synth.write(Path(tmp), 10_000, seed=1)
        big = game_of(big_dir)
        print(f"generated and loaded a 10,000-fragment story in {time.perf_counter() - t:.1f} s")
        rows = []
        for name, game in (("sample", sample), ("synth 10k", big)):
            rates, n, complete = [], 0, False
            for _ in range(args.rounds):
                rate, n, complete = explore_rate(game, args.states)
                rates.append(rate)
            rows.append((name, statistics.median(rates), n, complete))
    for name, rate, n, complete in rows:
        print(f"explore {name:<10} {rate:>9,.0f} states/s (median of {args.rounds}; "
              f"{n:,} states, {'complete' if complete else 'bound hit'})")
    times = []
    for r in range(args.rounds):
        t = time.perf_counter()
        random_runs(sample, runs=args.runs, seed=r, policy="uniform")
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"random   sample     {args.runs:,} runs in {med:.2f} s (median of {args.rounds}; "
          f"{args.runs / med:,.0f} runs/s) — target < 30 s")


if __name__ == "__main__":
    main()
