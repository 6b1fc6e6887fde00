"""Scaffold story content: add a fragment (and a choice leading to it) to story files,
keeping every comment, blank line and key order already there (ruamel.yaml round trip).

`plan_fragment` computes the new text of every file it touches; it writes nothing, so the
caller can refuse, show or write the result as a whole.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from engine.load import LoadResult
from engine.model import Content
from engine.suggest import closest
from engine.yaml_fmt import dump, round_trip

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ENDINGS = ("good", "bad", "neutral", "secret")
MAX_SLUG = 32
SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)")
# Words some YAML readers (YAML 1.1) take for booleans or null: always quote them.
_TRAPS = re.compile(r"^(?:y|n|yes|no|on|off|true|false|null|~)$", re.IGNORECASE)
_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^#\[\]{},]*$")


class ScaffoldError(Exception):
    """Why nothing can be scaffolded; `status` is the exit status (1 content, 2 usage)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Plan:
    writes: dict[Path, str]  # file → its complete new text
    fragment_file: Path
    choice_id: str | None = None


def scalar(text: str) -> str:
    """`text` as a plain string when every YAML reader reads it back as that string;
    double-quoted otherwise."""
    plain = (_PLAIN.match(text) and not _TRAPS.match(text) and ": " not in text
             and not text.endswith((" ", ":")) and not _looks_numeric(text))
    return text if plain else DoubleQuotedScalarString(text)


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace("_", ""))
    except ValueError:
        return text.lower() in (".inf", "-.inf", "+.inf", ".nan")
    return True


