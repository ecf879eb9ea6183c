"""Target prices from thread states, and the step the oracle accepts toward them (pure, no chain access).

The target is the QAHO price in wei (`choir_chain.pricing.thread_prices_wei`, the same on every machine), clamped to the
oracle's `[minPrice, maxPrice]`. A round may move a thread's price at most `maxDeviationBps` of its previous
price; `next_price` mirrors the contract's integer check exactly::

    |new - prev| * 10_000 <= prev * maxDeviationBps      (skipped for a thread's first price, prev == 0)

so a step never reverts, and a large jump is reached over several rounds, each as large as allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from choir_chain.pricer.state import ThreadState
from choir_chain.pricing import QahoParams, thread_prices_wei

BPS = 10_000


@dataclass(frozen=True, slots=True)
class OracleBounds:
    """The hub's price limits, read from the chain before each round."""

    min_price: int
    max_price: int
    max_deviation_bps: int


def model_prices(states: Iterable[ThreadState], params: QahoParams | None = None) -> dict[int, int]:
    """Thread id -> QAHO price in wei (`thread_prices_wei`: bit-identical on every machine)."""
    rows = list(states)
    prices = thread_prices_wei(
        [s.approved_recent for s in rows],
        [s.refusal for s in rows],
        [s.citations for s in rows],
        [s.coauthors for s in rows],
        params or QahoParams(),
    )
    return {s.thread_id: w for s, w in zip(rows, prices, strict=True)}


def clamp_to_bounds(prices: Mapping[int, int], bounds: OracleBounds) -> dict[int, int]:
    """Each price moved into `[min_price, max_price]`: the target the oracle can hold."""
    return {t: min(max(p, bounds.min_price), bounds.max_price) for t, p in prices.items()}


def within_deviation(previous: int, new: int, max_deviation_bps: int) -> bool:
    """The contract's check: True when `new` may follow `previous` in one round."""
    if previous == 0:
        return True
    return abs(new - previous) * BPS <= previous * max_deviation_bps


def next_price(previous: int, target: int, bounds: OracleBounds) -> int | None:
    """The price to submit this round for a thread at `previous` (0: never priced) heading for `target`.

    The closest price to `target` within the bounds and the deviation limit; None when no price satisfies
    both (possible only if the admin moved the bounds more than one step away from the current price).
    """
    low, high = bounds.min_price, bounds.max_price
    if previous != 0:
        move = previous * bounds.max_deviation_bps // BPS  # the largest integer move the check accepts
        low, high = max(low, previous - move), min(high, previous + move)
    if low > high:
        return None
    return min(max(target, low), high)


@dataclass(frozen=True, slots=True)
class Step:
    """One thread's entry in a round."""

    thread_id: int
    previous: int
    target: int
    price: int

    @property
    def clamped(self) -> bool:
        """Whether the deviation limit held the price short of its target."""
        return self.price != self.target


def pending_steps(
    targets: Mapping[int, int], previous: Mapping[int, int], bounds: OracleBounds
) -> tuple[list[Step], list[int]]:
    """The steps still needed to bring each thread to its target, and the threads that cannot move at all.

    A thread already at its target needs no step.
    """
    steps, stuck = [], []
    for thread_id in sorted(targets):
        target, prev = targets[thread_id], previous.get(thread_id, 0)
        if prev == target:
            continue
        price = next_price(prev, target, bounds)
        if price is None or price == prev:
            stuck.append(thread_id)
            continue
        steps.append(Step(thread_id=thread_id, previous=prev, target=target, price=price))
    return steps, stuck
