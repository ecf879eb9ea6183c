"""The simulation loop: a community on a ledger, one day a step.

Each day, in this order (a ledger applies every list in order, see `ledger.py`):

1. the pricer pushes one round: every thread's QAHO price from what was settled before the day;
2. co-authors post, some citing other threads;
3. outsiders stake the day's price (more, the better they think they are) and submit specs;
4. the co-authors eligible for each new spec vote (or not);
5. settlement: a spec of today whose eligible co-authors all voted settles at once; any other settles the
   day after its approval window ends (as `expired` if nobody voted), oldest first;
6. deniers claim their share of denied and split stakes;
7. some co-authors leave with their pro-rata share of the treasury.

The day's end state is recorded per thread (`History`). The engine works on any `Ledger`: the pure model
(`ModelLedger`) for large runs, the devnet (`ChainLedger`) to see the contracts do the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from choir_chain.protocol.units import WAD
from choir_chain.simulation.agents import Behaviour, DayState, Population
from choir_chain.simulation.history import History, gini, top_share
from choir_chain.simulation.ledger import OUTCOMES, Ballot, Ledger, LedgerView, Post, Settled, Submission
from choir_chain.simulation.params import SimParams
from choir_chain.simulation.pricer import ModelPricer, PriceRound


@dataclass
class _Pending:
    thread: int
    spec: int
    author: int
    day: int
    eligible: int
    votes: int
    deniers: list[int]
    citations: tuple[tuple[int, int], ...]


@dataclass
class Totals:
    """Money that moved during the run (wei), for the conservation identity."""

    staked: int = 0
    treasury_gain: int = 0
    claimed: int = 0
    exited: int = 0
    settled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))


@dataclass
class SimulationResult:
    params: SimParams
    history: History
    population: Population
    final: LedgerView
    totals: Totals
    creators: list[int]


class Simulation:
    """Runs `params` on `ledger`; `on_day(day)` is called after each day (progress bars)."""

    def __init__(self, params: SimParams, ledger: Ledger, on_day: Callable[[int], None] | None = None) -> None:
        self.params = params
        self.ledger = ledger
        self.on_day = on_day
        self.rng = np.random.default_rng(params.seed)
        self.population = Population.draw(params, self.rng)
        self.behaviour = Behaviour(params, self.population, self.rng)
        self.history = History()
        self.totals = Totals()

    def run(self) -> SimulationResult:
        p = self.params
        creators = [int(a) for a in self.rng.choice(p.agents, size=p.threads, replace=False)]
        threads = self.ledger.create_threads(creators)
        pricer = ModelPricer(p, threads)
        messages = dict.fromkeys(threads, 1)
        joined: dict[int, dict[int, int]] = {t: {c: 0} for t, c in zip(threads, creators, strict=True)}
        pending: list[_Pending] = []
        view = self.ledger.view()
        for day in range(p.days):
            self.ledger.begin_day(day)
            members = {t: sorted(view.shares[t]) for t in threads}
            prices = pricer.round(day, {t: len(members[t]) for t in threads})
            self.ledger.push_prices(day + 1, dict(zip(threads, prices.price, strict=True)))
            state = DayState(
                day=day,
                prices=dict(zip(threads, prices.price, strict=True)),
                members=members,
                wallets=view.wallets,
                messages=dict(messages),
                citations=dict(pricer.citations),
                pending_authors=_pending_authors(pending),
                joined=joined,
            )
            posts = self.behaviour.posts(state)
            self.ledger.post(posts)
            for post in posts:
                messages[post.thread] += 1
                for cited, _index in post.citations:
                    pricer.cited(cited, post.thread)

            submissions = self.behaviour.submissions(state)
            spec_ids = self.ledger.submit(submissions)
            self.totals.staked += sum(s.stake for s in submissions)
            ballots = self.behaviour.ballots(submissions, spec_ids, state)
            self.ledger.vote(ballots)
            today = self._pending_today(submissions, spec_ids, ballots, state)
            for s in submissions:
                messages[s.thread] += 1

            due = [x for x in pending if x.day + p.window_days + 1 <= day]
            early = [x for x in today if x.votes == x.eligible]
            pending = [x for x in pending if x.day + p.window_days + 1 > day]
            pending += [x for x in today if x.votes != x.eligible]
            to_settle = due + early
            settled = self.ledger.settle([(x.thread, x.spec) for x in to_settle])
            outcomes = self._apply_settlements(to_settle, settled, pricer, joined, day)
            claims = [
                (x.thread, x.spec, d)
                for x, s in zip(to_settle, settled, strict=True)
                if s.outcome in ("denied", "split")
                for d in x.deniers
            ]
            self.totals.claimed += sum(self.ledger.claim(claims))

            after = self.ledger.view()
            exits = self.behaviour.exits(state, {t: sorted(after.shares[t]) for t in threads})
            self.totals.exited += sum(self.ledger.exit(exits))
            for thread, agent in exits:
                joined[thread].pop(agent, None)

            view = self.ledger.view() if exits else after
            self._record(day, threads, prices, view, posts, submissions, outcomes)
            if self.on_day is not None:
                self.on_day(day)
        return SimulationResult(p, self.history, self.population, view, self.totals, creators)

    def _pending_today(
        self, submissions: list[Submission], spec_ids: list[int], ballots: list[Ballot], state: DayState
    ) -> list[_Pending]:
        votes: dict[tuple[int, int], list[bool]] = {}
        deniers: dict[tuple[int, int], list[int]] = {}
        for b in ballots:
            votes.setdefault((b.thread, b.spec), []).append(b.approve)
            if not b.approve:
                deniers.setdefault((b.thread, b.spec), []).append(b.voter)
        return [
            _Pending(
                thread=s.thread,
                spec=spec_id,
                author=s.author,
                day=state.day,
                eligible=len(state.members[s.thread]),
                votes=len(votes.get((s.thread, spec_id), [])),
                deniers=deniers.get((s.thread, spec_id), []),
                citations=s.citations,
            )
            for s, spec_id in zip(submissions, spec_ids, strict=True)
        ]

    def _apply_settlements(
        self,
        specs: list[_Pending],
        settled: list[Settled],
        pricer: ModelPricer,
        joined: dict[int, dict[int, int]],
        day: int,
    ) -> dict[int, dict[str, int]]:
        """Feed the pricer and the membership record; per thread, how many specs settled which way."""
        outcomes: dict[int, dict[str, int]] = {}
        for x, s in zip(specs, settled, strict=True):
            self.totals.treasury_gain += s.treasury_gain
            self.totals.settled[s.outcome] += 1
            counts = outcomes.setdefault(x.thread, dict.fromkeys(OUTCOMES, 0))
            counts[s.outcome] += 1
            pricer.settled(x.thread, day, s.approvals, s.denials, s.outcome == "approved")
            if s.outcome == "approved":
                joined[x.thread].setdefault(x.author, day)
                for cited, _index in x.citations:
                    pricer.cited(cited, x.thread)
        return outcomes

    def _record(
        self,
        day: int,
        threads: list[int],
        prices: PriceRound,
        view: LedgerView,
        posts: list[Post],
        submissions: list[Submission],
        outcomes: dict[int, dict[str, int]],
    ) -> None:
        strictness = self.population.strictness.tolist()
        posted: dict[int, int] = {}
        for post in posts:
            posted[post.thread] = posted.get(post.thread, 0) + 1
        submitted: dict[int, int] = {}
        for s in submissions:
            submitted[s.thread] = submitted.get(s.thread, 0) + 1
        empty = dict.fromkeys(OUTCOMES, 0)
        for i, t in enumerate(threads):
            holders = view.shares[t]
            counts = outcomes.get(t, empty)
            self.history.append(
                day=day,
                thread=t,
                price_wei=prices.price[i],
                target_wei=prices.target[i],
                price=prices.price[i] / WAD,
                n=int(prices.n[i]),
                k0=float(prices.k0[i]),
                m=float(prices.m[i]),
                refusal=float(prices.refusal[i]),
                approved_recent=int(prices.approved_recent[i]),
                citations=int(prices.citations[i]),
                coauthors=len(holders),
                treasury_wei=view.treasury[t],
                locked_wei=view.locked[t],
                treasury=view.treasury[t] / WAD,
                total_shares=view.total_shares[t],
                gini=gini(holders.values()),
                top_share=top_share(holders.values()),
                mean_strictness=sum(strictness[a] for a in sorted(holders)) / len(holders) if holders else 0.0,
                posts=posted.get(t, 0),
                submitted=submitted.get(t, 0),
                **counts,
            )


def _pending_authors(pending: list[_Pending]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for x in pending:
        out.setdefault(x.thread, set()).add(x.author)
    return out
