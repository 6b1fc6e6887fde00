"""Any number of processes on one SQLite file: slower than one, never wrong."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from prockit import kill_group, spawn

from engine.store.sqlite.check import check

WORKER = Path(__file__).resolve().parent / "store_multi_worker.py"


def run_workers(db: Path, workers: int, players: int, rounds: int, writer: str) -> None:
    procs = [spawn([sys.executable, str(WORKER), str(db), f"w{n}", str(players), str(rounds),
                    writer], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for n in range(workers)]
    try:
        outputs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            kill_group(p)
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0 and out.strip().endswith("done"), out


# The race to create the file is over in a moment: several rounds give it several chances.
@pytest.mark.parametrize("writer", ["thread", "thread", "process"])
def test_processes_race_to_create_and_then_share_one_file(tmp_path, writer):
    db = tmp_path / "shared.sqlite3"
    workers, players, rounds = 4, 3, 30
    run_workers(db, workers, players, rounds, writer)
    report = check(db)
    assert report.ok, report.problems
    conn = sqlite3.connect(db)
    try:
        (shared,) = conn.execute(
            "SELECT s.points FROM saves s JOIN players p ON p.id = s.player"
            " WHERE p.external_id = 'shared'").fetchone()
        assert shared == workers * rounds
        # Every action of every own player was applied exactly once.
        (applied,) = conn.execute(
            "SELECT count(*) FROM applied_actions WHERE key NOT LIKE 'shared:%'").fetchone()
        assert applied == workers * players * rounds
    finally:
        conn.close()
