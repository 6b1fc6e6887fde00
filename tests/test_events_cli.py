"""`diana events status | publish --once | replay | prune | tail`, and their refusals."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

from eventkit import database, outbox, pending, play
from natskit import nats_server
from prockit import kill_group, spawn
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def diana(*args: str):
    return runner.invoke(app, list(args), env={"DIANA_ENV_FILE": os.devnull})


def test_status_publish_replay_prune_and_tail(tmp_path):
    with nats_server(tmp_path) as server, database("sqlite", tmp_path) as db:
        asyncio.run(play(db, players=2, actions=6))
        n = len(outbox(db))
        r = diana("events", "status", "--db", db, "--json")
        assert r.exit_code == 0, r.output
        st = json.loads(r.output)
        assert (st["pending"], st["published"]) == (n, 0) and st["lag_seconds"] >= 0

        tail = spawn([sys.executable, "-m", "cli.main", "events", "tail", "diana.*.choice.>",
                      "--nats", server.url, "--count", "2"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, env={**os.environ, "DIANA_ENV_FILE": os.devnull})
        try:
            assert tail.stderr is not None
            assert tail.stderr.readline().startswith(b"tailing diana.*.choice.>")
            r = diana("events", "publish", "--db", db, "--nats", server.url, "--once")
            assert r.exit_code == 0, r.output
            assert r.output.startswith(f"{n} events published (0 ")
            out, _ = tail.communicate(timeout=20)
            assert tail.returncode == 0
        finally:
            kill_group(tail)
        lines = out.decode().splitlines()
        assert len(lines) == 2
        assert all(line.split(" ", 1)[0].endswith(".choice.taken") for line in lines)
        assert pending(db) == 0

        r = diana("events", "replay", "--since", "1h", "--db", db, "--nats", server.url)
        assert r.exit_code == 0, r.output
        assert f"{n} events sent again" in r.output and f"({n} the broker still had)" in r.output

        r = diana("events", "prune", "--db", db, "--retention", "1h")
        assert r.exit_code == 0 and r.output.startswith("0 published events")
        time.sleep(0.01)
        r = diana("events", "prune", "--db", db, "--retention", "0s")
        assert r.exit_code == 0 and r.output.startswith(f"{n} published events")
        assert outbox(db) == []


def test_bad_arguments_are_one_sentence_and_exit_2(tmp_path):
    r = diana("events", "status", "--db", str(tmp_path / "nope.sqlite3"))
    assert r.exit_code == 2 and "no such database file" in r.output
    r = diana("events", "replay", "--since", "yesterday", "--db", str(tmp_path / "x"))
    assert r.exit_code == 2 and "neither an age" in r.output
    r = diana("events", "prune", "--retention", "forever")
    assert r.exit_code == 2 and "not an age" in r.output
    r = diana("events", "tail", "--nats", "nats://127.0.0.1:1")
    assert r.exit_code == 2 and "does not answer" in r.output
