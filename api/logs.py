"""The gateway's log reads: `eth_getLogs` in ranges a node accepts, and the governors' `ProposalCreated` events
decoded one way for every route that needs them (the proposal list and the queue/execute builders)."""

from __future__ import annotations

from functools import cache
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from api.blockview import current_block
from api.errors import ApiError
from api.state import Gateway
from choir_chain import artifacts
from choir_chain.chain.events import EventType
from choir_chain.chain.logs import logs_between
from choir_chain.chain.rpc import RpcError

LOG_RANGE = 10_000
"""Blocks asked of `eth_getLogs` at once; a node that refuses a range gets halves of it."""


def get_logs(w3: Web3, addresses: list[str], topics: list[Any] | None, first: int, last: int) -> list[dict[str, Any]]:
    """Raw `eth_getLogs` entries of `addresses` in blocks `[first, last]`, asked `LOG_RANGE` blocks at a time
    (`choir_chain.chain.logs`: a refused range is asked in halves); a block the node refuses is a 503."""

    def fetch(start: int, end: int) -> list[Any]:
        params: dict[str, Any] = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        if topics is not None:
            params["topics"] = topics
        reply = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [params])
        if "error" in reply:
            error = RpcError("eth_getLogs", reply["error"])
            if error.rate_limited:  # says nothing about the range: halving it would only ask more
                raise ApiError(503, "node_unavailable", f"the chain's node rate-limits the gateway: {error.message}")
            raise error
        return list(reply["result"])

    try:
        return logs_between(fetch, first, last, LOG_RANGE)
    except RpcError as err:
        raise ApiError(503, "node_unavailable", f"eth_getLogs failed: {err}") from err


@cache
def _proposal_created_event() -> EventType:
    abi = next(i for i in artifacts.load("ThreadGovernor").abi if i.get("name") == "ProposalCreated")
    return EventType.from_abi("governor", abi)


def proposal_created(gw: Gateway, governor: str) -> list[dict[str, Any]]:
    """The decoded arguments of every `ProposalCreated` of `governor`, oldest first (block, log index)."""
    event = _proposal_created_event()
    block = current_block()  # a cached read's block (api.blockview), so the list matches its states
    head = block.number if block is not None and block.hash is not None else gw.w3.eth.block_number
    logs = get_logs(gw.w3, [Web3.to_checksum_address(governor)], [event.topic0], gw.manifest.deploy_block, head)
    logs.sort(key=lambda entry: (int(entry["blockNumber"], 16), int(entry["logIndex"], 16)))
    return [event.decode_args(entry["topics"], entry["data"]) for entry in logs]
