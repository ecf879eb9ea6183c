"""Target prices from thread states, and the step the oracle accepts toward them (pure, no chain access).

The target is the QAHO price in wei (`choir_chain.pricing.thread_prices_wei`, the same on every machine), clamped to the
oracle's `[minPrice, maxPrice]`. Within one deviation window (`deviationWindow`, protocol section 6, r2) a thread's
price stays within `maxDeviationBps` of its price at the window's start, the anchor; an update made when the
window is over starts a new one anchored at the price it replaces. `next_price` mirrors the contract's integer
check exactly::

    |new - anchor| * 10_000 <= anchor * maxDeviationBps      (skipped for a thread's first price, prev == 0)

The pricer cannot know the timestamp its round will be mined at, only a lower bound (the chain's time when it
plans). While the window may still be running then, the round may land inside it (checked against the anchor)
or after it (a new window: checked against the previous price), so `next_price` keeps to both bands. A step
therefore never reverts, and a large jump is reached over several windows, each step as large as allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from choir_chain.pricer.state import ThreadState, gc_paused
from choir_chain.pricing import QahoParams, thread_prices_wei

BPS = 10_000


@dataclass(frozen=True, slots=True)
class OracleBounds:
    """The hub's price limits, read from the chain before each round."""

    min_price: int
    max_price: int
    max_deviation_bps: int
    deviation_window: int = 0
    """Seconds a deviation window lasts (0: unknown, every window is taken as still running)."""


def running_anchor(anchor: int, start: int, now: int, bounds: OracleBounds) -> int:
    """The anchor of a thread's deviation window (`priceWindow`: `anchor`, `start`) if a round mined at `now`
    or later may still fall into it, else 0 (the round starts a new window, anchored at the previous price).
    `now` must be a lower bound of the timestamp the round will be mined at."""
    if start == 0:
        return 0  # no window yet: the next update opens one
    if bounds.deviation_window and now - start >= bounds.deviation_window:
        return 0
    return anchor


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
    low, high = bounds.min_price, bounds.max_price
    # min(max(p, low), high), without two builtin calls per thread (a full reprice clamps 100,000 prices)
    return {t: (low if p < low else high if p > high else p) if low <= high else high for t, p in prices.items()}


def within_deviation(previous: int, new: int, max_deviation_bps: int) -> bool:
    """The contract's check: True when `new` lies within the band of `previous` (the window's anchor)."""
    if previous == 0:
        return True
    return abs(new - previous) * BPS <= previous * max_deviation_bps


def next_price(previous: int, target: int, bounds: OracleBounds, anchor: int = 0) -> int | None:
    """The price to submit this round for a thread at `previous` (0: never priced) heading for `target`;
    `anchor` is the anchor of a deviation window that may still be running when the round is mined
    (`running_anchor`; 0: none).

    The closest price to `target` within the bounds and the deviation band of `previous` (and of `anchor`);
    `previous` itself when the window's band holds the thread where it is; None when no price satisfies all
    (possible only if the admin moved the bounds or the deviation limit while a thread was at its edge).
    """
    low, high = bounds.min_price, bounds.max_price
    for reference in (previous, anchor) if previous != 0 else ():
        if reference != 0:
            move = reference * bounds.max_deviation_bps // BPS  # the largest integer move the check accepts
            low, high = max(low, reference - move), min(high, reference + move)
    if low > high:
        return None
    return min(max(target, low), high)


class Step(NamedTuple):
    """One thread's entry in a round (a named tuple: a full reprice makes 100,000 of them)."""

    thread_id: int
    previous: int
    target: int
    price: int

    @property
    def clamped(self) -> bool:
        """Whether the deviation limit held the price short of its target."""
        return self.price != self.target


def pending_steps(
    targets: Mapping[int, int],
    previous: Mapping[int, int],
    bounds: OracleBounds,
    anchors: Mapping[int, int] | None = None,
) -> tuple[list[Step], list[int], list[int]]:
    """The steps still needed to bring each thread to its target, the threads that cannot move at all, and the
    threads that cannot move before their deviation window ends (`anchors`: thread -> `running_anchor`).

    A thread already at its target needs no step.
    """
    with gc_paused():
        return _pending_steps(targets, previous, bounds, anchors or {})


def _pending_steps(
    targets: Mapping[int, int], previous: Mapping[int, int], bounds: OracleBounds, anchors: Mapping[int, int]
) -> tuple[list[Step], list[int], list[int]]:
    steps: list[Step] = []
    stuck: list[int] = []
    waiting: list[int] = []
    low_bound, high_bound, bps = bounds.min_price, bounds.max_price, bounds.max_deviation_bps
    for thread_id, target in sorted(targets.items()):
        prev = previous.get(thread_id, 0)
        if prev == target:
            continue
        anchor = anchors.get(thread_id, 0)
        if anchor or not prev:
            price = next_price(prev, target, bounds, anchor)
        else:  # next_price(prev, target, bounds) inlined: the common case, 100,000 times in a full reprice
            move = prev * bps // BPS
            low = prev - move if prev - move > low_bound else low_bound
            high = prev + move if prev + move < high_bound else high_bound
            price = None if low > high else low if target < low else high if target > high else target
        if price is None or price == prev:
            # Held by the window's band while a new window would let it move: it waits for the window's end.
            later = next_price(prev, target, bounds) if anchor else None
            (waiting if later not in (None, prev) else stuck).append(thread_id)
            continue
        steps.append(Step(thread_id, prev, target, price))
    return steps, stuck, waiting
