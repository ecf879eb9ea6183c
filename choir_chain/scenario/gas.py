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
    "absorbDonations": 200_000,
    "createGovernor": 400_000,
    "propose": 300_000,
    "castVote": 200_000,
    "queue": 300_000,
    "execute": 1_000_000,
}
"""Gas limit by protocol step (measured on the adversarial devnet run: `absorbDonations` 36k, `createGovernor`
113k, `propose` 76k, `castVote` 87k, `queue` 86k, `execute` 110k). `execute` gets far more than a treasury
transfer uses: a proposal whose calls run out of gas inside `execute` fails for good (docs/invariants.md G6)."""

PRICES_BASE_GAS = 100_000
GAS_PER_PRICE = 300_000
"""`updatePrices` costs a base and a share per thread priced (a thread's first price writes new slots)."""


def prices_gas(threads: int) -> int:
    """The gas limit of one `updatePrices` round over `threads` threads."""
    return PRICES_BASE_GAS + GAS_PER_PRICE * threads


NOVELTY_BASE_GAS = 100_000
GAS_PER_SCORE = 60_000
"""`setNoveltyScores` costs a base and a share per message scored (measured: about 22k + 25.5k a message)."""


def novelty_gas(messages: int) -> int:
    """The gas limit of one `setNoveltyScores` round over `messages` messages."""
    return NOVELTY_BASE_GAS + GAS_PER_SCORE * messages


ALLOCATE_BASE_GAS = 200_000
GAS_PER_PAYMENT = 150_000
"""`allocate` costs a base and a share per message paid (measured: about 72k + 63k a message, its citations
included)."""


def allocate_gas(messages: int) -> int:
    """The gas limit of one `allocate` batch paying `messages` messages."""
    return ALLOCATE_BASE_GAS + GAS_PER_PAYMENT * messages
