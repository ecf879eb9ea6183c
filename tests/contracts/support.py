"""Constants and helpers shared by the contract tests (import as `from support import ...`)."""

from __future__ import annotations

from eth_utils import keccak

CHOIR = 10**18
DAY = 24 * 3600
HUB_DEFAULTS = {
    "minPrice": 1 * CHOIR,
    "maxPrice": 1_000_000 * CHOIR,
    "fallbackPrice": 30 * CHOIR,  # S0 * 3 with S0 = 10 CHOIR
    "maxDeviationBps": 5_000,
    "heartbeat": DAY,
    "approvalWindow": 7 * DAY,
}

GOVERNANCE_DEFAULTS = {
    "votingDelay": 1,  # the snapshot is one second after the proposal
    "votingPeriod": 3 * DAY,
    "quorumBps": 5_000,  # half of all shares must vote for or abstain
    "executionDelay": DAY,
}


def content(text: str) -> bytes:
    """The on-chain content hash of a message body."""
    return keccak(text=text)
