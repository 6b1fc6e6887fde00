"""A private PostgreSQL cluster for the tests that stop or restart the server: initdb in a
temporary directory, pg_ctl on a free loopback port, trust authentication. The shared
server on 5432 is never touched. Without initdb the caller skips, saying so.

PostgreSQL refuses to run as root: as root, the cluster is run as the `postgres` user
(runuser), in a directory of its own under the system's temporary directory."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner() -> list[str]:
    """The command prefix that runs PostgreSQL's tools as a user they accept."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("PostgreSQL fault test skipped: running as root and there is no"
                    " `postgres` user to run a private cluster as")
    if shutil.which("runuser") is None:
        pytest.skip("PostgreSQL fault test skipped: running as root without `runuser`")
    return ["runuser", "-u", "postgres", "--"]


class Cluster:
    def __init__(self) -> None:
        for tool in ("initdb", "pg_ctl"):
            if shutil.which(tool) is None:
                pytest.skip(f"PostgreSQL fault test skipped: `{tool}` is not on PATH")
        self.prefix = _as_owner()
        self.root = Path(tempfile.mkdtemp(prefix="diana-pg-"))
        if self.prefix:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run([*self.prefix, shutil.which("initdb") or "initdb", "-D",
                        str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                        "-E", "UTF8"], check=True, capture_output=True)

    def _ctl(self, *args: str) -> None:
        # fsync off: the test restarts the server cleanly, it never pulls the power
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
                " -c fsync=off -c max_connections=200")
        subprocess.run([*self.prefix, shutil.which("pg_ctl") or "pg_ctl", "-D",
                        str(self.data), "-l", str(self.log), "-w", "-o", opts, *args],
                       check=True, capture_output=True, cwd=self.root)

    def start(self) -> Cluster:
        self._ctl("start")
        return self

    def stop_server(self) -> None:
        """Stop the server (fast: sessions are cut), keeping the cluster."""
        self._ctl("stop", "-m", "fast")

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
