"""Valid, unique ids (`^[a-z][a-z0-9_]*$`) from Twine's free-form names."""

from __future__ import annotations

import re
import unicodedata

from engine.scaffold import slugify


def make_id(name: str, taken: set[str], fallback: str) -> str:
    """An id from `name`, not in `taken` (which it joins); `fallback` when nothing of the
    name is left (a name of punctuation or of another script)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = name if re.search(r"[a-z0-9]", ascii_name.lower()) else fallback
    ident = slugify(base, taken)
    taken.add(ident)
    return ident
