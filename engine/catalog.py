# One line per check reads best as a table, even past the line length.
# ruff: noqa: E501
"""Every diagnostic Diana can report: a stable code, a kebab-case name, a default severity.

The codes never change meaning once released; docs/checks/CODE.md documents each one and
tests/lint_cases/CODE/ holds its golden case.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.diagnostics import Diagnostic, Loc, Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class CheckInfo:
    code: str
    name: str
    severity: Severity
    summary: str


_CHECKS = [
    # Y: reading files
    CheckInfo("Y001", "yaml-syntax", E, "The file is not valid YAML."),
    CheckInfo("Y002", "duplicate-key", E, "A mapping has the same key twice."),
    CheckInfo("Y003", "yaml-alias", E, "YAML anchors and aliases are not allowed."),
    CheckInfo("Y004", "not-utf8", E, "The file is not UTF-8 text."),
    CheckInfo("Y005", "file-too-large", E, "The file is larger than the 5 MB limit."),
    CheckInfo("Y006", "empty-file", W, "The file holds no YAML document."),
    CheckInfo("Y007", "byte-order-mark", W, "The file starts with a byte-order mark."),
    CheckInfo("Y008", "unsupported-tag", E, "A YAML tag such as !!python/object is not allowed."),
    # S: schema
    CheckInfo("S001", "schema-violation", E, "A value does not have the shape the format requires."),
    CheckInfo("S002", "inverted-range", E, "A stat's min is above its max, or its initial value lies outside them."),
    # R: references and identity
    CheckInfo("R001", "duplicate-id", E, "Two declarations share one id."),
    CheckInfo("R002", "unknown-goto", E, "A choice or effect goes to a fragment that does not exist."),
    CheckInfo("R003", "unknown-start", E, "The manifest's start fragment does not exist."),
    CheckInfo("R004", "unknown-reference", E, "An undeclared id is referenced."),
    CheckInfo("R005", "unknown-interpolation", E, "Text interpolates a variable that does not exist."),
    CheckInfo("R006", "missing-manifest", E, "The content directory has no game.yaml."),
    CheckInfo("R007", "unknown-locale", E, "Text is given in a locale the manifest does not declare."),
    CheckInfo("R008", "unknown-migration-target", E, "The manifest's migrate: sends old saves to a fragment that does not exist."),
    # M: manifest
    CheckInfo("M001", "version-not-semver", E, "The content version is not MAJOR.MINOR.PATCH."),
    CheckInfo("M002", "levels-not-increasing", E, "Level numbers or thresholds do not increase."),
    CheckInfo("M003", "unknown-check", W, "lint.severity names a check that does not exist."),
    CheckInfo("M004", "rules-outside-project", E, "A rules: directory lies outside the project."),
    CheckInfo("M005", "migrate-live-fragment", E, "The manifest's migrate: moves saves away from a fragment this version still has."),
    # G: story graph
    CheckInfo("G001", "unreachable-fragment", W, "No path of gotos leads from start to a fragment."),
    CheckInfo("G002", "dead-end", E, "A fragment that is not an ending has no choices."),
    CheckInfo("G003", "ending-with-choices", E, "An ending fragment has choices."),
    CheckInfo("G004", "all-choices-hideable", W, "Every choice of a fragment can be hidden at once."),
    CheckInfo("G005", "self-loop-no-effect", W, "A choice returns to its own fragment and changes nothing."),
    CheckInfo("G006", "rule-cycle", W, "Rules can trigger each other in a cycle."),
    CheckInfo("G007", "forced-move-cycle", E, "Rules move the player on in a cycle of fragments that never settles."),
    # C: choices
    CheckInfo("C001", "duplicate-choice-id", E, "Two choices of one fragment share an id."),
    CheckInfo("C002", "duplicate-choice-label", W, "Two choices of one fragment share a label."),
    # U: declared but unused, used but never provided
    CheckInfo("U001", "achievement-never-unlocked", W, "No rule or effect unlocks an achievement."),
    CheckInfo("U002", "flag-never-set", W, "A flag is read but nothing ever sets it."),
    CheckInfo("U003", "flag-never-read", W, "A flag is set but nothing ever reads it."),
    CheckInfo("U004", "item-never-given", W, "An item is required but nothing ever gives it."),
    CheckInfo("U005", "never-read", W, "A stat or item is changed but nothing ever reads it."),
    # T: Telegram limits
    CheckInfo("T001", "text-too-long", W, "A text can exceed Telegram's 4,096 characters: the bot sends it as several messages."),
    CheckInfo("T002", "label-too-long", W, "A choice label is over the 64 characters a button shows: the bot numbers or cuts it."),
    CheckInfo("T003", "too-many-choices", W, "A fragment has more choices than one keyboard shows: the bot pages them."),
    CheckInfo("T004", "locked-reason-too-long", E, "A locked reason is over 200 characters."),
    # L: locales
    CheckInfo("L001", "missing-translation", W, "A text lacks a translation for a declared locale."),
    # V: values, found by exploring the states (`diana lint --deep`)
    CheckInfo("V001", "impossible-requirement", W, "A requirement never holds on any reachable state."),
    CheckInfo("V002", "lock-never-locks", W, "A choice's requirement holds on every reachable visit."),
]

CHECKS: dict[str, CheckInfo] = {c.code: c for c in _CHECKS}
BY_NAME: dict[str, CheckInfo] = {c.name: c for c in _CHECKS}


def lookup(code_or_name: str) -> CheckInfo | None:
    return CHECKS.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


def diag(code: str, message: str, loc: Loc, hint: str | None = None,
         related: tuple[Loc, ...] = (), suggestion: str | None = None) -> Diagnostic:
    """A diagnostic of check `code`; a `suggestion` (the id an unknown one is probably a
    typo of) is appended to the message as "did you mean …?"."""
    info = CHECKS[code]
    if suggestion is not None:
        message = f"{message}; did you mean `{suggestion}`?"
    return Diagnostic(info.code, info.name, info.severity, message, loc, hint, related,
                      suggestion)
