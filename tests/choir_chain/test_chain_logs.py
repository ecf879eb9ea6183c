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
