"""Throughput and latency of `step` over seeded random playthroughs of the sample story.

Run: python bench/step_bench.py [--steps N] [--rounds R] [--against GIT_REF]

Single process, rules included (the durable-rules matcher behind `engine.rules_engine`).
Each round plays random playthroughs of `content/` (a seeded choice among the available
buttons; at an ending, restart or a new player) until it has taken N steps, timing every
`step` call. Per configuration the report shows:

- steps/s: the median over the rounds of steps / time inside `step` (and of steps / wall
  time, which also pays for the bench's own choice-picking);
- p50 / p99 / p99.9 step latency over all the steps of all the rounds;
- where the time goes: durable-rules matching (`RuleMatcher.match`) vs the rest of `step`.

Three configurations of the rules path: the default (a memo per event in `Game.rules_for`
in front of the matcher), the matcher's own memo only (`Game.memo=False`), and no memo at
all (`RuleMatcher(cache=False)`: every event is asserted into durable-rules).

`--against REF` also runs the default configuration on the engine as committed at REF
(`git archive` into a temporary directory, run in a subprocess on the same content) and
prints the ratio, so before/after figures come from one invocation on one machine.

Targets: >= 30,000 steps/s and p99 < 0.5 ms. The system this product replaces did
14,900 in-memory point awards/s on the same kind of machine, with no rules engine.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import fields, replace
from io import BytesIO
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BASELINE_AWARDS_PER_S = 14_900
TARGET_STEPS_PER_S = 30_000
TARGET_P99_MS = 0.5
DAY = "2025-01-01"


class TimedMatcher:
    """Wraps a RuleMatcher and adds up the time spent in `match`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.ns = 0
        self.calls = 0

    def match(self, event: Any) -> tuple[str, ...]:
        t0 = time.perf_counter_ns()
        try:
            return self.inner.match(event)
        finally:
            self.ns += time.perf_counter_ns() - t0
            self.calls += 1


def play(engine: Any, game: Any, steps: int, seed: int) -> tuple[float, list[int]]:
    """Take `steps` steps of seeded random play; return wall seconds and per-step ns."""
    step, new_state = engine.step, engine.new_state
    Choose, Restart, Start = engine.Choose, engine.Restart, engine.Start
    rng = random.Random(seed)
    latencies: list[int] = []
    clock = time.perf_counter_ns
    player = 0
    state = new_state(game.content, seed=seed)
    t_start = clock()
    t0 = clock()
    outcome = step(game, state, Start(DAY))
    latencies.append(clock() - t0)
    while len(latencies) < steps:
        state = outcome.state
        screen = outcome.screen
        open_ = [c.id for c in screen.choices if c.available] if screen else []
        if open_:
            action: Any = Choose(rng.choice(open_), state["turn"], DAY)
        elif rng.random() < 0.5:
            action = Restart(DAY)
        else:  # a new player from time to time, so the start path is measured too
            player += 1
            state = new_state(game.content, seed=seed * 1000 + player)
            action = Start(DAY)
        t0 = clock()
        outcome = step(game, state, action)
        latencies.append(clock() - t0)
        if not outcome.ok:
            raise SystemExit(f"bench walked into a rejected action: {outcome.error}")
    return (clock() - t_start) / 1e9, latencies


def percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1e6


def measure(engine: Any, game: Any, steps: int, rounds: int) -> dict[str, float]:
    timed = TimedMatcher(game.matcher)
    game = replace(game, matcher=timed)
    play(engine, game, min(steps, 3000), seed=999)  # warm-up: first durable calls, memos
    timed.ns = timed.calls = 0
    rates, wall_rates, all_ns = [], [], []
    for r in range(rounds):
        wall, ns = play(engine, game, steps, seed=r)
        wall_rates.append(len(ns) / wall)
        rates.append(len(ns) / (sum(ns) / 1e9))
        all_ns.extend(ns)
    all_ns.sort()
    step_s = sum(all_ns) / 1e9
    return {
        "median": statistics.median(rates),
        "low": min(rates),
        "high": max(rates),
        "wall_median": statistics.median(wall_rates),
        "p50": percentile(all_ns, 0.50),
        "p99": percentile(all_ns, 0.99),
        "p999": percentile(all_ns, 0.999),
        "max": all_ns[-1] / 1e6,
        "match_share": timed.ns / 1e9 / step_s,
        "match_calls_per_step": timed.calls / len(all_ns),
        "match_us": timed.ns / 1e3 / max(timed.calls, 1),
        "rest_us": (step_s - timed.ns / 1e9) / len(all_ns) * 1e6,
    }


