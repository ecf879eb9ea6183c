"""A message mined but not indexed yet, proven by its transaction: `POST /content` with `tx_hash`.

The indexer runs up to a poll interval (and its confirmations) behind the chain, so a wallet that stores a body
right after its transaction's receipt would meet 404 `unknown_content`. With the transaction's hash the gateway
checks the chain itself: the receipt exists and succeeded, and one of its logs is a message event of this
deployment carrying the body's content hash: `MessagePosted` or `SpecSubmitted` emitted by one of the hub's threads
(the address is checked against the hub's threads, as the relay does), or the hub's `ThreadCreated` (the root,
message 0 of the new thread). Logs are decoded with the contracts' ABIs, never matched as raw bytes, and a log
of any other contract, even with the same event signature, proves nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from web3.types import RPCEndpoint

from api import deployment
from api.errors import ApiError
from api.state import Gateway
from api.txbuilder import node_errors
from choir_chain import artifacts
from choir_chain.chain.events import EventType
from choir_chain.protocol import message_id

THREAD_EVENTS = ("MessagePosted", "SpecSubmitted")
"""Thread events that create a message: (thread id, `index` / `specId`) is its global id."""


@cache
def _events() -> dict[str, EventType]:
    """topic0 -> the event type, for the hub's `ThreadCreated` and the threads' message events."""
    found: dict[str, EventType] = {}
    for source, contract, names in (
        (deployment.HUB, "ChoirHub", ("ThreadCreated",)),
        (deployment.THREAD, "ThreadDAO", THREAD_EVENTS),
    ):
        for item in artifacts.load(contract).abi:
            if item.get("type") == "event" and item.get("name") in names:
                event = EventType.from_abi(source, item)
                found[event.topic0.lower()] = event
    return found


def _hash_text(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value).lower()


def _receipt(gw: Gateway, tx_hash: str) -> dict[str, Any]:
    with node_errors():
        reply: Any = gw.w3.provider.make_request(RPCEndpoint("eth_getTransactionReceipt"), [tx_hash])
    if "error" in reply:
        message = reply["error"].get("message", reply["error"]) if isinstance(reply["error"], dict) else reply["error"]
        raise ApiError(503, "node_unavailable", f"the node did not give the receipt: {message}")
    receipt = reply.get("result")
    if not isinstance(receipt, dict) or not receipt.get("blockNumber"):
        raise ApiError(404, "unknown_transaction", f"no mined transaction has hash {tx_hash}", "tx_hash")
    return receipt


def messages_in_transaction(gw: Gateway, tx_hash: str, content_hash: str) -> list[int]:
    """Global ids of the messages of this deployment that transaction `tx_hash` created with `content_hash`;
    404 `unknown_transaction` if it is not mined, 422 `content_not_in_transaction` if it created none."""
    receipt = _receipt(gw, tx_hash)
    found: set[int] = set()
    if int(str(receipt.get("status", "0x0")), 16) == 1:
        events = _events()
        for entry in receipt.get("logs") or []:
            topics = entry.get("topics") or []
            event = events.get(str(topics[0]).lower()) if topics else None
            if event is None:
                continue
            with node_errors():
                source = deployment.classify(gw, entry["address"])
            if source is None or source[0] != event.source:
                continue  # the same event from a contract that is not this deployment's
            try:
                args = event.decode_args(topics, entry["data"])
            except Exception:  # a log that does not decode as the ABI says cannot be ours
                continue
            if _hash_text(args["contentHash"]) != content_hash:
                continue
            if event.name == "ThreadCreated":
                found.add(message_id(int(args["threadId"]), 0))
            else:
                thread_id = source[1]
                assert thread_id is not None
                found.add(message_id(thread_id, int(args["index" if event.name == "MessagePosted" else "specId"])))
    if not found:
        raise ApiError(
            422,
            "content_not_in_transaction",
            f"transaction {tx_hash} created no message of this deployment with content hash {content_hash}",
            "tx_hash",
        )
    return sorted(found)
