"""The ledger as pure Python integers: the contracts' settlement, equity and exit arithmetic, to the wei.

Mirrors `SpecSettlement.divide` (protocol section 3), `EquityMath.sharesForStake` (protocol section 5:
``e = min(sqrt(s / P0) / (N + 1), 1/2)``, new shares ``total * e / (1 - e)``, WAD fixed point, rounded down as
OpenZeppelin's `Math.mulDiv` and `Math.sqrt` do) and `ThreadDAO.exit` (``treasury * shares / totalShares``,
rounded down), so a run on it ends with the same integers as the same run on the devnet. Deniers' shares are
paid when claimed, as on chain; until then they stay locked. Time does not enter: a spec keeps the price it
was submitted at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from choir_chain.protocol.approval import UNANIMOUS_BPS
from choir_chain.protocol.units import WAD
from choir_chain.simulation.ledger import Ballot, LedgerView, Post, Settled, Submission
from choir_chain.simulation.params import SimParams

INITIAL_SHARES = WAD


class LedgerError(RuntimeError):
    """A call the contracts would reject (the simulation's own bug, never the agents' choice)."""


UNANIMOUS = UNANIMOUS_BPS
"""`approval_threshold_bps` of today's rule: a spec is approved only when every vote cast approves."""


def divide(stake: int, approvals: int, denials: int, threshold_bps: int = UNANIMOUS) -> tuple[str, int, int]:
    """Outcome, treasury gain and per-denier payout of a settled stake (`SpecSettlement.divide`).

    `threshold_bps` below `UNANIMOUS` is a thread's approval threshold (docs/economics.md, incentives of the vote):
    a spec is approved when its approvals are at least that share of the votes cast, and then the whole stake goes
    to the treasury (deniers are paid only when the spec is not approved); otherwise as today."""
    if approvals > 0 and threshold_bps < UNANIMOUS and approvals * UNANIMOUS >= threshold_bps * (approvals + denials):
        return "approved", stake, 0
    if denials == 0:
        return ("expired" if approvals == 0 else "approved"), stake, 0
    if approvals == 0:
        per_denier = stake // denials
        outcome = "denied"
    else:
        per_denier = (stake * denials // (approvals + denials)) // denials
        outcome = "split"
    return outcome, stake - per_denier * denials, per_denier


INITIAL_SHARES = WAD
"""Shares of a thread's creator, and of an author approved into a thread every co-author left."""


def equity_fraction(stake: int, price: int, coauthors_before: int, treasury_before: int) -> int:
    """``e`` in WAD (`EquityMath.fraction`), the NAV floor ``s / (T + s)`` included (protocol section 5, r2)."""
    root = math.isqrt(stake * WAD * WAD // price)
    return min(root // (coauthors_before + 1), WAD // 2, stake * WAD // (treasury_before + stake))


def shares_for_stake(stake: int, price: int, coauthors_before: int, treasury_before: int, total_shares: int) -> int:
    """New shares of an approved author (`EquityMath.sharesForStake`): at least one; `INITIAL_SHARES` when the
    thread has none (`ThreadDAO._grantEquity`)."""
    if total_shares == 0:
        return INITIAL_SHARES
    e = equity_fraction(stake, price, coauthors_before, treasury_before)
    return max(total_shares * e // (WAD - e), 1)


@dataclass
class _Spec:
    author: int
    stake: int
    price: int
    eligible: frozenset[int]
    approvals: set[int] = field(default_factory=set)
    denials: set[int] = field(default_factory=set)
    status: str = "pending"
    per_denier: int = 0


@dataclass
class _Thread:
    treasury: int = 0
    locked: int = 0
    messages: int = 1
    shares: dict[int, int] = field(default_factory=dict)
    specs: dict[int, _Spec] = field(default_factory=dict)
    claimed: set[tuple[int, int]] = field(default_factory=set)

    @property
    def total_shares(self) -> int:
        return sum(self.shares.values())


class ModelLedger:
    """An in-memory ledger with the contracts' rules (see the module docstring)."""

    def __init__(self, params: SimParams) -> None:
        self.params = params
        self.wallets = [params.endowment] * params.agents
        self.threads: dict[int, _Thread] = {}
        self.prices: dict[int, int] = {}
        self.last_round = 0

    def create_threads(self, creators: list[int]) -> list[int]:
        ids = []
        for creator in creators:
            thread_id = len(self.threads) + 1
            self.threads[thread_id] = _Thread(shares={creator: INITIAL_SHARES})
            ids.append(thread_id)
        return ids

    def begin_day(self, day: int) -> None:
        pass

    def push_prices(self, round_: int, prices: dict[int, int]) -> None:
        hub = self.params.hub
        if round_ <= self.last_round:
            raise LedgerError(f"round {round_} is not after {self.last_round}")
        for thread_id, price in prices.items():
            previous = self.prices.get(thread_id, 0)
            if not hub.min_price <= price <= hub.max_price:
                raise LedgerError(f"price {price} of thread {thread_id} is out of bounds")
            # Rounds are a day apart, longer than the deviation window (SimParams checks): each starts a new
            # window anchored at the previous price, so the hub's window check is this per-round one.
            if previous and abs(price - previous) * 10_000 > previous * hub.max_deviation_bps:
                raise LedgerError(f"price of thread {thread_id} moves too far: {previous} -> {price}")
            self.prices[thread_id] = price
        self.last_round = round_

    def post(self, posts: list[Post]) -> None:
        for p in posts:
            thread = self.threads[p.thread]
            if p.author not in thread.shares:
                raise LedgerError(f"agent {p.author} posts in thread {p.thread} without being a co-author")
            self._check_citations(p.citations)
            thread.messages += 1

    def submit(self, submissions: list[Submission]) -> list[int]:
        ids = []
        for s in submissions:
            thread = self.threads[s.thread]
            price = self.prices.get(s.thread) or self.params.hub.fallback_price
            if s.author in thread.shares:
                raise LedgerError(f"co-author {s.author} submits a spec to thread {s.thread}")
            if s.stake < price or s.stake > self.wallets[s.author]:
                raise LedgerError(f"stake {s.stake} of agent {s.author}: price {price}")
            self._check_citations(s.citations)
            spec_id = thread.messages
            thread.messages += 1
            thread.specs[spec_id] = _Spec(s.author, s.stake, price, frozenset(thread.shares))
            thread.locked += s.stake
            self.wallets[s.author] -= s.stake
            ids.append(spec_id)
        return ids

    def _check_citations(self, citations: tuple[tuple[int, int], ...]) -> None:
        for cited_thread, index in citations:
            if cited_thread not in self.threads or index >= self.threads[cited_thread].messages:
                raise LedgerError(f"citation of unknown message {index} of thread {cited_thread}")

    def vote(self, ballots: list[Ballot]) -> None:
        for b in ballots:
            spec = self.threads[b.thread].specs[b.spec]
            if b.voter not in spec.eligible or b.voter in spec.approvals or b.voter in spec.denials:
                raise LedgerError(f"agent {b.voter} may not vote on spec {b.spec} of thread {b.thread}")
            (spec.approvals if b.approve else spec.denials).add(b.voter)

    def settle(self, specs: list[tuple[int, int]]) -> list[Settled]:
        out = []
        for thread_id, spec_id in specs:
            thread = self.threads[thread_id]
            spec = thread.specs[spec_id]
            if spec.status != "pending":
                raise LedgerError(f"spec {spec_id} of thread {thread_id} is settled already")
            approvals, denials = len(spec.approvals), len(spec.denials)
            # Nobody voted and no co-author eligible for the spec holds shares any more: the stake goes back.
            if approvals + denials == 0 and not any(agent in thread.shares for agent in spec.eligible):
                spec.status = "refunded"
                thread.locked -= spec.stake
                self.wallets[spec.author] += spec.stake
                out.append(Settled(thread_id, spec_id, "refunded", 0, 0, 0, 0, 0))
                continue
            outcome, gain, per_denier = divide(spec.stake, approvals, denials, self.params.approval_threshold_bps)
            spec.status, spec.per_denier = outcome, per_denier
            treasury_before = thread.treasury
            thread.locked -= gain
            thread.treasury += gain
            added = 0
            if outcome == "approved":
                held = thread.shares.get(spec.author, 0)
                others = len(thread.shares) - (1 if held else 0)
                added = shares_for_stake(spec.stake, spec.price, others, treasury_before, thread.total_shares)
                thread.shares[spec.author] = held + added
            out.append(Settled(thread_id, spec_id, outcome, gain, per_denier, approvals, denials, added))
        return out

    def claim(self, claims: list[tuple[int, int, int]]) -> list[int]:
        amounts = []
        for thread_id, spec_id, denier in claims:
            thread = self.threads[thread_id]
            spec = thread.specs[spec_id]
            if denier not in spec.denials or (spec_id, denier) in thread.claimed:
                raise LedgerError(f"agent {denier} has nothing to claim from spec {spec_id}")
            thread.claimed.add((spec_id, denier))
            thread.locked -= spec.per_denier
            self.wallets[denier] += spec.per_denier
            amounts.append(spec.per_denier)
        return amounts

    def exit(self, exits: list[tuple[int, int]]) -> list[int]:
        payouts = []
        for thread_id, agent in exits:
            thread = self.threads[thread_id]
            held = thread.shares.get(agent, 0)
            if held == 0:
                raise LedgerError(f"agent {agent} is not a co-author of thread {thread_id}")
            payout = thread.treasury * held // thread.total_shares
            del thread.shares[agent]
            thread.treasury -= payout
            self.wallets[agent] += payout
            payouts.append(payout)
        return payouts

    def view(self) -> LedgerView:
        return LedgerView(
            treasury={t: th.treasury for t, th in self.threads.items()},
            locked={t: th.locked for t, th in self.threads.items()},
            total_shares={t: th.total_shares for t, th in self.threads.items()},
            shares={t: dict(th.shares) for t, th in self.threads.items()},
            wallets=list(self.wallets),
            prices={t: self.prices.get(t, 0) for t in self.threads},
        )

    def close(self) -> None:
        pass
