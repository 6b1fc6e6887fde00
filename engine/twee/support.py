"""What the importer cannot express in the format yet, and why: the one table to edit when
the format learns more. A key here is reported, with its reason, wherever it occurs;
removing a key (and mapping what it names in convert.py) switches the construct on.

String variables and text input are being added to the format: when they land, drop
"string variable", "string expression" and the text-input macros, and map string values
the way `VALUE_KINDS` maps numbers and booleans.
"""

from __future__ import annotations

NOT_YET: dict[str, str] = {
    "string variable": "string variables do not exist in the format yet",
    "string expression": "string variables do not exist in the format yet",
    "<<textbox>>": "text input does not exist in the format yet",
    "<<textarea>>": "text input does not exist in the format yet",
    "<<numberbox>>": "text input does not exist in the format yet",
    "(input-box:)": "text input does not exist in the format yet",
    "(force-input-box:)": "text input does not exist in the format yet",
    "(prompt:)": "text input does not exist in the format yet",
    "variable arithmetic": "effects computed from another variable do not exist in the format"
                           " yet",
    "variable comparison": "comparisons between two variables do not exist in the format yet",
    "<<include>>": "shared passages (includes) do not exist in the format yet",
    "<<display>>": "shared passages (includes) do not exist in the format yet",
    "(display:)": "shared passages (includes) do not exist in the format yet",
    "<<back>>": "menus that return the player where they were do not exist in the format"
                " yet",
    "<<return>>": "menus that return the player where they were do not exist in the format"
                  " yet",
}

# How a Twine value kind maps to a Diana declaration; None: not expressible yet (see
# NOT_YET["string variable"]).
VALUE_KINDS: dict[str, str | None] = {"number": "stat", "boolean": "flag", "string": None}

# Reasons for what the format will not say (not "yet"): presentation, code, timing.
NEVER: dict[str, str] = {
    "expression": "the expression is not one the format can say",
    "temporary variable": "temporary variables are not kept between passages",
    "property": "object and array variables do not exist in the format",
    "mixed variable": "the variable holds both numbers and booleans",
    "flag shown": "a flag cannot be shown in text",
    "link target": "the link's target is an expression, not a passage name",
    "missing passage": "no passage has that name",
    "special passage": "special passages of the story format are not converted",
    "code": "scripts, styles and widgets are not converted",
    "macro": "the story format's macro has no equivalent in the format",
    "goto": "a goto to an expression cannot be converted",
    "initial value": "only constant values in the start-up passage become initial values",
}


def reason(key: str) -> str:
    return NOT_YET.get(key) or NEVER.get(key) or NEVER["macro"]
