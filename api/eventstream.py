"""Every event of the deployment as it is mined, decoded with the contracts' ABIs, for `GET /events`.

A `Watcher` follows the deployment's addresses: the manifest's hub, token and distributor, every thread clone
(CREATE2 addresses, computed from the hub's `threadCount`) and every thread governor (the hub's `GovernorCreated`
logs). `poll` asks `eth_getLogs` for those addresses over the next bounded block range; a thread or a governor
created in that range is learnt from the hub's logs and its own logs of the range are fetched too, so nothing
between the creation and the next poll is missed. Events come out in chain order (block, log index).

The watcher is synchronous (web3 over HTTP); the route runs it in a worker thread between async sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils import to_checksum_address

from api import deployment as dep
from api.logs import get_logs
from api.state import Gateway
from choir_chain import artifacts
from choir_chain.chain.events import Event, EventDecoder

POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 10.0
MAX_RANGE = 1_000
"""Most blocks one poll covers (a replay from an old block proceeds in steps of this many)."""

SOURCES = {
    dep.HUB: "ChoirHub",
    dep.TOKEN: "ChoirToken",
    dep.DISTRIBUTOR: "RewardsDistributor",
    dep.THREAD: "ThreadDAO",
    dep.GOVERNOR: "ThreadGovernor",
}


@cache
def decoder() -> EventDecoder:
    return EventDecoder({source: artifacts.load(name).abi for source, name in SOURCES.items()})


_streams = 0
_streams_lock = threading.Lock()


def open_streams() -> int:
    """Event streams being served now (for tests and metrics)."""
    return _streams


def stream_opened(delta: int) -> None:
    global _streams
    with _streams_lock:
        _streams += delta


@dataclass(frozen=True)
class Origin:
    source: str
    thread_id: int | None


def _plain(value: Any) -> Any:
    """JSON for a decoded value: integers as decimal strings (uint256 exceeds JavaScript's 2^53)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def as_json(event: Event, origin: Origin) -> dict[str, Any]:
    """The `data` of one server-sent event (see CONTRACT.md)."""
    return {
        "event": event.name,
        "address": event.address,
        "source": origin.source,
        "thread_id": origin.thread_id,
        "block": event.block,
        "tx_hash": event.tx_hash,
        "log_index": event.log_index,
        "args": {name: _plain(value) for name, value in event.args.items()},
    }


class Watcher:
    """The deployment's addresses and the decoding of their logs, block range by block range."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.deployment = dep.deployment(gw)
        self.origins: dict[str, Origin] = {a: Origin(s, None) for a, s in self.deployment.fixed.items()}
        self._known_threads = 0
        self._governors_scanned_to = gw.manifest.deploy_block - 1
        self._last_head: int | None = None

    def head(self) -> int:
        return int(self.gw.w3.eth.block_number)

    def _learn_threads(self, thread_count: int) -> list[str]:
        added = []
        for thread_id in range(self._known_threads + 1, thread_count + 1):
            address = self.deployment.thread_address(thread_id)
            self.origins[address] = Origin(dep.THREAD, thread_id)
            added.append(address)
        self._known_threads = max(self._known_threads, thread_count)
        return added

    def _learn_from_hub(self, logs: Sequence[Mapping[str, Any]]) -> list[str]:
        """Threads and governors created in `logs` that were not known yet."""
        added: list[str] = []
        hub = self.deployment.hub.lower()
        for log in logs:
            if log["address"].lower() != hub:
                continue
            event = decoder().decode(dep.HUB, log)
            if event is None:
                continue
            if event.name == "ThreadCreated":
                added += self._learn_threads(int(event.args["threadId"]))
            elif event.name == "GovernorCreated":
                governor = to_checksum_address(event.args["governor"])
                if governor not in self.origins:
                    self.origins[governor] = Origin(dep.GOVERNOR, int(event.args["threadId"]))
                    added.append(governor)
        return added

    def prepare(self, head: int) -> None:
        """Learn the threads and governors that exist at block `head` (before a stream starts)."""
        count = int(self.gw.hub.functions.threadCount().call(block_identifier=head))
        self._learn_threads(count)
        if head > self._governors_scanned_to:
            topic = decoder().topics(dep.HUB, ["GovernorCreated"])
            logs = get_logs(self.gw.w3, [self.deployment.hub], [topic], self._governors_scanned_to + 1, head)
            self._learn_from_hub(logs)
            self._governors_scanned_to = head

    def events(self, first: int, last: int) -> list[tuple[Event, Origin]]:
        """Every decoded event of the deployment in blocks `[first, last]`, in chain order."""
        addresses = list(self.origins)
        logs = get_logs(self.gw.w3, addresses, None, first, last)
        added = self._learn_from_hub(logs)
        while added:  # contracts created in the range: their logs of the range too
            more = get_logs(self.gw.w3, added, None, first, last)
            logs += more
            added = self._learn_from_hub(more)
        logs.sort(key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))
        found = []
        for log in logs:
            if log.get("removed"):
                continue
            origin = self.origins.get(to_checksum_address(log["address"]))
            if origin is None:
                continue
            event = decoder().decode(origin.source, log, thread_id=origin.thread_id)
            if event is not None:
                found.append((event, origin))
        return found

    def poll(self, next_block: int) -> tuple[list[tuple[Event, Origin]], int, bool]:
        """Events from `next_block` up to the head (at most `MAX_RANGE` blocks): (events, the next block to ask
        for, whether the head was reached). A head that went back (a devnet reverted to a snapshot) moves
        `next_block` back to just after it; a `next_block` in the future is waited for."""
        head = self.head()
        went_back = self._last_head is not None and head < self._last_head
        self._last_head = head
        if went_back and next_block > head + 1:
            return [], head + 1, True
        if next_block > head:
            return [], next_block, True
        last = min(head, next_block + MAX_RANGE - 1)
        return self.events(next_block, last), last + 1, last == head
