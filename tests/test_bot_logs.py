"""The log never shows a secret: the real bot, with a known token, webhook secret and
database password, in JSON and in text format, through a game, an API error and a refused
start; the whole output is searched for each secret."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from botkit import ROOT, STORY, Player, running_bot
from prockit import kill_group, spawn

from bot.testing import EmulatorThread

SECRET = "hook-SECRET-5d1e"
PASSWORD = "pw-SECRET-91ab"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def play_a_little(emu: EmulatorThread, user: int) -> None:
    emu.user(user, "Ana")
    p = Player(emu, user)
    p.send("/start")
    page = p.wait_page(0)
    before = p.count()
    p.tap(page, "Enter the library")
    p.wait_page(before)
    emu.fail_next("sendMessage", times=1, status=500)  # an API error, logged
    before = p.count()
    p.send("/help")
    p.send("/profile")
    p.wait_messages(before)


def assert_clean(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output


def test_polling_in_json_logs_no_secret_and_parses(tmp_path):
    with running_bot(tmp_path, DIANA_LOG_FORMAT="json") as bot:
        play_a_little(bot.emu, 601)
        token = bot.emu.token
    out = bot.output()
    assert_clean(out, token, token.partition(":")[2])
    lines = [json.loads(line) for line in out.splitlines()]  # every line is one object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    handled = [line for line in lines if "latency_ms" in line]
    assert handled and all("update_id" in line for line in handled)
    assert any(line.get("player") == "tg:601" and line.get("action", "").startswith("tg:cb:")
               for line in handled)
    assert any(line["level"] == "WARNING" and "sendMessage" in line["message"]
               for line in lines)


def test_webhook_in_text_logs_no_secret(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    with EmulatorThread(callback_timeout=10) as emu:
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": str(tmp_path / "db.sqlite3"), "DIANA_CONTENT": str(STORY),
               "DIANA_ENV_FILE": str(tmp_path / "none"), "DIANA_LOG_FORMAT": "text"}
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            proc = spawn([sys.executable, "-m", "cli.main", "bot", "webhook", "--port",
                          str(port), "--secret", SECRET, "--url", url],
                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            emu.wait_for(lambda: emu.webhook or proc.poll() is not None, 30,
                         what="setWebhook")
            assert proc.poll() is None, log.read_text()
            play_a_little(emu, 602)
        finally:
            kill_group(proc)
        token = emu.token
    out = log.read_text()
    assert "update" in out and "handled in" in out
    assert_clean(out, token, token.partition(":")[2], SECRET)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_refused_database_url_logs_no_password(tmp_path, fmt):
    with EmulatorThread() as emu:
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": f"postgresql://diana:{PASSWORD}@127.0.0.1:{free_port()}/diana",
               "DIANA_CONTENT": str(STORY),
               "DIANA_ENV_FILE": str(tmp_path / "none"), "DIANA_LOG_FORMAT": fmt}
        r = subprocess.run([sys.executable, "-m", "cli.main", "bot", "run"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "DIANA_DB" in r.stdout + r.stderr
    assert_clean(r.stdout + r.stderr, PASSWORD, emu.token)

