"""Kill a writing process with SIGKILL at random moments: nothing acknowledged is lost,
nothing is applied twice, and `db check` passes after every restart. On SQLite one writer
at a time; on PostgreSQL two at once on the same players, each killed at its own moment."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pgkit
import pytest
from prockit import group
from storekit import next_action, sample_game

from engine.store import SqliteStore, postgres
from engine.store.open import open_store
from engine.store.sqlite import WRITERS
from engine.store.sqlite.check import check

WORKER = Path(__file__).resolve().parent / "store_crash_worker.py"
ROOT = Path(__file__).resolve().parents[1]


def _run_and_kill(db: Path, run: str, delay: float, writer: str) -> list[str]:
    out: list[bytes] = []
    ready = threading.Event()
    with group([sys.executable, str(WORKER), str(db), run, writer], cwd=ROOT,
               stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line == b"ready\n":
                    ready.set()
                out.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert ready.wait(30), proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)  # the worker alone: its writer process finishes
        proc.wait()
        reader.join(5)
    assert proc.returncode == -signal.SIGKILL
    # a line cut by the kill has no newline: it was not acknowledged to us
    return [b.decode().strip() for b in out if b.endswith(b"\n") and b != b"ready\n"]


# With the writer process, the kill leaves it to finish (or not) the batch it is writing
# and exit: what it commits then was never acknowledged, and is whole or absent.
@pytest.mark.parametrize("writer", WRITERS)
def test_sigkill_loses_no_acknowledged_action(tmp_path, writer):
    db = tmp_path / "crash.db"
    rnd = random.Random()
    acked: list[str] = []
    for run in range(5):
        keys = _run_and_kill(db, f"r{run}", rnd.uniform(0.2, 1.2), writer)
        assert keys, "the worker acknowledged nothing"
        acked += keys
        report = check(db)
        assert report.ok, report.problems
        with sqlite3.connect(db) as conn:
            stored = {k for (k,) in conn.execute("SELECT key FROM applied_actions")}
        missing = [k for k in acked if k not in stored]
        assert not missing, f"run {run}: {len(missing)} acknowledged keys lost: {missing[:5]}"

    async def replay() -> None:
        async with await SqliteStore.open(db, sample_game()) as store:
            for key in rnd.sample(acked, 20):
                name = key.split(":")[1]
                if int(key.split(":")[2]) % 7 == 3:
                    result = await store.grant(name, 1, "again", key=key)
                else:
                    state = await store.state(name)
                    result = await store.apply(name, next_action(store.game, state), key)
                assert result.replayed, key

    asyncio.run(replay())
    assert check(db).ok


def _kill_together(db: str, runs: list[str], delays: list[float]) -> list[str]:
    """Start one worker per run at once, SIGKILL each after its delay (counted from when
    all are ready); the keys they acknowledged."""
    out: dict[str, list[bytes]] = {r: [] for r in runs}
    ready = {r: threading.Event() for r in runs}
    with contextlib.ExitStack() as stack:
        procs = {r: stack.enter_context(group(
            [sys.executable, str(WORKER), db, r], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)) for r in runs}

        def read(run: str) -> None:
            stream = procs[run].stdout
            assert stream is not None
            for line in stream:
                if line == b"ready\n":
                    ready[run].set()
                out[run].append(line)

        readers = [threading.Thread(target=read, args=(r,), daemon=True) for r in runs]
        for t in readers:
            t.start()
        for r in runs:
            assert ready[r].wait(30), procs[r].stderr.read().decode()  # type: ignore[union-attr]
        began = time.monotonic()
        for r, delay in sorted(zip(runs, delays, strict=True), key=lambda x: x[1]):
            time.sleep(max(0.0, began + delay - time.monotonic()))
            os.kill(procs[r].pid, signal.SIGKILL)
        for r in runs:
            procs[r].wait()
            assert procs[r].returncode == -signal.SIGKILL
        for t in readers:
            t.join(5)
    return [b.decode().strip() for r in runs for b in out[r]
            if b.endswith(b"\n") and b != b"ready\n"]


def test_sigkill_of_postgresql_writers_loses_no_acknowledged_action():
    rnd = random.Random()
    acked: list[str] = []
    with pgkit.scratch_database() as url:
        for run in range(4):
            runs = [f"r{run}a", f"r{run}b"]
            keys = _kill_together(url, runs, [rnd.uniform(0.2, 1.2) for _ in runs])
            assert keys, "the workers acknowledged nothing"
            acked += keys
            report = postgres.check(url)
            assert report.ok, report.problems
            stored = {k for (k,) in pgkit.rows(url, "SELECT key FROM applied_actions")}
            missing = [k for k in acked if k not in stored]
            assert not missing, f"run {run}: {len(missing)} acknowledged keys lost: {missing[:5]}"
            twice = pgkit.rows(url, "SELECT key FROM events WHERE key IS NOT NULL"
                                    " GROUP BY key HAVING count(*) > 1")
            assert not twice, f"applied more than once: {twice[:5]}"

        async def replay() -> None:
            store = await open_store(url, sample_game())
            try:
                for key in rnd.sample(acked, 20):
                    name = key.split(":")[1]
                    if int(key.split(":")[2]) % 7 == 3:
                        result = await store.grant(name, 1, "again", key=key)
                    else:
                        state = await store.state(name)
                        result = await store.apply(name, next_action(store.game, state), key)
                    assert result.replayed, key
            finally:
                await store.close()

        asyncio.run(replay())
        assert postgres.check(url).ok
