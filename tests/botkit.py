"""Running the real bot (`diana bot run`, a subprocess) against the Bot API emulator."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prockit import kill_group, spawn

from bot.testing import EmulatorThread, Message

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "tests" / "fixtures" / "bot_story"
ADMIN = 999


@dataclass
class BotProcess:
    emu: EmulatorThread
    proc: subprocess.Popen
    content: Path
    db: Path
    log: Path

    def player(self, user_id: int, name: str = "Ana", language: str = "en") -> Player:
        self.emu.user(user_id, name, language)
        return Player(self.emu, user_id)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        kill_group(self.proc)  # whatever it left running, or itself after the time-out
        return self.proc.returncode


def spawn_bot(tmp: Path, emu: EmulatorThread, content: Path | None = None,
              **env: str) -> BotProcess:
    """The bot process, started (a copy of the test story unless `content` is given)."""
    if content is None:
        content = tmp / "content"
        shutil.copytree(STORY, content)
    db = tmp / "bot.sqlite3"
    log = tmp / "bot.log"
    full = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_BASE": emu.base_url,
            "DIANA_DB": str(db), "DIANA_CONTENT": str(content), "DIANA_ADMINS": str(ADMIN),
            "DIANA_LOG_LEVEL": "INFO", "DIANA_ENV_FILE": str(tmp / "none.env"), **env}
    with log.open("wb") as out:
        proc = spawn([sys.executable, "-m", "cli.main", "bot", "run"], cwd=ROOT, env=full,
                     stdout=out, stderr=subprocess.STDOUT)
    return BotProcess(emu, proc, content, db, log)


def start_bot(tmp: Path, emu: EmulatorThread, **env: str) -> BotProcess:
    bot = spawn_bot(tmp, emu, **env)
    wait_polling(bot)
    return bot


def wait_polling(bot: BotProcess) -> None:
    emu, proc = bot.emu, bot.proc
    try:
        emu.wait_for(lambda: emu.polls or proc.poll() is not None, 30, what="the bot to poll")
    except TimeoutError:
        bot.stop()
        raise
    if proc.poll() is not None:
        raise RuntimeError(f"the bot exited ({proc.returncode}):\n{bot.output()}")


@contextmanager
def running_bot(tmp: Path, **env: str) -> Iterator[BotProcess]:
    """The real bot against a fresh emulator (for a module-scoped fixture); stopped on exit."""
    with EmulatorThread(callback_timeout=10) as emu:
        proc = start_bot(tmp, emu, **env)
        try:
            yield proc
        finally:
            proc.stop()


def start(bot: BotProcess, user_id: int, **kw: str) -> tuple[Player, Message]:
    """A new player sends /start: the player and their first page."""
    p = bot.player(user_id, **kw)
    before = p.count()
    p.send("/start")
    return p, p.wait_page(before)


@dataclass
class Player:
    """One Telegram user talking to the bot through the emulator."""

    emu: EmulatorThread
    id: int

    def messages(self) -> list[Message]:
        return self.emu.bot_messages(self.id)

    def count(self) -> int:
        return len(self.messages())

    def send(self, text: str) -> int:
        return self.emu.send_text(self.id, text)

    def wait_messages(self, before: int, n: int = 1, timeout: float = 10) -> list[Message]:
        """Wait for at least n bot messages after the first `before` ones."""
        found = self.emu.wait_for(lambda: (m := self.messages()[before:]) and len(m) >= n
                                  and m, timeout, what=f"{n} new message(s) to {self.id}")
        return found

    def wait_page(self, before: int, timeout: float = 10) -> Message:
        """Wait until the newest bot message after `before` carries a keyboard."""
        def page() -> Message | None:
            new = self.messages()[before:]
            return new[-1] if new and new[-1].buttons() else None
        return self.emu.wait_for(page, timeout, what=f"a page for {self.id}")

    def tap(self, message: Message, needle: str, check: bool = True) -> tuple[int, str]:
        data = message.button(needle)["callback_data"]
        return self.emu.press(self.id, message.message_id, data, check=check)

    def press(self, message: Message, data: str) -> tuple[int, str]:
        return self.emu.press(self.id, message.message_id, data, check=False)

    def answered(self, query_id: str, timeout: float = 10) -> dict:
        return self.emu.wait_for(lambda: self.emu.answer(query_id), timeout,
                                 what=f"an answer to query {query_id}")

    def quiet(self, before: int, settle: float = 0.4) -> bool:
        """No new bot message arrives within `settle` seconds."""
        time.sleep(settle)
        return self.count() == before
