"""A spec's status (protocol section 3): the values of `IThreadDAO.SpecStatus` and the names every layer uses."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["SPEC_OUTCOMES", "SpecStatus"]


class SpecStatus(IntEnum):
    """On-chain value of each status; `label` is the name used by the indexer, the gateway and the export."""

    NONE = 0
    """No such spec."""
    PENDING = 1
    APPROVED = 2
    DENIED = 3
    SPLIT = 4
    """Approvals and denials both: the stake divides between the treasury and the deniers (protocol section 3)."""
    EXPIRED = 5
    """No vote in the window: the stake goes to the treasury."""
    REFUNDED = 6
    """Every eligible co-author left without voting (r2): the stake goes back to its author."""

    @property
    def label(self) -> str:
        return self.name.lower()


SPEC_OUTCOMES: tuple[str, ...] = tuple(s.label for s in SpecStatus if s > SpecStatus.PENDING)
"""The names of a settled spec's outcomes, in on-chain order: approved, denied, split, expired, refunded."""
