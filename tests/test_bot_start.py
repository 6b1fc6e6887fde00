"""The bot's start when Telegram refuses the token or cannot be reached: one line naming
the setting, exit status 2, no traceback; transient failures (network, 5xx, 429) are
retried a bounded number of times, a refused token never."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from botkit import ROOT, STORY
from prockit import kill_group, spawn

from bot.app import make_bot
from bot.config import load_config
from bot.startup import StartupError, check_telegram
from bot.testing import EmulatorThread

WRONG_TOKEN = "123456789:wrong-token-bbbbbbbbbbbbbbbbbbbb"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_env(tmp: Path, token: str, base: str, **extra: str) -> dict[str, str]:
    content = tmp / "content"
    if not content.exists():
        shutil.copytree(STORY, content)
    return {**os.environ, "BOT_TOKEN": token, "TELEGRAM_API_BASE": base,
            "DIANA_DB": str(tmp / "db.sqlite3"), "DIANA_CONTENT": str(content),
            "DIANA_ENV_FILE": str(tmp / "none.env"), **extra}


def diana_bot(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run `diana bot ARGS` to its end in its own process group: status, stdout, stderr."""
    proc = spawn([sys.executable, "-m", "cli.main", "bot", *args], cwd=ROOT, env=env,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        kill_group(proc)
    return proc.returncode, out, err


REFUSED = ("error: BOT_TOKEN was refused by Telegram (401 Unauthorized); check the token from"
           " @BotFather")


@pytest.mark.parametrize("args", [["run"], ["webhook", "--secret", "s3cret"]],
                         ids=["run", "webhook"])
def test_a_refused_token_is_one_line_exit_2_and_tried_once(tmp_path, args):
    with EmulatorThread() as emu:
        env = bot_env(tmp_path, WRONG_TOKEN, emu.base_url, DIANA_START_RETRIES="3",
                      DIANA_START_BACKOFF="0.05")
        if args[0] == "webhook":
            args = [*args, "--port", str(closed_port())]
        status, out, err = diana_bot(args, env)
        refused = [c for c in emu.calls if c.status == 401]
    assert status == 2, err
    assert err.splitlines() == [REFUSED]
    assert "Traceback" not in out + err
    assert [c.method for c in refused] == ["getMe"]  # a 401 is never retried
    assert not (tmp_path / "db.sqlite3").exists()  # refused before anything was opened


def test_an_unreachable_api_base_is_one_line_and_exit_2(tmp_path):
    port = closed_port()
    env = bot_env(tmp_path, WRONG_TOKEN, f"http://127.0.0.1:{port}",
                  DIANA_START_RETRIES="2", DIANA_START_BACKOFF="0.05")
    status, out, err = diana_bot(["run"], env)
    assert status == 2, err
    assert err.splitlines() == [f"error: TELEGRAM_API_BASE http://127.0.0.1:{port} is"
                                " unreachable (connection refused; 3 attempts)"]
    assert "Traceback" not in out + err


def check(emu: EmulatorThread, tmp: Path, retries: int) -> None:
    config = load_config(bot_env(tmp, emu.token, emu.base_url,
                                 DIANA_START_RETRIES=str(retries),
                                 DIANA_START_BACKOFF="0.01"), dotenv=tmp / "none.env")

    async def go() -> None:
        bot = make_bot(config)
        try:
            await check_telegram(bot, config)
        finally:
            await bot.session.close()

    asyncio.run(go())


def test_a_5xx_is_retried_until_it_passes(tmp_path):
    with EmulatorThread() as emu:
        emu.fail_next("getMe", times=2, status=502)
        check(emu, tmp_path, retries=2)
        assert [c.status for c in emu.calls_of("getMe")] == [502, 502, 200]


def test_retries_are_bounded_and_the_last_answer_is_named(tmp_path):
    with EmulatorThread() as emu:
        emu.fail_next("getMe", times=5, status=503)
        with pytest.raises(StartupError) as caught:
            check(emu, tmp_path, retries=2)
        assert [c.status for c in emu.calls_of("getMe")] == [503, 503, 503]
    assert str(caught.value) == (f"TELEGRAM_API_BASE {emu.base_url} answered 503 Service"
                                 " Unavailable (3 attempts); Telegram may be down for a"
                                 " moment: try again later")


def test_a_429_waits_and_is_retried(tmp_path):
    with EmulatorThread() as emu:
        emu.fail_next("getMe", times=1, retry_after=1)
        check(emu, tmp_path, retries=1)
        assert [c.status for c in emu.calls_of("getMe")] == [429, 200]
