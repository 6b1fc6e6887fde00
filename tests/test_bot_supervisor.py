"""`diana bot webhook --workers N`: refused on SQLite; on PostgreSQL, N processes listen
on one port, a dead one is started again, SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pgkit
from clusterkit import free_port
from prockit import kill_group, spawn
from typer.testing import CliRunner

from bot.testing import EmulatorThread
from cli.main import app

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:" + "A" * 35


def test_several_workers_are_refused_on_sqlite(tmp_path):
    env = {"BOT_TOKEN": TOKEN, "DIANA_DB": str(tmp_path / "bot.sqlite3"),
           "DIANA_CONTENT": str(ROOT / "content"), "DIANA_ENV_FILE": str(tmp_path / "x.env")}
    result = CliRunner().invoke(app, ["bot", "webhook", "--workers", "2", "--secret", "s"],
                                env=env)
    assert result.exit_code == 2
    assert "--workers 2 needs PostgreSQL" in result.output
    assert not (tmp_path / "bot.sqlite3").exists()


def listeners(port: int) -> int:
    """Sockets listening on 127.0.0.1:port (one per worker with SO_REUSEPORT)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == f"0100007F:{port:04X}"
               and line.split()[3] == "0A")


def children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(x) for x in text.split()}


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def test_workers_share_a_port_are_restarted_and_stop_on_sigterm(tmp_path):
    with pgkit.scratch_database() as url, EmulatorThread() as emu:
        port = free_port()
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": url, "DIANA_CONTENT": str(ROOT / "content"),
               "DIANA_ENV_FILE": str(tmp_path / "none.env"), "DIANA_DRAIN_TIMEOUT": "2",
               "DIANA_WEBHOOK_SECRET": "s3cret"}
        log = tmp_path / "supervisor.log"
        with log.open("wb") as out:
            sup = spawn([sys.executable, "-m", "cli.main", "bot", "webhook", "--workers", "2",
                         "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                        stderr=subprocess.STDOUT)
        try:
            wait(lambda: listeners(port) == 2, 60, "two workers listening")
            first = children(sup.pid)
            assert len(first) == 2
            os.kill(min(first), signal.SIGKILL)
            wait(lambda: len(children(sup.pid) - first) == 1 and listeners(port) == 2, 60,
                 "the dead worker started again")
            sup.send_signal(signal.SIGTERM)
            assert sup.wait(30) == 0
            assert listeners(port) == 0
            assert "exited with status -9" in log.read_text()
        finally:
            kill_group(sup)
