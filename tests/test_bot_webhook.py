"""`diana bot webhook`: the emulator pushes updates to the bot's aiohttp server with the
secret token; a request without it is refused; a body that is not an Update is refused
with 400 (413 when oversized), one warning and nothing applied; SIGTERM stops it cleanly.
One bot process for the module."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botkit import ROOT, STORY, Player
from prockit import kill_group, spawn

from bot.testing import EmulatorThread

SECRET = "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Hook:
    emu: EmulatorThread
    proc: subprocess.Popen
    url: str
    log: Path
    db: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def post(self, body: bytes, secret: str | None = SECRET) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(self.url, body, headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def rows(self) -> dict[str, int]:
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("players", "events", "ledger", "applied_actions")}
        finally:
            db.close()


@pytest.fixture(scope="module")
def hook(tmp_path_factory) -> Iterator[Hook]:
    tmp = tmp_path_factory.mktemp("webhook")
    content = tmp / "content"
    shutil.copytree(STORY, content)
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    with EmulatorThread() as emu:
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": str(tmp / "db.sqlite3"), "DIANA_CONTENT": str(content),
               "DIANA_ENV_FILE": str(tmp / "none")}
        log = tmp / "bot.log"
        with log.open("wb") as out:
            proc = spawn([sys.executable, "-m", "cli.main", "bot", "webhook", "--port",
                          str(port), "--secret", SECRET, "--url", url],
                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        h = Hook(emu, proc, url, log, tmp / "db.sqlite3")
        try:
            emu.wait_for(lambda: emu.webhook or proc.poll() is not None, 30,
                         what="setWebhook")
            assert proc.poll() is None, h.output()
            yield h
        finally:
            kill_group(proc)


def test_webhook_mode_plays_and_checks_the_secret(hook):
    assert hook.emu.webhook == {"url": hook.url, "secret_token": SECRET}
    hook.emu.user(201, "Web")
    p = Player(hook.emu, 201)
    p.send("/start")
    page = p.wait_page(0)
    assert "The Hall" in page.shown
    before = p.count()
    p.tap(page, "Enter the library")
    assert p.wait_page(before).buttons()

    status, _ = hook.post(json.dumps({"update_id": 1}).encode(), secret=None)
    assert status == 401


MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 202, "type": "private"},
           "from": {"id": 202, "is_bot": False, "first_name": "Eve"}, "text": "/start"}
NESTED = {**MESSAGE, "chat": {"id": "not a number", "type": "private"}}


@pytest.mark.parametrize(("body", "status", "named"), [
    (b"{not json", 400, "not JSON"),
    (b'{"update_id":"x"}', 400, "update_id: Input should be a valid integer"),
    (b"[1, 2, 3]", 400, "not a JSON object"),
    (b'"just a string"', 400, "not a JSON object"),
    (json.dumps({"update_id": 7, "message": NESTED}).encode(), 400,
     "message.chat.id: Input should be a valid integer"),
    (json.dumps({"update_id": 8, "message": MESSAGE, "pad": "x" * 300_000}).encode(), 413,
     "larger than"),
], ids=["not-json", "bad-update-id", "array", "string", "nested-type", "oversized"])
def test_a_body_that_is_not_an_update_is_refused_once_and_changes_nothing(
        hook, body, status, named):
    refused_once(hook, lambda: hook.post(body)[0], status, named)


def test_webhook_server_answers_health_readiness_and_metrics(hook):
    base = hook.url.rsplit("/", 1)[0]
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(base + path, timeout=10) as r:
            assert (r.status, json.loads(r.read())) == (200, {"ok": True})
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        assert 'diana_updates_total{kind="message",result="ok"}' in r.read().decode()
    away = hook.db.with_name("moved.sqlite3")
    hook.db.rename(away)
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/readyz", timeout=10)
        assert refused.value.code == 503
        assert json.loads(refused.value.read())["reason"].startswith("the player database")
    finally:
        away.rename(hook.db)


def test_an_oversized_chunked_body_is_refused_once(hook):
    def send() -> int:
        url = urlsplit(hook.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            chunks = iter([b'{"update_id": 9, "pad": "'] + [b"x" * 65536] * 5 + [b'"}'])
            conn.request("POST", url.path, body=chunks, encode_chunked=True,
                         headers={"Content-Type": "application/json",
                                  "X-Telegram-Bot-Api-Secret-Token": SECRET})
            return conn.getresponse().status
        finally:
            conn.close()

    refused_once(hook, send, 413, "larger than")


def refused_once(hook: Hook, send: Callable[[], int], status: int, named: str) -> None:
    """`send` gets `status`, one warning naming the problem, and the database is as it was."""
    rows = hook.rows()
    seen = len(hook.output().splitlines())
    assert send() == status
    new = hook.output().splitlines()[seen:]
    warnings = [line for line in new if " WARNING " in line or " ERROR " in line]
    assert len(warnings) == 1 and named in warnings[0], new
    assert not [line for line in new if "aiohttp.access" not in line and line not in warnings]
    assert "Traceback" not in hook.output() and "never retrieved" not in hook.output()
    assert hook.rows() == rows


def test_sigterm_stops_the_webhook_cleanly(hook):
    hook.proc.send_signal(signal.SIGTERM)
    assert hook.proc.wait(20) == 0, hook.output()
    assert "Traceback" not in hook.output()

