"""From raw logs to ordered events, the same way for logs fresh from the node and for logs read back from the
raw-log cache (`cache.py`): which logs belong to the deployment, which thread each came from, and chain order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from choir_chain import artifacts
from choir_chain.chain.events import Event, EventDecoder
from choir_chain.indexer.errors import IndexerError
from choir_chain.indexer.handlers import HANDLERS, HUB, REWARDS, THREAD
from choir_chain.manifest import Manifest

RawLogEntry = Mapping[str, Any]
"""A log as `eth_getLogs` returns it (hex quantities)."""


def load_abis(manifest: Manifest, warn: Any = None) -> dict[str, list[dict[str, Any]]]:
    """The compiled ABIs of the hub, the thread and (when deployed) the rewards distributor; `warn(name)` is
    called for a contract whose compiled ABI differs from the deployed one."""
    sources = [(HUB, "ChoirHub"), (THREAD, "ThreadDAO")]
    if "RewardsDistributor" in manifest.contracts:
        sources.append((REWARDS, "RewardsDistributor"))
    abis = {}
    for source, name in sources:
        artifact = artifacts.load(name)
        deployed = manifest.contracts.get(name)
        if warn is not None and deployed is not None and deployed.abi_hash != artifact.abi_hash:
            warn(name)
        abis[source] = artifact.abi
    return abis


def contract_address(manifest: Manifest, name: str) -> str:
    entry = manifest.contracts.get(name)
    if entry is None:
        raise IndexerError(f"the manifest has no {name} contract")
    return entry.address


class LogRouter:
    """Routes the logs of one deployment: the hub's and the distributor's by address, a thread clone's by the
    thread id the hub gave it (`ThreadCreated`)."""

    def __init__(self, decoder: EventDecoder, hub: str, distributor: str | None) -> None:
        self.decoder = decoder
        self.hub = hub.lower()
        self.distributor = distributor.lower() if distributor is not None else None
        created = decoder.topics(HUB, ["ThreadCreated"])
        self._created_topic = created[0] if created else None

    def source_of(self, address: str) -> str | None:
        """`hub` or `rewards` for the deployment's own contracts, None for any other address."""
        address = address.lower()
        if address == self.hub:
            return HUB
        return REWARDS if address == self.distributor else None

    def discover(self, own_logs: Iterable[RawLogEntry]) -> dict[str, int]:
        """The threads created by the hub's `ThreadCreated` logs among `own_logs`: address -> thread id."""
        discovered: dict[str, int] = {}
        for entry in own_logs:
            topics = entry["topics"]
            if topics and topics[0].lower() == self._created_topic and self.source_of(entry["address"]) == HUB:
                event = self.decoder.decode(HUB, entry)
                if event is not None:
                    discovered[event.args["thread"].lower()] = event.args["threadId"]
        return discovered

    def keep(
        self, own_logs: list[RawLogEntry], thread_logs: Iterable[RawLogEntry], threads: Mapping[str, int]
    ) -> tuple[list[RawLogEntry], dict[str, int]]:
        """The logs that belong to the deployment (every log of its own contracts, the thread-event logs of
        `threads` and of the threads created among `own_logs`) and the threads discovered (address -> id)."""
        discovered = self.discover(own_logs)
        kept = list(own_logs)
        kept.extend(e for e in thread_logs if e["address"].lower() in threads or e["address"].lower() in discovered)
        return kept, discovered

    def events(self, kept: Iterable[RawLogEntry], threads: Mapping[str, int]) -> list[Event]:
        """The handled events of `kept` logs (see `keep`), in chain order; `threads` must hold every thread."""
        events: list[Event] = []
        for entry in kept:
            source = self.source_of(entry["address"])
            if source is not None:
                event = self.decoder.decode(source, entry)
                if event is not None and (source, event.name) in HANDLERS:
                    events.append(event)
                continue
            thread_id = threads.get(entry["address"].lower())
            if thread_id is None:
                continue
            event = self.decoder.decode(THREAD, entry, thread_id=thread_id)
            if event is not None and (THREAD, event.name) in HANDLERS:
                events.append(event)
        events.sort(key=chain_order)
        return events


def chain_order(event: Event) -> tuple[int, int, int, int]:
    """(block, transaction, the hub's `ThreadCreated` first, log index): the clone's `initialize` logs its root
    message and its creator's shares before the hub logs the creation, in the same transaction."""
    creation_first = 0 if event.source == HUB and event.name == "ThreadCreated" else 1
    return (event.block, event.tx_index, creation_first, event.log_index)
