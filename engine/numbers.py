"""The bounds on numbers: what content may say, and what play may add up to.

The player store keeps points, ledger amounts and counts in SQLite INTEGER columns and the
state as JSON: both hold signed 64-bit integers at most. A writer's number is bounded far
below that (CONTENT_MAX, the schemas' `content_number`), and play stops every running total
at TOTAL_MAX, so no sum of content numbers over any playthrough reaches the store's limit.
"""

from __future__ import annotations

STORE_MIN, STORE_MAX = -(2**63), 2**63 - 1  # SQLite INTEGER

# Every number in content lies within ±CONTENT_MAX (a trillion); schemas/common.schema.json
# says the same in `$defs/content_number`, and a test holds them together.
CONTENT_MAX = 10**12

# Points, points earned, item counts and stats stop here; adding one content number to a
# total at this bound is still a million times below the store's limit.
TOTAL_MAX = 10**18

# An integer literal longer than this cannot be a number of the format (CONTENT_MAX has 13
# digits); the loader refuses it before converting it, since converting a literal of
# thousands of digits raises (Python's int-to-str digit limit) and is slow.
MAX_DIGITS = 20


def bounded(old: float, new: float) -> float:
    """`new`, a running total moved from `old`, kept within ±TOTAL_MAX. A total already past
    the bound (put there from outside the story) may move back but not further out."""
    if new > TOTAL_MAX:
        return max(min(old, new), TOTAL_MAX)
    if new < -TOTAL_MAX:
        return min(max(old, new), -TOTAL_MAX)
    return new
