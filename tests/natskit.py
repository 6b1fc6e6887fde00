"""A private NATS server with JetStream for the event-stream tests: the `nats-server` binary
on a free loopback port with a temporary store directory, which a test may kill and start
again (the machine's shared server is never touched). Without the binary the tests are
skipped with a reason that says so (`pytest -rs` lists them)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prockit import kill_group, spawn

BINARY = shutil.which("nats-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert BINARY is not None
        self.proc = spawn([BINARY, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                           "-sd", str(self.store)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None


@contextlib.contextmanager
def nats_server(tmp: Path) -> Iterator[NatsServer]:
    if BINARY is None:
        pytest.skip("NATS tests skipped: no nats-server binary on PATH (install nats-server"
                    " to run the event-stream fault tests)")
    server = NatsServer(tmp / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def stream_events(url: str, stream: str) -> list[dict]:
    """Every message the stream holds, in stream order, as the events they carry."""
    import json

    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            out.append(json.loads(msg.data))
        return out
    finally:
        await nc.close()


def wait_for(predicate, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


async def async_wait_for(predicate, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every)
    return await predicate()
