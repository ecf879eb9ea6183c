"""`python -m api.serve`: several gateway workers forked after the embedding model was loaded once, so they share it
(issue 18) instead of loading one each as `uvicorn --workers` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from choir_chain.devnet import free_port
from choir_chain.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from conftest import World

START_TIMEOUT = 180.0
PRIVATE_MB_BOUND = 250.0
"""A worker that loaded the model itself holds ~430 MB of private memory after a search (the model and torch's
allocations; `choir_chain.bench.gateway`'s `gateway.memory` line); one sharing its parent's holds ~45 MB."""


def private_mb(pid: int) -> float:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Private_Clean", "Private_Dirty"):
            fields[name] = int(rest.split()[0]) / 1024
    return sum(fields.values())


def test_forked_workers_share_the_model_and_stop_on_sigterm(world: World, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CHOIR_GATEWAY_DATABASE_URL": world.database_url,
        "CHOIR_GATEWAY_RPC_URL": world.run.rpc_url,
        "CHOIR_GATEWAY_MANIFEST_PATH": str(world.manifest_path),
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.serve", "--port", str(port), "--workers", "2"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if requests.get(f"{url}/ping", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "api.serve did not answer"
            time.sleep(0.25)
        listing = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        while len(children := listing.read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the second fork may still be starting
        assert len(children) == 2
        for n in range(6):  # a connection each, so both workers answer some
            reply = requests.get(f"{url}/search", params={"q": f"stake prices {n}"}, timeout=60)
            assert reply.status_code == 200, reply.text
            assert reply.json()["query"] == f"stake prices {n}"
        assert requests.get(f"{url}/threads/1", timeout=10).json()["thread_id"] == 1
        for child in children:
            assert private_mb(int(child)) < PRIVATE_MB_BOUND
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{child}").exists() for child in children)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
