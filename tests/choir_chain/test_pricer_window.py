"""The pricer's step rule against a model of the hub's deviation window (protocol section 6, r2), no chain needed.

`Hub` below restates `StakePriceOracle.updatePrices` for one thread: a new window starts at an update made
`deviationWindow` or more after the current one started (anchored at the price it replaces), a first price is
free, and every other price must lie within `maxDeviationBps` of the window's anchor. The pricer plans at a
time `now` and cannot know when its round is mined (any time from `now` on): its step must be accepted at
every such time, and one wei further must be refused at one of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from choir_chain.pricer.compute import OracleBounds, next_price, pending_steps, running_anchor, within_deviation

CHOIR = 10**18
HOUR = 3600
BOUNDS = OracleBounds(1 * CHOIR, 1_000_000 * CHOIR, 5_000, HOUR)
T0 = 1_800_000_000  # a realistic block time: far more than a window after 0


@dataclass
class Hub:
    """One thread's oracle state, updated by the contract's rule."""

    bounds: OracleBounds
    price: int = 0
    anchor: int = 0
    start: int = 0

    def reference(self, t: int) -> int:
        """The price an update at `t` is measured from (0: a first price)."""
        if self.price and t - self.start >= self.bounds.deviation_window:
            return self.price  # a new window
        return self.anchor if self.price else 0

    def accepts(self, new: int, t: int) -> bool:
        if not self.bounds.min_price <= new <= self.bounds.max_price:
            return False
        reference = self.reference(t)
        return reference == 0 or within_deviation(reference, new, self.bounds.max_deviation_bps)

    def update(self, new: int, t: int) -> None:
        assert self.accepts(new, t), f"refused: {new} at {t} ({self})"
        if self.price and t - self.start >= self.bounds.deviation_window:
            self.anchor, self.start = self.price, t
        self.price = new

    def plan(self, target: int, now: int) -> int | None:
        """The pricer's step, from what it reads at `now` (`priceWindow` gives (0, 0) before any window)."""
        anchor, start = (self.anchor, self.start) if self.start else (0, 0)
        return next_price(self.price, target, self.bounds, running_anchor(anchor, start, now, self.bounds))


def random_hub(rng: random.Random, now: int) -> Hub:
    """A state the contract can reach: an anchor, a price within its band, a window started before `now`."""
    bps = rng.choice([1, 333, 5_000, 9_999, 10_000])
    window = rng.choice([60, HOUR, 7 * 24 * HOUR])
    bounds = OracleBounds(CHOIR, 10**6 * CHOIR, bps, window)
    if rng.random() < 0.1:
        return Hub(bounds)  # never priced
    anchor = rng.randrange(bounds.min_price, bounds.max_price + 1)
    if rng.random() < 0.1:
        return Hub(bounds, price=anchor)  # one price, no window yet
    move = anchor * bps // 10_000
    low, high = max(bounds.min_price, anchor - move), min(bounds.max_price, anchor + move)
    price = rng.choice([low, high, anchor, rng.randrange(low, high + 1)])
    start = now - rng.choice([0, 1, window - 1, window, window + 1, rng.randrange(0, 3 * window)])
    return Hub(bounds, price=price, anchor=anchor, start=start)


def test_a_step_is_accepted_whenever_the_round_lands_and_is_the_largest_such() -> None:
    rng = random.Random(13)
    for _ in range(20_000):
        now = T0 + rng.randrange(0, 10**6)
        hub = random_hub(rng, now)
        target = rng.choice([hub.bounds.min_price, hub.bounds.max_price, rng.randrange(1, 2 * 10**24)])
        target = min(max(target, hub.bounds.min_price), hub.bounds.max_price)
        step = hub.plan(target, now)
        assert step is not None  # reachable states and unchanged bounds: never stuck
        window_end = hub.start + hub.bounds.deviation_window
        landings = [now, now + 1, window_end - 1, window_end, window_end + 1, now + 10 * hub.bounds.deviation_window]
        landings = [t for t in landings if t >= now]
        assert all(hub.accepts(step, t) for t in landings), (hub, now, target, step)
        if step != target:  # held short: one wei nearer the target is refused at some landing time
            nearer = step + (1 if target > step else -1)
            assert not all(hub.accepts(nearer, t) for t in landings), (hub, now, target, step)


