"""`diana events …`: the event stream. `publish` sends the outbox to NATS JetStream,
`status` shows what waits, `tail` prints the live stream, `replay` sends past events
again, `prune` drops published events past the retention, `sink` keeps a stats database
from the stream (one real consumer, with a dead-letter subject).

Exit status: 0 all good; 1 the broker or the database failed during the command; 2 a
wrong argument, or a database or broker that cannot be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.settings import DEFAULT_DB, DbOption
from engine.outbox.jetstream import BrokerError, JetStream
from engine.outbox.publisher import RETENTION, age
from engine.store.errors import StoreError
from engine.store.open import open_outbox

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_RETENTION = RETENTION

app = typer.Typer(help="The event stream: publish the outbox, watch it, replay it, consume"
                       " it.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

NatsOption = Annotated[str, typer.Option(
    "--nats", envvar="DIANA_EVENTS", show_envvar=True, metavar="URL",
    help="The NATS server with JetStream.")]
RetentionOption = Annotated[str, typer.Option(
    "--retention", envvar="DIANA_EVENTS_RETENTION", show_envvar=True, metavar="AGE",
    help="How long published events stay in the outbox for replays (30m, 12h, 7d).")]

def moment(text: str, now: float) -> float:
    """An age back from now (`2h`) or an ISO date-time (UTC unless it says otherwise)."""
    with contextlib.suppress(ValueError):
        return now - age(text)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"`{text}` is neither an age (2h, 7d) nor an ISO date-time"
                         " (2025-01-08T12:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _run(coro) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(coro)


async def _outbox(db: str):
    if not re.match(r"^postgres(ql)?://", db) and not Path(db).exists():
        raise _fail(f"{db}: no such database file", 2)
    try:
        return await open_outbox(db)
    except StoreError as exc:
        raise _fail(str(exc), 2) from None


def _stop_on_signals(stop) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop)


@app.command()
def publish(db: DbOption = DEFAULT_DB, nats: NatsOption = DEFAULT_NATS,
            retention: RetentionOption = DEFAULT_RETENTION,
            batch: Annotated[int, typer.Option(help="Events per claim.", min=1)] = 256,
            lease: Annotated[float, typer.Option(
                help="Seconds a claim is held before another publisher may take it over (a"
                " publisher that died).", min=0.1)] = 30.0,
            once: Annotated[bool, typer.Option(
                "--once", help="Send what waits now, then exit.")] = False) -> None:
    """Send the outbox's events to NATS JetStream until stopped (Ctrl-C, SIGTERM).

    Several publishers may run at once, on one machine or many."""
    try:
        keep = age(retention)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    _run(_publish(db, nats, keep, batch, lease, once))


async def _publish(db: str, url: str, retention: float, batch: int, lease: float,
                   once: bool) -> None:
    from engine.outbox.publisher import Publisher

    source = await _outbox(db)
    broker = JetStream(url)
    publisher = Publisher(source, broker, batch=batch, lease=lease, retention=retention)
    try:
        if once:
            while await publisher.once() == batch:
                pass
            await publisher.flush()
            if publisher.breaker.open:
                raise _fail(publisher.last_error or "the broker failed", 1)
            typer.echo(f"{publisher.published} events published"
                       f" ({publisher.duplicates} the broker already had)")
            return
        _stop_on_signals(publisher.stop)
        typer.echo(f"publishing {db} to {url} as {publisher.owner} (Ctrl-C stops)", err=True)
        watcher = asyncio.create_task(publisher.watch())
        await publisher.run()
        await watcher
    finally:
        await broker.close()
        await source.close()


@app.command()
def status(db: DbOption = DEFAULT_DB,
           as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False
           ) -> None:
    """What waits in the outbox: unsent events, the oldest one's age (the lag), counts."""
    _run(_status(db, as_json))


async def _status(db: str, as_json: bool) -> None:
    source = await _outbox(db)
    try:
        st = await source.status()
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        await source.close()
    now = time.time()
    if as_json:
        typer.echo(json.dumps({"pending": st.pending, "leased": st.leased,
                               "published": st.published, "lag_seconds": st.lag(now),
                               "oldest_pending": st.oldest_pending, "newest": st.newest,
                               "holder": st.holder}))
        return
    typer.echo(f"unsent     {st.pending:,} ({st.leased:,} being sent)")
    if st.holder is not None:
        typer.echo(f"publisher  {st.holder} (holds the outbox's lease)")
    typer.echo(f"published  {st.published:,} (kept for replays until pruned)")
    if st.oldest_pending is not None:
        typer.echo(f"lag        {st.lag(now):.1f} s (oldest unsent event:"
                   f" {_iso(st.oldest_pending)})")
    else:
        typer.echo("lag        0 s (nothing waits)")
    if st.newest is not None:
        typer.echo(f"newest     {_iso(st.newest)}")


