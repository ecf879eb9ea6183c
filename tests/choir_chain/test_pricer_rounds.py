"""The pricer's rounds against a real devnet and a real database: prices equal an independent computation, rounds
run 1, 2, 3..., each step stays within the deviation bound of its window and is the largest the hub allows, a second
`--once` sends nothing, the admin's bounds are followed, and the pricer never writes the index.

The workload and the reference run are the fixtures of conftest.py.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from helpers.pricer_runs import FAST, TIGHT_BPS, Outcome, Settled, price_once, pricer_statuses
from helpers.pricer_workload import QuickSender, World
from helpers.world import dump, time_travel
from web3.exceptions import ContractLogicError

from choir_chain.deploy import CHOIR, HOUR
from choir_chain.indexer import Indexer, make_engine
from choir_chain.pricer import Pricer, PricerConfig
from choir_chain.pricer.compute import OracleBounds, next_price, running_anchor, within_deviation


def test_prices_equal_an_independent_computation(world: World, reference: Outcome, settled: Settled) -> None:
    for thread_id in (1, 2, 3):  # with the bound tightened to 1%, after several windows: the same prices
        assert settled.outcome.points[thread_id][0] == reference.points[thread_id][0]
    assert settled.runs > 3
    for thread_id in (1, 2, 3):
        price, _updated, _round = reference.points[thread_id]
        assert price == world.expected.price(thread_id, world.final_time), f"thread {thread_id}"
    before, up, _top, down = world.jump
    assert up > 3 * before and up > 3 * down  # a large jump: several rounds up, several down
    e = world.expected
    for thread_id in (1, 2, 3):  # every input matters: each thread has refusals (K0 != 1), so c and N move m
        assert e.weights[thread_id] and any(e.weights[thread_id])
        e.citations[thread_id] = e.citations.get(thread_id, 0) + 1
        assert e.price(thread_id, world.final_time) != reference.points[thread_id][0]
        e.citations[thread_id] -= 1


def test_rounds_run_from_one_without_gaps_and_every_step_is_allowed(world: World, reference: Outcome) -> None:
    rounds = reference.rounds
    assert sorted(rounds) == list(range(1, len(rounds) + 1))
    assert [e["round"] for e in reference.events if e["event"] == "round"] == sorted(rounds)
    assert world.deployment.hub.functions.lastRound().call() == 0  # reverted for the other tests
    previous: dict[int, int] = {}
    for number in sorted(rounds):
        ids, prices = rounds[number]
        assert len(set(ids)) == len(ids)
        for thread_id, price in zip(ids, prices, strict=True):
            if thread_id in previous:
                assert abs(price - previous[thread_id]) * 10_000 <= previous[thread_id] * 5_000
                assert price != previous[thread_id], "a round only carries prices that move"
            previous[thread_id] = price


def test_a_big_jump_stops_at_the_edge_of_its_deviation_window(world: World, reference: Outcome) -> None:
    """Thread 3's seven approvals in one block ask for a jump of more than 3x. Its window opened at its second
    price (anchored at the first): the climb stops at 1.5x the anchor, however many rounds follow in the hour;
    the later trigger blocks ask for less, within the band, and get it."""
    history = [p for n in sorted(reference.rounds) for t, p in zip(*reference.rounds[n], strict=True) if t == 3]
    before, up, _top, down = world.jump
    assert up > 3 * before
    first, anchor_edge = history[0], history[0] + history[0] * 5_000 // 10_000
    assert history[1] == before and up > anchor_edge
    assert history[2] == anchor_edge  # the jump's round: as far as the window allows (before * 1.5 is further)
    assert all(abs(p - first) * 10_000 <= first * 5_000 for p in history[1:])
    assert history[-1] == down


def test_window_after_window_with_a_tight_bound(world: World, settled: Settled) -> None:
    """With 1% per window, every price stays within 1% of its window's anchor (replayed from the rounds' block
    times by the contract's rule), the prices reach the model's over several windows, and in every window a
    thread short of its target moved as far as the window allowed."""
    rounds, times = settled.outcome.rounds, settled.times
    for thread_id in (1, 2, 3):
        history = [(times[n], p) for n in sorted(rounds) for t, p in zip(*rounds[n], strict=True) if t == thread_id]
        price, anchor, start, last_window = history[0][1], 0, 0, 0
        for when, new in history[1:]:
            if when - start >= HOUR:
                anchor, start = price, when
            assert abs(new - anchor) * 10_000 <= anchor * TIGHT_BPS, (thread_id, when, new, anchor)
            last_window, price = start, new
        assert price == world.expected.price(thread_id, world.final_time)
        assert last_window >= history[0][0] + HOUR  # it took windows, not rounds
    for event in settled.outcome.events:
        if event["event"] == "round":
            for thread_id, step, target in zip(event["threads"], event["prices"], event["targets"], strict=True):
                assert (thread_id in event["clamped"]) == (step != target)
    waiting = [e for e in settled.outcome.events if e["event"] == "waiting" and e.get("reason") == "deviation window"]
    assert waiting and all(e["until"] > 0 for e in waiting)


def test_next_price_mirrors_the_contract_check() -> None:
    rng = random.Random(7)
    for _ in range(5_000):
        bps = rng.choice([1, 333, 5_000, 9_999, 10_000])
        prev = rng.choice([0, 1, 2, 3, rng.randrange(1, 10**6), rng.randrange(1, 10**24)])
        target = rng.randrange(1, 10**25)
        low = rng.choice([1, rng.randrange(1, 10**20)])
        bounds = OracleBounds(low, low + rng.randrange(0, 10**26), bps)
        step = next_price(prev, target, bounds)
        if step is None:
            continue
        assert bounds.min_price <= step <= bounds.max_price
        assert within_deviation(prev, step, bps)
        if step != min(max(target, bounds.min_price), bounds.max_price):  # held short: one wei more is refused
            nearer = step + (1 if target > step else -1)
            in_bounds = bounds.min_price <= nearer <= bounds.max_price
            assert not (in_bounds and within_deviation(prev, nearer, bps))
    assert next_price(100, 1_000, OracleBounds(1, 10, 5_000)) is None  # bounds moved more than a step away


def test_after_a_full_run(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A second `--once` sends nothing; the database equals a fresh index; the largest step `next_price`
    allows toward a far target is exactly the contract's limit (one wei further is refused)."""
    db = f"sqlite:///{tmp_path / 'twice.db'}"
    price_once(fresh, db)
    w3, hub, pricer = fresh.deployment.chain.w3, fresh.deployment.hub, fresh.pricer
    nonce, block = w3.eth.get_transaction_count(pricer.address), w3.eth.block_number
    again = price_once(fresh, db)  # in the same deviation windows: nothing more to send
    assert [e["event"] for e in again.events if e["event"] != "waiting"] == ["resume"]
    assert (w3.eth.get_transaction_count(pricer.address), w3.eth.block_number) == (nonce, block)
    assert again.rounds == reference.rounds

    fresh_db = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with Indexer(fresh.rpc_url, fresh.deployment.manifest, fresh_db) as indexer:
        indexer.sync()
    priced = make_engine(db)
    assert dump(priced) == dump(fresh_db)
    priced.dispose()
    fresh_db.dispose()

    last = hub.functions.lastRound().call()
    bounds = OracleBounds(hub.functions.minPrice().call(), hub.functions.maxPrice().call(), 5_000, HOUR)
    time_travel(fresh.rpc_url, HOUR)  # a new window for every thread: each may move 50% either way
    now = w3.eth.get_block("latest")["timestamp"]
    for thread_id in (1, 2, 3):
        price = hub.functions.pricePoint(thread_id).call()[0]
        anchor = running_anchor(*hub.functions.priceWindow(thread_id).call(), now, bounds)
        assert anchor == 0
        for far, further in ((100 * price, 1), (bounds.min_price, -1)):
            allowed = next_price(price, far, bounds, anchor)
            assert allowed is not None and allowed != price
            hub.functions.updatePrices([thread_id], [allowed], last + 1).call({"from": pricer.address})
            with pytest.raises(ContractLogicError):
                hub.functions.updatePrices([thread_id], [allowed + further], last + 1).call({"from": pricer.address})


