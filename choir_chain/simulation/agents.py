"""The agents: authors of varying quality, co-authors of varying strictness, and what they do each day.

Every agent has a quality ``q`` (how good its messages are) and a strictness ``s`` (how good a message must be
for it to approve), both drawn from Beta distributions. A co-author votes with probability `participation`
and then approves a spec of quality ``q`` with probability

    p(q, s) = 1 / (1 + exp(-(q - s) / judgement))

so a spec at the co-author's own bar passes half the time, a much better one nearly always, a much worse one
almost never; `judgement` is how noisy that judgement is. A spec joins its author only when every vote cast
approves, so a thread of many strict co-authors refuses more: its refusal ratio, hence its ``K0`` and price,
rise (protocol section 4).

`Behaviour` draws every choice from one NumPy generator in a fixed order, from the state the ledger reports.
Both engines call it the same way, so the same seed and the same ledger state give the same decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from choir_chain.simulation.ledger import Ballot, Post, Submission
from choir_chain.simulation.params import SimParams

COOLDOWN_DAYS = 2
"""Days after joining before an agent considers leaving (the contract's cooldown is 1 day; 2 keeps every exit
clear of it whatever the time of day of the join)."""
MAX_DRAWS = 32
"""Random draws of an author for a spec before the thread gets no spec from that slot."""
MILLE = 1_000


@dataclass(frozen=True)
class Population:
    quality: NDArray[np.float64]
    strictness: NDArray[np.float64]

    @classmethod
    def draw(cls, params: SimParams, rng: np.random.Generator) -> Population:
        quality = rng.beta(params.quality_a, params.quality_b, size=params.agents)
        strictness = rng.beta(params.strictness_a, params.strictness_b, size=params.agents)
        return cls(quality=quality, strictness=strictness)

    @property
    def size(self) -> int:
        return int(self.quality.size)


def approve_probability(
    quality: NDArray[np.float64], strictness: NDArray[np.float64], judgement: float
) -> NDArray[np.float64]:
    """Chance that a co-author of strictness ``s`` approves a spec of quality ``q`` (module docstring)."""
    return np.asarray(1.0 / (1.0 + np.exp(-(quality - strictness) / judgement)), dtype=np.float64)


@dataclass(frozen=True)
class DayState:
    """What the agents know at the start of a day (from the ledger and the pricer)."""

    day: int
    prices: Mapping[int, int]
    """thread -> price in wei a spec must stake today."""
    members: Mapping[int, Sequence[int]]
    """thread -> current co-authors, sorted."""
    wallets: Sequence[int]
    messages: Mapping[int, int]
    """thread -> messages at the start of the day (citable)."""
    citations: Mapping[int, int]
    """thread -> citations received so far (preferential attachment)."""
    pending_authors: Mapping[int, set[int]]
    """thread -> authors with a spec still pending there."""
    joined: Mapping[int, Mapping[int, int]]
    """thread -> co-author -> day it joined."""

    @cached_property
    def citation_weights(self) -> tuple[list[int], NDArray[np.float64]]:
        """Threads in order and the cumulative sums of their weights ``1 + citations``."""
        threads = sorted(self.messages)
        return threads, np.cumsum([1.0 + self.citations[t] for t in threads])


class Behaviour:
    """The community's choices for each day (see the module docstring)."""

    def __init__(self, params: SimParams, population: Population, rng: np.random.Generator) -> None:
        self.params = params
        self.population = population
        self.rng = rng

    def stake(self, author: int, price: int) -> int:
        """What an author stakes at `price`: ``price * (1 + overstake * q)``, in whole thousandths."""
        bonus = round(MILLE * self.params.overstake * float(self.population.quality[author]))
        return price * (MILLE + bonus) // MILLE

    def _citation(self, state: DayState, own: int) -> tuple[tuple[int, int], ...]:
        """With `cite_probability`, one earlier message of another thread, picked in proportion to the
        citations that thread has (preferential attachment, plus one so every thread can be picked)."""
        if len(state.messages) < 2 or self.rng.random() >= self.params.cite_probability:
            return ()
        threads, cumulative = state.citation_weights
        while True:  # drawing again on the own thread is drawing from the other threads' distribution
            cited = threads[int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))]
            if cited != own:
                return ((cited, int(self.rng.integers(state.messages[cited]))),)

    def posts(self, state: DayState) -> list[Post]:
        """Each co-author posts with `post_rate` (one draw per co-author, threads and agents in order)."""
        authors = [(thread, author) for thread in sorted(state.members) for author in state.members[thread]]
        draws = self.rng.random(len(authors))
        return [
            Post(thread, author, self._citation(state, thread))
            for (thread, author), u in zip(authors, draws.tolist(), strict=True)
            if u < self.params.post_rate
        ]

    def submissions(self, state: DayState) -> list[Submission]:
        """Each thread draws Poisson(`spec_rate`) specs; each author is a random agent that is not a
        co-author, has no spec pending there, has not submitted elsewhere today and can pay its stake."""
        out: list[Submission] = []
        spent: dict[int, int] = {}
        agents = self.population.size
        for thread in sorted(state.members):
            members = set(state.members[thread])
            pending = state.pending_authors.get(thread, set())
            for _ in range(int(self.rng.poisson(self.params.spec_rate))):
                for _ in range(MAX_DRAWS):
                    author = int(self.rng.integers(agents))
                    stake = self.stake(author, state.prices[thread])
                    if author in members or author in pending or author in spent:
                        continue
                    if state.wallets[author] < stake:
                        continue
                    spent[author] = stake
                    out.append(Submission(thread, author, stake, self._citation(state, thread)))
                    break
        return out

    def ballots(self, submissions: Sequence[Submission], spec_ids: Sequence[int], state: DayState) -> list[Ballot]:
        """Every co-author eligible for a spec (a co-author at its submission) votes with `participation`,
        then approves with `approve_probability` (two draws per eligible co-author, in order)."""
        slots = [
            (sub, spec_id, voter)
            for sub, spec_id in zip(submissions, spec_ids, strict=True)
            for voter in state.members[sub.thread]
        ]
        if not slots:
            return []
        draws = self.rng.random((len(slots), 2))
        quality = self.population.quality[[sub.author for sub, _, _ in slots]]
        strictness = self.population.strictness[[voter for _, _, voter in slots]]
        p_approve = approve_probability(quality, strictness, self.params.judgement)
        votes = draws[:, 0] < self.params.participation
        approve = draws[:, 1] < p_approve
        return [
            Ballot(sub.thread, spec_id, voter, bool(approve[i]))
            for i, (sub, spec_id, voter) in enumerate(slots)
            if votes[i]
        ]

    def exits(self, state: DayState, members: Mapping[int, Sequence[int]]) -> list[tuple[int, int]]:
        """Each co-author past the cooldown leaves with `exit_rate`; the last one of a thread never does."""
        out = []
        for thread in sorted(members):
            staying = list(members[thread])
            for agent in list(staying):
                if state.day < state.joined[thread].get(agent, 0) + COOLDOWN_DAYS or len(staying) == 1:
                    continue
                if self.rng.random() < self.params.exit_rate:
                    staying.remove(agent)
                    out.append((thread, agent))
        return out
