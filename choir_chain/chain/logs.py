"""Reading `eth_getLogs` over block ranges a node accepts: providers cap the span or the number of results of one
query and answer with a JSON-RPC error (`RpcError`), so a refused range is asked again in halves. One rule for the
indexer and the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from choir_chain.chain.rpc import RpcError

FetchLogs = Callable[[int, int], list[Any]]
"""`fetch(first, last)`: the logs of blocks `first..last`; raises `RpcError` when the node refuses the range."""


def logs_from(fetch: FetchLogs, first: int, last: int) -> tuple[list[Any], int]:
    """The logs of blocks `first..end` and `end <= last`: the whole range, or its first half, quarter, ... as far
    as the node accepts. `RpcError` when even block `first` alone is refused."""
    end = last
    while True:
        try:
            return fetch(first, end), end
        except RpcError:
            if end == first:
                raise
            end = first + (end - first) // 2


def logs_between(fetch: FetchLogs, first: int, last: int, chunk: int) -> list[Any]:
    """Every log of blocks `first..last`, asked at most `chunk` blocks at a time (each chunk as `logs_from`)."""
    found: list[Any] = []
    start = first
    while start <= last:
        logs, end = logs_from(fetch, start, min(last, start + chunk - 1))
        found.extend(logs)
        start = end + 1
    return found
