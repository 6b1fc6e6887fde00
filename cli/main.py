"""Entry point of the `diana` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import (
    bot_cmd,
    db_cmd,
    events_cmd,
    fmt_cmd,
    graph_cmd,
    import_cmd,
    lint_cmd,
    new_cmd,
    play_cmd,
    simulate_cmd,
    stats_cmd,
)
from cli.helpfmt import install as install_help_format
from cli.settings import DEFAULT_DB, DbOption, adopt_env_file, diana_version
from engine.catalog import CHECKS
from engine.lint.deep import DEEP_MAX_STATES

install_help_format()

app = typer.Typer(
    help="Diana: write, test and ship a branching, gamified story.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_CONTENT = Path("content")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"diana {diana_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print Diana's version and exit.")] = False,
) -> None:
    """Diana: write, test and ship a branching, gamified story."""
    adopt_env_file()


@app.command()
def lint(
    directory: Annotated[Path, typer.Argument(
        help="Content directory (with game.yaml).", metavar="DIR")] =
    DEFAULT_CONTENT,
    format: Annotated[lint_cmd.Format, typer.Option("--format", "-f", help="Output format.")] =
    lint_cmd.Format.full,
    explain: Annotated[str | None, typer.Option(help="Print the documentation of a check.",
                                                metavar="CODE")] = None,
    list_checks: Annotated[bool, typer.Option("--list", help="List every check.")] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also explore the states: requirements "
                                       "that never hold (V001), locks that never lock "
                                       "(V002).")] = False,
    max_states: Annotated[int | None, typer.Option(
        help="With --deep: the most states each search explores (default "
             f"{DEEP_MAX_STATES:,}).")] = None,
) -> None:
    """Check a story: YAML, schema, references, graph, limits, translations."""
    if explain:
        lint_cmd.explain(explain)
        return
    if list_checks:
        for info in CHECKS.values():
            typer.echo(f"{info.code}  {info.name:<28} {info.severity.value:<8} {info.summary}")
        return
    raise typer.Exit(lint_cmd.run(directory, format, deep, max_states))


@app.command()
def play(
    directory: Annotated[Path, typer.Argument(
        help="Content directory (with game.yaml).", metavar="DIR")] =
    DEFAULT_CONTENT,
    db: DbOption = DEFAULT_DB,
    player: Annotated[str, typer.Option(help="Save slot and display name.")] = "Guest",
    new: Annotated[bool, typer.Option("--new", help="Start over instead of resuming.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the player's random draws.")] = 0,
    locale: Annotated[str | None, typer.Option(help="Locale, e.g. es.")] = None,
    role: Annotated[str | None, typer.Option(help="Player role, e.g. vip.")] = None,
    record: Annotated[Path | None, typer.Option(
        help="Write the playthrough as a replay file (for `diana simulate --replay`).",
        metavar="FILE")] = None,
) -> None:
    """Play a story in the terminal; progress is saved and resumed.

    Reads choice numbers from standard input, so `printf '1\\n2\\n' | diana play` scripts a run.
    """
    raise typer.Exit(play_cmd.play(directory, db, player, fresh=new, seed=seed, locale=locale,
                                   role=role, record=record))


app.command("graph")(graph_cmd.command)
app.command("fmt")(fmt_cmd.command)
app.command("simulate")(simulate_cmd.command)
app.command("stats")(stats_cmd.command)
app.add_typer(new_cmd.app, name="new")
app.add_typer(db_cmd.app, name="db")
app.add_typer(events_cmd.app, name="events")
app.add_typer(bot_cmd.app, name="bot")
app.add_typer(import_cmd.app, name="import")


if __name__ == "__main__":
    app()
