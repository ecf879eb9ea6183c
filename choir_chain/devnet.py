"""A local devnet: anvil from node_modules on a free loopback port, its files kept in one run folder.

anvil writes state snapshots under ``$HOME/.foundry/anvil/tmp`` once a chain grows past a few hundred blocks and
leaves them behind. The launcher runs anvil with ``--prune-history STATE_HISTORY`` (nothing on disk; the states of
the last ``STATE_HISTORY`` blocks kept in memory, as a full node keeps recent state, so reads pinned to a recent
block such as the gateway's work) and with ``HOME`` pointing inside the run folder, so nothing is written anywhere
else, and stops it (SIGTERM, then SIGKILL) when done.
"""

from __future__ import annotations

import ctypes
import os
import platform
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests

from choir_chain.paths import PROJECT_ROOT

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""The public anvil/Hardhat/Ape development mnemonic; never use it on a real chain."""

DEVNET_CHAIN_ID = 31337
STATE_HISTORY = 256
"""Blocks whose state anvil keeps (in memory only): reads pinned to a block at most this far behind the head
work, as on a full node (which serves the last 128)."""


class DevnetError(RuntimeError):
    """anvil is missing, did not start, or did not answer."""


def anvil_binary() -> Path:
    """The native anvil shipped by the npm package ``@foundry-rs/anvil`` for this platform."""
    system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), platform.system().lower())
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    path = PROJECT_ROOT / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
    if not path.is_file():
        raise DevnetError(f"anvil not found at {path}: run `make setup` (npm install of @foundry-rs/anvil)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 2.0) -> object:
    """One JSON-RPC call; raises DevnetError on an error answer."""
    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=timeout
    ).json()
    if "error" in reply:
        raise DevnetError(f"{method}: {reply['error']}")
    return reply["result"]


@dataclass
class Devnet:
    """An anvil process owned by this object. Use as a context manager, or call start() and stop()."""

    run_dir: Path
    port: int | None = None
    chain_id: int = DEVNET_CHAIN_ID
    accounts: int = 10
    mnemonic: str = DEV_MNEMONIC
    balance_ether: int = 1_000_000
    start_timeout: float = 15.0
    extra_args: tuple[str, ...] = ()
    """More anvil flags, after the launcher's own (e.g. ``("--fork-url", url)`` for a fork of another chain)."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "anvil.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Devnet:
        """Start anvil and wait until it answers ``eth_chainId``."""
        if self.running:
            return self
        binary = anvil_binary()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        home = self.run_dir / "home"
        home.mkdir(exist_ok=True)
        if self.port is None:
            self.port = free_port()
        args = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--mnemonic", self.mnemonic,
            "--balance", str(self.balance_ether),
            "--prune-history", str(STATE_HISTORY),
            *self.extra_args,
        ]  # fmt: skip
        env = {**os.environ, "HOME": str(home), "FOUNDRY_DISABLE_NIGHTLY_WARNING": "1"}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.run_dir,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise DevnetError(f"anvil exited at start-up; see {self.log_path}:\n{self._log_tail()}")
            try:
                if int(str(rpc_call(self.rpc_url, "eth_chainId", timeout=0.5)), 16) == self.chain_id:
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.02)
        self.stop()
        raise DevnetError(f"anvil did not answer on {self.rpc_url} within {self.start_timeout}s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop anvil: SIGTERM to its process group, SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> Devnet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes anvil get SIGTERM when the process that started it dies, even by SIGKILL (Linux
    `PR_SET_PDEATHSIG`), so a killed test run or service leaves no devnet behind. Only from the main thread: the
    signal follows the *thread* that forked, and a worker thread ending would stop a devnet still in use."""
    if platform.system() != "Linux" or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def set_parent_death_signal() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return set_parent_death_signal
