"""What the service commands share (`choir index`, `choir pricer`, `choir up`): the node, deployment, database and
confirmation options and defaults, one-line errors, logging to stderr, and stopping on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from choir_chain.devnet import DEVNET_CHAIN_ID
from choir_chain.manifest import Manifest

DEVNET_CONFIRMATIONS = 0
"""A devnet mines one block per transaction and never reorganises."""
DEFAULT_CONFIRMATIONS = 12
"""Anywhere else: deep enough for the usual reorgs of public chains and testnets."""

RpcUrl = Annotated[str | None, typer.Option("--rpc", envvar="CHOIR_RPC_URL", help="Node JSON-RPC URL.")]
ManifestPath = Annotated[Path | None, typer.Option("--manifest", envvar="CHOIR_MANIFEST", help="Deployment manifest.")]


def default_confirmations(chain_id: int) -> int:
    """Blocks a service stays behind the head on chain `chain_id` unless told otherwise."""
    return DEVNET_CONFIRMATIONS if chain_id == DEVNET_CHAIN_ID else DEFAULT_CONFIRMATIONS


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="CHOIR_DB_URL",
        help="The index database URL (sqlite:///FILE or postgresql://USER@HOST:PORT/DB; default: choir.db in the "
        "run folder).",
    ),
]
Confirmations = Annotated[
    int | None, typer.Option(min=0, help="Blocks to stay behind the head (default: 0 on a devnet, 12 elsewhere).")
]


def one_line(err: BaseException) -> str:
    """The first line of an error's message (SQLAlchemy's documentation link or anvil's log tail stay out)."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def read_target(rpc: str | None, manifest_path: Path | None, error: type[Exception]) -> tuple[str, Manifest]:
    """The node URL and the deployment a command works on; `error` naming the missing option otherwise."""
    if not rpc:
        raise error("no node URL: pass --rpc or set CHOIR_RPC_URL")
    if manifest_path is None:
        raise error("no deployment manifest: pass --manifest or set CHOIR_MANIFEST")
    return rpc, Manifest.read(manifest_path)


@contextlib.contextmanager
def logging_to_stderr(logger_name: str, level: int) -> Iterator[None]:
    """`logger_name`'s records of `level` and above on stderr, timestamped, for the duration."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop` (the service finishes its current step) for the duration."""
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
