"""`diana simulate`: prove every path — explore, reach a goal, play at random, replay.

Exit status: 0 no listed finding; 1 a finding listed in `--fail-on` (or, in goal mode, no
path; in replay mode, a replay that diverged), or content with lint errors; 2 a usage or
file error. docs/simulate.md documents every mode, option and output.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.content import load_game
from engine import simulate as sim
from engine.game import Game
from engine.model import Content


class Mode(StrEnum):
    explore = "explore"
    random = "random"
    goal = "goal"


class Policy(StrEnum):
    uniform = "uniform"
    least_used = "least-used"
    greedy = "greedy"


class OutFormat(StrEnum):
    text = "text"
    json = "json"


UNREACHABLE = ("unreachable-fragment", "unreachable-choice", "unreachable-ending",
               "unreachable-achievement", "unreachable-rule")
FINDINGS = ("unreachable", *UNREACHABLE, "dead-end", "trap", "runaway", "stuck", "incomplete",
            "never-holds", "never-locks")


class UsageError(Exception):
    pass


def _fail_on(text: str | None) -> set[str]:
    if not text:
        return set()
    kinds = {k.strip() for k in text.split(",") if k.strip()}
    unknown = sorted(kinds - set(FINDINGS))
    if unknown:
        raise UsageError(f"unknown --fail-on kind `{unknown[0]}` (use {', '.join(FINDINGS)})")
    if "unreachable" in kinds:
        kinds |= set(UNREACHABLE)
    return kinds


def _progress(err: Console, total: int | None, label: str):
    """A rich progress bar on standard error when it is a terminal: (callback, stop)."""
    if not err.is_terminal:
        return None, lambda: None
    from rich.progress import Progress

    bar = Progress(console=err, transient=True)
    bar.start()
    task = bar.add_task(label, total=total)
    if total is None:  # explore: called with the number of new states
        return (lambda n: bar.update(task, advance=n)), bar.stop
    return (lambda done: bar.update(task, completed=done)), bar.stop


# ---- explore -----------------------------------------------------------------------------


def _explore_findings(data: dict[str, Any]) -> set[str]:
    found = set()
    for kind, items in data["unreachable"].items():
        if items:
            found.add(f"unreachable-{kind}")
    for f in data["findings"]:
        found.add("runaway" if f["kind"] == "runaway-chain" else f["kind"])
    if not data["complete"]:
        found.add("incomplete")
    if data["never_holds"]:
        found.add("never-holds")
    if data["never_locks"]:
        found.add("never-locks")
    return found


def _steps(w: dict[str, Any]) -> str:
    steps = " → ".join(w["steps"]) or "(start)"
    tag = "" if w["minimal"] else " (not minimal)"
    return f"[{w['role']}, seed {w['seed']}] {steps}{tag}"


def print_explore(out: Console, data: dict[str, Any]) -> None:
    scope = (f"roles {', '.join(data['roles'])} · seeds {', '.join(map(str, data['seeds']))}"
             f" · up to {data['playthroughs']} playthrough(s)")
    if data["complete"]:
        out.print(f"Explored every state: {data['states']} states, {data['transitions']} "
                  f"transitions ({scope}).", markup=False)
    else:
        out.print(f"Stopped at the bound of {data['max_states']} states per search "
                  f"({', '.join(data['cut_short'])}): {data['states']} states, "
                  f"{data['transitions']} transitions ({scope}); "
                  f"{data['probe_runs']} probe runs. What is not reached is not proven "
                  "unreachable; traps, never-holds and never-locks are not claimed.",
                  markup=False)
        if data["multipliers"]:
            out.print("What multiplied the states: " + "; ".join(
                f"{m['variable']}: {m['distinct_values']:,} distinct values kept "
                f"(x{m['merge_factor']:g} states)"
                for m in data["multipliers"][:5]) + ".", markup=False)
            out.print("(xN: of up to 20,000 explored states, evenly spread, N would have "
                      "merged into one had the key not kept that variable: a lower "
                      "estimate.)", markup=False)
        if data["unproven"]:
            out.print(f"Unproven ({len(data['unproven'])}): neither reached nor proven "
                      "unreachable: " + ", ".join(data["unproven"]), markup=False)
    for name, places in data["shown_not_kept"].items():
        out.print(f"{{{name}}} is shown to the player ({', '.join(places[:3])}) but the "
                  "search keeps it only as far as requirements and rules read it: explored "
                  "as if not shown (pages differ, futures do not).", markup=False)
    for miss in data["failed_replays"]:
        out.print(f"BUG: a witness did not replay to its target: {miss}", markup=False)
    for path in data["unconcretized"][:5]:
        out.print(f"No seed tried gives the draws of the path {path}: no witness for it.",
                  markup=False)
    table = Table(title="Reached", show_lines=False)
    for col in ("kind", "reached", "unreached"):
        table.add_column(col)
    for kind in ("fragment", "choice", "ending", "achievement", "rule"):
        table.add_row(kind, str(len(data["reached"][kind])), str(len(data["unreachable"][kind])))
    out.print(table)
    ends = Table(title="Endings and achievements: shortest witnesses")
    ends.add_column("target")
    ends.add_column("steps", justify="right")
    ends.add_column("path")
    for kind in ("ending", "achievement"):
        for ref, w in data["reached"][kind].items():
            ends.add_row(f"{kind} {ref}", str(w["length"]), escape(_steps(w)))
    out.print(ends)
    missing = [(k, r, v) for k, items in data["unreachable"].items() for r, v in items.items()]
    if missing:
        t = Table(title="Unreachable" if data["complete"] else "Not reached (unproven)")
        t.add_column("target")
        t.add_column("what blocks it")
        for k, r, v in missing:
            t.add_row(f"{k} {r}", v["blocked"])
        out.print(t)
    problems = data["findings"] + data["never_holds"] + data["never_locks"]
    if problems:
        t = Table(title="Findings")
        t.add_column("kind")
        t.add_column("message")
        t.add_column("witness")
        for f in problems:
            w = f.get("witness")
            t.add_row(f["kind"], f["message"], escape(_steps(w)) if w else "")
        out.print(t)
    else:
        out.print("No dead ends, traps or runaway chains found.", markup=False)


# ---- random --------------------------------------------------------------------------------


def print_random(out: Console, data: dict[str, Any]) -> None:
    out.print(f"{data['runs']} runs · policy {data['policy']} · seed {data['seed']} · role "
              f"{data['role']} · {data['playthroughs']} playthrough(s) a run", markup=False)
    t = Table(title="Endings")
    for col in ("ending", "runs", "share", "points min", "median", "max"):
        t.add_column(col, justify="left" if col == "ending" else "right")
    for e, v in data["endings"].items():
        p = v["points"]
        t.add_row(e, str(v["runs"]), f"{v['share']:.1%}", *(str(p[k]) if p[k] is not None
                                                              else "-" for k in
                                                              ("min", "median", "max")))
    out.print(t)
    outcomes = ", ".join(f"{k}: {v}" for k, v in data["outcomes"].items())
    out.print(f"Run outcomes: {outcomes}", markup=False)
    ln = data["length"]
    out.print(f"Length in steps: min {ln['steps']['min']}, median {ln['steps']['median']}, "
              f"max {ln['steps']['max']}; in words: min {ln['words']['min']}, median "
              f"{ln['words']['median']}, max {ln['words']['max']}", markup=False)
    never = [(k, ids) for k, ids in data["never"].items() if ids]
    if never:
        t = Table(title="Never hit")
        t.add_column("kind")
        t.add_column("ids")
        for k, ids in never:
            t.add_row(k, ", ".join(ids))
        out.print(t)
    else:
        out.print("Every fragment, choice, ending, achievement and rule was hit.")
    for w in data["stuck"]:
        out.print(f"stuck after {w['length']} steps: {_steps(w)}", markup=False)
    for w in data["dead_ends"]:
        out.print(f"dead end: {_steps(w)}", markup=False)
    for w in data["errors"]:
        out.print(f"error ({w['message']}): {_steps(w)}", markup=False)


def _random_findings(data: dict[str, Any]) -> set[str]:
    found = set()
    for kind, ids in data["never"].items():
        if ids:
            found.add(f"unreachable-{kind.rstrip('s')}")
    if data["stuck"]:
        found.add("stuck")
    if data["dead_ends"]:
        found.add("dead-end")
    if data["errors"]:
        found.add("runaway")
    return found


# ---- replay ------------------------------------------------------------------------------


def replay_files(game: Game, files: list[Path], out: Console, fmt: OutFormat) -> int:
    results = []
    for path in files:
        try:
            rep = sim.read(path)
        except sim.ReplayError as exc:
            raise UsageError(str(exc)) from exc
        res = sim.run(game, rep)
        results.append({"file": str(path), "ok": res.ok, "steps": len(rep.steps),
                        "played": res.played, "fragment": res.fragment,
                        "warnings": res.warnings,
                        "divergence": res.divergence.to_json() if res.divergence else None})
    if fmt is OutFormat.json:
        _emit_json(out, {"mode": "replay", "replays": results})
    else:
        for r in results:
            for w in r["warnings"]:
                out.print(f"{r['file']}: note: {w}", markup=False)
            d = r["divergence"]
            if d is None:
                out.print(f"{r['file']}: ok ({r['steps']} steps, ends at `{r['fragment']}`)",
                          markup=False)
            else:
                where = f"step {d['step']} `{d['action']}`" if d["action"] else \
                    f"after step {d['step'] - 1}"
                out.print(f"{r['file']}: diverged at {where}: {d['message']} [{d['code']}]",
                          markup=False)
    return 0 if all(r["ok"] for r in results) else 1


# ---- the command --------------------------------------------------------------------------


def _emit_json(out: Console, data: Any) -> None:
    out.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _write_json(path: Path, data: Any) -> None:
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


def _roles(content: Content, role: str | None) -> tuple[str, ...] | None:
    if role is None:
        return None
    if role not in content.manifest.roles:
        raise UsageError(f"the story has no role `{role}` (roles: "
                         f"{', '.join(content.manifest.roles)})")
    return (role,)


def run(directory: Path, *, mode: Mode, target: str | None, role: str | None, seed: int,
        seeds: int, max_states: int, playthroughs: int | None, runs: int, policy: Policy,
        max_steps: int, fmt: OutFormat, fail_on: str | None, coverage_out: Path | None,
        record: Path | None, replay: list[Path], probe: int,
        out: Console | None = None, err: Console | None = None) -> int:
    out = out or Console(file=sys.stdout, soft_wrap=fmt is OutFormat.json, width=120)
    err = err or Console(file=sys.stderr, soft_wrap=True)  # an error stays one line
    try:
        fails = _fail_on(fail_on)
        for name, value in (("--max-states", max_states), ("--runs", runs),
                            ("--max-steps", max_steps), ("--seeds", seeds)):
            if value < 1:
                raise UsageError(f"{name} must be at least 1")
        if playthroughs is not None and playthroughs < 1:
            raise UsageError("--playthroughs must be at least 1")
        if record is not None and (mode is not Mode.goal or target is None):
            raise UsageError("--record writes the witness of a goal: use it with "
                             "--mode goal --target …")
        if mode is Mode.goal and target is None and not replay:
            raise UsageError("--mode goal needs --target (ending:X, achievement:Y, "
                             "fragment:Z, choice:F.C, rule:R or points:N)")
        game, status = load_game(directory)
        if game is None:
            return status
        content = game.content
        if replay:
            return replay_files(game, replay, out, fmt)
        roles = _roles(content, role)
        seed_list = range(seed, seed + seeds)
        findings: set[str] = set()
        if mode is Mode.explore:
            advance, stop = _progress(err, None, "exploring")
            try:
                ex = sim.explore(game, roles=roles, seeds=seed_list, max_states=max_states,
                                 playthroughs=playthroughs, probe=probe, progress=advance)
            finally:
                stop()
            data = sim.explore_json(ex, content)
            if coverage_out is not None:
                _write_json(coverage_out, sim.explore_coverage(ex, content))
            findings = _explore_findings(data)
            if fmt is OutFormat.json:
                _emit_json(out, data)
            else:
                print_explore(out, data)
        elif mode is Mode.goal:
            assert target is not None
            try:
                goal_target = sim.parse_target(target, content)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
            w, ex = sim.goal(game, goal_target, roles=roles, seeds=seed_list,
                             max_states=max_states, playthroughs=playthroughs)
            data = {"mode": "goal", "target": goal_target, "found": w is not None,
                    "witness": w.to_json() if w else None, "complete": ex.complete,
                    "proven_impossible": (w is None and ex.complete
                                          and goal_target not in ex.unwitnessed),
                    "states": ex.states,
                    "roles": list(ex.roles), "seeds": list(ex.seeds),
                    "playthroughs": ex.playthroughs,
                    "multipliers": [{"variable": n, "distinct_values": k, "merge_factor": f}
                                    for n, k, f in ex.multipliers],
                    "failed_replays": ex.failed_replays}
            for miss in ex.failed_replays:
                err.print(f"BUG: the witness did not replay to its target: {miss}",
                          markup=False)
            if fmt is OutFormat.json:
                _emit_json(out, data)
            elif w is not None:
                how = "minimal" if w.minimal else "directed search, not minimal"
                out.print(f"{goal_target}: reached in {len(w.steps)} steps ({how}): "
                          f"{_steps(w.to_json())}", markup=False)
            elif ex.complete and goal_target not in ex.unwitnessed:
                out.print(f"{goal_target}: impossible — no path reaches it (explored every "
                          f"state: {ex.states}, roles {', '.join(ex.roles)}, every seed, up "
                          f"to {ex.playthroughs} playthrough(s)).", markup=False)
            elif goal_target in ex.unwitnessed:
                out.print(f"{goal_target}: reached by the search, but no seed tried gives "
                          "the draws of its path: no witness; not proven impossible.",
                          markup=False)
            else:
                grew = "; ".join(f"{n}: {k:,} distinct values kept (x{f:g} states)"
                                 for n, k, f in ex.multipliers[:3])
                out.print(f"{goal_target}: not found within {max_states} states per search; "
                          "not proven impossible (raise --max-states)."
                          + (f" What multiplied the states: {grew}." if grew else ""),
                          markup=False)
            if w is not None and record is not None:
                rep = sim.record(game, list(w.steps), seed=w.seed, role=w.role,
                                 target=goal_target)
                try:
                    sim.write(record, rep)
                except OSError as exc:
                    raise UsageError(f"cannot write {record}: {exc.strerror}") from exc
                err.print(f"wrote {record}", markup=False)
            if w is None:
                return 1
        else:
            advance, stop = _progress(err, runs, f"{runs} runs")
            try:
                report = sim.random_runs(game, runs=runs, seed=seed, policy=policy.value,
                                         max_steps=max_steps, role=role,
                                         playthroughs=playthroughs or 1, progress=advance)
            finally:
                stop()
            data = sim.report_json(report, content)
            if coverage_out is not None:
                h = report.hits
                _write_json(coverage_out, sim.coverage_json(content, h["fragment"],
                                                            h["choice"], h["rule"]))
            findings = _random_findings(data)
            if fmt is OutFormat.json:
                _emit_json(out, data)
            else:
                print_random(out, data)
        failing = sorted(findings & fails)
        if failing:
            err.print(f"failing: {', '.join(failing)} (--fail-on)", markup=False)
            return 1
        return 0
    except UsageError as exc:
        err.print(f"error: {exc}", markup=False)
        return 2


def command(
    directory: Annotated[Path, typer.Argument(
        help="Content directory (with game.yaml).", metavar="DIR")] =
    Path("content"),
    mode: Annotated[Mode, typer.Option(help="explore every state, reach a goal, or play "
                                       "at random.")] = Mode.explore,
    target: Annotated[str | None, typer.Option(help="Goal: ending:X, achievement:Y, "
                                               "fragment:Z, choice:F.C, rule:R, points:N.")]
    = None,
    role: Annotated[str | None, typer.Option(help="Only this role (default: every role for "
                                             "explore and goal, the first for random).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed (explore/goal: where the search for a "
                                      "witness's seed starts; random: run i plays with "
                                      "seed+i).")] = 0,
    seeds: Annotated[int, typer.Option(help="Kept for compatibility: explore and goal "
                                       "cover every seed.")] = 1,
    max_states: Annotated[int, typer.Option(help="Bound on the states of each search.")] =
    100_000,
    playthroughs: Annotated[int | None, typer.Option(
        help="Playthroughs a path may span (restarts at endings). Default: explore/goal as "
             "many as requirements on endings need; random 1.")] = None,
    runs: Annotated[int, typer.Option(help="Random: number of runs.")] = 10_000,
    policy: Annotated[Policy, typer.Option(help="Random: how a run picks a choice.")] =
    Policy.uniform,
    max_steps: Annotated[int, typer.Option(help="Random: a run longer than this is stuck.")] =
    500,
    format: Annotated[OutFormat, typer.Option("--format", "-f", help="Output format.")] =
    OutFormat.text,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 1 when one of these findings exists (comma-separated): "
             + ", ".join(FINDINGS) + ".")] = None,
    coverage_out: Annotated[Path | None, typer.Option(
        help="Write hit counts for `diana graph --coverage`.", metavar="FILE")] = None,
    record: Annotated[Path | None, typer.Option(
        help="Goal: write the witness path as a replay file.", metavar="FILE")] = None,
    replay: Annotated[list[Path] | None, typer.Option(
        help="Re-run replay files (repeat the option for several); exit 1 if one "
             "diverges.", metavar="FILE")] = None,
    probe: Annotated[int, typer.Option(help="Explore: random runs looking for what a search "
                                       "cut short by --max-states did not reach.")] = 2_000,
) -> None:
    """Prove every path: coverage with shortest witnesses, random runs, goals, replays.

    Dead ends, stuck runs and what is unreachable are reported; --fail-on turns them into
    a failing exit status for CI."""
    raise typer.Exit(run(directory, mode=mode, target=target, role=role, seed=seed,
                         seeds=seeds, max_states=max_states, playthroughs=playthroughs,
                         runs=runs, policy=policy, max_steps=max_steps, fmt=format,
                         fail_on=fail_on, coverage_out=coverage_out, record=record,
                         replay=replay or [], probe=probe))
