"""A thread governor's proposal: its actions and description, which the governor hashes into the proposal's id
(built by the scenario drivers, read back from `ProposalCreated` by the gateway)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak

FOR = 1
"""`support` of a vote for a proposal (OpenZeppelin GovernorCountingSimple)."""


@dataclass(frozen=True)
class Proposal:
    """A governor proposal: its actions and description (the governor hashes them into its id)."""

    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)
