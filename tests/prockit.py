"""Processes the tests start: each leads a process group of its own, and teardown kills the
whole group, so a child's children (a writer process, a bot under a dev server) never
outlive a test, however it ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any


def spawn(args: list[str], **kw: Any) -> subprocess.Popen:
    return subprocess.Popen(args, start_new_session=True, **kw)


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


@contextlib.contextmanager
def group(args: list[str], **kw: Any) -> Iterator[subprocess.Popen]:
    proc = spawn(args, **kw)
    try:
        yield proc
    finally:
        kill_group(proc)
