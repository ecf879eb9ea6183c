"""ChoirHub's StakePriceOracle (protocol section 6): `updatePrices` (the pricer role, rounds, batches, bounds, the
deviation bound, a rejected batch changes nothing) and `price()` (fresh until the heartbeat, then the fallback).

Mirrors contracts/hub/StakePriceOracle.sol; the deviation window has its own module, test_price_window.py.
"""

from __future__ import annotations

import pytest
from helpers.hub import (
    CHOIR,
    DEVIATION_WINDOW,
    FALLBACK,
    HEARTBEAT,
    MAX_DEVIATION_BPS,
    MAX_PRICE,
    MIN_PRICE,
    call_as_transaction,
    create_threads,
    points,
    push,
    reverts,
)

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # many expected reverts: see conftest.py


# ----------------------------------------------------------------------------------------------------------
# updatePrices (protocol section 6)
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_index", [0, 2, 6], ids=["admin", "creator", "outsider"])
def test_update_prices_requires_pricer_role(hub, accounts, ids, caller_index):
    caller = accounts[caller_index]
    with reverts(hub.AccessControlUnauthorizedAccount, account=caller.address, neededRole=hub.PRICER_ROLE()):
        push(hub, caller, [ids[0]], [10 * CHOIR], 1)
    assert hub.lastRound() == 0
    assert hub.pricePoint(ids[0]) == (0, 0, 0)


def test_pricer_role_is_granted_and_revoked_by_admin(hub, admin, pricer, outsiders, ids):
    newcomer = outsiders[0]
    hub.revokeRole(hub.PRICER_ROLE(), pricer, sender=admin)
    with reverts(hub.AccessControlUnauthorizedAccount, account=pricer.address, neededRole=hub.PRICER_ROLE()):
        push(hub, pricer, [ids[0]], [10 * CHOIR], 1)
    hub.grantRole(hub.PRICER_ROLE(), newcomer, sender=admin)
    push(hub, newcomer, [ids[0]], [10 * CHOIR], 1)
    assert hub.price(ids[0]) == 10 * CHOIR


def test_empty_batch_reverts(hub, pricer, ids):
    with reverts(hub.EmptyBatch):
        push(hub, pricer, [], [], 1)
    assert hub.lastRound() == 0


@pytest.mark.parametrize("n_ids, n_prices", [(2, 1), (1, 2)])
def test_length_mismatch_reverts(hub, pricer, ids, n_ids, n_prices):
    with reverts(hub.LengthMismatch, threadIds=n_ids, prices=n_prices):
        push(hub, pricer, ids[:n_ids], [10 * CHOIR] * n_prices, 1)
    assert hub.lastRound() == 0


def test_round_zero_is_stale_on_a_fresh_hub(hub, pricer, ids):
    with reverts(hub.StaleRound, round=0, lastRound=0):
        push(hub, pricer, [ids[0]], [10 * CHOIR], 0)


def test_stale_rounds_and_replays_revert(hub, pricer, ids):
    batch = ([ids[0], ids[1]], [10 * CHOIR, 20 * CHOIR])
    push(hub, pricer, *batch, 5)
    before = points(hub, ids)
    with reverts(hub.StaleRound, round=5, lastRound=5):  # the accepted batch, replayed
        push(hub, pricer, *batch, 5)
    with reverts(hub.StaleRound, round=5, lastRound=5):  # same round, other prices
        push(hub, pricer, [ids[1]], [12 * CHOIR], 5)
    with reverts(hub.StaleRound, round=4, lastRound=5):  # an older batch delivered late
        push(hub, pricer, [ids[0]], [11 * CHOIR], 4)
    with reverts(hub.StaleRound, round=1, lastRound=5):
        push(hub, pricer, [ids[0]], [11 * CHOIR], 1)
    assert hub.lastRound() == 5
    assert points(hub, ids) == before


def test_rounds_strictly_increase_with_gaps_allowed(hub, pricer, ids):
    price = 10 * CHOIR
    for round_ in (1, 2, 7, 1_000, 2**40):
        price += CHOIR
        push(hub, pricer, [ids[0]], [price], round_)
        assert hub.lastRound() == round_
        assert hub.pricePoint(ids[0])[2] == round_
        assert hub.price(ids[0]) == price


@pytest.mark.parametrize(
    "unknown, position", [(0, 0), (3, 2), (2**64 + 1, 1)], ids=["zero-first", "count+1-last", "huge-middle"]
)
def test_unknown_thread_in_batch_reverts(hub, pricer, ids, unknown, position):
    batch = [ids[0], ids[1]]
    batch.insert(position, unknown)
    with reverts(hub.UnknownThread, threadId=unknown):
        push(hub, pricer, batch, [10 * CHOIR] * 3, 1)
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)


