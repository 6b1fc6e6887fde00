""""Did you mean …?": the declared id closest to an unknown one, by edit distance."""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbours each cost 1, the typos writers make."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def _allowed(name: str) -> int:
    # One typo in a short id, one more per four characters: `hal` finds `hall`, `prolog`
    # finds `prologue`, but `key` does not find `cat`.
    return 1 + len(name) // 4


def closest(name: str, known: Iterable[str]) -> str | None:
    """The declared id nearest to `name`, if one is close enough to be a typo of it.
    Case differences count as nothing; ties go to the alphabetically first id, so the
    answer does not depend on declaration order."""
    folded = name.casefold()
    best: tuple[int, str] | None = None
    limit = _allowed(name)
    for candidate in known:
        if candidate == name:
            continue
        d = distance(folded, candidate.casefold())
        if d <= limit and d < len(candidate) and (best is None or (d, candidate) < best):
            best = (d, candidate)
    return best[1] if best else None