def _iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="seconds")


@app.command()
def tail(subject: Annotated[str, typer.Argument(
            help="A subject, with NATS wildcards: diana.*.points.> , diana.>")] = "diana.>",
         nats: NatsOption = DEFAULT_NATS,
         count: Annotated[int, typer.Option(help="Stop after this many (0: never).",
                                            min=0)] = 0) -> None:
    """Print the live stream, one `subject json` line per event."""
    _run(_tail(subject, nats, count))


async def _tail(subject: str, url: str, count: int) -> None:
    broker = JetStream(url)
    try:
        await broker.connect()
    except BrokerError as exc:
        raise _fail(str(exc), 2) from None
    stop = asyncio.Event()
    seen = 0

    async def show(msg) -> None:
        nonlocal seen
        if count and seen >= count:
            return
        typer.echo(f"{msg.subject} {msg.data.decode(errors='replace')}")
        seen += 1
        if count and seen >= count:
            stop.set()

    _stop_on_signals(stop.set)
    try:
        await broker.client.subscribe(subject, cb=show)
        await broker.client.flush()
        typer.echo(f"tailing {subject} on {url} (Ctrl-C stops)", err=True)
        await stop.wait()
    finally:
        await broker.close()


@app.command()
def replay(since: Annotated[str, typer.Option(
               "--since", help="From when: an age back from now (2h, 7d) or an ISO"
               " date-time.", metavar="T")],
           db: DbOption = DEFAULT_DB, nats: NatsOption = DEFAULT_NATS) -> None:
    """Send again every event the outbox still holds from T on, in order.

    The broker drops those it still has (within its de-duplication window); consumers skip
    what they saw."""
    try:
        when = moment(since, time.time())
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    _run(_replay(db, nats, when))


async def _replay(db: str, url: str, when: float) -> None:
    from engine.outbox.publisher import replay as send_again

    source = await _outbox(db)
    broker = JetStream(url)
    try:
        sent, dups = await send_again(source, broker, when)
    except (BrokerError, StoreError) as exc:
        raise _fail(str(exc), 1) from None
    finally:
        await broker.close()
        await source.close()
    typer.echo(f"{sent} events sent again since {_iso(when)} ({dups} the broker still had)")


@app.command()
def prune(db: DbOption = DEFAULT_DB, retention: RetentionOption = DEFAULT_RETENTION) -> None:
    """Delete published events older than the retention (unsent ones are always kept)."""
    try:
        keep = age(retention)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    _run(_prune(db, keep))


async def _prune(db: str, keep: float) -> None:
    source = await _outbox(db)
    try:
        n = await source.prune(time.time() - keep)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        await source.close()
    typer.echo(f"{n} published events older than {keep / 86400:g} days deleted")


@app.command()
def sink(db: Annotated[Path, typer.Option("--db", help="The stats database (SQLite) the"
                                          " sink keeps.", metavar="FILE")],
         game: Annotated[str, typer.Option(help="The game's token in the subjects (diana"
                                           " events tail shows it).")],
         nats: NatsOption = DEFAULT_NATS,
         durable: Annotated[str, typer.Option(help="The JetStream consumer's name: a sink"
                                              " restarted goes on where it stopped.")]
         = "diana-sink") -> None:
    """Keep stats tables from the stream (one real consumer).

    Players, points, levels, fragments, achievements; events it cannot handle go to the
    dead-letter subject `dlq.<subject>`."""
    _run(_sink(db, game, nats, durable))


async def _sink(path: Path, game: str, url: str, durable: str) -> None:
    from engine.outbox.sink import Stats, consume

    stats = Stats(path)
    broker = JetStream(url)
    stop = asyncio.Event()
    _stop_on_signals(stop.set)
    try:
        await consume(broker, stats, game, durable=durable, stop=stop)
    except BrokerError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        await broker.close()
        stats.close()
