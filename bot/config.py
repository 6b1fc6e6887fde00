"""The bot's settings, from the environment and an optional `.env` file (the environment
wins). A missing or malformed setting is a `ConfigError` naming the variable; `diana bot`
prints it and exits with status 2 before anything starts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.outbox.publisher import RETENTION, age
from engine.store.postgres.connect import is_url, shown

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# new: each page is a new message and the one left behind loses its buttons (the story
# stays readable in the chat); edit: a tap rewrites its page into the next one in place
PAGE_MODES = ("new", "edit")
# full: every commit is fsynced, so an acknowledged tap survives a power loss; normal: it
# survives the bot's crash or kill, and an OS crash may lose the last ones (see the store)
DURABILITIES = ("full", "normal")
LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    token: str
    api_base: str | None  # e.g. http://127.0.0.1:8081 (a local Bot API server, an emulator)
    db: str | Path  # an SQLite file, or a postgresql:// URL
    content: Path
    admins: frozenset[int]
    log_level: str
    rate_count: int  # at most rate_count updates per rate_window seconds per user
    rate_window: float
    drain_timeout: float  # seconds to finish in-flight updates at shutdown
    pages: str = "new"  # one of PAGE_MODES
    durability: str = "full"  # one of DURABILITIES
    # At start, a network error, a 5xx or a 429 is retried this many times, the first
    # after start_backoff seconds, doubling (bot.startup)
    start_retries: int = 4
    start_backoff: float = 1.0
    # /healthz, /readyz and /metrics in polling mode (the webhook server always has them);
    # None: no such server. 0 picks a free port (the log says which).
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    log_format: str = "text"  # one of LOG_FORMATS
    # DIANA_EVENTS: the NATS server the bot's own publisher sends the outbox to (None: no
    # publisher in the bot; `diana events publish` may run beside it)
    events: str | None = None
    outbox: bool = True  # DIANA_OUTBOX=off: the store writes no events at all
    events_retention: float = 7 * 86400  # DIANA_EVENTS_RETENTION, seconds

    def redacted(self) -> str:
        return (f"api={self.api_base or 'api.telegram.org'} db={shown(str(self.db))}"
                f" content={self.content}"
                f" admins={len(self.admins)} rate={self.rate_count}/{self.rate_window:g}s"
                f" pages={self.pages} durability={self.durability}")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes and `export`."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return values
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ConfigError(f"{path}:{n}: expected KEY=VALUE, got {raw.strip()!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def _seconds(text: str, most: float = float("inf")) -> float | None:
    """A number of seconds from 0 to `most`, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value <= most else None


