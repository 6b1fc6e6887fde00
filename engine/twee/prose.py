"""Prose carried from Twee to Diana text: characters YAML cannot hold dropped, braces
escaped, and the marks the converter leaves in a line (where a link or a macro stood)
resolved into the paragraph a player reads."""

from __future__ import annotations

import re

# What YAML cannot hold (outside its printable set) or reads as a line break (NEL).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
MARK = re.compile(r"\x00(\d+)\x01")
CODE = "\x02"
LINK_ONLY_LINE = re.compile(r"^[\s|*•·\-–—>]*$")


def escape(text: str) -> str:
    text = CONTROL.sub("", text)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
    return text.replace("{", "{{").replace("}", "}}")


def paragraph(text: str, labels: list[str]) -> str:
    """The prose of a paragraph: a link alone on its line is the choice only, a link in a
    sentence keeps its words; a line that only held macros goes, as do blank-line runs and
    edge whitespace."""
    lines = []
    for line in text.split("\n"):
        if (MARK.search(line) or CODE in line) and LINK_ONLY_LINE.match(
                MARK.sub("", line).replace(CODE, "")):
            continue
        line = line.replace(CODE, "")
        lines.append(MARK.sub(lambda m: escape(labels[int(m.group(1))]), line).rstrip())
    out = "\n".join(lines).strip("\n")
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()
