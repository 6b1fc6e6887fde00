"""The whole bot stack under N simulated players: the Bot API emulator (in this process, its
own thread) + the real bot (`diana bot run`, a subprocess long polling the emulator over
HTTP) + SQLite in a temporary directory, playing the sample story (content/ + rules/).

Run: python bench/bot_bench.py [--players 100,1000,10000] [--duration S] [--warmup S]
                               [--repeat R] [--seed N] [--think S] [--pages new|edit]
                               [--durability full|normal] [--against REF]
                               [--stacks sqlite,pg:2 --pg URL]
                               [--outbox off,on,publish,outage]

--stacks runs each N on several stacks in turn, each on a fresh database, and prints
their medians side by side with ratios against the first: `sqlite` (one process, long
polling: the default), `sqlite-webhook` (one process, updates posted to its webhook),
`pg:K` (`diana bot webhook --workers K` on a new database of the PostgreSQL server --pg
names, dropped after; updates posted to the shared port, which the kernel spreads over
the workers). In webhook stacks the emulator posts each update at once, concurrently
(Telegram's own delivery is not modelled), and `batch` means nothing.

Each player sends /start, then taps a random open button of each page as soon as the page
arrives, or after --think S seconds on average (exponential) to model reading time (closed
loop: one update in flight per player; at an ending, "Play again"). With no think time the
N players keep the bot saturated and latency is about N / throughput; with think time the
offered load is about N / (S + latency) updates/s. --pages and --durability choose the
bot's DIANA_PAGES and DIANA_DURABILITY (revisions older than the setting ignore it). The
players live in the emulator's event loop: a bot reply is seen the moment the emulator
handles the bot's HTTP request, and the next tap is injected from there.

Per run, over the measuring window (after the warm-up, which lasts until every player has
had a first page; the updates whose reply or page arrives in the window):

- updates/s: updates whose page arrived in the window, per second (closed loop: N players
  / updates/s is about the page latency);
- reply p50/p99: injection (the update queued for getUpdates) to the bot's first reply in
  that chat (sendMessage, sendPhoto, editMessageText or editMessageReplyMarkup, as the
  emulator receives it);
- page p50/p99: injection to the next page (the message carrying the keyboard);
- where the time goes: getUpdates calls and mean batch size, CPU seconds of the bot process
  and of this process (the emulator and the players), the load average.

Each N runs --repeat times on a fresh stack (new emulator, bot, database); the medians are
printed. --against REF runs the bot of a git revision in turn with this one and prints
the ratios of the medians. The bot's per-user rate limit is lifted (DIANA_RATE_LIMIT) so it
does not distort the figures. Target from the bot issue: >= 1,000 updates/s with p99 < 50 ms
at 1,000 players. 1,000 players make 1,000 updates/s when each taps about once a second:
`--players 1000 --think 0.9` (about 1,100 updates/s offered). With no think time the
players keep every update queued and the latency is about 1,000 / throughput (0.8 s at
1,250 updates/s), whatever the bot does; the verdict line judges any run at 1,000 players
by its page p99.

--outbox off,on,publish,outage runs each N under each of those settings in turn (alternating
which goes first) and prints the ratios of the medians to the first: `off` is
DIANA_OUTBOX=off (no events written), `on` the default (every action's events written to
the outbox in its transaction, nobody sends them), `publish` also the bot's own publisher
sending them to a private nats-server with JetStream (DIANA_EVENTS), `outage` the same
with that server stopped for the whole measuring window (started again after the run):
the circuit breaker's case, where the bot should answer as fast as ever. Target from the
event-stream issue: the outbox costs at most 10 % of the updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import FULL_COLLECTION_EVERY  # noqa: E402
from bot.testing.emulator import Emulator, EmulatorThread  # noqa: E402

FIRST_ID = 10_000_000
STALL = 60.0  # a player whose page has not come this long sends /start again


@dataclass
class PlayerState:
    id: int
    pages: int = 0
    injected: float = 0.0  # when the in-flight update was queued
    replied: bool = True
    waiting: bool = False  # for a page


@dataclass
class Stats:
    start: float = float("inf")  # of the measuring window
    end: float = float("inf")
    first_pages: int = 0  # players who have had their first page
    reply: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)
    stalls: int = 0


class BenchEmulator(Emulator):
    """The emulator with the players inside: its Bot API handlers report each reply."""

    def __init__(self, players: int, seed: int, think: float = 0.0,
                 webhook_port: int | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.webhook_port = webhook_port  # None: the bot long-polls
        self._client: Any = None
        self.rng = random.Random(seed)
        self.think = think
        self.players = {FIRST_ID + i: PlayerState(FIRST_ID + i) for i in range(players)}
        for pid in self.players:
            self.user(pid, f"P{pid - FIRST_ID}")
        self.stats = Stats()
        self.running = False

    # -- webhook delivery ---------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> int:
        if self.webhook_port is None:
            return super()._push(update)
        with self.lock:
            update = {"update_id": next(self._update_ids), **update}
            self.history[update["update_id"]] = copy.deepcopy(update)
        asyncio.get_running_loop().create_task(self._post(update))
        return update["update_id"]

    async def _post(self, update: dict[str, Any]) -> None:
        import aiohttp

        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256))
        try:
            async with self._client.post(
                    f"http://127.0.0.1:{self.webhook_port}/webhook", json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as r:
                await r.read()
        except (aiohttp.ClientError, OSError):
            pass  # a lost update: the player's watchdog sends /start again after STALL

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        await super().stop()

    # -- the players --------------------------------------------------------------------

    def _inject(self, p: PlayerState, what: str, message_id: int = 0) -> None:
        if not self.running:
            p.waiting = False
            return
        p.injected, p.replied, p.waiting = time.monotonic(), False, True
        if what == "/start":
            self.send_text(p.id, "/start")
        else:
            self.press(p.id, message_id, what, check=False)

    def begin(self) -> None:
        """Every player sends /start (called in the emulator's loop)."""
        self.running = True
        for p in self.players.values():
            self._inject(p, "/start")
        asyncio.get_running_loop().call_later(1.0, self._watchdog)

    def _watchdog(self) -> None:
        if not self.running:
            return
        now = time.monotonic()
        for p in self.players.values():
            if p.waiting and now - p.injected > STALL:
                self.stats.stalls += 1
                self._inject(p, "/start")
        asyncio.get_running_loop().call_later(1.0, self._watchdog)

    def _reply(self, result: dict[str, Any]) -> None:
        p = self.players.get(result["chat"]["id"])
        if p is None or not p.waiting:
            return
        now = time.monotonic()
        counted = self.stats.start <= now <= self.stats.end
        if not p.replied:
            p.replied = True
            if counted:
                self.stats.reply.append(now - p.injected)
        rows = (result.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row
                   if str(b.get("callback_data", "")).startswith(("c:", "r:"))
                   and not b["text"].startswith("🔒")]
        if not buttons:
            return  # a notice, the old page losing its keyboard, a part of a long page
        p.waiting = False
        p.pages += 1
        if p.pages == 1:
            self.stats.first_pages += 1
        if counted:
            self.stats.page.append(now - p.injected)
        data = self.rng.choice(buttons)["callback_data"]
        delay = self.rng.expovariate(1 / self.think) if self.think else 0.0
        asyncio.get_running_loop().call_later(delay, self._inject, p, data,
                                              result["message_id"])

    # -- Bot API methods that reply ------------------------------------------------------

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super().api_sendmessage(params)
        self._reply(result)
        return result

    def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super().api_sendphoto(params)
        self._reply(result)
        return result

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super().api_editmessagetext(params)
        self._reply(result)
        return result

    def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super().api_editmessagereplymarkup(params)
        self._reply(result)
        return result


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and of its children still running (a supervisor's
    workers)."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    own = (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(k)) for k in kids)


def listeners(port: int) -> int:
    """Sockets listening on 127.0.0.1:port: one per webhook worker."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == f"0100007F:{port:04X}"
               and line.split()[3] == "0A")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WEBHOOK_SECRET = "bench-secret"


@dataclass(frozen=True)
class Stack:
    """Where the bot runs: its database and how updates reach it."""

    name: str
    backend: str = "sqlite"  # or "pg"
    webhook: bool = False
    workers: int = 1


def parse_stack(text: str) -> Stack:
    text = text.strip()
    if text == "sqlite":
        return Stack("sqlite, 1 process, polling")
    if text == "sqlite-webhook":
        return Stack("sqlite, 1 process, webhook", webhook=True)
    if text.startswith("pg:") and text[3:].isdigit() and int(text[3:]) >= 1:
        k = int(text[3:])
        return Stack(f"postgresql, {k} worker{'s' if k > 1 else ''}, webhook", "pg", True, k)
    raise SystemExit(f"--stacks: {text!r} is not sqlite, sqlite-webhook or pg:K")


class PgDatabase:
    """A new database on the --pg server with the schema applied; dropped on exit."""

    def __init__(self, server: str) -> None:
        from urllib.parse import urlsplit, urlunsplit

        self.server = server
        self.name = f"diana_bench_{secrets.token_hex(5)}"
        self.url = urlunsplit(urlsplit(server)._replace(path=f"/{self.name}"))

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def __enter__(self) -> str:
        from engine.store.open import upgrade

        asyncio.run(self._admin(f'CREATE DATABASE "{self.name}"'))
        asyncio.run(upgrade(self.url))
        return self.url

    def __exit__(self, *exc: object) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def one_run(players: int, duration: float, warmup: float, seed: int,
            profile: str | None = None, code: Path = ROOT, think: float = 0.0,
            pages: str = "new", durability: str = "full", stack: Stack = Stack("sqlite"),
            pg: str | None = None, outbox: str = "on", nats: str | None = None,
            measuring: Any = None) -> dict[str, float]:
    if stack.backend == "pg":
        if pg is None:
            raise SystemExit("--stacks pg:K needs --pg postgresql://… (a server to create"
                             " a database on)")
        with PgDatabase(pg) as url:
            return _one_run(players, duration, warmup, seed, profile, code, think, pages,
                            durability, stack, url, outbox, nats, measuring)
    return _one_run(players, duration, warmup, seed, profile, code, think, pages,
                    durability, stack, None, outbox, nats, measuring)


def _one_run(players: int, duration: float, warmup: float, seed: int,
             profile: str | None, code: Path, think: float, pages: str, durability: str,
             stack: Stack, db_url: str | None, outbox: str = "on", nats: str | None = None,
             measuring: Any = None) -> dict[str, float]:
    et = EmulatorThread()
    port = free_port() if stack.webhook else None
    emu = BenchEmulator(players, seed, think, webhook_port=port, callback_timeout=60)
    et.emulator = emu
    with tempfile.TemporaryDirectory(prefix="diana-bot-bench-") as tmp, et:
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": db_url or str(Path(tmp) / "bench.sqlite3"),
               "DIANA_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "DIANA_CONTENT": str(ROOT / "content"), "DIANA_ADMINS": "",
               "DIANA_LOG_LEVEL": "WARNING", "DIANA_RATE_LIMIT": "1000000/1",
               "DIANA_ENV_FILE": str(Path(tmp) / "none.env"), "PYTHONPATH": str(code),
               "DIANA_PAGES": pages, "DIANA_DURABILITY": durability,
               "DIANA_OUTBOX": "off" if outbox == "off" else "on"}
        env.pop("DIANA_EVENTS", None)
        if outbox in ("publish", "outage"):
            assert nats is not None
            env["DIANA_EVENTS"] = nats
        log = Path(tmp) / "bot.log"
        with log.open("wb") as out:
            prof = ["-m", "cProfile", "-o", profile] if profile else []
            command = (["bot", "webhook", "--port", str(port), "--workers",
                        str(stack.workers)] if stack.webhook else ["bot", "run"])
            proc = subprocess.Popen([sys.executable, *prof, "-m", "cli.main", *command],
                                    cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not (listeners(port) == stack.workers if port else emu.polls):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the bot did not start:\n{log.read_text()}")
                time.sleep(0.05)
            bot_cpu0, own_cpu0 = cpu_seconds(proc.pid), time.process_time()
            polls0 = emu.polls
            assert emu._loop is not None
            emu._loop.call_soon_threadsafe(emu.begin)
            t0 = time.monotonic()
            time.sleep(warmup)
            while emu.stats.first_pages < players and time.monotonic() - t0 < 300:
                time.sleep(0.1)  # the warm-up lasts until every player has had a page
            ramp = time.monotonic() - t0
            with emu.lock:
                updates0, calls0 = len(emu.history), len(emu.calls)
            polls0, bot_cpu0, own_cpu0 = emu.polls, cpu_seconds(proc.pid), time.process_time()
            emu.stats.start = time.monotonic()
            if measuring is not None:
                measuring()  # (the outage mode stops the broker here)
            emu.stats.end = emu.stats.start + duration
            time.sleep(duration)
            emu.running = False
            bot_cpu, own_cpu = cpu_seconds(proc.pid) - bot_cpu0, time.process_time() - own_cpu0
            polls = emu.polls - polls0
            load = os.getloadavg()[0]
            with emu.lock:
                updates, calls = len(emu.history) - updates0, len(emu.calls) - calls0
            lines = log.read_text(errors="replace").splitlines()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        errors = [line for line in lines if " ERROR " in line]  # before the shutdown
        for line in sorted({e.split(": ", 1)[-1][:200] for e in errors})[:3]:
            print(f"  bot error ({players} players): {line}", file=sys.stderr)
    s = emu.stats
    return {"updates/s": len(s.page) / duration, "reply_p50": pct(s.reply, 0.5) * 1e3,
            "reply_p99": pct(s.reply, 0.99) * 1e3, "page_p50": pct(s.page, 0.5) * 1e3,
            "page_p99": pct(s.page, 0.99) * 1e3, "ramp": ramp,
            "batch": updates / max(polls, 1), "calls/upd": calls / max(updates, 1),
            "bot_cpu": bot_cpu / duration, "emu_cpu": own_cpu / duration, "load1": load,
            "stalls": float(s.stalls), "errors": float(len(errors))}


COLUMNS = (("updates/s", "{:>9.0f}"), ("reply_p50", "{:>9.1f}"), ("reply_p99", "{:>9.1f}"),
           ("page_p50", "{:>8.1f}"), ("page_p99", "{:>8.1f}"), ("ramp", "{:>5.1f}"),
           ("batch", "{:>6.1f}"), ("calls/upd", "{:>9.1f}"),
           ("bot_cpu", "{:>7.2f}"), ("emu_cpu", "{:>7.2f}"), ("load1", "{:>6.2f}"),
           ("stalls", "{:>6.0f}"), ("errors", "{:>6.0f}"))


def against(ref: str, counts: list[int], args: argparse.Namespace) -> None:
    """Each N: REF's bot and the working tree's in turn (alternating which goes first),
    against the same emulator code, so both see the same machine load."""
    base = Path(tempfile.mkdtemp(prefix="diana-against-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(base), ref], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        versions = [(ref, base), ("working tree", ROOT)]
        for n in counts:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in versions}
            for i in range(args.repeat):
                for name, code in versions if i % 2 == 0 else versions[::-1]:
                    runs[name].append(one_run(n, args.duration, args.warmup, args.seed + i,
                                              code=code, think=args.think, pages=args.pages,
                                              durability=args.durability))
            med = {name: {k: statistics.median(r[k] for r in rs) for k, _ in COLUMNS}
                   for name, rs in runs.items()}
            for name, m in med.items():
                print(f"{n:>8} " + " ".join(fmt.format(m[k]) for k, fmt in COLUMNS)
                      + f"  {name}", flush=True)
            old, new = med[ref], med["working tree"]
            print(f"{'ratio':>8} {new['updates/s'] / old['updates/s']:>8.2f}x"
                  + "".join(f" {old[k] / new[k]:>8.2f}x" for k in
                            ("reply_p50", "reply_p99", "page_p50", "page_p99"))
                  + "  (throughput new/old; latency old/new: > 1 is better)", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                       capture_output=True)


def compare(n: int, stacks: list[Stack], args: argparse.Namespace) -> None:
    """Each stack in turn (alternating the order per repeat, so that all see the same
    machine load), medians side by side, ratios against the first stack."""
    runs: dict[str, list[dict[str, float]]] = {s.name: [] for s in stacks}
    for i in range(args.repeat):
        for stack in stacks if i % 2 == 0 else stacks[::-1]:
            runs[stack.name].append(one_run(n, args.duration, args.warmup, args.seed + i,
                                            think=args.think, pages=args.pages,
                                            durability=args.durability, stack=stack,
                                            pg=args.pg))
    med = {name: {k: statistics.median(r[k] for r in rs) for k, _ in COLUMNS}
           for name, rs in runs.items()}
    base = stacks[0].name
    for name, m in med.items():
        print(f"{n:>8} " + " ".join(fmt.format(m[k]) for k, fmt in COLUMNS) + f"  {name}",
              flush=True)
    for name, m in med.items():
        if name == base:
            continue
        b = med[base]
        print(f"{'ratio':>8} {m['updates/s'] / b['updates/s']:>8.2f}x"
              + "".join(f" {b[k] / m[k]:>8.2f}x" for k in
                        ("reply_p50", "reply_p99", "page_p50", "page_p99"))
              + f"  ({name} against {base}: throughput; latency {base}/{name}, > 1 is"
              " better)", flush=True)


def outbox_modes(counts: list[int], modes: list[str], args: argparse.Namespace) -> None:
    """Each N under each outbox setting in turn, on the same machine load."""
    import shutil
    import socket

    nats = None
    tmp = Path(tempfile.mkdtemp(prefix="diana-bench-nats-"))
    servers: list[subprocess.Popen] = []

    def start_server() -> None:
        servers.append(subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port),
                                         "-sd", str(tmp)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        time.sleep(0.5)

    def stop_server() -> None:
        while servers:
            proc = servers.pop()
            proc.kill()
            proc.wait(10)

    if {"publish", "outage"} & set(modes):
        binary = shutil.which("nats-server")
        if binary is None:
            raise SystemExit("--outbox publish and outage need the nats-server binary")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        nats = f"nats://127.0.0.1:{port}"
        start_server()
    try:
        for n in counts:
            runs: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
            for i in range(args.repeat):
                for mode in modes if i % 2 == 0 else modes[::-1]:
                    runs[mode].append(one_run(n, args.duration, args.warmup, args.seed + i,
                                              think=args.think, pages=args.pages,
                                              durability=args.durability, outbox=mode,
                                              nats=nats, measuring=stop_server
                                              if mode == "outage" else None))
                    if not servers and nats is not None:
                        start_server()
            med = {m: {k: statistics.median(r[k] for r in rs) for k, _ in COLUMNS}
                   for m, rs in runs.items()}
            for m in modes:
                print(f"{n:>8} " + " ".join(fmt.format(med[m][k]) for k, fmt in COLUMNS)
                      + f"  outbox {m}", flush=True)
            base = med[modes[0]]
            for m in modes[1:]:
                ratio = med[m]["updates/s"] / base["updates/s"]
                target = ("page p99 <= 2x" if m == "outage" else ">= 0.90x updates/s")
                # On a machine shared with other work the bot gets what CPU is left: its
                # CPU seconds per update compare the settings when updates/s cannot.
                cost = ((med[m]["bot_cpu"] / med[m]["updates/s"])
                        / (base["bot_cpu"] / base["updates/s"]))
                print(f"{'ratio':>8} {ratio:>8.2f}x updates/s, page p99"
                      f" {med[m]['page_p99'] / base['page_p99']:.2f}x, bot CPU per update"
                      f" {cost:.2f}x: outbox {m} / {modes[0]} (target: {target})", flush=True)
    finally:
        stop_server()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--players", default="100,1000,10000",
                    help="comma-separated player counts (default 100,1000,10000)")
    ap.add_argument("--duration", type=float, default=10.0, help="measuring window, seconds")
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds before measuring, at least until every player has had a"
                         " page (the `ramp` column)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per player count")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--think", type=float, default=0.0, metavar="S",
                    help="mean seconds a player reads a page before tapping (exponential;"
                         " default 0: tap at once)")
    ap.add_argument("--pages", choices=("new", "edit"), default="new",
                    help="the bot's DIANA_PAGES mode")
    ap.add_argument("--durability", choices=("full", "normal"), default="full",
                    help="the bot's DIANA_DURABILITY")
    ap.add_argument("--against", metavar="REF",
                    help="also run the bot of a git revision, in turn with this one, and"
                         " print the ratios")
    ap.add_argument("--outbox", metavar="MODES",
                    help="comma-separated outbox settings to compare: off, on, publish,"
                         " outage (see above)")
    ap.add_argument("--stacks", default="sqlite",
                    help="comma-separated stacks run in turn for each N: sqlite,"
                         " sqlite-webhook, pg:K (K workers; needs --pg); default sqlite")
    ap.add_argument("--pg", metavar="URL",
                    help="PostgreSQL server for pg:K stacks (a database is created and"
                         " dropped per run), e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--profile", metavar="PATH",
                    help="run the bot under cProfile, writing PATH (its main thread only)")
    args = ap.parse_args()
    # This process is Telegram's side: its pauses must not count as the bot's latency. Its
    # full collections walk every message and call it has recorded, and took up to 290 ms
    # (measured); with the bot's own setting (bot/app.py) none ran in a 13 s run.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    counts = [int(x.replace("_", "")) for x in args.players.split(",") if x.strip()]
    print(f"bot bench: sample story, {args.repeat} run(s) of {args.warmup:g}+"
          f"{args.duration:g} s per N; pages={args.pages}, durability={args.durability},"
          f" think {args.think:g} s; medians;"
          f" latencies in ms; cpu in cores; {os.cpu_count()} CPUs")
    print(f"{'players':>8} " + " ".join(f"{name:>{len(fmt.format(0))}}"
                                          for name, fmt in COLUMNS))
    if args.against:
        against(args.against, counts, args)
        return
    if args.outbox:
        modes = [m.strip() for m in args.outbox.split(",") if m.strip()]
        if not modes or any(m not in ("off", "on", "publish", "outage") for m in modes):
            raise SystemExit("--outbox takes off, on, publish and/or outage")
        outbox_modes(counts, modes, args)
        return
    stacks = [parse_stack(x) for x in args.stacks.split(",") if x.strip()]
    if len(stacks) > 1 or stacks[0].backend != "sqlite" or stacks[0].webhook:
        for n in counts:
            compare(n, stacks, args)
        return
    for n in counts:
        runs = [one_run(n, args.duration, args.warmup, args.seed + i, args.profile,
                        think=args.think, pages=args.pages, durability=args.durability)
                for i in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k, _ in COLUMNS}
        print(f"{n:>8} " + " ".join(fmt.format(med[k]) for k, fmt in COLUMNS), flush=True)
        if n == 1000:
            met = med["updates/s"] >= 1000 and med["page_p99"] < 50
            print(f"target (>= 1,000 updates/s, page p99 < 50 ms at 1,000 players):"
                  f" {'met' if met else 'not met'} ({med['updates/s']:,.0f} updates/s,"
                  f" page p99 {med['page_p99']:.1f} ms)", flush=True)


if __name__ == "__main__":
    main()
