"""Kill a writing process with SIGKILL at random moments: nothing acknowledged is lost,
nothing is applied twice, and `db check` passes after every restart."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prockit import group
from storekit import sample_game

from engine.store import SqliteStore
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
                    from storekit import next_action
                    state = await store.state(name)
                    result = await store.apply(name, next_action(store.game, state), key)
                assert result.replayed, key

    asyncio.run(replay())
    assert check(db).ok
