"""`diana stats`: what players did — funnel, drop-off, choice split, achievements, endings.

Reads the player database read-only (engine/stats/read.py), aggregates with pure functions
(engine/stats/report.py) and only prints here. Exit status: 0 a report; 1 the content has
lint errors; 2 a database or argument that cannot be used (a missing or corrupt database,
one from a newer Diana, a PostgreSQL server that cannot be reached, a missing content
directory, an output directory that cannot be written).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.content import load_game
from cli.settings import DEFAULT_DB, DbOption
from engine import simulate as sim
from engine.stats import StatsReport, build, with_simulation
from engine.stats.read import StatsReadError, read_rows


class Format(StrEnum):
    table = "table"
    json = "json"


def _as_of(text: str | None) -> float:
    if text is None:
        return time.time()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"`{text}` is not an ISO date-time (e.g. 2025-01-08T12:00)",
                                 param_hint="--as-of") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def duration(seconds: float) -> str:
    """A short human duration: 45s, 12m, 3h 5m, 2d 4h."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def print_report(out: Console, r: StatsReport) -> None:
    out.print(f"{r.players} players · {r.started} started · {r.finished} reached an ending · "
              f"{r.not_started} not started (or reset) · content {r.content_version}",
              markup=False)
    t = Table(title="Funnel (story order)")
    for col in ("fragment", "players", "share"):
        t.add_column(col, justify="left" if col == "fragment" else "right")
    for s in r.funnel:
        name = f"{s.fragment} ✦ {s.ending}" if s.ending else s.fragment
        t.add_row(name, str(s.players), _pct(s.share))
    out.print(t)
    if r.dropoff:
        t = Table(title="Drop-off: where players stand who have not reached an ending")
        for col in ("fragment", "players", "idle median", "idle max"):
            t.add_column(col, justify="left" if col == "fragment" else "right")
        for d in r.dropoff:
            t.add_row(d.fragment, str(d.players), duration(d.idle_median),
                      duration(d.idle_max))
        out.print(t)
    else:
        out.print("Drop-off: nobody stands short of an ending.", markup=False)
    taken = [c for c in r.choices if c.taken]
    if taken:
        t = Table(title="Choice split (fragments where a choice was taken)")
        for col in ("fragment", "choice", "taken", "share"):
            t.add_column(col, justify="left" if col in ("fragment", "choice") else "right")
        for c in taken:
            for i, x in enumerate(c.choices):
                t.add_row(c.fragment if i == 0 else "", x.choice, str(x.taken), _pct(x.share),
                          end_section=i == len(c.choices) - 1)
        out.print(t)
    else:
        out.print("Choice split: no choice taken yet.", markup=False)
    t = Table(title="Achievements")
    for col in ("achievement", "players", "rate"):
        t.add_column(col, justify="left" if col == "achievement" else "right")
    for a in r.achievements:
        t.add_row(a.achievement, str(a.players), _pct(a.rate))
    out.print(t)
    t = Table(title="Endings")
    cols = ["ending", "kind", "reached", "first", "share"]
    if r.simulation is not None:
        cols += ["simulated", "sim share"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("ending", "kind") else "right")
    simulated = {s.ending: s for s in r.simulation.endings} if r.simulation else {}
    for e in r.endings:
        row = [e.ending, e.kind, str(e.players), str(e.first), _pct(e.share)]
        if r.simulation is not None:
            s = simulated[e.ending]
            row += [str(s.runs), _pct(s.share)]
        t.add_row(*row)
    out.print(t)
    note = "share: of the players who reached an ending, by the first one they reached"
    if r.simulation is not None:
        s = r.simulation
        note += (f"; simulated: {s.runs} random runs (policy {s.policy}, seed {s.seed}),"
                 f" {s.finished} ended at an ending")
    out.print(note, markup=False)


def run(db: str | Path, content: Path, *, out_dir: Path | None, fmt: Format, compare_sim: bool,
        runs: int, seed: int, as_of: float, out: Console | None = None,
        err: Console | None = None) -> int:
    out = out or Console(file=sys.stdout, soft_wrap=fmt is Format.json, width=120)
    err = err or Console(file=sys.stderr, soft_wrap=True)  # an error stays one line
    if runs < 1:
        err.print("error: --runs must be at least 1", markup=False)
        return 2
    try:
        rows = read_rows(db)
    except StatsReadError as exc:
        err.print(f"error: {exc}", markup=False)
        return 2
    game, status = load_game(content)
    if game is None:
        return status
    report = build(game.content, rows, as_of=as_of)
    if compare_sim:
        r = sim.random_runs(game, runs=runs, seed=seed)
        report = with_simulation(report, game.content, r.hits["ending"], runs=runs, seed=seed,
                                 policy=r.policy)
    if out_dir is not None:
        from engine.stats.charts import write_charts

        try:
            paths = write_charts(report, out_dir)
        except OSError as exc:
            err.print(f"error: cannot write the charts to {out_dir}: {exc.strerror or exc}",
                      markup=False)
            return 2
        err.print(f"wrote {', '.join(str(p) for p in paths)}", markup=False)
    if fmt is Format.json:
        out.file.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        print_report(out, report)
    return 0


def command(
    db: DbOption = DEFAULT_DB,
    content: Annotated[Path, typer.Option("--content", help="The story the players play.")] =
    Path("content"),
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write funnel.png, endings.png and achievements.png here.",
        metavar="DIR")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] =
    Format.table,
    compare_sim: Annotated[bool, typer.Option(
        "--compare-sim", help="Show a simulated ending distribution (random runs) beside"
        " the players'.")] = False,
    runs: Annotated[int, typer.Option(help="--compare-sim: number of random runs.")] = 2000,
    seed: Annotated[int, typer.Option(help="--compare-sim: seed of the random runs.")] = 0,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Measure idle time as of this ISO date-time (UTC unless it says"
        " otherwise; default: now).")] = None,
) -> None:
    """Player statistics: funnel, drop-off, choice split, achievement rates, endings."""
    raise typer.Exit(run(db, content, out_dir=out, fmt=format, compare_sim=compare_sim,
                         runs=runs, seed=seed, as_of=_as_of(as_of)))
