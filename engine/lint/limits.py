"""Telegram's limits, checked on the worst case after interpolation, in every locale.

The bot carries long texts, long labels and many choices (it splits, numbers and pages
them), so those are warnings that say what it will do; a reason too long for an alert
stays an error. What Telegram would refuse outright (a keyboard of more than 100 buttons)
the schema keeps out of `layout.choices_per_page`."""

from __future__ import annotations

from collections.abc import Iterator

from engine.catalog import diag
from engine.diagnostics import Diagnostic
from engine.lint.registry import check
from engine.load import LoadResult
from engine.model import Content, Fragment, Text
from engine.text import MAX_NAME, MAX_NUMBER, worst_case_length

MAX_MESSAGE = 4096
MAX_LABEL = 64  # what a button shows before clients cut it
MAX_ALERT = 200


def widths(content: Content) -> dict[str, int]:
    m = content.manifest
    out = {
        "player": MAX_NAME,
        "points": MAX_NUMBER,
        "level": MAX_NUMBER,
        "currency": max((len(v) for v in m.currency.name.values()), default=0),
        "emoji": len(m.currency.emoji),
        "level_name": max((len(v) for lv in m.levels for v in lv.name.values()), default=0),
    }
    for s in content.stats.values():
        bounds = [abs(b) for b in (s.min, s.max) if b is not None]
        out[f"stat.{s.id}"] = len(str(max(bounds))) + 1 if len(bounds) == 2 else MAX_NUMBER
    for v in content.strings.values():
        out[f"string.{v.id}"] = (max(len(x) for x in v.values) if v.values is not None
                                 else v.max_length or 0)
    return out


def _longest(text: Text | None, locale: str, default: str, w: dict[str, int]) -> int:
    return 0 if text is None else worst_case_length(text.get(locale, default), w)


def message_length(f: Fragment, locale: str, default: str, w: dict[str, int]) -> int:
    """The longest message the fragment can render to: title plus every paragraph at its
    longest variant, joined by blank lines."""
    parts = [_longest(f.title, locale, default, w)] if f.title else []
    for p in f.text:
        parts.append(max(_longest(p.text, locale, default, w),
                         _longest(p.otherwise, locale, default, w)))
    return sum(parts) + 2 * max(len(parts) - 1, 0)


def _label_plan(long_labels: str) -> str:
    if long_labels == "cut":
        return "the bot cuts the button's label at a word"
    return ("the bot lists the page's choices in full, numbered, under its text, and cuts"
            " the buttons' labels at a word")


@check
def telegram_limits(content: Content, result: LoadResult) -> Iterator[Diagnostic]:
    w = widths(content)
    default = content.manifest.default_locale
    layout = content.manifest.layout
    for f in content.fragments.values():
        for locale in content.manifest.locales:
            n = message_length(f, locale, default, w)
            if n > MAX_MESSAGE:
                yield diag("T001", f"fragment `{f.id}` ({locale}) can reach {n} characters,"
                           f" over Telegram's {MAX_MESSAGE} for one message: the bot sends it"
                           " as several, split between paragraphs (or sentences)",
                           f.text[0].text.loc,
                           "if it should be read at once, split it into fragments joined by"
                           " a choice")
                break
        if len(f.choices) > layout.choices_per_page:
            yield diag("T003", f"fragment `{f.id}` has {len(f.choices)} choices: the bot shows"
                       f" {layout.choices_per_page} at a time, with more… and back buttons",
                       f.choices[layout.choices_per_page].loc,
                       "move some choices to a follow-up fragment, or raise"
                       " layout.choices_per_page in game.yaml")
        for c in f.choices:
            for locale in content.manifest.locales:
                n = _longest(c.text, locale, default, w)
                if n > MAX_LABEL:
                    yield diag("T002", f"label of `{f.id}.{c.id}` ({locale}) can reach {n}"
                               f" characters; buttons show {MAX_LABEL}:"
                               f" {_label_plan(layout.long_labels)}", c.text.loc,
                               "shorten the label to see it whole on its button")
                    break
            for locale in content.manifest.locales:
                n = _longest(c.locked_text, locale, default, w)
                if n > MAX_ALERT:
                    yield diag("T004", f"locked text of `{f.id}.{c.id}` ({locale}) can reach"
                               f" {n} characters; an alert shows {MAX_ALERT}",
                               c.locked_text.loc if c.locked_text else c.loc,
                               "shorten the locked text")
                    break
