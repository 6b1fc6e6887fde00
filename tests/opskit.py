"""HTTP probes of a running bot: /healthz, /readyz and /metrics on DIANA_HTTP_PORT."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from botkit import BotProcess
from prometheus_client.parser import text_string_to_metric_families


def http_port(bot: BotProcess) -> int:
    """The port the bot's HTTP server bound (DIANA_HTTP_PORT=0: the log says which)."""
    def found() -> int | None:
        if bot.proc.poll() is not None:
            raise RuntimeError(f"the bot exited ({bot.proc.returncode}):\n{bot.output()}")
        m = re.search(r"/readyz on http://[^:]+:(\d+)", bot.output())
        return int(m.group(1)) if m else None
    return bot.emu.wait_for(found, 30, what="the bot's HTTP server")


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    status, body = get(port, "/metrics")
    assert status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def probe(port: int, path: str) -> tuple[int, dict]:
    status, body = get(port, path)
    return status, json.loads(body)
