"""`diana bot webhook --workers N`: N webhook processes on one port (SO_REUSEPORT: the
kernel spreads Telegram's connections over them), each a whole bot on the shared
PostgreSQL database, kept running by this process.

A worker that dies is started again, after a pause that doubles while workers keep
dying young (a database that refuses connections must not be hammered). SIGTERM or
SIGINT is passed on to every worker, which drains its in-flight updates and exits; one
still running after the drain time-out and a grace period is killed. Only the first
worker started registers the webhook (--url): one setWebhook, not N."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger("diana.bot")

REUSE_PORT_ENV = "DIANA_REUSE_PORT"  # set for the workers: bind with SO_REUSEPORT
WORKER_ENV = "DIANA_WORKER"  # the worker's number, for its log lines
RESTART_MIN = 0.5  # seconds before starting a dead worker again
RESTART_MAX = 30.0
YOUNG = 10.0  # a worker that dies sooner than this doubles the next pause
GRACE = 5.0  # seconds past the drain time-out before a worker is killed


@dataclass
class Worker:
    number: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    pause: float = RESTART_MIN
    due: float = 0.0  # when to start it again (monotonic)


def supervise(args: Sequence[str], workers: int, drain_timeout: float,
              first_args: Sequence[str] = (), env: dict[str, str] | None = None) -> int:
    """Run `python -m cli.main bot webhook <args>` N times until a signal; 0 once all have
    stopped. `first_args` are added for the very first worker only; `env` is added to
    the workers' environment (secrets: never on a command line, where `ps` shows them)."""
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pool = [Worker(i) for i in range(workers)]
    first = True

    def start(w: Worker) -> None:
        nonlocal first
        extra = list(first_args) if first else []
        first = False
        full = {**os.environ, **(env or {}), REUSE_PORT_ENV: "1", WORKER_ENV: str(w.number)}
        w.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "bot", "webhook",
                                   *args, *extra], env=full)
        w.started = time.monotonic()
        log.info("worker %d started (pid %d)", w.number, w.proc.pid)

    for w in pool:
        start(w)
    while not stopping:
        now = time.monotonic()
        for w in pool:
            if w.proc is not None and (code := w.proc.poll()) is not None:
                lived, pid = now - w.started, w.proc.pid
                w.pause = min(RESTART_MAX, w.pause * 2) if lived < YOUNG else RESTART_MIN
                w.due, w.proc = now + w.pause, None
                log.warning("worker %d (pid %d) exited with status %d after %.1f s;"
                            " starting it again in %.1f s", w.number, pid, code, lived,
                            w.pause)
            if w.proc is None and now >= w.due and not stopping:
                start(w)
        time.sleep(0.1)
    log.info("stopping %d worker(s)", workers)
    running = [w.proc for w in pool if w.proc is not None and w.proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + drain_timeout + GRACE
    for proc in running:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker pid %d still running after %.0f s: killing it", proc.pid,
                        drain_timeout + GRACE)
            proc.kill()
            proc.wait()
    return 0
