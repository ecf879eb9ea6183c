"""Which addresses belong to the deployment: the manifest's token, hub and rewards distributor, every thread clone
(the hub's CREATE2 clone of the ThreadDAO implementation with the thread id as salt, so its address follows from its
id) and every thread's governor (the hub's `governorOf`). The relay accepts transactions only to these, and the
event stream follows them.
"""

from __future__ import annotations

import threading
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3.types import RPCEndpoint

from api.state import Gateway
from choir_chain.manifest import Manifest

HUB, TOKEN, DISTRIBUTOR, THREAD, GOVERNOR = "hub", "token", "distributor", "thread", "governor"

_CLONE_PREFIX = bytes.fromhex("3d602d80600a3d3981f3363d3d373d3d3d363d73")
_CLONE_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
_THREAD_SELECTOR = keccak(text="thread()")[:4]


def predict_clone(implementation: str, deployer: str, salt: int) -> str:
    """The address of OpenZeppelin `Clones.cloneDeterministic(implementation, bytes32(salt))` made by `deployer`
    (the EIP-1167 minimal proxy through CREATE2)."""
    init_code = _CLONE_PREFIX + bytes.fromhex(implementation[2:]) + _CLONE_SUFFIX
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt.to_bytes(32, "big") + keccak(init_code))
    return to_checksum_address(digest[12:])


class Deployment:
    """The deployment's addresses. Thread addresses are computed (and remembered) by id; whether a thread exists
    is the hub's `threadCount`, asked by the caller."""

    def __init__(self, manifest: Manifest) -> None:
        contracts = manifest.contracts
        self.hub = to_checksum_address(contracts["ChoirHub"].address)
        self.token = to_checksum_address(contracts["ChoirToken"].address)
        distributor = contracts.get("RewardsDistributor")
        self.distributor = to_checksum_address(distributor.address) if distributor else None
        self.thread_implementation = to_checksum_address(contracts["ThreadDAO"].address)
        self.fixed: dict[str, str] = {self.hub: HUB, self.token: TOKEN}
        if self.distributor:
            self.fixed[self.distributor] = DISTRIBUTOR
        self._threads: list[str] = [""]  # index = thread id
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def thread_address(self, thread_id: int) -> str:
        self._extend(thread_id)
        return self._threads[thread_id]

    def thread_id_of(self, address: str, thread_count: int) -> int | None:
        """The id of the thread at `address`, if it is one of threads `1..thread_count`."""
        self._extend(thread_count)
        thread_id = self._ids.get(to_checksum_address(address))
        return thread_id if thread_id is not None and thread_id <= thread_count else None

    def _extend(self, thread_count: int) -> None:
        with self._lock:
            for thread_id in range(len(self._threads), thread_count + 1):
                address = predict_clone(self.thread_implementation, self.hub, thread_id)
                self._threads.append(address)
                self._ids[address] = thread_id


_deployments: dict[tuple[int, str, str], Deployment] = {}
_deployments_lock = threading.Lock()


def deployment(gw: Gateway) -> Deployment:
    """The `Deployment` of the gateway's manifest (one per deployment, shared by requests)."""
    m = gw.manifest
    key = (m.chain_id, m.contracts["ChoirHub"].address.lower(), m.contracts["ThreadDAO"].address.lower())
    with _deployments_lock:
        found = _deployments.get(key)
        if found is None:
            found = _deployments[key] = Deployment(m)
        return found


def _call(gw: Gateway, to: str, data: bytes) -> bytes:
    reply: Any = gw.w3.provider.make_request(RPCEndpoint("eth_call"), [{"to": to, "data": "0x" + data.hex()}, "latest"])
    result = reply.get("result") if isinstance(reply, dict) else None
    return bytes.fromhex(result[2:]) if isinstance(result, str) and result.startswith("0x") else b""


def classify(gw: Gateway, address: str) -> tuple[str, int | None] | None:
    """(source, thread id) of a contract of the deployment at `address`, asked of the chain now; None for any
    other address (an account, another contract, the thread or governor implementation, a thread not created)."""
    dep = deployment(gw)
    address = to_checksum_address(address)
    if address in dep.fixed:
        return dep.fixed[address], None
    thread_count = int(gw.hub.functions.threadCount().call(block_identifier="latest"))
    thread_id = dep.thread_id_of(address, thread_count)
    if thread_id is not None:
        return THREAD, thread_id
    # A governor names its thread (`thread()`), and the hub names the thread's governor.
    answer = _call(gw, address, _THREAD_SELECTOR)
    if len(answer) != 32 or int.from_bytes(answer[:12], "big") != 0:
        return None
    thread_id = dep.thread_id_of("0x" + answer[12:].hex(), thread_count)
    if thread_id is None:
        return None
    governor = gw.hub.functions.governorOf(thread_id).call(block_identifier="latest")
    return (GOVERNOR, thread_id) if to_checksum_address(governor) == address else None
