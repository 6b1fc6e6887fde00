"""Replay files: a recorded playthrough that can be re-run against changed content.

A replay is a small YAML file (docs/simulate.md documents it):

    # diana replay
    format: 1
    content_version: 1.0.0
    role: vip
    locale: en
    seed: 0
    target: ending:ending_dawn
    steps:
      - prologue.get_in
      - gate.ring
    end: ending_dawn

`run(game, replay)` plays the steps with the real step function and reports the first step
where the content no longer allows them: an unknown choice, a locked one (with the
engine's reason), an ending reached before the steps ran out, or the player being
somewhere else than the step says.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from engine.game import Game
from engine.simulate.core import RESTART, action_of, begin, reached
from engine.step import Outcome, step

REPLAY_FORMAT = 1


class ReplayError(ValueError):
    """A replay file that cannot be read or does not have the documented shape."""


@dataclass(frozen=True)
class Replay:
    steps: tuple[str, ...]
    seed: int = 0
    role: str | None = None
    locale: str | None = None
    content_version: str | None = None
    target: str | None = None
    end: str | None = None  # the fragment the run ended at when it was recorded

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": REPLAY_FORMAT}
        for key in ("content_version", "role", "locale", "seed", "target"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["steps"] = list(self.steps)
        if self.end is not None:
            data["end"] = self.end
        return data


def record(game: Game, steps: list[str] | tuple[str, ...], *, seed: int = 0,
           role: str | None = None, locale: str | None = None,
           target: str | None = None) -> Replay:
    """A replay of `steps` (`FRAGMENT.CHOICE` or `restart`; a bare choice id is resolved
    against the fragment the player is at). Raises ReplayError if the steps cannot be
    played on this content."""
    m = game.content.manifest
    role = role if role in m.roles else m.default_role
    locale = locale if locale in m.locales else m.default_locale
    outcome = begin(game, role, seed, locale)
    if not outcome.ok:
        raise ReplayError(f"the start: {outcome.error.message if outcome.error else ''}")
    resolved: list[str] = []
    for i, s in enumerate(steps, 1):
        if s != RESTART and "." not in s:
            s = f"{outcome.state['fragment']}.{s}"
        resolved.append(s)
        nxt = step(game, outcome.state, action_of(s))
        if not nxt.ok:
            raise ReplayError(f"step {i} `{s}`: {nxt.error.message if nxt.error else ''}")
        outcome = nxt
    return Replay(tuple(resolved), seed, role, locale, game.content.version, target,
                  outcome.state["fragment"])


def dumps(replay: Replay) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    buf.write("# diana replay — re-run with `diana simulate --replay FILE`\n")
    yaml.dump(replay.to_data(), buf)
    return buf.getvalue()


def write(path: Path, replay: Replay) -> None:
    path.write_text(dumps(replay), encoding="utf-8")


def loads(text: str, where: str = "replay") -> Replay:
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ReplayError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ReplayError(f"{where}: a replay is a mapping with `steps`")
    if data.get("format", REPLAY_FORMAT) != REPLAY_FORMAT:
        raise ReplayError(f"{where}: unsupported replay format {data.get('format')!r}")
    unknown = sorted(set(data) - {"format", "content_version", "role", "locale", "seed",
                                  "target", "steps", "end"})
    if unknown:
        raise ReplayError(f"{where}: unknown key `{unknown[0]}`")
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ReplayError(f"{where}: `steps` must be a list of `FRAGMENT.CHOICE` or "
                          "`restart`")
    for s in steps:
        if s != RESTART and "." not in s:
            raise ReplayError(f"{where}: step `{s}` is neither `FRAGMENT.CHOICE` nor "
                              "`restart`")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ReplayError(f"{where}: `seed` must be a whole number")
    for key in ("role", "locale", "content_version", "target", "end"):
        if data.get(key) is not None and not isinstance(data[key], str | int | float):
            raise ReplayError(f"{where}: `{key}` must be a text")
    return Replay(tuple(steps), seed,
                  *(None if data.get(k) is None else str(data[k])
                    for k in ("role", "locale", "content_version", "target", "end")))


def read(path: Path) -> Replay:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ReplayError(f"{path} is not UTF-8 text") from exc
    return loads(text, str(path))


@dataclass(frozen=True)
class Divergence:
    index: int  # 1-based step number; len(steps) + 1 for a check after the last step
    step: str
    code: str  # unknown-choice | locked | cannot-afford | ended | elsewhere | not-ended
    #            | wrong-end | target-missed | other engine error codes
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"step": self.index, "action": self.step, "code": self.code,
                "message": self.message}


@dataclass
class ReplayResult:
    replay: Replay
    divergence: Divergence | None = None
    played: int = 0  # steps played successfully
    fragment: str | None = None  # where the player is after the steps that were played
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None


def run(game: Game, replay: Replay) -> ReplayResult:
    content = game.content
    m = content.manifest
    result = ReplayResult(replay)
    if replay.role is not None and replay.role not in m.roles:
        result.divergence = Divergence(0, "", "unknown-role",
                                       f"the story has no role `{replay.role}`")
        return result
    if replay.content_version and replay.content_version != content.version:
        result.warnings.append(f"recorded under content version {replay.content_version}, "
                               f"replayed on {content.version}")
    outcome: Outcome = begin(game, replay.role, replay.seed, replay.locale)
    if not outcome.ok:
        err = outcome.error
        result.divergence = Divergence(0, "", err.code if err else "error",
                                       f"the start fails: {err.message if err else ''}")
        return result
    target_hit = replay.target is not None and reached(replay.target, outcome, None)
    for i, s in enumerate(replay.steps, 1):
        here = outcome.state["fragment"]
        if s == RESTART:
            if content.fragments[here].ending is None:
                result.divergence = Divergence(i, s, "not-ended",
                                               f"`{here}` is not an ending, so the player "
                                               "cannot restart there")
                break
        else:
            where = s.partition(".")[0]
            if content.fragments[here].ending is not None:
                result.divergence = Divergence(i, s, "ended",
                                               f"the story ended early, at `{here}`")
                break
            if where != here:
                result.divergence = Divergence(i, s, "elsewhere",
                                               f"the player is at `{here}`, not `{where}`")
                break
        nxt = step(game, outcome.state, action_of(s))
        if not nxt.ok:
            err = nxt.error
            code = err.code if err else "error"
            if code == "unknown-choice":
                message = f"`{here}` has no choice `{s.rpartition('.')[2]}` (or it is hidden)"
            elif code in ("locked", "cannot-afford"):
                message = f"`{s}` is locked: {err.message if err else ''}"
            else:
                message = err.message if err else code
            result.divergence = Divergence(i, s, code, message)
            break
        outcome = nxt
        result.played = i
        target_hit = target_hit or (replay.target is not None
                                    and reached(replay.target, outcome, s))
    result.fragment = outcome.state["fragment"]
    if result.divergence is None:
        end = len(replay.steps) + 1
        if replay.end is not None and replay.end != result.fragment:
            result.divergence = Divergence(end, "", "wrong-end",
                                           f"the run ends at `{result.fragment}`, "
                                           f"not `{replay.end}` as recorded")
        elif replay.target is not None and not target_hit:
            result.divergence = Divergence(end, "", "target-missed",
                                           f"the run no longer reaches {replay.target}")
    return result
