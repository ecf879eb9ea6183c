"""The RewardsDistributor as the pricer's reward setter and novelty scorer see it: found in the deployment
manifest, with the functions each of them calls, and their role on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from choir_chain import artifacts
from choir_chain.chain.rpc import RpcClient
from choir_chain.manifest import Manifest
from choir_chain.pricer.client import Contract, Sender


@dataclass(frozen=True)
class OracleJob:
    """What the pricer's jobs on the distributor (epoch allocation, novelty scores) share with it: the deployment,
    its node, the pricer's account (one nonce sequence for every transaction), the index, where events go, and the
    event that stops the service."""

    manifest: Manifest
    rpc: RpcClient
    sender: Sender
    engine: Engine
    emit: Callable[[dict[str, Any]], None]
    stop: threading.Event
    receipt_timeout: float = 120.0


@dataclass(frozen=True)
class Lookup:
    """The distributor, or why there is none: `absent` (the manifest has none) or `missing` (functions its ABI
    lacks)."""

    contract: Contract | None
    absent: bool = False
    missing: tuple[str, ...] = ()


def find_distributor(manifest: Manifest, rpc: RpcClient, required: Sequence[str]) -> Lookup:
    """The manifest's RewardsDistributor, if it has one whose ABI has every function in `required`."""
    entry = manifest.contracts.get("RewardsDistributor")
    if entry is None:
        return Lookup(None, absent=True)
    abi = artifacts.load("RewardsDistributor").abi
    names = {e.get("name") for e in abi if e.get("type") == "function"}
    missing = tuple(name for name in required if name not in names)
    if missing:
        return Lookup(None, missing=missing)
    return Lookup(Contract(rpc, entry.address, abi))


def holds_role(distributor: Contract, role_getter: str, account: str) -> bool:
    """Whether `account` holds the role the distributor's `role_getter` (e.g. `ORACLE_ROLE`) names."""
    (role,) = distributor.call(role_getter)
    (allowed,) = distributor.call("hasRole", role, account)
    return bool(allowed)
