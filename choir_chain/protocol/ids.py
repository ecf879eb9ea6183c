"""Global message ids (protocol section 2): `threadId << 64 | index`, as `ThreadDAO.messageId` computes them.

A thread's messages and specs share one index space; index 0 is the thread's root message. Ids of real messages
are always >= 2**64 (thread ids start at 1), which is why the gateway and the export write them as decimal strings.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["INDEX_BITS", "message_id", "message_ids", "split_message_id"]

INDEX_BITS = 64
"""Bits of the index within its thread; the thread id takes the bits above."""

_INDEX_MASK = (1 << INDEX_BITS) - 1


def message_id(thread_id: int, index: int) -> int:
    """The global id of message `index` of thread `thread_id`. Raises `ValueError` for an out-of-range part."""
    if thread_id < 0 or not 0 <= index <= _INDEX_MASK:
        raise ValueError(f"no message id for thread {thread_id}, index {index}: index must be in [0, 2**64)")
    return thread_id << INDEX_BITS | index


def message_ids(pairs: Iterable[tuple[int, int]]) -> list[int]:
    """`message_id` of each `(thread_id, index)` pair."""
    return [message_id(thread_id, index) for thread_id, index in pairs]


def split_message_id(global_id: int) -> tuple[int, int]:
    """`(thread_id, index)` of a global message id."""
    if global_id < 0:
        raise ValueError(f"message id {global_id} is negative")
    return global_id >> INDEX_BITS, global_id & _INDEX_MASK
