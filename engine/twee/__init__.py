"""`diana import twee`: Twine stories in Twee 3 notation (SugarCube 2, Harlowe 3 basics)
converted to Diana content. `import_twee` is pure: sources in, file texts and a report out.
"""

from __future__ import annotations

from engine.twee.convert import Conversion, Unconverted, convert
from engine.twee.emit import files, report_lines
from engine.twee.expr import Unsupported
from engine.twee.parse import Note, Story, TweeError, read_story

__all__ = ["Conversion", "Note", "Story", "TweeError", "Unconverted", "import_twee",
           "report_lines"]


def import_twee(sources: list[tuple[str, str]]) -> tuple[dict[str, str], Conversion]:
    """(relative path -> YAML text, the conversion) for Twee sources given as (file name,
    text). Raises TweeError when they hold no story."""
    story = read_story(sources)
    try:
        conv = convert(story)
    except Unsupported as exc:
        raise TweeError("the story has no passage a player can read: every passage is a"
                        " special one (StoryInit, scripts, styles …)") from exc
    return files(conv), conv
