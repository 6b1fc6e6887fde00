"""How `diana … --help` names the values options take.

Typer 0.26 and later label every option with its Python type in angle brackets: `<str>`,
`<int>`, and `<bool>` after flags, which take no value at all. Diana's help uses the
conventional names instead: FILE, DIR and N where a command says so (metavar=…), TEXT,
INTEGER, NUMBER and PATH otherwise, choices as [a|b], and nothing after a flag.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption

NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH"}


def conventional(label: str | None) -> str | None:
    if not label or not (label.startswith("<") and label.endswith(">")):
        return label
    inner = label[1:-1]
    if inner in NAMES:
        return NAMES[inner]
    if "|" in inner:
        return f"[{inner}]"
    return inner.upper()


def install() -> None:
    """Idempotent; called once when the CLI is imported."""
    if getattr(TyperOption, "_diana_help", False):
        return
    option_label = TyperOption.display_type_rich
    argument_label = TyperArgument.display_type_rich

    def option(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return conventional(option_label(self, ctx))

    def argument(self: TyperArgument, ctx: Any) -> str | None:
        if self.metavar is not None:  # the name column shows it already
            return None
        return conventional(argument_label(self, ctx))

    TyperOption.display_type_rich = option  # type: ignore[method-assign]
    TyperArgument.display_type_rich = argument  # type: ignore[method-assign]
    TyperOption._diana_help = True  # type: ignore[attr-defined]