def test_seventeen_rounds_in_one_second_move_the_price_once() -> None:
    """The attack's shape, played by an honest pricer heading for 1 CHOIR: one step in the window, then it
    waits; each later window gives one more step of at most 50%."""
    hub = Hub(BOUNDS)
    hub.update(100_000 * CHOIR, T0)
    now, target = T0 + 2 * HOUR, 1 * CHOIR
    for _ in range(17):
        step = hub.plan(target, now)
        assert step is not None
        if step != hub.price:
            hub.update(step, now)
    assert hub.price == 50_000 * CHOIR
    windows = 0
    while hub.price != target:  # one more window each time
        now += HOUR
        step = hub.plan(target, now)
        assert step is not None and step < hub.price
        hub.update(step, now)
        assert hub.plan(target, now) == hub.price  # nothing more within this window
        windows += 1
    assert windows == 16  # 100,000 -> 1 CHOIR halving each window: 17 windows in all


@pytest.mark.parametrize("direction", [1, -1])
def test_a_reversal_inside_a_window_keeps_to_both_bands(direction: int) -> None:
    """Anchored at 100, the price went to 150 (or 50) in this window; heading back the other way, the round
    may land in the window (band of 100) or after it (band of 150, or 50): it keeps to both."""
    hub = Hub(BOUNDS)
    hub.update(100 * CHOIR, T0)
    hub.update(100 * CHOIR + direction * 50 * CHOIR, T0 + HOUR)  # opens the window, at its edge
    far = 1 * CHOIR if direction > 0 else 1_000 * CHOIR
    step = hub.plan(far, T0 + HOUR + 10)
    assert step == 75 * CHOIR  # within 50% of 100 and of 150 (going down), or of 100 and of 50 (going up)
    assert hub.accepts(step, T0 + HOUR + 10) and hub.accepts(step, T0 + 2 * HOUR)


def test_pending_steps_tells_waiting_from_stuck() -> None:
    """At its window's edge a thread waits (a later window lets it move); out of reach of the bounds it is
    stuck; at its target it needs nothing."""
    edge = Hub(BOUNDS)
    edge.update(100 * CHOIR, T0)
    edge.update(50 * CHOIR, T0 + HOUR)
    now = T0 + HOUR + 1
    anchors = {1: running_anchor(edge.anchor, edge.start, now, BOUNDS), 2: 0, 3: 0, 4: 0}
    assert anchors[1] == 100 * CHOIR
    previous = {1: 50 * CHOIR, 2: 100 * CHOIR, 3: 10 * CHOIR, 4: 0}
    narrow = OracleBounds(40 * CHOIR, 1_000 * CHOIR, 5_000, HOUR)  # thread 3 (at 10) cannot reach 40 in a step
    steps, stuck, waiting = pending_steps(
        {1: 40 * CHOIR, 2: 100 * CHOIR, 3: 40 * CHOIR, 4: 60 * CHOIR}, previous, narrow, anchors
    )
    assert [(s.thread_id, s.price) for s in steps] == [(4, 60 * CHOIR)]  # a first price is free
    assert (stuck, waiting) == ([3], [1])
    # Once the window is over (chain time at its end) the thread moves, bounded by its previous price.
    later = {1: running_anchor(edge.anchor, edge.start, T0 + 2 * HOUR, BOUNDS)}
    assert later == {1: 0}
    steps, stuck, waiting = pending_steps({1: 20 * CHOIR}, previous, BOUNDS, later)
    assert [(s.thread_id, s.price, s.clamped) for s in steps] == [(1, 25 * CHOIR, True)] and not stuck + waiting


def test_running_anchor() -> None:
    assert running_anchor(100, 0, T0, BOUNDS) == 0  # no window yet
    assert running_anchor(100, T0, T0, BOUNDS) == 100
    assert running_anchor(100, T0, T0 + HOUR - 1, BOUNDS) == 100
    assert running_anchor(100, T0, T0 + HOUR, BOUNDS) == 0  # a round now or later starts a new window
    unknown = OracleBounds(1, 10**30, 5_000)  # window length unknown: always taken as running
    assert running_anchor(100, T0, T0 + 10**6, unknown) == 100
