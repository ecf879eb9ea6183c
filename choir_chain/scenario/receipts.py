"""Events out of the raw JSON-RPC receipts `BatchSender.mine` returns, decoded with a contract's ABI.

A scenario reads what it cannot know before a block is mined from the receipts: a thread's id and address
(`ThreadCreated`), a spec's id (`SpecSubmitted`; transactions of different senders in one block run in no
particular order), a settlement's outcome, a claim's amount, an exit's payout.
"""

from __future__ import annotations

from typing import Any, cast

from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract


class MissingEvent(RuntimeError):
    """A receipt lacks the event a step must emit (or has more than one)."""


def events(receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> list[Any]:
    """Every `name` event of `contract`'s ABI in `receipt`, decoded (web3's `EventData`)."""
    event = getattr(contract.events, name)()
    topic = HexBytes(keccak(text=signature(contract, name)))
    return [
        event.process_log(_web3_log(entry))
        for entry in receipt["logs"]
        if entry["topics"] and HexBytes(entry["topics"][0]) == topic
    ]


def single(receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> Any:
    """The one `name` event in `receipt`; `MissingEvent` if there is none or more than one."""
    found = events(receipt, contract, name)
    if len(found) != 1:
        raise MissingEvent(f"{len(found)} {name} events in transaction {receipt['transactionHash']}")
    return found[0]


def signature(contract: Contract | type[Contract], name: str) -> str:
    """The canonical signature of event `name` (`Name(type,...)`), as its topic hashes it."""
    for entry in cast(list[dict[str, Any]], contract.abi):
        if entry.get("type") == "event" and entry.get("name") == name:
            return f"{name}({','.join(_type(i) for i in entry['inputs'])})"
    raise MissingEvent(f"no event {name} in the ABI")


def _type(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter (enums are uint8 in the ABI already; tuples expanded)."""
    if param["type"].startswith("tuple"):
        return f"({','.join(_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _web3_log(entry: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC log in the shape web3's event decoder takes."""
    return {
        "address": Web3.to_checksum_address(entry["address"]),
        "topics": [HexBytes(t) for t in entry["topics"]],
        "data": HexBytes(entry["data"]),
        "blockNumber": int(entry["blockNumber"], 16),
        "blockHash": HexBytes(entry["blockHash"]),
        "transactionHash": HexBytes(entry["transactionHash"]),
        "transactionIndex": int(entry["transactionIndex"], 16),
        "logIndex": int(entry["logIndex"], 16),
    }