@pytest.mark.parametrize("bad_price", [0, MIN_PRICE - 1, MAX_PRICE + 1, 2**256 - 1])
def test_price_out_of_bounds_reverts(hub, pricer, ids, bad_price):
    with reverts(hub.PriceOutOfBounds, threadId=ids[1], price=bad_price, minPrice=MIN_PRICE, maxPrice=MAX_PRICE):
        push(hub, pricer, ids[:2], [10 * CHOIR, bad_price], 1)
    assert hub.lastRound() == 0
    assert hub.price(ids[0]) == FALLBACK


def test_first_price_is_bounded_only_by_min_and_max(hub, pricer, ids):
    # The fallback (30 CHOIR) is no "previous price": a thread's first price may sit anywhere in the range.
    receipt = push(hub, pricer, ids[:2], [MIN_PRICE, MAX_PRICE], 1)
    assert hub.price(ids[0]) == MIN_PRICE
    assert hub.price(ids[1]) == MAX_PRICE
    assert hub.pricePoint(ids[0]) == (MIN_PRICE, receipt.timestamp, 1)
    assert hub.pricePoint(ids[1]) == (MAX_PRICE, receipt.timestamp, 1)


PREVIOUS = 100 * CHOIR


@pytest.mark.parametrize(
    "new_price, accepted",
    [
        (PREVIOUS, True),  # no move
        (PREVIOUS * 3 // 2, True),  # exactly +50%
        (PREVIOUS * 3 // 2 + 1, False),  # +50% + 1 wei
        (PREVIOUS // 2, True),  # exactly -50%
        (PREVIOUS // 2 - 1, False),  # -50% - 1 wei
        (MIN_PRICE, False),
    ],
    ids=["same", "+50%", "+50%+1wei", "-50%", "-50%-1wei", "to-min"],
)
def test_price_deviation_bound(hub, pricer, ids, new_price, accepted):
    push(hub, pricer, [ids[0]], [PREVIOUS], 1)
    before = points(hub, ids)
    if accepted:
        receipt = push(hub, pricer, [ids[0]], [new_price], 2)
        assert hub.pricePoint(ids[0]) == (new_price, receipt.timestamp, 2)
        assert hub.price(ids[0]) == new_price
        assert hub.lastRound() == 2
    else:
        with reverts(
            hub.PriceDeviationTooLarge,
            threadId=ids[0],
            anchorPrice=PREVIOUS,
            price=new_price,
            maxDeviationBps=MAX_DEVIATION_BPS,
        ):
            push(hub, pricer, [ids[0]], [new_price], 2)
        assert points(hub, ids) == before
        assert hub.lastRound() == 1


def test_deviation_is_measured_per_window_not_per_round(chain, hub, pricer, ids):
    # Four rounds of +50% each, a deviation window apart: every step is within the bound of its own window
    # although the total move is 5x. (Within one window the second step would be refused: test_price_window.py.)
    price = 16 * CHOIR
    push(hub, pricer, [ids[0]], [price], 1)
    for round_ in range(2, 6):
        price = price * 3 // 2
        push(hub, pricer, [ids[0]], [price], round_)
        chain.mine(deltatime=DEVIATION_WINDOW)
    assert hub.pricePoint(ids[0])[0] == 81 * CHOIR
    # A thread priced for the first time in a later round is still free within the bounds.
    push(hub, pricer, [ids[1]], [MAX_PRICE], 6)
    assert hub.price(ids[1]) == MAX_PRICE


@pytest.mark.parametrize("batch", [[1, 1], [1, 2, 1], [1, 2, 2]], ids=["adjacent", "apart", "at-end"])
def test_duplicate_thread_in_round_reverts(hub, pricer, ids, batch):
    duplicate = next(i for i in batch if batch.count(i) > 1)
    with reverts(hub.DuplicateThreadInRound, threadId=duplicate):
        push(hub, pricer, batch, [10 * CHOIR] * len(batch), 1)
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)


def test_duplicate_thread_reverts_even_after_an_earlier_round(hub, pricer, ids):
    push(hub, pricer, [ids[0]], [10 * CHOIR], 1)
    with reverts(hub.DuplicateThreadInRound, threadId=ids[0]):
        push(hub, pricer, [ids[0], ids[0]], [11 * CHOIR, 12 * CHOIR], 2)
    push(hub, pricer, [ids[0]], [12 * CHOIR], 2)  # once per round is fine
    assert hub.price(ids[0]) == 12 * CHOIR


def test_update_records_price_points_last_round_and_event(chain, hub, pricer, creator, ids):
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)
    prices = [10 * CHOIR, 20 * CHOIR]
    receipt = push(hub, pricer, ids[:2], prices, 3)
    [log] = receipt.decode_logs(hub.PricesUpdated)
    assert (log.round, list(log.threadIds), list(log.prices)) == (3, ids[:2], prices)
    assert hub.lastRound() == 3
    assert hub.pricePoint(ids[0]) == (prices[0], receipt.timestamp, 3)
    assert hub.pricePoint(ids[1]) == (prices[1], receipt.timestamp, 3)
    third = create_threads(hub, creator, 1)[0]
    assert hub.pricePoint(third) == (0, 0, 0)
    assert [hub.price(i) for i in (*ids, third)] == [*prices, FALLBACK]

    chain.mine(deltatime=60)
    receipt2 = push(hub, pricer, [ids[1]], [25 * CHOIR], 4)
    assert receipt2.timestamp > receipt.timestamp
    assert hub.pricePoint(ids[0]) == (prices[0], receipt.timestamp, 3)  # untouched by round 4
    assert hub.pricePoint(ids[1]) == (25 * CHOIR, receipt2.timestamp, 4)
    assert hub.lastRound() == 4


@pytest.mark.parametrize(
    "tail, price, error, arguments",
    [
        (4, 100 * CHOIR, "UnknownThread", {"threadId": 4}),
        (
            3,
            MAX_PRICE + 1,
            "PriceOutOfBounds",
            {"threadId": 3, "price": MAX_PRICE + 1, "minPrice": MIN_PRICE, "maxPrice": MAX_PRICE},
        ),
        (
            3,
            151 * CHOIR,
            "PriceDeviationTooLarge",
            {"threadId": 3, "anchorPrice": 100 * CHOIR, "price": 151 * CHOIR, "maxDeviationBps": 5_000},
        ),
        (1, 110 * CHOIR, "DuplicateThreadInRound", {"threadId": 1}),
    ],
    ids=["unknown-thread", "out-of-bounds", "deviation", "duplicate"],
)
def test_rejected_batch_changes_nothing(chain, hub, pricer, creator, ids, tail, price, error, arguments):
    all_ids = [*ids, *create_threads(hub, creator, 1)]
    push(hub, pricer, all_ids, [100 * CHOIR] * 3, 1)
    chain.mine(deltatime=10)
    before = points(hub, all_ids)
    # The first two entries are valid moves; the last one fails, so the whole batch must be refused.
    with reverts(getattr(hub, error), **arguments):
        push(hub, pricer, [1, 2, tail], [120 * CHOIR, 80 * CHOIR, price], 2)
    assert hub.lastRound() == 1
    assert points(hub, all_ids) == before
    push(hub, pricer, [1, 2], [120 * CHOIR, 80 * CHOIR], 2)  # the valid part alone is accepted
    assert [hub.price(i) for i in all_ids] == [120 * CHOIR, 80 * CHOIR, 100 * CHOIR]


# ----------------------------------------------------------------------------------------------------------
# price(): freshness and fallback (protocol section 6)
# ----------------------------------------------------------------------------------------------------------


def test_unset_price_is_the_fallback(hub, ids):
    assert [hub.price(i) for i in ids] == [FALLBACK] * 2


def test_price_is_fresh_until_exactly_heartbeat_then_falls_back(chain, hub, pricer, ids):
    receipt = push(hub, pricer, [ids[0]], [50 * CHOIR], 1)
    updated = receipt.timestamp
    assert hub.price(ids[0]) == 50 * CHOIR
    chain.mine(timestamp=updated + HEARTBEAT - 1)
    assert hub.price(ids[0]) == 50 * CHOIR
    chain.mine(timestamp=updated + HEARTBEAT)
    assert chain.blocks.head.timestamp == updated + HEARTBEAT
    assert hub.price(ids[0]) == 50 * CHOIR  # age == heartbeat: still fresh
    chain.mine(timestamp=updated + HEARTBEAT + 1)
    assert hub.price(ids[0]) == 50 * CHOIR  # one second later: stale, served as max(last price, fallback)
    assert hub.pricePoint(ids[0]) == (50 * CHOIR, updated, 1)  # the stored point is kept
    # A new round refreshes it. The deviation bound still applies from the stored (stale) price: the new
    # deviation window is anchored at it.
    with reverts(
        hub.PriceDeviationTooLarge,
        threadId=ids[0],
        anchorPrice=50 * CHOIR,
        price=FALLBACK * 3,
        maxDeviationBps=MAX_DEVIATION_BPS,
    ):
        push(hub, pricer, [ids[0]], [FALLBACK * 3], 2)
    push(hub, pricer, [ids[0]], [60 * CHOIR], 2)
    assert hub.price(ids[0]) == 60 * CHOIR


def test_price_of_unknown_thread_reverts(hub, ids, outsiders):
    for unknown in (0, len(ids) + 1):
        with reverts(hub.UnknownThread, threadId=unknown):
            call_as_transaction(hub, "price", unknown, sender=outsiders[0])