def load_config(environ: Mapping[str, str] | None = None,
                dotenv: Path | None = None) -> Config:
    env = dict(os.environ if environ is None else environ)
    path = dotenv or Path(env.get("DIANA_ENV_FILE", ".env"))
    merged = {**read_dotenv(path), **env}

    def get(name: str, default: str | None = None) -> str | None:
        value = merged.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    token = get("BOT_TOKEN")
    if token is None:
        raise ConfigError("BOT_TOKEN is not set: put the token @BotFather gave you in the"
                          " environment or in .env")
    if not TOKEN_RE.match(token):
        raise ConfigError("BOT_TOKEN is malformed: expected <digits>:<secret>, as @BotFather"
                          " gives it")
    base = get("TELEGRAM_API_BASE")
    if base is not None:
        if not re.match(r"^https?://[^/\s]+", base):
            raise ConfigError(f"TELEGRAM_API_BASE must be an http(s) URL, not {base!r}")
        base = base.rstrip("/")
    admins: set[int] = set()
    for part in (get("DIANA_ADMINS", "") or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise ConfigError(f"DIANA_ADMINS must be comma-separated Telegram user ids; {part!r}"
                              " is not one")
        admins.add(int(part))
    level = (get("DIANA_LOG_LEVEL", "INFO") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"DIANA_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not"
                          f" {level!r}")
    log_format = (get("DIANA_LOG_FORMAT", "text") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"DIANA_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not"
                          f" {log_format!r}")
    rate = get("DIANA_RATE_LIMIT", "20/10") or "20/10"
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)s?", rate)
    if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
        raise ConfigError(f"DIANA_RATE_LIMIT must look like 20/10 (updates per seconds), not"
                          f" {rate!r}")
    drain = get("DIANA_DRAIN_TIMEOUT", "10") or "10"
    drain_timeout = _seconds(drain)
    if drain_timeout is None:
        raise ConfigError(f"DIANA_DRAIN_TIMEOUT must be a number of seconds, not {drain!r}")
    pages = (get("DIANA_PAGES", "new") or "new").lower()
    if pages not in PAGE_MODES:
        raise ConfigError(f"DIANA_PAGES must be one of {', '.join(PAGE_MODES)}, not {pages!r}")
    durability = (get("DIANA_DURABILITY", "full") or "full").lower()
    if durability not in DURABILITIES:
        raise ConfigError(f"DIANA_DURABILITY must be one of {', '.join(DURABILITIES)}, not"
                          f" {durability!r}")
    retries = get("DIANA_START_RETRIES", "4") or "4"
    if not re.fullmatch(r"\d{1,3}", retries):
        raise ConfigError(f"DIANA_START_RETRIES must be a whole number of retries, not"
                          f" {retries!r}")
    backoff = get("DIANA_START_BACKOFF", "1") or "1"
    start_backoff = _seconds(backoff, most=60)
    if start_backoff is None:
        raise ConfigError(f"DIANA_START_BACKOFF must be seconds from 0 to 60, not {backoff!r}")
    http_port: int | None = None
    port_text = get("DIANA_HTTP_PORT")
    if port_text is not None:
        if not re.fullmatch(r"\d{1,5}", port_text) or int(port_text) > 65535:
            raise ConfigError(f"DIANA_HTTP_PORT must be a port number from 0 to 65535, not"
                              f" {port_text!r}")
        http_port = int(port_text)
    http_host = get("DIANA_HTTP_HOST", "127.0.0.1") or "127.0.0.1"
    if not re.fullmatch(r"[A-Za-z0-9.:_-]{1,253}", http_host):
        raise ConfigError(f"DIANA_HTTP_HOST must be an address or a host name, not"
                          f" {http_host!r}")
    content = Path(get("DIANA_CONTENT", "content") or "content")
    if not (content / "game.yaml").is_file():
        raise ConfigError(f"DIANA_CONTENT: {content} is not a content directory (no game.yaml)")
    db_text = get("DIANA_DB", "diana.sqlite3") or "diana.sqlite3"
    db: str | Path = db_text if is_url(db_text) else Path(db_text)
    if isinstance(db, Path) and not db.parent.is_dir():
        raise ConfigError(f"DIANA_DB: the directory {db.parent} does not exist")
    events = get("DIANA_EVENTS") or None
    if events is not None and not re.match(r"^(nats|tls)://[^\s]+$", events):
        raise ConfigError(f"DIANA_EVENTS must be a NATS URL such as nats://127.0.0.1:4222,"
                          f" not {events!r}")
    outbox_text = (get("DIANA_OUTBOX", "on") or "on").lower()
    if outbox_text not in ("on", "off"):
        raise ConfigError(f"DIANA_OUTBOX must be on or off, not {outbox_text!r}")
    retention_text = get("DIANA_EVENTS_RETENTION", RETENTION) or RETENTION
    try:
        events_retention = age(retention_text)
    except ValueError:
        raise ConfigError(f"DIANA_EVENTS_RETENTION must be an age such as 12h or 7d, not"
                          f" {retention_text!r}") from None
    if events is not None and outbox_text == "off":
        raise ConfigError("DIANA_EVENTS needs the outbox: drop DIANA_OUTBOX=off")
    return Config(token=token, api_base=base, db=db, content=content,
                  admins=frozenset(admins), log_level=level, rate_count=int(m.group(1)),
                  rate_window=float(m.group(2)), drain_timeout=drain_timeout, pages=pages,
                  durability=durability, start_retries=int(retries),
                  start_backoff=start_backoff, http_port=http_port, http_host=http_host,
                  log_format=log_format, events=events, outbox=outbox_text == "on",
                  events_retention=events_retention)
