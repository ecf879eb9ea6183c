"""The oracle's deviation window and stale price (protocol section 6, r2; issue 13, attack 5).

The deviation bound holds per unit of time, not per round: within one `deviationWindow` a thread's price stays
within `maxDeviationBps` of its price at the window's start, however many rounds land in it. A stale price is
served as `max(last price, fallbackPrice)`. Mirrors contracts/hub/StakePriceOracle.sol.
"""

from __future__ import annotations

import pytest
from ape.exceptions import ContractLogicError
from ape_ethereum import trace as ape_trace
from helpers.contracts import CHOIR, DAY, HUB_DEFAULTS, HUMAN, content, raised_arguments, reverts

HOUR = 3600
WINDOW = HUB_DEFAULTS["deviationWindow"]
BPS = HUB_DEFAULTS["maxDeviationBps"]
FALLBACK = HUB_DEFAULTS["fallbackPrice"]
HEARTBEAT = HUB_DEFAULTS["heartbeat"]


@pytest.fixture(scope="module", autouse=True)
def _no_revert_trace_printing():
    """Skip printing a call trace for every revert (printing only; see conftest.py, `quiet_reverts`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ape_trace.Trace, "show", lambda self, *args, **kwargs: None)
        yield


@pytest.fixture
def ids(hub, creator):
    """Two new threads with no price yet (their ids continue the module's count)."""
    first = hub.threadCount() + 1
    for i in range(2):
        hub.createThread(content(f"window thread {first + i}"), HUMAN, sender=creator)
    return [first, first + 1]


@pytest.fixture
def next_round(hub):
    """The next free pricer round, each call one more."""

    def take() -> int:
        return hub.lastRound() + 1

    return take


def push(hub, pricer, thread_ids, prices, round_):
    return hub.updatePrices(list(thread_ids), list(prices), round_, sender=pricer)


def one_step_down(price: int) -> int:
    """The lowest price one maximal step below `price` (what a pricer walking down would send)."""
    return price - price * BPS // 10_000


# ----------------------------------------------------------------------------------------------------------
# Attack 5: a looping or compromised pricer cannot walk a price to the floor in one second
# ----------------------------------------------------------------------------------------------------------


def test_seventeen_rounds_in_one_window_cannot_take_a_price_from_100000_to_1_choir(chain, hub, pricer, ids, next_round):
    """The review's proof of concept: 17 rounds of -50% each, sent back to back, took a price from 100,000 CHOIR
    to 1 CHOIR under a per-round bound. Now every round after the first of the window is refused and the price
    never leaves [50,000, 150,000] CHOIR within the hour."""
    thread = ids[0]
    push(hub, pricer, [thread], [100_000 * CHOIR], next_round())
    chain.mine(deltatime=WINDOW)  # the attack starts in a later window than the first price
    started = chain.blocks.head.timestamp
    price, accepted = 100_000 * CHOIR, []
    for _ in range(17):  # each as far down as the previous price allows, seconds apart
        target = max(one_step_down(price), HUB_DEFAULTS["minPrice"])
        try:
            push(hub, pricer, [thread], [target], next_round())
        except ContractLogicError as refused:
            assert raised_arguments(hub.PriceDeviationTooLarge, refused) == {
                "threadId": thread,
                "anchorPrice": 100_000 * CHOIR,
                "price": target,
                "maxDeviationBps": BPS,
            }
            continue
        price = target
        accepted.append(target)
    assert chain.blocks.head.timestamp - started < WINDOW
    assert accepted == [50_000 * CHOIR]
    assert hub.price(thread) == hub.pricePoint(thread)[0] == 50_000 * CHOIR
    anchor, start = hub.priceWindow(thread)
    assert anchor == 100_000 * CHOIR and start >= started


def test_many_rounds_in_one_window_stay_within_the_band_of_its_start(chain, hub, pricer, ids, next_round):
    """Rounds may go back and forth inside a window, but every price is measured from the window's anchor."""
    thread = ids[0]
    push(hub, pricer, [thread], [100 * CHOIR], next_round())
    receipt = push(hub, pricer, [thread], [60 * CHOIR], next_round())  # opens a window anchored at 100
    assert hub.priceWindow(thread) == (100 * CHOIR, receipt.timestamp)
    for price in (140 * CHOIR, 50 * CHOIR, 150 * CHOIR, 100 * CHOIR):  # all within 100 +- 50%
        push(hub, pricer, [thread], [price], next_round())
    assert hub.priceWindow(thread) == (100 * CHOIR, receipt.timestamp)  # no new window inside the hour
    for bad in (150 * CHOIR + 1, 50 * CHOIR - 1):  # within 50% of the last price (100), outside the anchor's band
        with reverts(hub.PriceDeviationTooLarge, threadId=thread, anchorPrice=100 * CHOIR, price=bad):
            push(hub, pricer, [thread], [bad], next_round())
    assert hub.pricePoint(thread)[0] == 100 * CHOIR


# ----------------------------------------------------------------------------------------------------------
# Window roll-over
# ----------------------------------------------------------------------------------------------------------


def test_a_window_ends_exactly_deviation_window_after_it_started(chain, hub, pricer, ids, next_round):
    thread = ids[0]
    push(hub, pricer, [thread], [100 * CHOIR], next_round())
    opened = push(hub, pricer, [thread], [50 * CHOIR], next_round()).timestamp  # window [opened, opened + 1h)
    assert hub.priceWindow(thread) == (100 * CHOIR, opened)
    chain.pending_timestamp = opened + WINDOW - 1  # last second of the window: still measured from 100
    with reverts(hub.PriceDeviationTooLarge, threadId=thread, anchorPrice=100 * CHOIR, price=25 * CHOIR):
        push(hub, pricer, [thread], [25 * CHOIR], next_round())
    chain.pending_timestamp = opened + WINDOW  # a new window, anchored at the price it replaces (50)
    receipt = push(hub, pricer, [thread], [25 * CHOIR], next_round())
    assert receipt.timestamp == opened + WINDOW
    assert hub.priceWindow(thread) == (50 * CHOIR, opened + WINDOW)
    assert hub.price(thread) == 25 * CHOIR
    with reverts(hub.PriceDeviationTooLarge, threadId=thread, anchorPrice=50 * CHOIR, price=25 * CHOIR - 1):
        push(hub, pricer, [thread], [25 * CHOIR - 1], next_round())


def test_a_window_is_anchored_at_the_price_before_its_first_update_however_old(chain, hub, pricer, ids, next_round):
    """After a quiet day the next update opens a window at the stored price: the move from it is bounded,
    whatever the price was in earlier windows."""
    thread = ids[0]
    push(hub, pricer, [thread], [100 * CHOIR], next_round())
    push(hub, pricer, [thread], [150 * CHOIR], next_round())
    chain.mine(deltatime=DAY)
    with reverts(hub.PriceDeviationTooLarge, threadId=thread, anchorPrice=150 * CHOIR, price=225 * CHOIR + 1):
        push(hub, pricer, [thread], [225 * CHOIR + 1], next_round())
    receipt = push(hub, pricer, [thread], [225 * CHOIR], next_round())
    assert hub.priceWindow(thread) == (150 * CHOIR, receipt.timestamp)


def test_a_first_price_is_free_and_opens_no_window(chain, hub, pricer, ids, next_round):
    """A first price has nothing to deviate from; the window starts with the thread's second update, anchored
    at the first price. Windows are per thread."""
    a, b = ids
    first = push(hub, pricer, [a], [MAX := HUB_DEFAULTS["maxPrice"]], next_round())
    assert hub.priceWindow(a) == (0, 0)
    assert hub.pricePoint(a)[:2] == (MAX, first.timestamp)
    with reverts(hub.PriceDeviationTooLarge, threadId=a, anchorPrice=MAX):
        push(hub, pricer, [a, b], [MAX // 2 - 1, 10 * CHOIR], next_round())
    second = push(hub, pricer, [a, b], [MAX // 2, 10 * CHOIR], next_round())
    assert hub.priceWindow(a) == (MAX, second.timestamp)
    assert hub.priceWindow(b) == (0, 0)  # b's first price
    push(hub, pricer, [b], [15 * CHOIR], next_round())  # b's own window, anchored at 10
    assert hub.priceWindow(b)[0] == 10 * CHOIR


def test_a_shorter_window_set_by_the_admin_ends_running_windows_sooner(chain, hub, admin, pricer, ids, next_round):
    thread = ids[0]
    push(hub, pricer, [thread], [100 * CHOIR], next_round())
    opened = push(hub, pricer, [thread], [50 * CHOIR], next_round()).timestamp
    chain.pending_timestamp = opened + 10 * 60
    with reverts(hub.PriceDeviationTooLarge, threadId=thread, anchorPrice=100 * CHOIR):
        push(hub, pricer, [thread], [25 * CHOIR], next_round())
    receipt = hub.setDeviationWindow(10 * 60, sender=admin)
    [log] = receipt.decode_logs(hub.DeviationWindowSet)
    assert log.deviationWindow == hub.deviationWindow() == 10 * 60
    push(hub, pricer, [thread], [25 * CHOIR], next_round())
    assert hub.priceWindow(thread)[0] == 50 * CHOIR
    hub.setDeviationWindow(WINDOW, sender=admin)  # the module's hub goes on with the default


# ----------------------------------------------------------------------------------------------------------
# Stale prices: max(last price, fallback)
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "last, served",
    [(FALLBACK // 2, FALLBACK), (FALLBACK, FALLBACK), (FALLBACK * 4, FALLBACK * 4)],
    ids=["below-fallback", "at-fallback", "above-fallback"],
)
def test_a_stale_price_is_the_larger_of_last_price_and_fallback(chain, hub, pricer, ids, next_round, last, served):
    """A stalled pricer never makes entry cheaper: a price above the fallback stays in force when stale."""
    updated = push(hub, pricer, [ids[0]], [last], next_round()).timestamp
    chain.mine(timestamp=updated + HEARTBEAT)
    assert hub.price(ids[0]) == last  # fresh up to the heartbeat
    chain.mine(timestamp=updated + HEARTBEAT + 1)
    assert hub.price(ids[0]) == served
    assert hub.price(ids[1]) == FALLBACK  # never priced
    assert hub.pricePoint(ids[0])[0] == last


def test_a_stale_price_follows_a_fallback_raised_above_it(chain, hub, admin, pricer, ids, next_round):
    updated = push(hub, pricer, [ids[0]], [40 * CHOIR], next_round()).timestamp
    chain.mine(timestamp=updated + HEARTBEAT + 1)
    assert hub.price(ids[0]) == 40 * CHOIR
    hub.setFallbackPrice(50 * CHOIR, sender=admin)
    assert hub.price(ids[0]) == 50 * CHOIR
    hub.setFallbackPrice(FALLBACK, sender=admin)
    assert hub.price(ids[0]) == 40 * CHOIR


def test_a_spec_pays_the_stale_price_when_it_is_above_the_fallback(chain, threads, hub, pricer, creator, outsiders):
    """The stake checked by submitSpec is price(): a stale 90 CHOIR price is not undercut by the 30 CHOIR
    fallback."""
    thread = threads.create(creator, "stale entry")
    thread_id = thread.threadId()
    updated = push(hub, pricer, [thread_id], [90 * CHOIR], hub.lastRound() + 1).timestamp
    chain.mine(timestamp=updated + HEARTBEAT + 1)
    assert hub.price(thread_id) == 90 * CHOIR
    with reverts(thread.StakeBelowPrice):
        threads.submit(thread, outsiders[0], stake=FALLBACK, text="at the fallback")
    spec_id = threads.submit(thread, outsiders[0], stake=90 * CHOIR, text="at the stale price")
    assert thread.getSpec(spec_id).price == 90 * CHOIR


# ----------------------------------------------------------------------------------------------------------
# The parameter
# ----------------------------------------------------------------------------------------------------------


def test_deviation_window_bounds(hub, admin, pricer):
    assert hub.MIN_DEVIATION_WINDOW() == 60
    assert hub.MAX_DEVIATION_WINDOW() == 7 * DAY
    assert hub.deviationWindow() == WINDOW
    for bad in (0, 59, 7 * DAY + 1, 2**48 + WINDOW):
        with reverts(hub.InvalidParameter, parameter="deviationWindow"):
            hub.setDeviationWindow(bad, sender=admin)
    with reverts(hub.AccessControlUnauthorizedAccount, account=pricer.address):
        hub.setDeviationWindow(2 * HOUR, sender=pricer)
    assert hub.deviationWindow() == WINDOW
