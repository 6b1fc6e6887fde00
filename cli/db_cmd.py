"""`diana db …`: create, migrate, check and copy the player database; admin operations.

The admin commands (grant, revoke, export, reset, delete, leaderboard) are thin wrappers
over the store (engine/store): the same exactly-once, audited operations the bot's admins
use. They may run while a bot writes the same file: each waits its turn for the write
lock, and a save the bot changed meanwhile is read again before it is changed.

Exit status: 0 all good; 1 the check found problems, or the operation was refused (an
unknown player, revoking more than the balance); 2 a wrong argument or a file that cannot
be used.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cli.settings import DEFAULT_DB, DbOption
from engine.game import Game, compile_game
from engine.load import ContentDirError, load
from engine.numbers import CONTENT_MAX
from engine.store import SyncStore
from engine.store.errors import StoreError, StoreOpenError, UnknownPlayer
from engine.store.limits import MAX_REASON
from engine.store.open import shown
from engine.store.open import upgrade as upgrade_schema
from engine.store.periods import BOARD_KINDS
from engine.store.postgres import check as check_pg
from engine.store.postgres import is_url
from engine.store.sqlite.check import check as check_store
from engine.store.transfer import CopyRefused, copy_database

DEFAULT_CONTENT = Path("content")

app = typer.Typer(help="The player database: migrate and check it; admin operations.",
                  no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

ContentOption = Annotated[Path, typer.Option(
    "--content", help="The story the players play (the store needs it for resets and for"
    " moving old saves).")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who does it, for the audit"
                                                       " trail.")]
PlayerArg = Annotated[str, typer.Argument(help="The player's id (e.g. tg:42, or the"
                                                " `diana play --player` name).")]


@app.command()
def migrate(db: DbOption = DEFAULT_DB) -> None:
    """Create the database or bring its schema up to date."""
    try:
        version, latest = asyncio.run(upgrade_schema(db))
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{shown(db)}: schema version {version} (latest {latest})")


@app.command()
def upgrade(db: DbOption = DEFAULT_DB) -> None:
    """Apply the schema migrations (the same as `migrate`; a PostgreSQL database needs it
    before the first start and after each upgrade of Diana)."""
    migrate(db)


@app.command()
def check(db: DbOption = DEFAULT_DB) -> None:
    """Verify the database: balances, ledger, saves, applied actions, leaderboards.

    Balances equal ledger sums, saves parse, every applied action has its effects,
    leaderboards match the ledger, the schema version is known, SQLite reports integrity."""
    try:
        report = check_pg(db) if is_url(db) else check_store(db)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in report.problems:
        typer.echo(f"✗ {problem}")
    summary = (f"{shown(db)}: schema {report.version}, {report.players} players,"
               f" {report.ledger} ledger entries, {report.applied} applied actions")
    if report.ok:
        typer.echo(f"✓ {summary}: consistent")
        return
    typer.echo(f"{summary}: {len(report.problems)} problem(s)")
    raise typer.Exit(1)


@app.command()
def copy(
    src: Annotated[str, typer.Argument(help="The database to copy: an SQLite file or a"
                                            " postgresql:// URL.")],
    dst: Annotated[str, typer.Argument(help="The database to copy into: empty (a file that"
                                            " does not exist yet is created), or a copy of"
                                            " SRC already.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Copy every player and all their data into another database (SQLite ⇄ PostgreSQL).

    SRC is read in one snapshot (a bot may keep writing it; the copy is of one moment).
    DST is written in one transaction that commits only when its row counts match SRC's
    and `db check`'s invariants hold there; otherwise nothing is written. Running it again
    on a finished copy changes nothing; a DST holding other data is refused."""
    report = _Progress(quiet)
    try:
        outcome = copy_database(src, dst, progress=report, note=report.note)
    except CopyRefused as exc:
        raise _fail(str(exc), 1) from None
    except StoreError as exc:
        raise _fail(str(exc), 2) from None
    rows = sum(outcome.rows.values())
    counts = ", ".join(f"{outcome.rows[t]:,} {t.replace('_', ' ')}" for t in
                       ("players", "ledger", "applied_actions", "events") if t in outcome.rows)
    if not outcome.copied:
        typer.echo(f"✓ {shown(dst)} already holds this copy of {shown(src)} ({counts}):"
                   " nothing to do")
        return
    rate = rows / outcome.seconds if outcome.seconds > 0 else 0.0
    schema = " (created its schema)" if outcome.created_schema else ""
    typer.echo(f"✓ copied {shown(src)} to {shown(dst)}{schema}: {counts}; {rows:,} rows in"
               f" {outcome.seconds:.1f} s ({rate:,.0f} rows/s); checked there: balances"
               " equal ledger sums, applied actions and leaderboards consistent")


