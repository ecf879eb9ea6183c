"""What the simulation asks of a ledger, and what it gets back: the pure model and the devnet implement this.

A ledger holds the money and the equity (tokens, treasuries, escrowed stakes, shares); the simulation decides
what the agents do and prices the threads. Calls come in the order of a day (prices, posts, specs, votes,
settlements, claims, exits) and each list is applied in its order, so two ledgers given the same calls end in
the same state: that is what the devnet engine's test checks against the pure model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from choir_chain.protocol import SPEC_OUTCOMES

OUTCOMES = SPEC_OUTCOMES
"""Settled outcomes, as `IThreadDAO.SpecStatus` names them (2..6).

The records below are named tuples: a large run creates hundreds of thousands of them."""


class Post(NamedTuple):
    """A co-author's free message; `citations` are (thread, message index) of earlier messages."""

    thread: int
    author: int
    citations: tuple[tuple[int, int], ...] = ()


class Submission(NamedTuple):
    """A staked spec by a non-co-author."""

    thread: int
    author: int
    stake: int
    citations: tuple[tuple[int, int], ...] = ()


class Ballot(NamedTuple):
    thread: int
    spec: int
    voter: int
    approve: bool


class Settled(NamedTuple):
    """A settlement: `treasury_gain + per_denier * denials == stake` (protocol section 3)."""

    thread: int
    spec: int
    outcome: str
    treasury_gain: int
    per_denier: int
    approvals: int
    denials: int
    shares_added: int


@dataclass(frozen=True)
class LedgerView:
    """The state a ledger holds, as plain integers (wei and shares)."""

    treasury: dict[int, int]
    locked: dict[int, int]
    total_shares: dict[int, int]
    shares: dict[int, dict[int, int]]
    """thread -> agent -> shares, for current co-authors only."""
    wallets: list[int]
    """CHOIR (wei) each agent holds, by agent index."""
    prices: dict[int, int]
    """The last price pushed for each thread (0: never)."""
    minted: int = 0
    """CHOIR created after genesis (rewards), included in the conservation identity."""


class Ledger(Protocol):
    """The money side of a community; see the module docstring."""

    def create_threads(self, creators: list[int]) -> list[int]:
        """One thread per creator, in order; returns their ids."""
        ...

    def begin_day(self, day: int) -> None:
        """Move the clock to the start of `day` (day 0 starts when the threads exist)."""
        ...

    def push_prices(self, round_: int, prices: dict[int, int]) -> None: ...

    def post(self, posts: list[Post]) -> None: ...

    def submit(self, submissions: list[Submission]) -> list[int]:
        """Escrow each stake; returns each spec's id in its thread."""
        ...

    def vote(self, ballots: list[Ballot]) -> None: ...

    def settle(self, specs: list[tuple[int, int]]) -> list[Settled]:
        """Settle (thread, spec id) pairs, in order."""
        ...

    def claim(self, claims: list[tuple[int, int, int]]) -> list[int]:
        """(thread, spec, denier): pay each denier its share; returns the amounts."""
        ...

    def exit(self, exits: list[tuple[int, int]]) -> list[int]:
        """(thread, agent): burn the agent's shares for its pro-rata part of the treasury, in order."""
        ...

    def view(self) -> LedgerView: ...

    def close(self) -> None: ...
