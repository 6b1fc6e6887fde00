"""Bounds on admin arguments and the default seed: the same for every backend."""

from __future__ import annotations

import hashlib

from engine.numbers import CONTENT_MAX
from engine.store.errors import AdminError

# A grant's or revoke's reason, in characters: it is one line of the ledger, of /player
# and of the /grant reply, and a longer one was usually a mistake (a pasted text).
MAX_REASON = 200


def admin_reason(amount: int, reason: str) -> str:
    """The reason of a grant or revoke, stripped; AdminError if it or the amount is out of
    bounds (nothing is queued then)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise AdminError(f"the amount must be a positive whole number, not {amount!r}")
    if amount > CONTENT_MAX:
        raise AdminError(f"the amount must be at most {CONTENT_MAX:,}, not {amount:,}")
    if not isinstance(reason, str) or not reason.strip():
        raise AdminError("a reason is required")
    if len(reason.strip()) > MAX_REASON:
        raise AdminError(f"a reason has at most {MAX_REASON} characters, not"
                         f" {len(reason.strip()):,}")
    return reason.strip()


def default_seed(player: str) -> int:
    return int.from_bytes(hashlib.blake2b(player.encode(), digest_size=4).digest(), "big")
