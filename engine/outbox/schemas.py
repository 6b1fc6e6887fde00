"""The JSON Schema of every event type (schemas/events/<type>.schema.json), for the sink and
the tests: `problem(event)` says what is wrong with an event, or None."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine.outbox.events import TYPES

DIRECTORY = Path(__file__).resolve().parents[2] / "schemas" / "events"


@cache
def validators() -> dict[str, Draft202012Validator]:
    out = {}
    for type_ in TYPES:
        path = DIRECTORY / f"{type_}.schema.json"
        out[type_] = Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
    return out


def problem(event: Any) -> str | None:
    """None if `event` is a valid event of a known type; else one sentence."""
    if not isinstance(event, dict):
        return "not a JSON object"
    validator = validators().get(event.get("type"))  # type: ignore[arg-type]
    if validator is None:
        return f"unknown event type {event.get('type')!r}"
    error = next(iter(validator.iter_errors(event)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(the event)"
    return f"{where}: {error.message}"
