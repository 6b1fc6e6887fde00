"""`@frozen`: a frozen dataclass that is cheap to build, for the values every step makes.

A frozen dataclass's own `__init__` sets each field through `object.__setattr__`, about
0.1 µs a field; a step builds some fifty such fields (its buttons, events, screen and
outcome). The `__init__` made here writes the instance's `__dict__` directly, which is
what `object.__setattr__` ends up doing for these classes, at a third of the cost.
Everything else (immutability, equality, hashing, repr, `dataclasses.replace`) is the
dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def frozen(cls: type[T]) -> type[T]:
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if (hasattr(cls, "__post_init__") or hasattr(cls, "__slots__")
            or any(not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING
                   for f in fields)
            or any(f._field_type is not dataclasses._FIELD  # type: ignore[attr-defined]
                   for f in cls.__dataclass_fields__.values())):  # type: ignore[attr-defined]
        raise TypeError(f"@frozen takes plain fields only; {cls.__name__} has more")
    defaults: dict[str, Any] = {}
    params = []
    for f in fields:
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            defaults[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
    names = {f.name for f in fields}
    me, d = "self", "d"  # names no field takes
    while me in names:
        me += "_"
    while d in names:
        d += "_"
    body = "".join(f"\n    {d}[{f.name!r}] = {f.name}" for f in fields)
    source = f"def __init__({', '.join([me, *params])}):\n    {d} = {me}.__dict__{body}"
    namespace: dict[str, Any] = {}
    exec(source, defaults, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls
