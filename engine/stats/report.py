"""Player statistics as pure functions: database rows in, an immutable report out.

`build(content, rows, as_of=…)` aggregates what the store recorded (engine/store): the
players and their saves, the audit trail of every action (`events`), and the achievements
table. `engine.stats.read` fetches the rows; `diana stats` (cli/stats_cmd.py) prints them.

What each number means (docs/cli.md repeats it for writers):

- **funnel**: players who reached each fragment, in story order (breadth-first from
  `start` over the story graph, then fragments only a rule's `goto` leads to, then the
  rest). A player reached a fragment if an action left them there (the audit trail records
  where each action ends), or if the current save has visited it (this also counts the
  fragments a chain passed through in the current playthrough);
- **drop-off**: players standing at a fragment that is not an ending, who have never
  reached an ending, grouped by that fragment, with the time since their last action
  (any tap, accepted or not; the save's last change when the trail has none);
- **choices**: each accepted `choose` action, counted at the fragment the player was at
  when they took it (the fragment the previous event left them at);
- **achievements**: players holding each achievement now (a reset takes them away);
- **endings**: players who ever reached each ending, and who reached it *first*; the share
  is of players who reached any ending, comparable to a simulation's share of runs that
  ended at an ending.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.model import Content

# ---- rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlayerRow:
    id: int
    external: str
    role: str
    created: float
    fragment: str | None  # where the save stands now (None: not started, or reset)
    updated: float | None  # the save's last change
    visited: tuple[str, ...] = ()  # the save's visited fragments (current playthrough)
    endings: tuple[str, ...] = ()  # the save's endings, in the order reached


@dataclass(frozen=True)
class ActionEvent:
    """One row of the audit trail, with the fields the statistics read from its detail."""

    id: int
    time: float
    player: int
    op: str  # action, register, reset, migrate, grant, revoke, export, ...
    ok: bool
    places: bool = False  # the detail says where the player stands after it
    fragment: str | None = None
    action: str | None = None  # op == action: choose | start | restart
    choice: str | None = None  # the choice id of a choose action


@dataclass(frozen=True)
class Rows:
    players: tuple[PlayerRow, ...] = ()
    events: tuple[ActionEvent, ...] = ()  # in id order
    achievements: tuple[tuple[int, str], ...] = ()  # (player id, achievement id)


# ---- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    fragment: str
    players: int
    share: float  # of all players
    ending: str | None = None  # the ending's kind, for endings


@dataclass(frozen=True)
class DropOff:
    fragment: str
    players: int
    idle_median: float  # seconds since the last action
    idle_max: float


@dataclass(frozen=True)
class ChoiceCount:
    choice: str
    taken: int
    share: float  # of the choices taken at the fragment


@dataclass(frozen=True)
class ChoiceSplit:
    fragment: str
    taken: int
    choices: tuple[ChoiceCount, ...]


@dataclass(frozen=True)
class AchievementRate:
    achievement: str
    players: int
    rate: float  # of all players


@dataclass(frozen=True)
class EndingCount:
    ending: str
    kind: str
    players: int  # ever reached it
    first: int  # reached it as their first ending
    share: float  # first / players who reached any ending


@dataclass(frozen=True)
class SimEnding:
    ending: str
    runs: int
    share: float  # of the runs that ended at an ending


@dataclass(frozen=True)
class Simulation:
    runs: int
    seed: int
    policy: str
    finished: int  # runs that ended at an ending
    endings: tuple[SimEnding, ...]


@dataclass(frozen=True)
class StatsReport:
    content_version: str
    as_of: float
    players: int
    started: int  # reached any fragment
    finished: int  # reached any ending
    not_started: int  # the save stands nowhere: never started, or reset since
    funnel: tuple[FunnelStep, ...] = ()
    dropoff: tuple[DropOff, ...] = ()
    choices: tuple[ChoiceSplit, ...] = ()
    achievements: tuple[AchievementRate, ...] = ()
    endings: tuple[EndingCount, ...] = ()
    simulation: Simulation | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "content_version": self.content_version,
            "as_of": self.as_of,
            "players": self.players,
            "started": self.started,
            "finished": self.finished,
            "not_started": self.not_started,
            "funnel": [_asdict(s) for s in self.funnel],
            "dropoff": [_asdict(d) for d in self.dropoff],
            "choices": [{"fragment": c.fragment, "taken": c.taken,
                         "choices": [_asdict(x) for x in c.choices]} for c in self.choices],
            "achievements": [_asdict(a) for a in self.achievements],
            "endings": [_asdict(e) for e in self.endings],
        }
        if self.simulation is not None:
            s = self.simulation
            data["simulation"] = {"mode": "random", "runs": s.runs, "seed": s.seed,
                                  "policy": s.policy, "finished": s.finished,
                                  "endings": [_asdict(e) for e in s.endings]}
        return data


def _asdict(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)


def _share(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


# ---- story order -------------------------------------------------------------------------


def _successors(fragment) -> list[str]:
    out: list[str] = []
    for c in (*fragment.choices, *((fragment.input.choice,) if fragment.input else ())):
        out.extend(t.to for t in c.targets)
        out.extend(str(e.target) for e in c.effects if e.kind == "goto")
    out.extend(str(e.target) for e in (*fragment.on_enter, *fragment.on_first_enter)
               if e.kind == "goto")
    return out


def story_order(content: Content) -> tuple[str, ...]:
    """Every fragment: breadth-first from `start` (choices in order), then from the
    fragments rules jump to, then the ones neither reaches, in content order."""
    frags = content.fragments
    seen: dict[str, None] = {}
    roots = [content.manifest.start]
    roots += [str(e.target) for r in content.rules for e in r.then if e.kind == "goto"]
    for root in roots:
        if root not in frags or root in seen:
            continue
        seen[root] = None
        queue = [root]
        while queue:
            nxt_queue = []
            for f in queue:
                for n in _successors(frags[f]):
                    if n in frags and n not in seen:
                        seen[n] = None
                        nxt_queue.append(n)
            queue = nxt_queue
    seen.update(dict.fromkeys(frags))
    return tuple(seen)


# ---- aggregation ---------------------------------------------------------------------------


def build(content: Content, rows: Rows, *, as_of: float) -> StatsReport:
    frags = content.fragments
    order = story_order(content)
    endings = [f for f in order if frags[f].ending is not None]
    ending_set = set(endings)
    players = {p.id: p for p in rows.players}
    total = len(players)

    reached: dict[int, set[str]] = {pid: set() for pid in players}
    ended: dict[int, list[str]] = {pid: [] for pid in players}  # in the order first reached
    last_action: dict[int, float] = {}
    here: dict[int, str | None] = {}
    taken: dict[str, Counter] = defaultdict(Counter)

    for e in rows.events:
        pid = e.player
        if pid not in players:
            continue
        if e.op == "register":
            here[pid] = None
        if e.op == "action":
            last_action[pid] = max(last_action.get(pid, e.time), e.time)
            if e.ok and e.action == "choose" and e.choice is not None:
                at = here.get(pid)
                if at is not None:
                    taken[at][e.choice] += 1
        if e.places:
            here[pid] = e.fragment
            if e.fragment is not None:
                reached[pid].add(e.fragment)
                if e.fragment in ending_set and e.fragment not in ended[pid]:
                    ended[pid].append(e.fragment)

    for p in players.values():
        r = reached[p.id]
        r.update(p.visited)
        r.update(p.endings)
        if p.fragment is not None:
            r.add(p.fragment)
        ended[p.id] += [x for x in p.endings if x in ending_set and x not in ended[p.id]]
        if p.fragment in ending_set and p.fragment not in ended[p.id]:
            ended[p.id].append(p.fragment)

    hits = Counter(f for r in reached.values() for f in r)
    funnel = tuple(FunnelStep(f, hits[f], _share(hits[f], total), frags[f].ending)
                   for f in order)

    # drop-off: standing short of an ending, never having reached one
    idle: dict[str, list[float]] = defaultdict(list)
    for p in players.values():
        if p.fragment is None or p.fragment in ending_set or ended[p.id]:
            continue
        last = last_action.get(p.id, p.updated if p.updated is not None else p.created)
        idle[p.fragment].append(max(0.0, as_of - last))
    position = {f: i for i, f in enumerate(order)}
    dropoff = tuple(
        DropOff(f, len(v), round(statistics.median(v), 1), round(max(v), 1))
        for f, v in sorted(idle.items(), key=lambda kv: (-len(kv[1]),
                                                         position.get(kv[0], len(order)),
                                                         kv[0])))

    splits = []
    for f in [*order, *sorted(set(taken) - set(order))]:
        ids = [c.id for c in frags[f].choices] if f in frags else []
        counts = taken.get(f, Counter())
        ids += sorted(set(counts) - set(ids))
        if not ids:
            continue
        n = sum(counts.values())
        splits.append(ChoiceSplit(f, n, tuple(ChoiceCount(c, counts[c], _share(counts[c], n))
                                              for c in ids)))

    holders = Counter(a for pid, a in set(rows.achievements) if pid in players)
    ach_ids = list(content.achievements) + sorted(set(holders) - set(content.achievements))
    achievements = tuple(AchievementRate(a, holders[a], _share(holders[a], total))
                         for a in ach_ids)

    finished = sum(1 for v in ended.values() if v)
    ever = Counter(x for v in ended.values() for x in v)
    first = Counter(v[0] for v in ended.values() if v)
    ending_rows = tuple(EndingCount(x, str(frags[x].ending), ever[x], first[x],
                                    _share(first[x], finished)) for x in endings)

    return StatsReport(
        content_version=content.version,
        as_of=as_of,
        players=total,
        started=sum(1 for r in reached.values() if r),
        finished=finished,
        not_started=sum(1 for p in players.values() if p.fragment is None),
        funnel=funnel,
        dropoff=dropoff,
        choices=tuple(splits),
        achievements=achievements,
        endings=ending_rows,
    )


def with_simulation(report: StatsReport, content: Content, ending_runs: Mapping[str, int], *,
                    runs: int, seed: int, policy: str) -> StatsReport:
    """The report with a simulated ending distribution beside the players' (shares of the
    runs that ended at an ending, like the players' shares of those who finished)."""
    order = [e.ending for e in report.endings]
    finished = sum(ending_runs.get(e, 0) for e in order)
    sim = Simulation(runs, seed, policy, finished,
                     tuple(SimEnding(e, ending_runs.get(e, 0),
                                     _share(ending_runs.get(e, 0), finished)) for e in order))
    return replace(report, simulation=sim)
