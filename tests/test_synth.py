"""The synthetic story generator: valid stories lint clean, every fault is found, exactly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine import synth
from engine.catalog import lookup
from engine.diagnostics import Diagnostic, Severity
from engine.lint import lint
from engine.load import load
from engine.walk import requirement_nodes


def _lint(tmp_path: Path, fragments: int, seed: int = 0, faults=()) -> list[Diagnostic]:
    root = synth.write(tmp_path, fragments, seed, faults)
    return lint(load(root, display_base=tmp_path))


@pytest.mark.parametrize(("fragments", "seed"), [(10, 0), (17, 1), (100, 2), (1234, 3)])
def test_valid_story_lints_clean(tmp_path: Path, fragments: int, seed: int) -> None:
    found = _lint(tmp_path, fragments, seed)
    assert [(d.code, str(d.loc), d.message) for d in found] == []


def test_valid_story_shape(tmp_path: Path) -> None:
    root = synth.write(tmp_path, 1234, seed=5)
    result = load(root)
    content = result.content
    assert content is not None and result.ok
    assert len(content.fragments) == 1234
    assert content.manifest.start == "scene_00000"
    assert content.manifest.locales == ("en", "es")
    assert content.manifest.daily_points
    story_files = sorted(p.name for p in (root / "story").iterdir())
    assert story_files == ["part_000.yaml", "part_001.yaml", "part_002.yaml"]
    assert {f.ending for f in content.fragments.values()} >= {"good", "bad", "neutral", "secret"}
    kinds = set()
    for f in content.fragments.values():
        for c in f.choices:
            for r in requirement_nodes(c.requires):
                kinds.add(type(r).__name__)
                kinds.add(getattr(r, "subject", None))
    assert {"All", "AnyOf", "Not", "points", "level", "role", "flag", "item", "stat", "visited",
            "achievement", "ending", "endings_count", "achievements_count"} <= kinds
    effects = {e.kind for f in content.fragments.values()
               for e in (*f.on_enter, *f.on_first_enter, *(e for c in f.choices
                                                            for e in c.effects))}
    assert effects >= {"award", "spend", "set", "clear", "give", "take", "stat", "emit"}
    assert any(r.once for r in content.rules) and any(r.priority for r in content.rules)
    assert any(a.reward for a in content.achievements.values())


def test_every_non_ending_has_an_open_way_forward(tmp_path: Path) -> None:
    """A player can always go on: the first choice has no requirement and no cost, and
    following first choices always reaches an ending."""
    content = load(synth.write(tmp_path, 333, seed=4)).content
    assert content is not None
    for f in content.fragments.values():
        if f.ending is None:
            first = f.choices[0]
            assert first.requires is None and not first.cost and first.targets
    here, steps = content.manifest.start, 0
    while content.fragments[here].ending is None:
        here = content.fragments[here].choices[0].targets[0].to
        steps += 1
    assert steps < 400


def test_generation_is_deterministic() -> None:
    assert synth.generate(250, seed=7) == synth.generate(250, seed=7)
    assert synth.generate(250, seed=7) != synth.generate(250, seed=8)
    faults = ["dead-end", "unknown-goto", "bad-yaml"]
    assert synth.generate(600, 1, faults) == synth.generate(600, 1, list(reversed(faults)))


def test_fault_names_match_the_catalog() -> None:
    for name, code in synth.FAULTS.items():
        info = lookup(synth.ALIASES.get(name, name))
        assert info is not None and info.code == code, name


@pytest.mark.parametrize("fault", sorted(synth.FAULTS))
@pytest.mark.parametrize(("fragments", "seed"), [(20, 0), (1100, 9)])
def test_each_fault_is_found_exactly(tmp_path: Path, fault: str, fragments: int,
                                     seed: int) -> None:
    found = _lint(tmp_path, fragments, seed, [fault])
    assert Counter(d.code for d in found) == {synth.FAULTS[fault]: 1}, [
        (d.code, str(d.loc), d.message) for d in found]


def test_story_faults_together(tmp_path: Path) -> None:
    faults = set(synth.FAULTS) - {"yaml-syntax", "bad-yaml", "duplicate-key", "yaml-alias",
                                  "schema-violation", "missing-manifest", "unreachable"}
    found = _lint(tmp_path, 2000, 11, faults)
    counts = Counter(d.code for d in found)
    assert set(counts) == synth.expected_codes(faults)
    assert all(n == 1 for n in counts.values()), counts


def test_file_faults_together(tmp_path: Path) -> None:
    faults = {"bad-yaml", "duplicate-key", "yaml-alias", "schema-violation", "empty-file",
              "byte-order-mark", "dead-end"}
    found = _lint(tmp_path, 2000, 12, faults)
    assert Counter(d.code for d in found) == {c: 1 for c in synth.expected_codes(faults)}
    assert "G002" not in synth.expected_codes(faults)  # story checks wait for clean files
    assert any(d.severity is Severity.ERROR for d in found)


def test_unknown_fault_and_tiny_story_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown faults"):
        synth.generate(20, faults=["no-such-fault"])
    with pytest.raises(ValueError, match="at least"):
        synth.generate(5)


def test_random_playthroughs_reach_an_ending(tmp_path: Path) -> None:
    """Played through the real step function, with restarts: no action is rejected, rules
    fire, achievements unlock and every playthrough ends."""
    import random

    from engine.game import compile_game
    from engine.step import Choose, Restart, Start, begin, step

    content = load(synth.write(tmp_path, 200, seed=6)).content
    assert content is not None
    game = compile_game(content)
    rng = random.Random(6)
    for role in ("free", "vip"):
        out = step(game, begin(game, role=role), Start(day="2024-01-01"))
        endings = 0
        for _ in range(600):
            assert out.ok, out.error
            screen = out.screen
            assert screen is not None
            if screen.ending is not None:
                endings += 1
                out = step(game, out.state, Restart(day="2024-01-01"))
                continue
            options = [c for c in screen.choices if c.available]
            assert options, screen.fragment
            pick = rng.choice(options)
            out = step(game, out.state, Choose(pick.id, out.state["turn"], "2024-01-01"))
        assert endings >= 3
        assert out.state["achievements"]
