"""What the pricer service works with: its configuration, the trigger blocks ahead, and the round it will send
next (`service.py` explains how rounds are chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from choir_chain.chain.rpc import RetryPolicy
from choir_chain.pricer.compute import Step
from choir_chain.pricer.novelty import DEFAULT_BATCH_SIZE
from choir_chain.pricer.progress import Position
from choir_chain.pricing import QahoParams

__all__ = ["PricerConfig", "RoundPlan", "Upcoming"]


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
