"""The full-reprice fast paths (issue 18, part 5) give exactly what the per-thread paths give.

- `thread_states` loads every thread with one grouped query per input (an id range past `IN_LIMIT` threads); on a
  generated index of a few hundred threads (the reprice benchmark's own fixture) each state equals the state
  rebuilt from the rows in plain Python by the protocol's rules, and the state of the same thread loaded alone;
- `thread_prices_wei` evaluates many threads in double-double arithmetic and leaves prices within a hair of a half
  wei to the decimal path: every price equals `thread_price_wei` (the decimal path, one thread at a time);
- `pending_steps`' inlined step and `round_calldata`'s direct ABI encoding equal `next_price` and eth-abi.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.bench.reprice import build_rows, write_rows
from choir_chain.indexer.db import create_schema, make_engine
from choir_chain.indexer.models import CountedCitation, EquityEvent, Settlement, Spec
from choir_chain.pgserver import PostgresMissing, PostgresServer
from choir_chain.pricer.client import Function
from choir_chain.pricer.compute import OracleBounds, Step, clamp_to_bounds, model_prices, next_price, pending_steps
from choir_chain.pricer.plan import RoundPlan, least_recent_first, round_calldata
from choir_chain.pricer.progress import Position, encode_tag
from choir_chain.pricer.state import IN_LIMIT, UNVOTED, WEEK, ThreadState, thread_states
from choir_chain.pricer.triggers import block_timestamp
from choir_chain.pricing import QahoParams, refusal_ratio, refusal_weight, thread_price_wei, thread_prices_wei

THREADS = 700  # past IN_LIMIT: the id-range form of the queries
WINDOW = QahoParams().window


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, int]]:
    folder: Path = tmp_path_factory.mktemp("reprice")
    engine = make_engine(str(folder / "index.db"))
    create_schema(engine)
    rows, head = build_rows(THREADS, seed=7)
    write_rows(engine, rows)
    yield engine, head
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_index() -> Iterator[tuple[Engine, int]]:
    """The same index on a real PostgreSQL server (see test_indexer_postgres.py)."""
    try:
        server = PostgresServer.start()
    except PostgresMissing as err:
        pytest.fail(str(err), pytrace=False)
    engine = make_engine(server.url)
    try:
        create_schema(engine)
        rows, head = build_rows(THREADS, seed=7)
        write_rows(engine, rows)
        yield engine, head
    finally:
        engine.dispose()
        server.stop()


def _reference_states(session: Session, block: int, timestamp: int) -> dict[int, ThreadState]:
    """Every thread's state rebuilt from all the rows in plain Python, by the rules of `state.py`'s docstring."""
    approved: dict[int, int] = {}
    for spec in session.scalars(select(Spec)):
        settled = spec.settled_block is not None and spec.settled_block <= block
        if spec.status == "approved" and settled and (spec.settled_timestamp or 0) > timestamp - WEEK:
            approved[spec.thread_id] = approved.get(spec.thread_id, 0) + 1
    weights: dict[int, list[tuple[int, int, float]]] = {}
    for s in session.scalars(select(Settlement)):
        if s.block <= block and s.outcome not in UNVOTED:
            weights.setdefault(s.thread_id, []).append((s.block, s.log_index, refusal_weight(s.approvals, s.denials)))
    refusal = {t: refusal_ratio([w for *_, w in sorted(ws)], WINDOW) for t, ws in weights.items()}
    citing: dict[int, set[int]] = {}
    for c in session.scalars(select(CountedCitation)):
        if c.block <= block:
            citing.setdefault(c.cited_thread_id, set()).add(c.citing_thread_id)
    last: dict[tuple[int, str], tuple[int, int, str]] = {}
    for e in session.scalars(select(EquityEvent)):
        key = (e.thread_id, e.account)
        if e.block <= block and (key not in last or (e.block, e.log_index) > last[key][:2]):
            last[key] = (e.block, e.log_index, e.kind)
    coauthors: dict[int, int] = {}
    for (thread_id, _), (*_, kind) in last.items():
        coauthors[thread_id] = coauthors.get(thread_id, 0) + (kind == "join")
    return {
        t: ThreadState(t, approved.get(t, 0), refusal.get(t, 0.0), len(citing.get(t, ())), coauthors.get(t, 0))
        for t in range(1, THREADS + 1)
    }


@pytest.mark.parametrize("when", ["head", "middle"])
def test_set_based_states_equal_the_rows_and_the_per_thread_states(index: tuple[Engine, int], when: str) -> None:
    engine, head = index
    with Session(engine) as session:
        block = head
        if when == "middle":  # as of an earlier trigger block: later rows must be ignored
            blocks = sorted(session.scalars(select(Settlement.block)))
            block = blocks[len(blocks) // 2]
        timestamp = block_timestamp(session, block)
        assert timestamp is not None
        everything = thread_states(session, range(1, THREADS + 1), block, timestamp, WINDOW)
        expected = _reference_states(session, block, timestamp)
        assert everything == expected
        # The data exercise every input: some threads approved lately, refused, cited, with several co-authors.
        assert sum(s.approved_recent > 0 for s in expected.values()) > 10
        assert sum(0.0 < s.refusal < 1.0 for s in expected.values()) > 10
        assert sum(s.citations > 1 for s in expected.values()) > 10
        assert sum(s.coauthors > 1 for s in expected.values()) > 10
        rng = random.Random(when)
        for thread_id in rng.sample(range(1, THREADS + 1), 60):  # one thread at a time: the `IN` form
            assert thread_states(session, [thread_id], block, timestamp, WINDOW) == {thread_id: expected[thread_id]}


def test_postgres_loads_the_same_states(index: tuple[Engine, int], postgres_index: tuple[Engine, int]) -> None:
    """The driver-level row reading and the id-range form on PostgreSQL (psycopg's parameter style): the same
    states as on SQLite, for every thread and for threads loaded alone."""
    (lite, head), (pg, pg_head) = index, postgres_index
    assert pg_head == head
    with Session(lite) as on_sqlite, Session(pg) as on_postgres:
        timestamp = block_timestamp(on_sqlite, head)
        assert timestamp is not None and block_timestamp(on_postgres, head) == timestamp
        expected = thread_states(on_sqlite, range(1, THREADS + 1), head, timestamp, WINDOW)
        assert thread_states(on_postgres, range(1, THREADS + 1), head, timestamp, WINDOW) == expected
        for thread_id in (1, 2, THREADS // 2, THREADS):
            alone = thread_states(on_postgres, [thread_id], head, timestamp, WINDOW)
            assert alone == {thread_id: expected[thread_id]}


def test_a_large_scattered_selection_returns_exactly_the_threads_asked_for(index: tuple[Engine, int]) -> None:
    engine, head = index
    wanted = list(range(3, THREADS + 1, 2))[: IN_LIMIT + 40]  # past IN_LIMIT, every other thread
    with Session(engine) as session:
        timestamp = block_timestamp(session, head)
        assert timestamp is not None
        states = thread_states(session, wanted, head, timestamp, WINDOW)
        full = thread_states(session, range(1, THREADS + 1), head, timestamp, WINDOW)
    assert list(states) == wanted
    assert states == {t: full[t] for t in wanted}


def test_batch_wei_equals_the_decimal_path_on_the_indexed_threads(index: tuple[Engine, int]) -> None:
    engine, head = index
    with Session(engine) as session:
        timestamp = block_timestamp(session, head)
        assert timestamp is not None
        states = thread_states(session, range(1, THREADS + 1), head, timestamp, WINDOW)
    prices = model_prices(states.values())
    assert prices == {
        t: thread_price_wei(s.approved_recent, s.refusal, s.citations, s.coauthors) for t, s in states.items()
    }


PARAMS = [
    QahoParams(),
    QahoParams(s0=3.7, lam=2.5, g1=4.0, k0_max=3.0, b1=2.0, b2=1.5, c0=3.0, n0=2.0, m_max=5.0),  # clamps bite
    QahoParams(k0_base=0.4, lam=0.3, m_min=2.5),  # K0 * lam below 1: a negative logarithm
    QahoParams(s0=1e-6),  # prices far below 2**53 wei: fractional float parts
    QahoParams(lam=0.0),  # no anharmonic shift
]


@pytest.mark.parametrize("params", PARAMS, ids=range(len(PARAMS)))
def test_batch_wei_equals_the_decimal_path_on_random_states(params: QahoParams) -> None:
    rng = random.Random(repr(params))
    n = 1_500
    approved = [rng.choice((0, 1, 2, rng.randint(0, 10**6))) for _ in range(n)]
    refusal = [rng.choice((0.0, 1.0, rng.random(), rng.randint(0, 20) / rng.randint(1, 20) / 1.0)) for _ in range(n)]
    refusal = [min(r, 1.0) for r in refusal]
    citations = [rng.choice((0, 1, rng.randint(0, 500), rng.randint(0, 10**9), rng.random() * 50)) for _ in range(n)]
    coauthors = [rng.choice((0, 1, rng.randint(0, 300), rng.randint(0, 10**7), rng.random() * 9)) for _ in range(n)]
    batch = thread_prices_wei(approved, refusal, citations, coauthors, params)
    one_by_one = [
        thread_price_wei(*state, params) for state in zip(approved, refusal, citations, coauthors, strict=True)
    ]
    assert batch == one_by_one


def test_a_price_on_a_half_wei_is_left_to_the_decimal_path() -> None:
    # s0 = 2**-19 CHOIR = 1907348632812.5 wei and no shift (lam = 0): P0 = (2n + 1) s0 ends on half a wei for every n
    half = QahoParams(s0=2.0**-19, lam=0.0)
    assert thread_prices_wei([0, 1, 3], [0.0, 0.0, 0.0], [0, 0, 0], [1, 1, 1], half) == [
        1_907_348_632_813,  # 1907348632812.5 goes up
        5_722_045_898_438,  # 5722045898437.5 goes up
        9_536_743_164_063,  # 9536743164062.5 goes up
    ]


def test_bad_input_in_a_batch_is_refused_by_name() -> None:
    for args, field in [
        (([0, 1], [0.0, 1.5], [0, 0], [1, 1]), "refusal"),
        (([0, 1], [0.0, 0.5], [0, True], [1, 1]), "citations"),
        (([0, -1], [0.0, 0.5], [0, 0], [1, 1]), "approved_recent"),
        (([0, 1], [0.0, 0.5], [0, 0], [1, float("nan")]), "coauthors"),
    ]:
        with pytest.raises(ValueError, match=field):
            thread_prices_wei(*args)  # type: ignore[arg-type]


def _reference_steps(
    targets: dict[int, int], previous: dict[int, int], bounds: OracleBounds, anchors: dict[int, int]
) -> tuple[list[Step], list[int], list[int]]:
    steps: list[Step] = []
    stuck: list[int] = []
    waiting: list[int] = []
    for thread_id in sorted(targets):
        target, prev = targets[thread_id], previous.get(thread_id, 0)
        if prev == target:
            continue
        anchor = anchors.get(thread_id, 0)
        price = next_price(prev, target, bounds, anchor)
        if price is None or price == prev:
            later = next_price(prev, target, bounds) if anchor else None
            (waiting if later not in (None, prev) else stuck).append(thread_id)
            continue
        steps.append(Step(thread_id, prev, target, price))
    return steps, stuck, waiting


def test_pending_steps_equal_next_price_thread_by_thread() -> None:
    rng = random.Random(5)
    bounds = OracleBounds(min_price=10**18, max_price=10**21, max_deviation_bps=2_500, deviation_window=3_600)
    prices = [0, 10**18, 10**21, 2 * 10**18, 3 * 10**19 + 7]
    for _ in range(40):
        ids = rng.sample(range(1, 400), 120)
        targets = {t: rng.choice((*prices, rng.randrange(10**17, 2 * 10**21))) for t in ids}
        previous = {
            t: rng.choice((*prices, targets[t], rng.randrange(10**18, 10**21))) for t in ids if rng.random() < 0.9
        }
        anchors = {t: rng.choice(prices[1:]) for t in ids if rng.random() < 0.2}
        assert pending_steps(targets, previous, bounds, anchors) == _reference_steps(targets, previous, bounds, anchors)


def test_round_calldata_equals_eth_abi_and_keeps_its_errors() -> None:
    update_prices = Function.from_abi(artifacts.load("ChoirHub").abi, "updatePrices")
    rng = random.Random(9)
    for count in (0, 1, 100):
        steps = [Step(rng.randrange(2**64), 0, 0, rng.randrange(2**200)) for _ in range(count)]
        ordered = least_recent_first(steps, {s.thread_id: rng.randrange(3) for s in steps})
        plan = RoundPlan(
            round=rng.randrange(2**64), position=Position(77, True), steps=tuple(ordered), nonce=0, started=0.0
        )
        expected = (
            update_prices.selector
            + abi_encode(["uint256[]", "uint256[]", "uint64"], [plan.thread_ids, plan.prices, plan.round])
            + encode_tag(plan.position)
        )
        assert round_calldata(update_prices, plan) == expected
    bad = RoundPlan(round=1, position=Position(1), steps=(Step(1, 0, 0, -5),), nonce=0, started=0.0)
    with pytest.raises(Exception, match="-5"):  # eth-abi's own refusal, not a silently wrapped integer
        round_calldata(update_prices, bad)


def test_clamp_to_bounds_is_min_of_max() -> None:
    rng = random.Random(3)
    for low, high in [(10, 1_000), (500, 500), (900, 100)]:  # the last: bounds inverted, the top one wins
        bounds = OracleBounds(min_price=low, max_price=high, max_deviation_bps=100)
        prices = {t: rng.randrange(0, 2_000) for t in range(200)}
        assert clamp_to_bounds(prices, bounds) == {t: min(max(p, low), high) for t, p in prices.items()}


def test_least_recent_first_orders_by_last_round_then_thread() -> None:
    steps = [Step(t, 0, 1, 1) for t in (9, 3, 7, 1, 5)]
    rounds = {9: 1, 3: 2, 7: 1, 1: 2, 5: 0}
    assert [s.thread_id for s in least_recent_first(steps, rounds)] == [5, 7, 9, 1, 3]


def test_states_are_immutable() -> None:
    state = ThreadState(1, 2, 0.5, 3, 4)
    with pytest.raises(AttributeError):
        state.refusal = 0.0  # type: ignore[misc]
    assert not dataclasses.is_dataclass(state) and state == (1, 2, 0.5, 3, 4)
