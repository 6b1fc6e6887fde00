"""Where a YAML text nests deepest: the place to point at when nesting is too deep for a
parser (which fails with Python's RecursionError and no position of its own)."""

from __future__ import annotations

_OPEN, _CLOSE = "[{", "]}"
_QUOTE_AFTER = " \t:[{,-"  # a quote opens a scalar only where a value starts


def deepest(text: str) -> tuple[int, int, int]:
    """(line, column, depth) of the first place where block indentation levels plus flow
    brackets reach their maximum. A scan, not a parse: good enough to point at."""
    best = (1, 1, 0)
    indents: list[int] = []
    flow = 0
    for n, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip(" ")
        if flow == 0 and stripped and not stripped.startswith("#"):
            indent = len(line) - len(stripped)
            while indents and indents[-1] >= indent:
                indents.pop()
            indents.append(indent)
            # `- - x` opens a sequence per dash on one line
            dashes = 0
            rest = stripped
            while rest.startswith("- "):
                dashes += 1
                rest = rest[2:].lstrip(" ")
            if len(indents) + dashes > best[2]:
                best = (n, indent + 1, len(indents) + dashes)
        quote = ""
        for col, ch in enumerate(line, 1):
            if quote:
                if ch == quote:
                    quote = ""
                continue
            before = line[col - 2] if col > 1 else " "
            if ch in "'\"" and before in _QUOTE_AFTER:
                quote = ch
            elif ch == "#" and before in " \t":
                break
            elif ch in _OPEN:
                flow += 1
                if len(indents) + flow > best[2]:
                    best = (n, col, len(indents) + flow)
            elif ch in _CLOSE:
                flow = max(0, flow - 1)
    return best