def test_the_pricer_never_writes_the_index(fresh: World, tmp_path: Path) -> None:
    """Without an indexer the pricer reads an empty index: it waits for it (saying so once), sends nothing and
    writes no row; the indexer is the only writer (docs/architecture.md)."""
    db = f"sqlite:///{tmp_path / 'reader.db'}"
    w3, pricer = fresh.deployment.chain.w3, fresh.pricer
    nonce = w3.eth.get_transaction_count(pricer.address)
    events: list[dict[str, Any]] = []
    config = PricerConfig(retry=FAST.retry, poll_interval=0.01, index_wait=0.2)
    with Pricer(fresh.rpc_url, fresh.deployment.manifest, pricer, db, config=config, emit=events.append) as alone:
        alone.run(once=True)
    behind = [e for e in events if e.get("reason") == "index behind"]
    assert len(behind) == 1 and behind[0]["indexed"] == fresh.deployment.manifest.deploy_block - 1
    assert w3.eth.get_transaction_count(pricer.address) == nonce
    engine = make_engine(db)
    assert {table: rows for table, rows in dump(engine).items() if rows} == {}
    engine.dispose()


def test_bounds_moved_by_the_admin(fresh: World, tmp_path: Path) -> None:
    """A minimum price more than one step above a thread's price: no allowed price exists, the thread is
    reported stuck and nothing is sent; once the minimum is within a step, the thread moves to it."""
    db = f"sqlite:///{tmp_path / 'bounds.db'}"
    price_once(fresh, db)
    hub, admin, send = fresh.deployment.hub, fresh.accounts[0], QuickSender(fresh.deployment.chain)
    prices = {t: hub.functions.pricePoint(t).call()[0] for t in (1, 2, 3)}
    assert max(prices.values()) < 40 * CHOIR
    send(hub.functions.setFallbackPrice(100 * CHOIR), admin)
    send(hub.functions.setPriceBounds(100 * CHOIR, 1_000_000 * CHOIR), admin)
    last = hub.functions.lastRound().call()
    stuck = price_once(fresh, db)
    assert next(e for e in stuck.events if e["event"] == "stuck")["threads"] == [1, 2, 3]
    assert hub.functions.lastRound().call() == last

    floor = min(prices.values()) * 5 // 4  # within one step of every thread's price
    send(hub.functions.setPriceBounds(floor, 1_000_000 * CHOIR), admin)
    time_travel(fresh.rpc_url, HOUR)  # ... once their deviation windows are over
    moved = price_once(fresh, db)
    rounds = [e for e in moved.events if e["event"] == "round"]
    assert len(rounds) == 1 and rounds[0]["threads"] == [1, 2, 3]
    assert {t: hub.functions.pricePoint(t).call()[0] for t in (1, 2, 3)} == {t: floor for t in (1, 2, 3)}
    assert pricer_statuses(fresh) == [1] * hub.functions.lastRound().call()