def show(name: str, row: dict[str, float]) -> None:
    print(f"{name:<28} {row['median']:>8,.0f} steps/s ({row['low']:,.0f}–{row['high']:,.0f};"
          f" wall {row['wall_median']:,.0f})  p50 {row['p50']:.3f} ms  p99 {row['p99']:.3f} ms"
          f"  p99.9 {row['p999']:.3f} ms  max {row['max']:.2f} ms")
    print(f"{'':<28} durable-rules matching {row['match_share']:.1%} of step time"
          f" ({row['match_calls_per_step']:.2f} calls/step, {row['match_us']:.1f} µs/call);"
          f" the rest {row['rest_us']:.1f} µs/step")


class _Engine:
    """The engine's entry points, imported from whatever `sys.path` holds."""

    def __init__(self) -> None:
        from engine.game import compile_game, when_specs
        from engine.load import load
        from engine.rules_engine import RuleMatcher
        from engine.state import new_state
        from engine.step import Choose, Restart, Start, step

        self.compile_game, self.when_specs, self.load = compile_game, when_specs, load
        self.RuleMatcher, self.new_state = RuleMatcher, new_state
        self.Choose, self.Restart, self.Start, self.step = Choose, Restart, Start, step

    def game(self) -> Any:
        result = self.load(REPO / "content")
        if result.content is None:
            raise SystemExit("the sample story does not load")
        game = self.compile_game(result.content)
        gc.freeze()  # the content lives for the whole process: keep it out of GC scans
        return game


def run_ref(ref: str, steps: int, rounds: int) -> dict[str, float]:
    """The default configuration, measured on the engine as committed at `ref`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "engine", "schemas"],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        proc = subprocess.run(
            [sys.executable, __file__, "--engine-root", tmp, "--steps", str(steps),
             "--rounds", str(rounds), "--json"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the run at {ref} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="GIT_REF", help="also measure the engine at REF")
    parser.add_argument("--engine-root", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, args.engine_root or str(REPO))
    engine = _Engine()
    game = engine.game()
    if args.json:  # the subprocess of --against: the default configuration only
        print(json.dumps(measure(engine, game, args.steps, args.rounds)))
        return
    content = game.content
    print(f"step bench: {args.steps:,} steps × {args.rounds} rounds, sample story"
          f" ({len(content.fragments)} fragments, {len(content.rules)} rules),"
          f" Python {sys.version.split()[0]}")
    names = {f.name for f in fields(game)}
    rows = {"default": measure(engine, game, args.steps, args.rounds)}
    show("memo per event (default)", rows["default"])
    if "memo" in names:
        plain = replace(game, memo=False, seen={})
        rows["matcher memo"] = measure(engine, plain, args.steps, args.rounds)
        show("matcher memo only", rows["matcher memo"])
        bare = replace(plain, matcher=engine.RuleMatcher(engine.when_specs(content),
                                                          cache=False))
        rows["no memo"] = measure(engine, bare, args.steps, args.rounds)
        show("no memo: durable per event", rows["no memo"])
    if args.against:
        rows[args.against] = run_ref(args.against, args.steps, args.rounds)
        show(f"engine at {args.against}", rows[args.against])
    print()
    base = rows["default"]["median"]
    for label, row in rows.items():
        print(f"{label:<20} {row['median'] / base:5.2f}× the default,"
              f" {row['median'] / BASELINE_AWARDS_PER_S:5.2f}× the 14,900 awards/s baseline,"
              f" p99 {row['p99']:.3f} ms")
    ok = base >= TARGET_STEPS_PER_S and rows["default"]["p99"] < TARGET_P99_MS
    print(f"target ≥ {TARGET_STEPS_PER_S:,} steps/s and p99 < {TARGET_P99_MS} ms:"
          f" {'met' if ok else 'NOT met'} (default configuration)")


if __name__ == "__main__":
    main()
