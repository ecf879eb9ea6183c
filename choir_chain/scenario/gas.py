"""The gas limits of a scenario's batched transactions (`Community`).

Batched transactions are queued against a state that is not mined yet (a spec's approval and its `submitSpec`
in one block), so nothing is estimated: each protocol step gets a fixed, generous limit. A limit above what a
transaction uses costs nothing on a devnet (the fee is paid on `gasUsed`, blocks hold `BLOCK_GAS_LIMIT`), so one
table serves every driver; the largest limit any driver used before it is kept. Signed transactions
(`SignedCommunity`) estimate instead, with the one margin of `choir_chain.chain.gas`.
"""

from __future__ import annotations

GAS = {
    "createThread": 400_000,
    "transfer": 100_000,
    "post": 300_000,
    "approve": 100_000,
    "submitSpec": 500_000,
    "vote": 200_000,
    "settle": 500_000,
    "claimCuratorRewards": 200_000,
    "exit": 400_000,
}
"""Gas limit by protocol step."""

PRICES_BASE_GAS = 100_000
GAS_PER_PRICE = 300_000
"""`updatePrices` costs a base and a share per thread priced (a thread's first price writes new slots)."""


def prices_gas(threads: int) -> int:
    """The gas limit of one `updatePrices` round over `threads` threads."""
    return PRICES_BASE_GAS + GAS_PER_PRICE * threads
