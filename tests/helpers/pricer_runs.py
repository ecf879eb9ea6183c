"""Running the pricer in the pricer tests: one `--once` run beside an indexer, what the hub holds afterwards
(its `PricesUpdated` rounds and price points), and the status of every price round the pricer account sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from choir_chain.chain.rpc import RetryPolicy
from choir_chain.devnet import rpc_call
from choir_chain.pricer import Pricer, PricerConfig
from helpers.pricer_workload import World
from helpers.world import indexing

FAST = PricerConfig(retry=RetryPolicy(initial=0.001, maximum=0.01), poll_interval=0.01)
Rounds = dict[int, tuple[list[int], list[int]]]
"""round -> (thread ids, prices), from the hub's PricesUpdated events."""


@dataclass(frozen=True)
class Outcome:
    rounds: Rounds
    points: dict[int, tuple[int, int, int]]
    events: list[dict[str, Any]]


def outcome(world: World, events: list[dict[str, Any]] | None = None) -> Outcome:
    hub = world.deployment.hub
    logs = hub.events.PricesUpdated().get_logs(from_block=0)
    rounds = {int(x["args"]["round"]): (list(x["args"]["threadIds"]), list(x["args"]["prices"])) for x in logs}
    assert len(rounds) == len(logs), "a round was accepted twice"
    points = {t: tuple(hub.functions.pricePoint(t).call()) for t in (1, 2, 3)}
    return Outcome(rounds=rounds, points=points, events=events or [])  # type: ignore[arg-type]


def price_once(world: World, db: str, *, rpc_url: str | None = None, config: PricerConfig = FAST) -> Outcome:
    events: list[dict[str, Any]] = []
    url = rpc_url or world.rpc_url
    with (
        indexing(url, world.deployment.manifest, db, config.confirmations),
        Pricer(url, world.deployment.manifest, world.pricer, db, config=config, emit=events.append) as pricer,
    ):
        pricer.run(once=True)
    return outcome(world, events)


def pricer_statuses(world: World) -> list[int]:
    """Status of every price round the pricer account ever sent to the hub (all blocks' receipts, in one batch);
    its scores and allocations sent to the RewardsDistributor are not rounds."""
    head = int(str(rpc_call(world.rpc_url, "eth_blockNumber")), 16)
    batch = [{"jsonrpc": "2.0", "id": n, "method": "eth_getBlockReceipts", "params": [hex(n)]} for n in range(head + 1)]
    replies = requests.post(world.rpc_url, json=batch, timeout=60).json()
    pricer, hub = world.pricer.address.lower(), world.deployment.hub.address.lower()
    return [
        int(r["status"], 16)
        for reply in replies
        for r in reply["result"]
        if r["from"].lower() == pricer and (r["to"] or "").lower() == hub
    ]


def held(events: list[dict[str, Any]]) -> bool:
    """Whether a run left threads waiting for their deviation windows to end."""
    return any(e["event"] == "waiting" and e.get("reason") == "deviation window" for e in events)


@dataclass(frozen=True)
class Settled:
    """A run continued window after window until no thread waits: its rounds (with their block timestamps)
    and events, and how many runs it took."""

    outcome: Outcome
    times: dict[int, int]
    runs: int


TIGHT_BPS = 100
