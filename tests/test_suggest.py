"""The edit distance behind "did you mean …?"."""

from __future__ import annotations

import pytest

from engine.suggest import closest, distance


@pytest.mark.parametrize(("a", "b", "d"), [
    ("", "", 0), ("hall", "hall", 0), ("hal", "hall", 1), ("hlal", "hall", 1),
    ("prolog", "prologue", 2), ("kitten", "sitting", 3), ("", "abc", 3), ("ca", "abc", 3),
])
def test_distance(a: str, b: str, d: int) -> None:
    assert distance(a, b) == d
    assert distance(b, a) == d


def test_closest_takes_the_nearest_and_breaks_ties_alphabetically() -> None:
    assert closest("gretted", ["guest", "greeted", "gretel"]) == "greeted"
    assert closest("cat", ["bat", "act", "hat"]) == "act"  # a swap counts one, like each
    assert closest("Hall", ["hall"]) == "hall"


def test_closest_refuses_what_is_not_a_typo() -> None:
    assert closest("key", ["cat", "door"]) is None
    assert closest("a", ["b"]) is None
    assert closest("hall", ["hall"]) is None
    assert closest("x", []) is None
