"""`choir up` as a test drives it: started in the background on a free port with its own run folder, polled until
it answers, stopped by signal, and killed with its anvil if a test leaves it running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from choir_chain.devnet import free_port

CHOIR = [sys.executable, "-m", "choir_chain.cli"]
START_TIMEOUT = 240.0
"""Seconds for `choir up` to answer (a loaded CI machine imports, deploys and seeds slowly)."""
STOP_TIMEOUT = 15.0
ENV = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    run_dir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "up.json").read_text()))

    def get(self, path: str) -> Any:
        reply = requests.get(self.url + path, timeout=10)
        assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])
        return reply.json()

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, float]:
        """Send `signum`; the exit status and how long the exit took."""
        started = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout=STOP_TIMEOUT)
        return code, time.monotonic() - started


def wait_for(what: str, check: Callable[[], Any], up: Up, timeout: float = START_TIMEOUT) -> Any:
    """Poll `check` until it returns something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if up.process.poll() is not None:
            pytest.fail(f"choir up exited ({up.process.returncode}) while waiting for {what}:\n{up.output()}")
        try:
            last = check()
            if last:
                return last
        except (requests.RequestException, OSError, ValueError, KeyError) as err:
            last = err
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} (last: {last!r}):\n{up.output()}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, OSError):
        return False
    return not stat.split(") ")[-1].startswith("Z")  # a zombie has exited


def processes_using(folder: Path) -> list[int]:
    """Processes whose working folder or command line is inside `folder` (anvil runs with cwd = run folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (cwd == str(folder) or cwd.startswith(f"{folder}/") or str(folder) in cmdline) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def choir_up(tmp_path: Path, *args: str) -> Iterator[Up]:
    """`choir up --port <free> --run-dir <tmp>/run ARGS` in the background; killed (with its anvil) if a test
    leaves it running."""
    run_dir, port, log = tmp_path / "run", free_port(), tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CHOIR, "up", "--port", str(port), "--run-dir", str(run_dir), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ENV,
            start_new_session=True,
        )
    up = Up(process, run_dir, port, log)
    try:
        yield up
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in processes_using(run_dir):
            os.kill(pid, signal.SIGKILL)
