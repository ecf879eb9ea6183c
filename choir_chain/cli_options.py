"""Options and defaults the commands share (`choir index`, `choir pricer`, `choir up`): the node, the deployment, the
index database, and how far behind the head a service stays."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from choir_chain.devnet import DEVNET_CHAIN_ID

DEVNET_CONFIRMATIONS = 0
"""A devnet mines one block per transaction and never reorganises."""
DEFAULT_CONFIRMATIONS = 12
"""Anywhere else: deep enough for the usual reorgs of public chains and testnets."""

RpcUrl = Annotated[str | None, typer.Option("--rpc", envvar="CHOIR_RPC_URL", help="Node JSON-RPC URL.")]
ManifestPath = Annotated[Path | None, typer.Option("--manifest", envvar="CHOIR_MANIFEST", help="Deployment manifest.")]


def default_confirmations(chain_id: int) -> int:
    """Blocks a service stays behind the head on chain `chain_id` unless told otherwise."""
    return DEVNET_CONFIRMATIONS if chain_id == DEVNET_CHAIN_ID else DEFAULT_CONFIRMATIONS
