"""The gas limit of every transaction Choir sends (services, deployments) or builds for a wallet (the gateway):
the node's estimate plus 20% and 10,000, so a state change between estimate and inclusion (another vote, a
price round) does not run the transaction out of gas. The receipt's `gasUsed` is what it costs."""

from __future__ import annotations

GAS_MARGIN_PERCENT = 20
GAS_EXTRA = 10_000


def gas_limit(estimate: int) -> int:
    """The gas limit for a transaction the node estimated at `estimate` (integer arithmetic, rounded up)."""
    return -(-estimate * (100 + GAS_MARGIN_PERCENT) // 100) + GAS_EXTRA
