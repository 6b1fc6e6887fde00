"""JSON Schema validation of parsed files, with errors placed on the failing node."""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.source import Path_, SourceFile

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
KINDS = ("game", "story", "rules")


@cache
def _validators() -> dict[str, Draft202012Validator]:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (path.name, Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    registry: Registry = Registry().with_resources(resources)
    out = {}
    for kind in KINDS:
        schema = registry[f"{kind}.schema.json"].contents
        out[kind] = Draft202012Validator(schema, registry=registry)
    return out


# A file that passes is the common case, and jsonschema, which explains failures well, is
# slow at saying yes. When jsonschema-rs is installed it answers "valid?" first; only a file
# it rejects goes through jsonschema for the errors (if jsonschema finds none, there are
# none: jsonschema is the reference). tests/test_schema_fast.py checks they agree.
_FAST_BASE = "https://diana.invalid/schemas/"


@cache
def _fast_validators() -> dict[str, Any] | None:
    try:
        import jsonschema_rs

        schemas = {path.name: json.loads(path.read_text(encoding="utf-8"))
                   for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}
        registry = jsonschema_rs.Registry([(_FAST_BASE + name, schema)
                                           for name, schema in schemas.items()])
        return {kind: jsonschema_rs.Draft202012Validator(
                    schemas[f"{kind}.schema.json"], registry=registry,
                    base_uri=f"{_FAST_BASE}{kind}.schema.json")
                for kind in KINDS}
    except Exception:  # not installed, or an API it does not have: jsonschema alone
        return None


def _surely_valid(data: Any, kind: str) -> bool:
    fast = _fast_validators()
    if fast is None:
        return False
    try:
        return bool(fast[kind].is_valid(data))
    except Exception:  # a value it cannot take (a huge integer): ask jsonschema
        return False


def kind_of(file: SourceFile, is_manifest: bool) -> str:
    if is_manifest:
        return "game"
    if isinstance(file.data, dict) and ("fragments" in file.data or "includes" in file.data):
        return "story"
    return "rules"


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing"


_BOUNDS = {"minimum": "the least allowed is", "maximum": "the most allowed is",
           "exclusiveMinimum": "it must be more than", "exclusiveMaximum": "it must be less than"}
_LENGTHS = {"minLength": "the least allowed is", "maxLength": "the most allowed is",
            "minItems": "the least allowed is", "maxItems": "the most allowed is"}


def _first_sentence(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    return re.split(r"(?<!e\.g)(?<!i\.e)\.\s", text, maxsplit=1)[0].rstrip(".")


def _deepest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the alternative that got furthest explains the problem best."""
    while error.context:
        candidate = best_match(error.context)
        if len(candidate.absolute_path) < len(error.absolute_path):
            break
        if candidate.validator in ("oneOf", "anyOf") and candidate is error:
            break
        error = candidate
    return error


def _diagnose(file: SourceFile, error: ValidationError) -> Diagnostic:
    error = _deepest(error)
    path: Path_ = tuple(error.absolute_path)
    where = _where(path)
    loc = file.loc(path)
    hint = None
    v = error.validator
    inst = error.instance
    if "propertyNames" in error.absolute_schema_path and isinstance(inst, str):
        # The failing node is a key of the mapping at `path`, not the mapping.
        loc = file.loc((*path, inst), key=True)
    if v == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in inst if k not in allowed]
        key = extra[0] if extra else ""
        loc = file.loc((*path, key), key=True)
        message = f"unknown key `{key}` in {where}"
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"allowed keys: {', '.join(allowed)}"
    elif v == "required":
        missing = [k for k in error.validator_value if isinstance(inst, dict) and k not in inst]
        loc = file.loc(path, key=True)
        message = f"{where} is missing the required key `{missing[0] if missing else '?'}`"
    elif v == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        want = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        if inst is None:
            message = f"{where} is empty; it should be {want}"
        else:
            message = f"{where} should be {want}, not {_type_name(inst)} `{_show(inst)}`"
        if (isinstance(inst, str) and "boolean" in names
                and inst.lower() in ("yes", "no", "on", "off")):
            hint = "write true or false"
        elif isinstance(inst, int | float) and "string" in names:
            hint = "put the value in quotes to make it text"
    elif v == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        message = f"{where} is `{_show(inst)}`; expected one of: {options}"
        close = difflib.get_close_matches(str(inst), [str(o) for o in error.validator_value], n=1)
        hint = f"did you mean `{close[0]}`?" if close else None
    elif v == "const":
        message = f"{where} must be `{_show(error.validator_value)}`, not `{_show(inst)}`"
    elif v == "pattern":
        message = f"{where} `{_show(inst)}` does not match the required pattern"
        if "a-z" in str(error.validator_value):
            hint = "ids use lowercase letters, digits and underscores, starting with a letter"
    elif v in ("maxProperties", "minProperties") and isinstance(inst, dict):
        low, high = error.schema.get("minProperties"), error.schema.get("maxProperties")
        keys = ", ".join(f"`{k}`" for k in inst)
        if low == high == 1:
            message = (f"{where} takes exactly one key; found {keys}" if inst
                       else f"{where} is empty; it takes exactly one key")
        elif not inst:
            message = f"{where} is empty; it needs at least {low} key{'s' if low != 1 else ''}"
        elif v == "minProperties":
            message = f"{where} has {len(inst)} keys ({keys}); it needs at least {low}"
        else:
            message = f"{where} has {len(inst)} keys ({keys}); it takes at most {high}"
        if inst and high == 1:
            hint = "combine several conditions with `all:` or write one effect per list entry"
        else:
            hint = _first_sentence(error.schema.get("description"))
    elif v in _BOUNDS:
        message = f"{where} is {_show(inst)}; {_BOUNDS[v]} {error.validator_value}"
    elif v in _LENGTHS:
        n = len(inst) if isinstance(inst, str | list) else 0
        unit = "characters" if isinstance(inst, str) else "entries"
        message = f"{where} has {n} {unit}; {_LENGTHS[v]} {error.validator_value}"
    elif v == "not":
        forbidden = error.validator_value
        message = f"{where}: `{_show(inst)}` is not allowed here"
        if isinstance(forbidden, dict) and isinstance(forbidden.get("enum"), list):
            names = ", ".join(str(o) for o in forbidden["enum"])
            message = f"{where}: `{_show(inst)}` is reserved; not allowed: {names}"
        hint = _first_sentence(error.schema.get("description")) or "choose another value"
    elif v in ("oneOf", "anyOf") and isinstance(inst, dict):
        keys = ", ".join(f"`{k}`" for k in inst) or "no keys"
        message = f"{where} is not valid here (it has {keys})"
        desc = error.schema.get("description")
        hint = desc.split(".")[0] if isinstance(desc, str) else None
    else:
        message = f"{where}: {error.message}"
    return diag("S001", message, loc, hint)


def validate(file: SourceFile, kind: str) -> list[Diagnostic]:
    if _surely_valid(file.data, kind):
        return []
    validator = _validators()[kind]
    seen: set[Path_] = set()
    out = []
    for error in sorted(validator.iter_errors(file.data), key=lambda e: list(map(str, e.path))):
        d = _diagnose(file, error)
        key = (d.loc.line, d.loc.col)
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return out
