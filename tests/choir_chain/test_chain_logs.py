"""Log ranges a node accepts (`choir_chain.chain.logs`): a refused range is asked in halves, nothing is lost or
read twice, and a block refused on its own is an error."""

from __future__ import annotations

import pytest

from choir_chain.chain.logs import logs_between, logs_from
from choir_chain.chain.rpc import RpcError


class Node:
    """Logs: one per block, the block's number; refuses any range wider than `max_span` blocks."""

    def __init__(self, max_span: int, broken: int | None = None) -> None:
        self.max_span = max_span
        self.broken = broken
        self.asked: list[tuple[int, int]] = []

    def fetch(self, first: int, last: int) -> list[int]:
        self.asked.append((first, last))
        if last - first + 1 > self.max_span or (self.broken is not None and first <= self.broken <= last):
            raise RpcError("eth_getLogs", {"code": -32005, "message": "query returned more than 10000 results"})
        return list(range(first, last + 1))


def test_a_refused_range_is_asked_in_halves_from_its_start() -> None:
    node = Node(max_span=3)
    assert logs_from(node.fetch, 10, 25) == ([10, 11], 11)
    assert node.asked == [(10, 25), (10, 17), (10, 13), (10, 11)]


@pytest.mark.parametrize(("max_span", "chunk"), [(1, 5), (3, 10), (7, 4), (1000, 100)])
def test_every_block_is_read_once_in_order(max_span: int, chunk: int) -> None:
    node = Node(max_span)
    assert logs_between(node.fetch, 5, 60, chunk) == list(range(5, 61))
    assert all(last - first + 1 <= chunk for first, last in node.asked)


def test_a_block_refused_alone_is_an_error() -> None:
    node = Node(max_span=100, broken=7)
    with pytest.raises(RpcError, match="more than 10000 results"):
        logs_between(node.fetch, 1, 20, 10)


class Alchemy(Node):
    """Refuses a wide range as Alchemy does, naming a range it accepts."""

    def fetch(self, first: int, last: int) -> list[int]:
        self.asked.append((first, last))
        if last - first + 1 > self.max_span:
            accepted = f"[{hex(first)}, {hex(first + self.max_span - 1)}]"
            message = (
                f"Log response size exceeded. ... Based on your parameters, this block range should work: {accepted}"
            )
            raise RpcError("eth_getLogs", {"code": -32602, "message": message})
        return list(range(first, last + 1))


def test_the_range_a_provider_suggests_is_asked_at_once() -> None:
    node = Alchemy(max_span=7)
    assert logs_from(node.fetch, 10, 1000) == (list(range(10, 17)), 16)
    assert node.asked == [(10, 1000), (10, 16)]


@pytest.mark.parametrize(
    "suggested",
    ["[0x5, 0x9]", "[0xa, 0x3e8]", "[0xc, 0xb]", "[0xa, 0x2000]"],  # another start, the whole range, reversed, past it
)
def test_a_suggested_range_outside_the_request_is_not_trusted(suggested: str) -> None:
    def fetch(first: int, last: int) -> list[int]:
        asked.append((first, last))
        if last - first + 1 > 4:
            raise RpcError("eth_getLogs", {"code": -32602, "message": f"this block range should work: {suggested}"})
        return list(range(first, last + 1))

    asked: list[tuple[int, int]] = []
    logs, end = logs_from(fetch, 10, 1000)
    assert logs == list(range(10, end + 1)) and end < 14
    assert all(first == 10 and last <= 1000 for first, last in asked)


def test_a_cut_range_sets_the_span_of_the_next_asks() -> None:
    """A provider capping 1,000 blocks, a read of 100,000 blocks in chunks of 10,000: the first chunk's four
    refusals (10,000 -> 625 blocks) are the only ones; every later ask fits at once."""
    node = Node(max_span=1000)
    assert logs_between(node.fetch, 0, 99_999, 10_000) == list(range(100_000))
    refused = [(a, b) for a, b in node.asked if b - a + 1 > 1000]
    assert refused == [(0, 9999), (0, 4999), (0, 2499), (0, 1249)]
    assert len(node.asked) == 4 + 160  # 100,000 blocks in asks of 625