class _Progress:
    """One line per table, and one every couple of seconds for a long one (on stderr)."""

    EVERY = 2.0

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.began = self.last = time.perf_counter()

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.quiet or (0 < done < total and now - self.last < self.EVERY):
            return
        if done == 0 and total > 0:
            self.began = now
            return
        self.last = now
        rate = done / (now - self.began) if now > self.began else 0.0
        typer.echo(f"  {table}: {done:,} / {total:,} rows ({rate:,.0f} rows/s)", err=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            typer.echo(f"  {text}…", err=True)


# ---- admin operations ------------------------------------------------------------------


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _game(content: Path) -> Game:
    try:
        result = load(content)
    except ContentDirError as exc:
        raise _fail(str(exc), 2) from None
    if result.content is None:
        raise _fail(f"{content}: the story does not load; run `diana lint {content}`", 2)
    return compile_game(result.content)


@contextmanager
def _store(db: str | Path, content: Path) -> Iterator[SyncStore]:
    """An existing database (an admin command never creates one), open for writing."""
    if not is_url(db) and not os.path.exists(db):
        raise _fail(f"{db}: no such database file", 2)
    game = _game(content)
    try:
        store = SyncStore.open(db, game)
    except StoreError as exc:
        raise _fail(str(exc), 2) from None
    try:
        yield store
    except UnknownPlayer as exc:
        raise _fail(str(exc), 1) from None
    except StoreOpenError as exc:
        raise _fail(str(exc), 2) from None
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        store.close()


def _amount(text: str) -> int:
    digits = text.strip()
    # More digits than any amount can have is refused before int() converts them.
    if len(digits.lstrip("+-")) > len(str(CONTENT_MAX)):
        raise _fail(f"the amount must be at most {CONTENT_MAX:,}", 2)
    try:
        amount = int(digits)
    except ValueError:
        raise _fail(f"the amount must be a whole number, not `{text}`", 2) from None
    if not 0 < amount <= CONTENT_MAX:
        raise _fail(f"the amount must be positive and at most {CONTENT_MAX:,}, not {amount:,}",
                    2)
    return amount


def _reason(text: str) -> str:
    if not text.strip():
        raise _fail("a reason is required (it is recorded in the ledger)", 2)
    if len(text.strip()) > MAX_REASON:
        raise _fail(f"a reason has at most {MAX_REASON} characters, not"
                    f" {len(text.strip()):,}", 2)
    return text.strip()


def _adjust(op: str, db: str | Path, content: Path, player: str, amount_text: str, reason: str,
            actor: str, key: str | None) -> None:
    amount, why = _amount(amount_text), _reason(reason)
    with _store(db, content) as store:
        fn = store.grant if op == "grant" else store.revoke
        r = fn(player, amount, why, actor=actor, key=key)
        currency = store.store.game.content.manifest.currency
        name = currency.name.get("en", store.store.game.content.manifest.default_locale)
        if not r.ok:
            raise _fail(r.message or r.error or "refused", 1)
        again = " (already applied: nothing changed)" if r.replayed else ""
        verb = "granted" if op == "grant" else "revoked"
        typer.echo(f"✓ {verb} {amount} {name} ({op} `{why}`) for `{player}`: balance"
                   f" {r.summary['points']}{again}")


AmountArg = Annotated[str, typer.Argument(help="A positive whole number of points.",
                                          show_default=False)]
ReasonArg = Annotated[str, typer.Argument(help="Why, recorded in the ledger.")]
KeyOption = Annotated[str | None, typer.Option(
    "--key", help="An idempotency key: running the command again with it changes nothing.")]


@app.command()
def grant(player: PlayerArg, amount: AmountArg, reason: ReasonArg, db: DbOption = DEFAULT_DB,
          content: ContentOption = DEFAULT_CONTENT, actor: ActorOption = "cli",
          key: KeyOption = None) -> None:
    """Give a player points (a `grant` ledger entry; counts on the leaderboards)."""
    _adjust("grant", db, content, player, amount, reason, actor, key)


@app.command()
def revoke(player: PlayerArg, amount: AmountArg, reason: ReasonArg, db: DbOption = DEFAULT_DB,
           content: ContentOption = DEFAULT_CONTENT, actor: ActorOption = "cli",
           key: KeyOption = None) -> None:
    """Take points back (at most the balance; a `revoke` ledger entry)."""
    _adjust("revoke", db, content, player, amount, reason, actor, key)


@app.command()
def export(player: PlayerArg, db: DbOption = DEFAULT_DB,
           content: ContentOption = DEFAULT_CONTENT, actor: ActorOption = "cli",
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="Write the JSON to this file instead of stdout.")] = None,
           ) -> None:
    """Everything stored about a player, as JSON.

    The save, ledger, achievements, scores and audit trail."""
    with _store(db, content) as store:
        data = store.export(player, actor=actor)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror}", 2) from None
    typer.echo(f"✓ exported `{player}` to {output}")


