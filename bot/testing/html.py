"""Telegram's HTML parse mode, as strictly as the Bot API checks it: the supported tags,
balanced nesting, the four named entities and numeric ones. Returns the plain text (what
the length limit counts) or raises ValueError with Telegram's wording."""

from __future__ import annotations

import re

TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji"}
ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>"
                    r"|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|[<>&]")


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def html_to_plain(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        raw = m.group(0)
        if m.group(2) is not None:
            closing, tag = m.group(1) == "/", m.group(2).lower()
            if tag not in TAGS:
                kind = "end" if closing else "start"
                raise ValueError(f"can't parse entities: Unsupported {kind} tag \"{tag}\" at"
                                 f" byte offset {_offset(text, m.start())}")
            if closing:
                if not stack or stack[-1] != tag:
                    raise ValueError(f"can't parse entities: Unmatched end tag at byte offset"
                                     f" {_offset(text, m.start())}, expected \"</{stack[-1]}>\","
                                     f" found \"</{tag}>\"" if stack else
                                     "can't parse entities: Unexpected end tag at byte offset"
                                     f" {_offset(text, m.start())}")
                stack.pop()
            else:
                if tag == "span" and "tg-spoiler" not in m.group(3):
                    raise ValueError("can't parse entities: Tag \"span\" must have class"
                                     " \"tg-spoiler\" at byte offset"
                                     f" {_offset(text, m.start())}")
                stack.append(tag)
        elif m.group(4) is not None:
            name = m.group(4)
            if name.startswith("#x"):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            elif name in ENTITIES:
                out.append(ENTITIES[name])
            else:
                raise ValueError(f"can't parse entities: Unsupported HTML entity \"&{name};\""
                                 f" at byte offset {_offset(text, m.start())}")
        elif raw == "&":
            out.append("&")  # Telegram tolerates a bare ampersand
        else:
            raise ValueError("can't parse entities: Unexpected character"
                             f" {raw!r} at byte offset {_offset(text, m.start())}"
                             if raw == ">" else
                             "can't parse entities: Unclosed start tag at byte offset"
                             f" {_offset(text, m.start())}")
    out.append(text[pos:])
    if stack:
        raise ValueError("can't parse entities: Can't find end tag corresponding to start tag"
                         f" \"{stack[-1]}\"")
    return "".join(out)
