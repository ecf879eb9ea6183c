"""Reading `eth_getLogs` over block ranges a node accepts: providers cap the span or the number of results of one
query and answer with a JSON-RPC error (`RpcError`), so a refused range is asked again smaller: the range the
provider's error suggests when it names one (Alchemy: "this block range should work: [0x.., 0x..]"), else the
first half. One rule for the indexer and the gateway."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from choir_chain.chain.rpc import RpcError

FetchLogs = Callable[[int, int], list[Any]]
"""`fetch(first, last)`: the logs of blocks `first..last`; raises `RpcError` when the node refuses the range."""

_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\]")


def suggested_end(err: RpcError, first: int, end: int) -> int | None:
    """The last block of the range the provider's refusal suggests, when it starts at `first` and is narrower than
    `first..end` (anything else in the message is not trusted: the range is halved instead)."""
    match = _SUGGESTED.search(err.message)
    if match is None:
        return None
    start, stop = (int(v, 0) for v in match.groups())
    return stop if start == first and first <= stop < end else None


def logs_from(fetch: FetchLogs, first: int, last: int) -> tuple[list[Any], int]:
    """The logs of blocks `first..end` and `end <= last`: the whole range, or the range the node suggests, or its
    first half, quarter, ... as far as the node accepts. `RpcError` when even block `first` alone is refused."""
    end = last
    while True:
        try:
            return fetch(first, end), end
        except RpcError as err:
            if end == first:
                raise
            suggested = suggested_end(err, first, end)
            end = suggested if suggested is not None else first + (end - first) // 2


def logs_between(fetch: FetchLogs, first: int, last: int, chunk: int) -> list[Any]:
    """Every log of blocks `first..last`, asked at most `chunk` blocks at a time (each chunk as `logs_from`).

    A range the node cut short sets the span of every later ask: a provider's cap is the same for every range, so
    the refusals are paid once, not once per chunk (a cap on results may then ask sparse blocks in more requests
    than needed; never fewer blocks than exist)."""
    found: list[Any] = []
    start, span = first, chunk
    while start <= last:
        asked = min(last, start + span - 1)
        logs, end = logs_from(fetch, start, asked)
        found.extend(logs)
        if end < asked:
            span = end - start + 1
        start = end + 1
    return found
