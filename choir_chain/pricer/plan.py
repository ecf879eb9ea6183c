"""What the pricer service works with: its configuration, the trigger blocks ahead, and the round it will send
next (`service.py` explains how rounds are chosen)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from choir_chain.chain.rpc import RetryPolicy
from choir_chain.pricer.client import Function
from choir_chain.pricer.compute import Step
from choir_chain.pricer.novelty import DEFAULT_BATCH_SIZE
from choir_chain.pricer.progress import Position, encode_tag
from choir_chain.pricing import QahoParams

__all__ = ["PricerConfig", "RoundPlan", "Upcoming", "least_recent_first", "round_calldata"]


@dataclass(frozen=True)
class PricerConfig:
    """Tuning of the service; the defaults suit a devnet (0 confirmations) and a public chain alike."""

    confirmations: int = 0
    batch_size: int = 100
    """Most threads per round (per `updatePrices` call)."""
    poll_interval: float = 1.0
    """Seconds between looks at the chain when there is nothing to do (follow mode)."""
    receipt_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_failures: int = 8
    """Consecutive failed steps (rejected rounds, error answers) before the service gives up."""
    params: QahoParams = field(default_factory=QahoParams)
    novelty: bool = False
    """Score stored message bodies and submit novelty rounds (needs ORACLE_ROLE and the embedding model)."""
    novelty_batch_size: int = DEFAULT_BATCH_SIZE
    """Most messages per novelty round (per `setNoveltyScores` call)."""
    index_wait: float = 10.0
    """Most seconds to wait for the indexer to reach the chain's head when the indexed blocks give no round."""
    allocation_delay: int = 0
    """Seconds after an epoch's end before its allocation is sent (time for another scorer's rounds to land)."""


@dataclass(frozen=True)
class Upcoming:
    """The trigger blocks in `(after, until]`, in order."""

    after: int
    until: int
    blocks: list[int]


@dataclass(frozen=True)
class RoundPlan:
    """The next round: what it prices and with which nonce it will be sent."""

    round: int
    position: Position
    steps: tuple[Step, ...]
    nonce: int
    started: float
    """`time.monotonic()` when planning began (for the round's latency)."""

    @property
    def thread_ids(self) -> list[int]:
        return [s.thread_id for s in self.steps]

    @property
    def prices(self) -> list[int]:
        return [s.price for s in self.steps]


def least_recent_first(steps: Iterable[Step], rounds: Mapping[int, int]) -> list[Step]:
    """`steps` in the order rounds take them: least recently priced first (`rounds`: thread -> its last round on
    the hub), then by thread id. A trigger block with more than `batch_size` threads to move thus gives every
    thread its first step before any gets a second."""
    by_id = sorted(steps, key=attrgetter("thread_id"))
    return sorted(by_id, key=lambda s: rounds[s.thread_id])  # stable: ties stay in thread id order


UPDATE_PRICES_INPUTS = ("uint256[]", "uint256[]", "uint64")


def round_calldata(update_prices: Function, plan: RoundPlan) -> bytes:
    """The calldata of a round: `updatePrices(threadIds, prices, round)` and the position tag (`progress.py`).

    The ABI encoding of two `uint256[]` and a `uint64` is written directly (about 40 times faster than eth-abi's
    general encoder, which a full reprice of 100,000 threads would spend a second in); anything else, or a value
    out of range, goes through `Function.encode`, which also raises its errors."""
    ids, prices = plan.thread_ids, plan.prices
    data = _update_prices_args(ids, prices, plan.round) if update_prices.inputs == UPDATE_PRICES_INPUTS else None
    if data is None:
        return update_prices.encode(ids, prices, plan.round) + encode_tag(plan.position)
    return update_prices.selector + data + encode_tag(plan.position)


def _update_prices_args(ids: Sequence[int], prices: Sequence[int], round_: int) -> bytes | None:
    """`abi.encode(uint256[] ids, uint256[] prices, uint64 round)`, or None unless every value is an int in range."""
    if len(ids) != len(prices) or not all(type(v) is int for v in chain(ids, prices, (round_,))):
        return None
    if round_ < 0 or round_ >= 2**64:
        return None
    count = len(ids)
    try:
        head = (96).to_bytes(32, "big") + (128 + 32 * count).to_bytes(32, "big") + round_.to_bytes(32, "big")
        first = count.to_bytes(32, "big") + b"".join(v.to_bytes(32, "big") for v in ids)
        second = count.to_bytes(32, "big") + b"".join(v.to_bytes(32, "big") for v in prices)
    except OverflowError:  # negative, or at least 2**256
        return None
    return head + first + second
