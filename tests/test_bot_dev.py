"""`diana bot dev`: the Bot API emulator and the real bot, played through the emulator's
web chat page. One `diana bot dev` process for the module, in its own process group; the
last test stops it with Ctrl-C (SIGINT to the group)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botkit import ROOT, STORY
from prockit import kill_group, spawn

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


@dataclass
class Dev:
    proc: subprocess.Popen
    url: str
    out: Path
    err: Path
    db: Path

    def get(self, path: str) -> tuple[int, str, str]:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(self.url.rstrip("/") + path,
                                         json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def messages(self) -> list[dict[str, Any]]:
        return json.loads(self.get("/chat/state")[2])["messages"]


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> Iterator[Dev]:
    tmp = tmp_path_factory.mktemp("dev")
    shutil.copytree(STORY, tmp / "content")
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOT_TOKEN", "TELEGRAM_API_BASE", "DIANA_ADMINS")}
    env.update(DIANA_CONTENT=str(tmp / "content"), DIANA_DB=str(tmp / "dev.sqlite3"),
               DIANA_ENV_FILE=str(tmp / "none.env"))
    out, err = tmp / "stdout", tmp / "stderr"
    with out.open("wb") as o, err.open("wb") as e:
        proc = spawn([sys.executable, "-m", "cli.main", "bot", "dev", "--port", "0"],
                     cwd=ROOT, env=env, stdout=o, stderr=e)
    try:
        found = wait_for(lambda: proc.poll() is not None
                         or re.search(r"http://127\.0\.0\.1:\d+/", out.read_text()),
                         "the page's address")
        assert proc.poll() is None, out.read_text() + err.read_text()
        yield Dev(proc, found.group(0), out, err, tmp / "dev.sqlite3")  # type: ignore[union-attr]
    finally:
        kill_group(proc)


def test_it_prints_how_to_play(dev):
    text = dev.out.read_text()
    assert "Ctrl-C" in text and "/start" in text and str(dev.db) in text


def test_the_chat_page_is_served(dev):
    status, ctype, page = dev.get("/")
    assert status == 200 and ctype.startswith("text/html")
    assert "/chat/state" in page and "/chat/send" in page and "/chat/press" in page


def test_start_and_a_tap_through_the_page_endpoints(dev):
    status, sent = dev.post("/chat/send", {"text": "/start"})
    assert status == 200 and sent["update_id"]
    page = wait_for(lambda: next((m for m in reversed(dev.messages())
                                  if m["from"] == "bot" and m["buttons"]), None),
                    "the first page")
    assert "The Hall" in page["text"]
    (button,) = [b for row in page["buttons"] for b in row if "Enter the library" in b["text"]]
    status, pressed = dev.post("/chat/press", {"message_id": page["id"], "data": button["data"]})
    assert status == 200 and pressed["query_id"]
    wait_for(lambda: any(m["text"].startswith("The Library") for m in dev.messages()),
             "the library page")
    # the tap's answer stops the spinner; the page shows answers that say something
    answers = json.loads(dev.get("/chat/state")[2])["answers"]
    assert all(set(a) == {"id", "text", "show_alert"} for a in answers)


def test_a_bad_request_to_the_page_is_a_400_naming_it(dev):
    assert dev.post("/chat/send", {"text": ""}) == (400, {"error": "text must be 1 to 4096"
                                                                   " characters"})
    status, body = dev.post("/chat/press", {"message_id": 999999, "data": "x"})
    assert status == 400 and "no message 999999" in body["error"]


def test_ctrl_c_stops_everything_cleanly(dev):
    os.killpg(dev.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    assert dev.proc.wait(20) == 0
    output = dev.out.read_text() + dev.err.read_text()
    assert "Traceback" not in output
    with pytest.raises(ProcessLookupError):  # nothing of the group is left behind
        os.killpg(dev.proc.pid, 0)
