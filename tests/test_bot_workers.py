"""Three bot workers on one PostgreSQL (a private cluster: this test restarts it), 200
players tapping at once, every update posted to two workers, one worker SIGKILLed and
started again, the database server restarted once. Afterwards: the database checks
clean, every player's turn equals the actions applied to them (none twice, none lost),
every tap whose next page arrived is applied exactly once, and no page came twice but
after a player's own /start sent again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import pgkit
import pytest
from clusterkit import Cluster, free_port
from prockit import kill_group
from storekit import sample_game
from workerkit import ROOT, TwiceEmulator, readiness, spawn_worker, wait_ready

from bot.metrics import Metrics
from bot.ratelimit import SharedLimiter
from bot.testing.emulator import EmulatorThread
from engine.store.open import open_store, upgrade
from engine.store.postgres.check import check

PLAYERS = 200
TAPS = 40  # at most, per player; the run is cut by time first


def _applied_and_turns(url: str) -> dict[str, tuple[int, int]]:
    rows = pgkit.rows(url, "SELECT p.external_id, (s.state->>'turn')::int,"
                      " (SELECT count(*) FROM applied_actions a WHERE a.player = p.id"
                      "  AND a.op = 'action' AND a.ok = 1)"
                      " FROM players p JOIN saves s ON s.player = p.id")
    return {ext: (turn, n) for ext, turn, n in rows}


@pytest.fixture(scope="module")
def cluster():
    c = Cluster().start()
    try:
        asyncio.run(upgrade(c.url))
        yield c
    finally:
        c.stop()


def test_three_workers_survive_a_killed_worker_and_a_database_restart(tmp_path, cluster):
    procs: list = []
    try:
        ports = [free_port() for _ in range(3)]
        et = EmulatorThread()
        emu = TwiceEmulator(PLAYERS, TAPS, ports, callback_timeout=60)
        et.emulator = emu
        with et:
            env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
                   "DIANA_DB": cluster.url, "DIANA_CONTENT": str(ROOT / "content"),
                   "DIANA_ADMINS": "", "DIANA_LOG_LEVEL": "INFO",
                   "DIANA_RATE_LIMIT": "1000/1", "DIANA_DRAIN_TIMEOUT": "5",
                   "DIANA_ENV_FILE": str(tmp_path / "none.env")}
            logs = [tmp_path / f"worker{i}.log" for i in range(3)]
            procs = [spawn_worker(p, env, log) for p, log in zip(ports, logs, strict=True)]
            wait_ready(ports, procs)
            assert emu._loop is not None
            emu._loop.call_soon_threadsafe(emu.begin)
            time.sleep(3)
            kill_group(procs[1])  # SIGKILL, mid-run
            procs[1] = spawn_worker(ports[1], env, logs[1])
            wait_ready(ports, procs)
            time.sleep(1)
            cluster.stop_server()
            away = [readiness(p) for p in ports]
            cluster.start()
            wait_ready(ports, procs)  # by themselves: nobody tells them it is back
            time.sleep(4)  # playing on after both faults
            emu._loop.call_soon_threadsafe(emu.finish)
            deadline = time.monotonic() + 15
            while any(p.waiting not in (None, "/start") for p in emu.players.values()) \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # the last copies settle
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(15)
        output = "\n".join(log.read_text(errors="replace") for log in logs)
        report = check(cluster.url)
        assert report.ok, report.problems
        counts = _applied_and_turns(cluster.url)
        assert len(counts) == PLAYERS
        wrong = {ext: c for ext, c in counts.items() if c[0] != c[1]}
        assert not wrong, f"turn != applied actions: {list(wrong.items())[:5]}"
        found = dict(pgkit.rows(cluster.url, "SELECT key, ok FROM applied_actions"
                                " WHERE key LIKE 'tg:cb:%'"))
        acked = [(p, turn) for p in emu.players.values() for turn in p.acked]
        assert len(acked) >= PLAYERS * 3, "too little was played to judge"
        # each tap the player saw applied (a page of the next turn came) is applied once:
        # exactly one of their taps on that turn's page is in the database
        wrong = [(p.id, turn, n) for p, turn in acked
                 if (n := sum(found.get(f"tg:cb:{q}") == 1 for q in p.taps_at[turn])) != 1]
        assert not wrong, (f"{len(wrong)} of {len(acked)} acknowledged turns without exactly"
                           f" one applied tap (player, turn, applied): {wrong[:5]}")
        for p in emu.players.values():
            again = sum(n - 1 for n in Counter(p.turns).values())
            assert again <= p.resends, f"player {p.id} got a page twice: {p.turns}"
        assert all(code == 503 for code in away), away  # not ready while it is down
        assert emu.refused > 0, "no copy met the killed worker"
        told = [c for c in emu.calls if c.method.lower() in ("sendmessage",
                                                             "answercallbackquery")
                and "try again in a moment" in str(c.params.get("text"))]
        assert told, "no player was told to try again while the database was down"
        assert "was handled already or is being handled elsewhere" in output
        assert "Traceback" not in output
    finally:
        for proc in procs:
            kill_group(proc)


def test_the_shared_rate_limit_fails_open_while_the_database_is_away(cluster, caplog):
    metrics = Metrics()

    async def run() -> list[bool]:
        store = await open_store(cluster.url, sample_game())
        limiter = SharedLimiter(store, 2, 60, metrics)
        try:
            seen = [await limiter.allow(1) for _ in range(3)]  # the third is over the limit
            cluster.stop_server()
            seen += [await limiter.allow(1) for _ in range(3)]  # let through
            cluster.start()
            await asyncio.sleep(0.2)  # the pool's next connection finds it back
            seen.append(await limiter.allow(1))  # counted again: over the limit still
            return seen
        finally:
            await store.close()

    with caplog.at_level(logging.INFO, logger="diana.bot"):
        assert asyncio.run(run()) == [True, True, False, True, True, True, False]
    assert metrics.rate_limit_failures._value.get() == 3
    said = [r.getMessage() for r in caplog.records]
    assert sum("shared counter cannot be reached" in m for m in said) == 1
    assert sum("shared counter answers again" in m for m in said) == 1
