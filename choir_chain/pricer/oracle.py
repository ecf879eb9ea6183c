"""What the pricer reads from the hub before planning a round: its last round, its bounds, and each thread's
price point and deviation window (protocol section 6, r2), at a known lower bound of the chain's time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from choir_chain.chain.rpc import RpcClient
from choir_chain.pricer.client import Contract
from choir_chain.pricer.compute import OracleBounds, running_anchor


@dataclass(frozen=True)
class OracleView:
    """What the hub says now: its last round, its bounds, and the price and round of some threads, with the
    anchors of their deviation windows that may still be running (`compute.running_anchor`)."""

    last_round: int
    bounds: OracleBounds
    prices: dict[int, int]
    rounds: dict[int, int]
    anchors: dict[int, int] = field(default_factory=dict)
    starts: dict[int, int] = field(default_factory=dict)
    """When each thread's deviation window started (0: none yet)."""
    now: int = 0
    """The latest block's timestamp when the hub was read."""


def read_oracle(rpc: RpcClient, hub: Contract, thread_ids: list[int]) -> OracleView:
    """The hub's last round, bounds and the threads' price points and windows, in one batch.

    The latest block's timestamp is read first: the calls see that block or a later one, and a round planned
    from them is mined later still, so a window over at that time is over when the round lands."""
    block = rpc.call("eth_getBlockByNumber", ["latest", False])
    now = int(block["timestamp"], 16)
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("lastRound", ()),
        ("minPrice", ()),
        ("maxPrice", ()),
        ("maxDeviationBps", ()),
        ("deviationWindow", ()),
    ]
    calls += [("pricePoint", (t,)) for t in thread_ids] + [("priceWindow", (t,)) for t in thread_ids]
    results = hub.call_many(calls)
    (last,), (min_price,), (max_price,), (max_dev,), (window,) = results[:5]
    count = len(thread_ids)
    points = dict(zip(thread_ids, results[5 : 5 + count], strict=True))
    windows = dict(zip(thread_ids, results[5 + count :], strict=True))
    bounds = OracleBounds(int(min_price), int(max_price), int(max_dev), int(window))
    return OracleView(
        last_round=int(last),
        bounds=bounds,
        prices={t: int(p[0]) for t, p in points.items()},
        rounds={t: int(p[2]) for t, p in points.items()},
        anchors={t: running_anchor(int(w[0]), int(w[1]), now, bounds) for t, w in windows.items()},
        starts={t: int(w[1]) for t, w in windows.items()},
        now=now,
    )


def bounds_fields(bounds: OracleBounds) -> dict[str, Any]:
    """The bounds as fields of an event line."""
    return {
        "min_price": str(bounds.min_price),
        "max_price": str(bounds.max_price),
        "max_deviation_bps": bounds.max_deviation_bps,
        "deviation_window": bounds.deviation_window,
    }


def waiting_event(trigger_block: int, waiting: list[int], view: OracleView) -> dict[str, Any]:
    """The event line of threads held short of their targets by their deviation windows, with the earliest
    time one of them may move again."""
    window = view.bounds.deviation_window
    return {
        "event": "waiting",
        "reason": "deviation window",
        "trigger_block": trigger_block,
        "threads": waiting,
        "until": min(view.starts[t] + window for t in waiting) if window else None,
    }
