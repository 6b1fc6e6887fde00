"""Several bot workers in webhook mode against the Bot API emulator, every update posted
to two of them at once (as a retrying Telegram or a load balancer replaying a request
would), and players who tap as soon as each page arrives."""

from __future__ import annotations

import asyncio
import copy
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prockit import spawn

from bot.testing.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
SECRET = "fault-test-secret"
FIRST_ID = 20_000_000
STALL = 3.0  # a player whose page has not come this long sends /start again


@dataclass
class Player:
    id: int
    waiting: str | None = None  # the callback query id (or "/start") awaiting its page
    since: float = 0.0
    taps: int = 0
    resends: int = 0
    # the callback query ids of the taps made on a page of each turn
    taps_at: dict[int, list[str]] = field(default_factory=dict)
    # turns whose action the player saw applied: a page of the next turn arrived (only
    # one action can be applied at a turn, and only this player's taps act on it)
    acked: set[int] = field(default_factory=set)
    turns: list[int] = field(default_factory=list)  # the turn of each page received


class TwiceEmulator(Emulator):
    """Posts each update to two different workers (ports) at once; its players play."""

    def __init__(self, players: int, taps: int, ports: list[int], seed: int = 7,
                 **options: Any) -> None:
        super().__init__(**options)
        self.ports = ports
        self.taps = taps
        self.rng = random.Random(seed)
        self.players = {FIRST_ID + i: Player(FIRST_ID + i) for i in range(players)}
        for pid in self.players:
            self.user(pid, f"P{pid - FIRST_ID}")
        self.running = False
        self.posted = 0
        self.refused = 0  # copies a worker did not take (killed, restarting)
        self._client: aiohttp.ClientSession | None = None

    def _push(self, update: dict[str, Any]) -> int:
        with self.lock:
            update = {"update_id": next(self._update_ids), **update}
            self.history[update["update_id"]] = copy.deepcopy(update)
        n = update["update_id"]
        first = n % len(self.ports)
        for i in (first, (first + 1) % len(self.ports)):
            asyncio.get_running_loop().create_task(self._post(self.ports[i], update))
        return n

    async def _post(self, port: int, update: dict[str, Any]) -> None:
        if self._client is None:
            self._client = aiohttp.ClientSession()
        self.posted += 1
        try:
            async with self._client.post(
                    f"http://127.0.0.1:{port}/webhook", json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    timeout=aiohttp.ClientTimeout(total=5)) as r:
                if r.status != 200:
                    self.refused += 1
        except (aiohttp.ClientError, TimeoutError):
            self.refused += 1

    # -- the players (in the emulator's loop) -----------------------------------------------

    def begin(self) -> None:
        self.running = True
        for p in self.players.values():
            self._start(p)
        asyncio.get_running_loop().call_later(0.5, self._watchdog)

    def finish(self) -> None:
        self.running = False

    def _start(self, p: Player) -> None:
        p.waiting, p.since = "/start", time.monotonic()
        self.send_text(p.id, "/start")

    def _watchdog(self) -> None:
        if not self.running:
            return
        now = time.monotonic()
        for p in self.players.values():
            if p.waiting is not None and now - p.since > STALL:
                p.resends += 1
                self._start(p)
        asyncio.get_running_loop().call_later(0.5, self._watchdog)

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super().api_sendmessage(params)
        p = self.players.get(result["chat"]["id"])
        rows = (result.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b["callback_data"] for row in rows for b in row
                   if str(b.get("callback_data", "")).startswith(("c:", "r:"))
                   and not b["text"].startswith("🔒")]
        if p is None or not buttons:
            return result
        turn = int(buttons[0].split(":")[1])
        p.turns.append(turn)
        if turn - 1 in p.taps_at:
            p.acked.add(turn - 1)
        if p.waiting is None:
            return result  # a page nobody asked for: counted, not acted on
        p.waiting = None
        if self.running and p.taps < self.taps:
            p.taps += 1
            data = self.rng.choice(buttons)
            _, qid = self.press(p.id, result["message_id"], data, check=False)
            p.taps_at.setdefault(turn, []).append(qid)
            p.waiting, p.since = qid, time.monotonic()
        return result

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        await super().stop()


def spawn_worker(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return spawn([sys.executable, "-m", "cli.main", "bot", "webhook", "--port", str(port),
                      "--path", "/webhook"], cwd=ROOT, env={**os.environ, **env,
                                                            "DIANA_WEBHOOK_SECRET": SECRET},
                     stdout=out, stderr=subprocess.STDOUT)


def readiness(port: int) -> int:
    """/readyz's HTTP status (0: no answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def ready(port: int) -> bool:
    return readiness(port) == 200


def wait_ready(ports: list[int], procs: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(ready(p) for p in ports):
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError("a worker exited while starting")
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not become ready")
        time.sleep(0.1)