@app.command()
def reset(player: PlayerArg, db: DbOption = DEFAULT_DB,
          content: ContentOption = DEFAULT_CONTENT, actor: ActorOption = "cli",
          key: KeyOption = None) -> None:
    """Start a player over: a new save and a cleared balance.

    A `reset` ledger entry clears the balance and the player leaves the leaderboards; the
    ledger keeps the history."""
    with _store(db, content) as store:
        r = store.reset(player, actor=actor, key=key)
    again = " (already applied: nothing changed)" if r.replayed else ""
    typer.echo(f"✓ reset `{player}` (had {r.summary.get('previous_points', 0)} points){again}")


@app.command()
def delete(player: PlayerArg, db: DbOption = DEFAULT_DB,
           content: ContentOption = DEFAULT_CONTENT, actor: ActorOption = "cli",
           yes: Annotated[bool, typer.Option("--yes", help="Confirm: this cannot be"
                                             " undone.")] = False) -> None:
    """Erase a player and all their data.

    The save, ledger, scores and audit trail go; an audit event without personal data
    records the erasure."""
    if not yes:
        raise _fail(f"deleting `{player}` erases all their data and cannot be undone;"
                    " add --yes to confirm", 2)
    with _store(db, content) as store:
        store.delete(player, actor=actor)
    typer.echo(f"✓ deleted `{player}`")


@app.command()
def leaderboard(
    db: DbOption = DEFAULT_DB,
    period: Annotated[str, typer.Option("--period", help="all, week or month (the current"
                                        " ISO week or calendar month, UTC).")] = "all",
    top: Annotated[int, typer.Option("--top", min=1, max=1000, help="How many.")] = 10,
    content: ContentOption = DEFAULT_CONTENT,
) -> None:
    """The top players of a leaderboard."""
    if period not in BOARD_KINDS:
        raise _fail(f"unknown period `{period}`: use one of {', '.join(BOARD_KINDS)}", 2)
    with _store(db, content) as store:
        entries = store.top(period, top)
    if not entries:
        typer.echo(f"({period}: nobody has points yet)")
    for e in entries:
        typer.echo(f"{e.rank:>4}. {e.name} ({e.player}) {e.score}")
