"""Events out of the raw JSON-RPC receipts `BatchSender.mine` returns, decoded by the chain layer
(`choir_chain.chain.events.EventType`, built from the contract's ABI).

A scenario reads what it cannot know before a block is mined from the receipts: a thread's id and address
(`ThreadCreated`), a spec's id (`SpecSubmitted`; transactions of different senders in one block run in no
particular order), a settlement's outcome, a claim's amount, an exit's payout.
"""

from __future__ import annotations

from typing import Any

from web3.contract import Contract

from choir_chain.chain.events import EventType


class MissingEvent(RuntimeError):
    """A receipt lacks the event a step must emit (or has more than one)."""


def event_type(contract: Contract | type[Contract], name: str) -> EventType:
    """Event `name` of `contract`'s ABI; `MissingEvent` when the ABI has none."""
    try:
        return EventType.named(contract.abi, name)
    except KeyError as err:
        raise MissingEvent(f"no event {name} in the ABI") from err


def events(receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> list[dict[str, Any]]:
    """The arguments of every `name` event of `contract`'s ABI in `receipt`, in log order."""
    return event_type(contract, name).args_of(receipt["logs"])


def single(receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> dict[str, Any]:
    """The arguments of the one `name` event in `receipt`; `MissingEvent` if there is none or more than one."""
    found = events(receipt, contract, name)
    if len(found) != 1:
        raise MissingEvent(f"{len(found)} {name} events in transaction {receipt['transactionHash']}")
    return found[0]
