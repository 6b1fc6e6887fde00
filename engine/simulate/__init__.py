"""Simulation over the real step function: exhaustive exploration, goals, random runs and
replays. Pure functions of (game, options); the CLI front end is `cli/simulate_cmd.py`."""

from engine.simulate.abstraction import Abstraction
from engine.simulate.analysis import (
    ValueFinding,
    blocker,
    coverage_json,
    explore_coverage,
    explore_json,
    never_holds,
    never_locks,
)
from engine.simulate.core import Witness, auto_playthroughs, parse_target
from engine.simulate.explore import Exploration, explore
from engine.simulate.goal import goal
from engine.simulate.randomrun import POLICIES, RandomReport, random_runs, report_json
from engine.simulate.replay import Replay, ReplayError, ReplayResult, read, record, run, write

__all__ = [
    "POLICIES",
    "Abstraction",
    "Exploration",
    "RandomReport",
    "Replay",
    "ReplayError",
    "ReplayResult",
    "ValueFinding",
    "Witness",
    "auto_playthroughs",
    "blocker",
    "coverage_json",
    "explore",
    "explore_coverage",
    "explore_json",
    "goal",
    "never_holds",
    "never_locks",
    "parse_target",
    "random_runs",
    "read",
    "record",
    "report_json",
    "run",
    "write",
]
