"""What stops the pricer, each with a message that says what to do about it."""

from __future__ import annotations


class PricerError(RuntimeError):
    """The pricer cannot go on: wrong chain, missing role or key, or a chain that contradicts its records."""


class RoundRejected(RuntimeError):
    """The node refused a planned round (gas estimation reverted, or the transaction was not accepted).

    Nothing was mined, so nothing is lost: the service waits, re-reads the chain and plans again."""


class RoundReverted(RuntimeError):
    """A mined round reverted. The service never sends a round the node predicts to revert, so this means
    the chain changed between estimation and mining (another pricer, an admin changing the bounds)."""
