"""`diana bot webhook`: the emulator pushes updates to the bot's aiohttp server with the
secret token; a request without it is refused; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from botkit import ROOT, STORY, Player

from bot.testing import EmulatorThread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_mode_plays_and_checks_the_secret(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(STORY, content)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhook"
    with EmulatorThread() as emu:
        env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
               "DIANA_DB": str(tmp_path / "db.sqlite3"), "DIANA_CONTENT": str(content),
               "DIANA_ENV_FILE": str(tmp_path / "none")}
        log = (tmp_path / "bot.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "bot", "webhook", "--port",
                                 str(port), "--secret", "s3cret", "--url", hook], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            emu.wait_for(lambda: emu.webhook or proc.poll() is not None, 30,
                         what="setWebhook")
            assert proc.poll() is None, (tmp_path / "bot.log").read_text()
            assert emu.webhook == {"url": hook, "secret_token": "s3cret"}

            emu.user(201, "Web")
            p = Player(emu, 201)
            p.send("/start")
            page = p.wait_page(0)
            assert "The Hall" in page.shown
            before = p.count()
            p.tap(page, "Enter the library")
            assert p.wait_page(before).buttons()

            forged = urllib.request.Request(hook, json.dumps({"update_id": 1}).encode(),
                                            {"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(forged, timeout=10)
                status = 200
            except urllib.error.HTTPError as exc:
                status = exc.code
            assert status == 401
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(20)
            log.close()
        assert rc == 0, (tmp_path / "bot.log").read_text()
