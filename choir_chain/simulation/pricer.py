"""The simulation's pricer: each thread's QAHO inputs from what happened, and one price round a day.

It keeps the inputs the service pricer reads from the indexer (`choir_chain.pricer.state`), by the same rules:

- ``a``: approvals settled in the trailing 7 days (here: the 7 days before the day being priced);
- ``r``: mean refusal weight of the last ``W`` settled specs (denied 1, split ``D/V``, approved 0, expired
  not counted);
- ``c``: citations received from other threads: posts when posted, specs when approved;
- ``N``: co-authors now.

The target price is `choir_chain.pricing.thread_prices_wei` (the pricer service's own, the same on every machine),
clamped to the oracle's bounds, and the price
pushed is the service pricer's own `next_price`: the closest to the target that moves at most
``maxDeviationBps`` from the last pushed price (the check `StakePriceOracle.updatePrices` makes).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from choir_chain.pricer.compute import OracleBounds, next_price
from choir_chain.pricing import (
    anharmonic_coefficient,
    excitation_level,
    potential_order,
    refusal_ratio,
    thread_prices_wei,
)
from choir_chain.simulation.params import SimParams

ACTIVITY_DAYS = 7


@dataclass(frozen=True)
class PriceRound:
    """One day's prices with the model inputs behind them, by thread (arrays in `threads` order)."""

    threads: list[int]
    approved_recent: NDArray[np.int64]
    refusal: NDArray[np.float64]
    citations: NDArray[np.int64]
    coauthors: NDArray[np.int64]
    n: NDArray[np.int64]
    k0: NDArray[np.float64]
    m: NDArray[np.float64]
    target: list[int]
    price: list[int]


class ModelPricer:
    """Tracks the QAHO inputs of every thread and computes each day's round (module docstring)."""

    def __init__(self, params: SimParams, threads: list[int]) -> None:
        self.params = params
        self.threads = list(threads)
        hub = params.hub
        self.bounds = OracleBounds(hub.min_price, hub.max_price, hub.max_deviation_bps)
        self.approvals: dict[int, deque[int]] = {t: deque() for t in threads}
        self.refusals: dict[int, deque[float]] = {t: deque(maxlen=params.qaho.window) for t in threads}
        self.citations: dict[int, int] = dict.fromkeys(threads, 0)
        self.pushed: dict[int, int] = dict.fromkeys(threads, 0)

    def cited(self, thread: int, by_thread: int) -> None:
        """A message of `by_thread` citing `thread` counts (a post when posted, a spec when approved)."""
        if thread != by_thread:
            self.citations[thread] += 1

    def settled(self, thread: int, day: int, approvals: int, denials: int, approved: bool | None = None) -> None:
        """A settlement; `approved` defaults to today's rule (no denial), the proposed rule passes it."""
        if approvals + denials == 0:
            return  # expired: not counted in the refusal ratio
        self.refusals[thread].append(denials / (approvals + denials))
        if denials == 0 if approved is None else approved:
            self.approvals[thread].append(day)

    def round(self, day: int, coauthors: dict[int, int]) -> PriceRound:
        """The prices for `day`, from everything settled before it."""
        p = self.params.qaho
        recent = []
        for t in self.threads:
            days = self.approvals[t]
            while days and days[0] < day - ACTIVITY_DAYS:
                days.popleft()
            recent.append(sum(1 for d in days if d < day))
        approved = np.array(recent, dtype=np.int64)
        refusal = np.array([refusal_ratio(list(self.refusals[t]), p.window) for t in self.threads])
        cites = np.array([self.citations[t] for t in self.threads], dtype=np.int64)
        authors = np.array([coauthors[t] for t in self.threads], dtype=np.int64)
        n = np.asarray(excitation_level(approved), dtype=np.int64)
        k0 = np.asarray(anharmonic_coefficient(refusal, p), dtype=np.float64)
        m = np.asarray(potential_order(cites, authors, p), dtype=np.float64)
        model = thread_prices_wei(recent, refusal.tolist(), cites.tolist(), authors.tolist(), p)
        targets = [min(max(w, self.bounds.min_price), self.bounds.max_price) for w in model]
        prices = []
        for t, target in zip(self.threads, targets, strict=True):
            price = next_price(self.pushed[t], target, self.bounds)
            if price is None:  # only if the bounds moved away by more than a step; they never do here
                raise RuntimeError(f"thread {t} cannot be priced within the bounds")
            prices.append(price)
            self.pushed[t] = price
        return PriceRound(self.threads, approved, refusal, cites, authors, n, k0, m, targets, prices)
