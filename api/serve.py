"""`python -m api.serve --workers N`: the gateway in N worker processes that share one embedding model.

`uvicorn --workers N` starts each worker as a fresh process, so each one that answers a search loads the embedding
model itself (about 335 MB private per worker, `choir_chain.bench.gateway`'s `memory` figures). Here the parent
loads the model once, then forks the workers: the model's memory is shared copy-on-write (its weights are only
read), and every worker answers searches without loading anything. The parent binds the socket before forking,
so the workers accept on the same socket; it forwards SIGINT and SIGTERM to them and exits when they have.

Torch's intra-op thread pool does not survive a fork, so the parent sets one thread per worker before loading
(`torch.set_num_threads(1)`): the workers are the parallelism. Settings come from `CHOIR_GATEWAY_*` variables, as
for `uvicorn --factory api.app:app_from_env`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
from types import FrameType

import uvicorn

from api.app import app_from_env
from api.settings import GatewaySettings


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _load_shared_model() -> None:
    """Load the process-wide embedder before forking (one thread per worker: see the module docstring)."""
    import torch

    from choir_chain.semantics.embedder import load_embedder

    torch.set_num_threads(1)
    load_embedder()


def _serve(sock: socket.socket, log_level: str) -> None:
    config = uvicorn.Config(app_from_env(), log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    settings = GatewaySettings()  # type: ignore[call-arg]  # required fields come from the environment
    sock = _listen(args.host, args.port)
    if settings.search_enabled:
        _load_shared_model()
    children: list[int] = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:  # a worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _serve(sock, args.log_level)
            finally:
                os._exit(0)
        children.append(pid)

    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    status = 0
    for child in children:
        _, code = os.waitpid(child, 0)
        exit_code = os.waitstatus_to_exitcode(code)
        if -exit_code in stopping:  # uvicorn re-raises the stop signal after its graceful shutdown
            exit_code = 0
        status = status or exit_code
    sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