def slugify(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """An id from a label: ASCII, lowercase, words joined by `_`, starting with a letter,
    at most 32 characters, and not one of `taken` (a `_2`, `_3` … suffix if needed)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug:
        slug = "choice"
    elif not slug[0].isalpha():
        slug = "c_" + slug
    slug = slug[:MAX_SLUG].rstrip("_")
    out, n = slug, 2
    while out in taken:
        suffix = f"_{n}"
        out = slug[: MAX_SLUG - len(suffix)].rstrip("_") + suffix
        n += 1
    return out


# ---- keeping comments in place --------------------------------------------------------


def _is_block(node: Any) -> bool:
    return isinstance(node, CommentedMap | CommentedSeq) and len(node) > 0 and \
        not node.fa.flow_style()


def _tail_slot(node: CommentedMap | CommentedSeq) -> tuple[list[Any], int] | None:
    if isinstance(node, CommentedMap):
        entry = node.ca.items.get(list(node)[-1])
        return (entry, 2) if entry and len(entry) > 2 and entry[2] is not None else None
    entry = node.ca.items.get(len(node) - 1)
    return (entry, 0) if entry and entry[0] is not None else None


def _last_child(node: CommentedMap | CommentedSeq) -> Any:
    return node[list(node)[-1]] if isinstance(node, CommentedMap) else node[-1]


def detach_tail(node: Any) -> str | None:
    """Remove the blank lines and comment lines that follow the last entry of a block
    collection (ruamel keeps them on that entry) and return them; end-of-line comments
    stay where they are."""
    if not _is_block(node):
        return None
    child = _last_child(node)
    got = detach_tail(child) if _is_block(child) else None
    if got is not None:
        return got
    slot = _tail_slot(node)
    if slot is None:
        return None
    entry, i = slot
    value: str = entry[i].value
    cut = value.find("\n")
    if cut < 0 or cut == len(value) - 1:
        return None
    entry[i].value = value[: cut + 1]
    return value[cut + 1:]


def attach_tail(node: Any, lines: str | None) -> None:
    """Put `lines` (from detach_tail) after the last entry of `node`."""
    if not lines:
        return
    while _is_block(node) and _is_block(_last_child(node)):
        node = _last_child(node)
    token = CommentToken("\n" + lines, CommentMark(0), None)
    if isinstance(node, CommentedMap):
        node.ca.items[list(node)[-1]] = [None, None, token, None]
    elif isinstance(node, CommentedSeq):
        node.ca.items[len(node) - 1] = [token, None]


def _blank_between(fragments: CommentedMap, text: str) -> bool:
    """Whether the file separates fragments with a blank line (the sample does; so does a
    file with a single fragment)."""
    lines = text.splitlines()
    keys = list(fragments)[1:]
    blank = 0
    for k in keys:
        line, _ = fragments.lc.key(k)
        if line > 0 and not lines[line - 1].strip():
            blank += 1
    return not keys or blank * 2 >= len(keys)


# ---- planning ---------------------------------------------------------------------------


def _texts(locales: tuple[str, ...], default: str, todo: str) -> Any:
    """A Text node: the default-locale string, with a TODO copy for every other locale."""
    if len(locales) == 1:
        return scalar(default)
    node = CommentedMap((loc, scalar(default if i == 0 else f"{todo}{default}"))
                        for i, loc in enumerate(locales))
    node.fa.set_flow_style()
    return node


def _fragment_node(fid: str, content: Content, ending: str | None, back: str) -> CommentedMap:
    locales = content.manifest.locales
    node = CommentedMap()
    if ending:
        node["ending"] = ending
    todo = f"TODO: write `{fid}`"
    if len(locales) == 1:
        node["text"] = scalar(todo)
    else:
        node["text"] = CommentedMap((loc, scalar(todo)) for loc in locales)
    if not ending:
        choice = CommentedMap()
        choice["id"] = "todo"
        choice["text"] = _texts(locales, "TODO: continue", "")
        choice["goto"] = back
        node["choices"] = CommentedSeq([choice])
    return node


def _schema_header(result: LoadResult, new_file: Path) -> str:
    """The schema comment of a new story file, pointing where the other story files
    point."""
    for f in result.files:
        if not (isinstance(f.data, dict) and "fragments" in f.data):
            continue
        m = SCHEMA_LINE.match(f.text.splitlines()[0] if f.text else "")
        if not m or "://" in m.group(1):
            continue
        schema = Path(f.path).parent / m.group(1)
        rel = os.path.relpath(schema, new_file.parent).replace(os.sep, "/")
        return f"# yaml-language-server: $schema={rel}\n"
    return ""


def _story_files(result: LoadResult) -> list[Path]:
    return [Path(f.path) for f in result.files
            if isinstance(f.data, dict) and "fragments" in f.data]


def _inside(path: Path, dirs: list[Path]) -> bool:
    rp = path.resolve()
    return any(rp.is_relative_to(d.resolve()) for d in dirs)


def _resolve_file(file: Path, root: Path, content: Content) -> Path:
    if file.suffix not in (".yaml", ".yml"):
        raise ScaffoldError(f"`{file}` is not a .yaml file", 2)
    if file.is_absolute() or file.exists():
        path = file
    elif (root / file).exists() or not file.parent.exists():
        path = root / file
    else:
        path = file
    dirs = [root, *(root / d for d in content.manifest.rule_dirs)]
    if not _inside(path, dirs):
        raise ScaffoldError(f"`{file}` is outside the content directory `{root}`; diana "
                            "would not read it", 2)
    return path


def plan_fragment(result: LoadResult, root: Path, fid: str, *,
                  from_fragment: str | None = None, choice_text: str | None = None,
                  file: Path | None = None, ending: str | None = None) -> Plan:
    """The files to write to add fragment `fid` to the story in `root`. `result` is
    `load(root)` with the default display base: the paths it holds are relative to the
    current directory."""
    content = result.content
    if content is None:
        raise ScaffoldError("the story does not load; run `diana lint` and fix the errors")
    if not ID_RE.match(fid):
        raise ScaffoldError(f"`{fid}` is not a valid id: use lowercase letters, digits and "
                            "`_`, starting with a letter (e.g. `wine_cellar`)", 2)
    if fid in content.fragments:
        raise ScaffoldError(f"fragment `{fid}` already exists ({content.fragments[fid].loc})")
    if ending is not None and ending not in ENDINGS:
        raise ScaffoldError(f"unknown ending kind `{ending}`; use {', '.join(ENDINGS)}", 2)
    if choice_text is not None and from_fragment is None:
        raise ScaffoldError("--choice needs --from: the fragment that gets the choice", 2)
    source = None
    if from_fragment is not None:
        source = content.fragments.get(from_fragment)
        if source is None:
            near = closest(from_fragment, content.fragments)
            raise ScaffoldError(f"unknown fragment `{from_fragment}` (--from)"
                                + (f"; did you mean `{near}`?" if near else ""))
        if source.ending is not None:
            raise ScaffoldError(f"`{from_fragment}` is an ending; endings have no choices")
        choice_text = choice_text if choice_text is not None else fid.replace("_", " ").capitalize()
        choice_text = " ".join(choice_text.split())
        if not choice_text:
            raise ScaffoldError("--choice is empty", 2)

    stories = _story_files(result)
    if file is not None:
        target = _resolve_file(file, root, content)
    elif source is not None:
        target = Path(source.loc.file)
    elif stories:
        target = stories[-1]
    else:
        raise ScaffoldError("the story has no story file yet; name one with --file")

    texts: dict[Path, str] = {}

    def text_of(path: Path) -> str:
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8") if path.exists() else \
                _schema_header(result, path) + "fragments:\n"
        return texts[path]

    y = round_trip()
    docs: dict[Path, Any] = {}

    def doc(path: Path) -> Any:
        if path not in docs:
            data = y.load(text_of(path))
            if not isinstance(data, CommentedMap) or "fragments" not in data:
                raise ScaffoldError(f"`{path}` is not a story file (it has no `fragments:`)")
            if data["fragments"] is None:
                data["fragments"] = CommentedMap()
            docs[path] = data
        return docs[path]

    fragments = doc(target)["fragments"]
    back = from_fragment or content.manifest.start
    node = _fragment_node(fid, content, ending, back)
    spaced = _blank_between(fragments, text_of(target))
    tail = detach_tail(fragments)
    fragments[fid] = node
    if len(fragments) > 1 and spaced:
        fragments.yaml_set_comment_before_after_key(fid, before="\n")
    attach_tail(fragments, tail)

    choice_id = None
    if source is not None:
        raw = doc(Path(source.loc.file))["fragments"][source.id]
        choices = raw.get("choices")
        if choices is None:
            choices = raw["choices"] = CommentedSeq()
        choice_id = slugify(choice_text or fid, {c.id for c in source.choices})
        choice = CommentedMap()
        choice["id"] = choice_id
        choice["text"] = _texts(content.manifest.locales, choice_text or fid, "TODO: ")
        choice["goto"] = fid
        tail = detach_tail(choices)
        choices.append(choice)
        attach_tail(choices, tail)

    writes = {path: dump(data, y) for path, data in docs.items()}
    return Plan(writes, target, choice_id)
