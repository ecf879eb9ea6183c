"""A full reprice of 100,000 indexed threads from the database (`python -m choir_chain.bench.reprice`).

Target (issue 18): the pricer computes the wei prices of 100,000 threads, state loading, model, conversion and
batching included, in at most 2 seconds.

**Fixture (not timed).** An index database (an SQLite file in a temporary folder, or `--db URL`, e.g. PostgreSQL,
whose indexer tables are reset) is filled with seeded rows of the indexer's own tables, written directly with
SQLAlchemy bulk inserts: threads created over about 80 days of 12-second blocks, each with its root message,
specs (most threads have none or one, a few have dozens) and their settlements of every outcome, co-authors'
posts citing other threads and the hub's counted citations of them and of approved specs, co-authors joining
(with their approved specs) and a few leaving, and one price per thread in the price rounds. The head block is
the last trigger block.

**Timed, as the pricer does it** for a full reconciliation at the head (`Pricer._targets` with a `full`
position, then the rounds `Pricer.plan` takes one after another), with the pricer's own functions:

- *database*: `threads_up_to`, `block_timestamp` and `thread_states` (`choir_chain/pricer/state.py`): every
  thread's ``a``, ``r``, ``c`` and ``N`` as of the head block;
- *model*: `model_prices` (the deterministic wei path, `choir_chain.pricing.thread_prices_wei`) and
  `clamp_to_bounds`;
- *batching*: `pending_steps` against each thread's previous price, `least_recent_first`, cut into rounds of
  `PricerConfig.batch_size` threads, and each round's `updatePrices` calldata with its position tag
  (`round_calldata`, as `Pricer.send` builds it): built, not sent. The previous prices and rounds, which the
  service reads from the hub, are read from the index before timing (the chain is not part of this benchmark).

Each repeat runs in a fresh session with the wei cache cleared; the JSON line gives the best repeat's split and
every repeat's total. Before reporting, a sample of threads is priced again one at a time (one thread's state,
`thread_price_wei`): a fast but wrong reprice fails the benchmark instead of flattering it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.deploy import HubParameters
from choir_chain.indexer.db import create_schema, drop_schema, make_engine
from choir_chain.indexer.models import (
    CURSOR_ID,
    SCHEMA_VERSION,
    Base,
    Citation,
    Coauthor,
    CountedCitation,
    Cursor,
    EquityEvent,
    Message,
    Price,
    PriceRound,
    Settlement,
    Spec,
    Thread,
)
from choir_chain.pricer.client import Function
from choir_chain.pricer.compute import OracleBounds, clamp_to_bounds, model_prices, pending_steps
from choir_chain.pricer.plan import PricerConfig, RoundPlan, least_recent_first, round_calldata
from choir_chain.pricer.progress import Position
from choir_chain.pricer.state import thread_states
from choir_chain.pricer.triggers import block_timestamp, threads_up_to
from choir_chain.pricing import QahoParams, thread_price_wei
from choir_chain.pricing.wei import _price_wei
from choir_chain.protocol.units import CHOIR

THREADS = 100_000
TARGET_SECONDS = 2.0
REPEATS = 3
SEED = 2026
CHECKED = 300
"""Threads priced again one at a time to check the timed reprice."""

BLOCK_TIME = 12
GENESIS = 1_760_000_000
SPAN_BLOCKS = 600_000
"""About 83 days of blocks: the 7-day window of `a` holds roughly a twelfth of the approvals."""
ACCOUNTS = 20_000
INSERT_CHUNK = 20_000
OUTCOMES = (("approved", 0.6), ("denied", 0.14), ("split", 0.1), ("expired", 0.1), ("refunded", 0.06))


@dataclass
class Rows:
    """The fixture's rows per table, as dicts of column values."""

    tables: dict[type[Base], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type[Base], **values: Any) -> None:
        self.tables.setdefault(model, []).append(values)

    def count(self) -> dict[str, int]:
        return {m.__tablename__: len(r) for m, r in self.tables.items()}


class _Chain:
    """Hands out (block, log index) pairs and hashes: log indexes are unique, so every event key is."""

    def __init__(self) -> None:
        self.log = 0

    def log_index(self) -> int:
        self.log += 1
        return self.log

    @staticmethod
    def timestamp(block: int) -> int:
        return GENESIS + block * BLOCK_TIME

    def tx(self) -> str:
        return f"0x{self.log:064x}"


def build_rows(threads: int, seed: int) -> tuple[Rows, int]:
    """The fixture's rows and its head block (the last trigger block)."""
    rng = random.Random(seed)
    chain = _Chain()
    rows = Rows()
    accounts = [f"0x{rng.getrandbits(160):040x}" for _ in range(ACCOUNTS)]
    created = sorted(rng.randrange(1, SPAN_BLOCKS - 100) for _ in range(threads))
    head = 0
    for thread_id, block in enumerate(created, start=1):
        head = max(head, _thread_rows(rows, rng, chain, accounts, thread_id, block))
    _price_rows(rows, rng, chain, created)
    rows.add(
        Cursor,
        id=CURSOR_ID,
        schema_version=SCHEMA_VERSION,
        chain_id=31337,
        hub="0x" + "11" * 20,
        deploy_block=1,
        last_block=head,
        last_block_hash="0x" + "22" * 32,
    )
    return rows, head


def _spec_count(rng: random.Random) -> int:
    """Most threads are quiet, a few busy: 60% have 0-1 specs, 36% a handful, 4% dozens."""
    kind = rng.random()
    if kind < 0.6:
        return rng.randint(0, 1)
    if kind < 0.96:
        return min(int(rng.expovariate(1 / 4)) + 1, 30)
    return rng.randint(20, 100)


def _thread_rows(
    rows: Rows, rng: random.Random, chain: _Chain, accounts: list[str], thread_id: int, created: int
) -> int:
    """One thread's rows; returns the last block of its trigger events."""
    creator = rng.choice(accounts)
    last_trigger = created
    log = chain.log_index()
    rows.add(
        Message,
        thread_id=thread_id,
        message_index=0,
        global_id=thread_id << 64,
        author=creator,
        content_hash=f"0x{thread_id:064x}",
        kind="root",
        author_kind="human",
        block=created,
        tx_hash=chain.tx(),
        log_index=log,
        timestamp=chain.timestamp(created),
    )
    rows.add(
        EquityEvent,
        block=created,
        log_index=chain.log_index(),
        thread_id=thread_id,
        account=creator,
        kind="join",
        spec_id=0,
        shares=CHOIR,
        total_shares_after=CHOIR,
        payout=0,
        tx_hash=chain.tx(),
        timestamp=chain.timestamp(created),
    )
    members = {creator: created}
    events = [("spec", rng.randint(created + 1, SPAN_BLOCKS)) for _ in range(_spec_count(rng))]
    events += [("post", rng.randint(created + 1, SPAN_BLOCKS)) for _ in range(min(int(rng.expovariate(2 / 3)), 8))]
    events.sort(key=lambda e: e[1])
    for index, (kind, block) in enumerate(events, start=1):
        author = rng.choice(list(members)) if kind == "post" or rng.random() < 0.5 else rng.choice(accounts)
        cited = [rng.randint(1, thread_id - 1) for _ in range(rng.choice((0, 1, 1, 2, 3)))] if thread_id > 1 else []
        log = chain.log_index()
        stamp = chain.timestamp(block)
        rows.add(
            Message,
            thread_id=thread_id,
            message_index=index,
            global_id=(thread_id << 64) | index,
            author=author,
            content_hash=f"0x{log:064x}",
            kind=kind,
            author_kind=rng.choice(("human", "human", "ai", "ai_prompted")),
            block=block,
            tx_hash=chain.tx(),
            log_index=log,
            timestamp=stamp,
        )
        for position, other in enumerate(cited):
            rows.add(
                Citation,
                thread_id=thread_id,
                message_index=index,
                position=position,
                cited_global_id=other << 64,
                cited_thread_id=other,
                cited_index=0,
            )
        if kind == "post":
            last_trigger = max(last_trigger, _count_citations(rows, chain, thread_id, index, cited, block))
        else:
            settled = _spec_rows(rows, rng, chain, thread_id, index, author, block, len(members), members)
            if settled is not None:
                outcome, settled_block = settled
                last_trigger = max(last_trigger, settled_block)
                if outcome == "approved":
                    _count_citations(rows, chain, thread_id, index, cited, settled_block)
    _coauthor_rows(rows, thread_id, members)
    rows.add(
        Thread,
        thread_id=thread_id,
        address=f"0x{thread_id:040x}",
        creator=creator,
        content_hash=f"0x{thread_id:064x}",
        created_block=created,
        created_tx_hash=f"0x{thread_id:064x}",
        created_timestamp=chain.timestamp(created),
        message_count=len(events) + 1,
        coauthor_count=len(members),
        total_shares=len(members) * CHOIR,
        treasury=0,
        locked=0,
        citations_received=0,
    )
    return last_trigger


def _count_citations(rows: Rows, chain: _Chain, thread_id: int, index: int, cited: list[int], block: int) -> int:
    """The hub's `CitationRecorded` rows of a message's citations of other threads, at `block`."""
    for other in dict.fromkeys(cited):
        if other != thread_id:
            rows.add(
                CountedCitation,
                block=block,
                log_index=chain.log_index(),
                citing_thread_id=thread_id,
                citing_index=index,
                cited_thread_id=other,
                cited_global_id=other << 64,
                timestamp=chain.timestamp(block),
            )
    return block if cited else 0


def _spec_rows(
    rows: Rows,
    rng: random.Random,
    chain: _Chain,
    thread_id: int,
    spec_id: int,
    author: str,
    block: int,
    voters: int,
    members: dict[str, int],
) -> tuple[str, int] | None:
    """A spec, its settlement (None while pending) and the author's joining when approved."""
    settled_block = block + rng.randint(10, 7200)
    pending = settled_block > SPAN_BLOCKS
    outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
    votes = rng.randint(1, max(1, min(voters, 12)))
    approvals, denials = {
        "approved": (votes, 0),
        "denied": (0, votes),
        "split": (rng.randint(1, votes), rng.randint(1, votes)),
    }.get(outcome, (0, 0))
    stake = 20 * CHOIR
    rows.add(
        Spec,
        thread_id=thread_id,
        spec_id=spec_id,
        author=author,
        content_hash=f"0x{chain.log:064x}",
        author_kind="human",
        stake=stake,
        price=stake,
        deadline=chain.timestamp(block) + 7 * 86_400,
        status="pending" if pending else outcome,
        approvals=0 if pending else approvals,
        denials=0 if pending else denials,
        submitted_block=block,
        submitted_timestamp=chain.timestamp(block),
        settled_block=None if pending else settled_block,
        settled_timestamp=None if pending else chain.timestamp(settled_block),
    )
    if pending:
        return None
    stamp = chain.timestamp(settled_block)
    per_denier = stake // denials if denials else 0
    rows.add(
        Settlement,
        thread_id=thread_id,
        spec_id=spec_id,
        outcome=outcome,
        treasury_gain=stake - per_denier * denials,
        payout_per_denier=per_denier,
        approvals=approvals,
        denials=denials,
        block=settled_block,
        tx_hash=chain.tx(),
        log_index=chain.log_index(),
        timestamp=stamp,
    )
    if outcome == "approved" and author not in members:
        members[author] = settled_block
        _equity(rows, chain, thread_id, author, "join", spec_id, settled_block, len(members))
    elif members and rng.random() < 0.05 and len(members) > 1:  # now and then a co-author leaves
        leaver = rng.choice(list(members)[1:])
        del members[leaver]
        _equity(rows, chain, thread_id, leaver, "exit", None, settled_block + 1, len(members))
    return outcome, settled_block


def _equity(
    rows: Rows, chain: _Chain, thread_id: int, account: str, kind: str, spec_id: int | None, block: int, members: int
) -> None:
    rows.add(
        EquityEvent,
        block=block,
        log_index=chain.log_index(),
        thread_id=thread_id,
        account=account,
        kind=kind,
        spec_id=spec_id,
        shares=CHOIR,
        total_shares_after=members * CHOIR,
        payout=CHOIR if kind == "exit" else 0,
        tx_hash=chain.tx(),
        timestamp=chain.timestamp(block),
    )


def _coauthor_rows(rows: Rows, thread_id: int, members: dict[str, int]) -> None:
    for account, block in members.items():
        rows.add(
            Coauthor,
            thread_id=thread_id,
            account=account,
            shares=CHOIR,
            active=True,
            joined_timestamp=_Chain.timestamp(block),
            exited_timestamp=None,
        )


def _price_rows(rows: Rows, rng: random.Random, chain: _Chain, created: list[int]) -> None:
    """Every thread priced once, 100 threads a round, in creation order; its last price on its thread row."""
    threads = rows.tables[Thread]
    for start in range(0, len(created), 100):
        round_ = start // 100 + 1
        block = min(created[min(start + 99, len(created) - 1)] + 1, SPAN_BLOCKS)
        rows.add(
            PriceRound,
            round=round_,
            block=block,
            tx_hash=chain.tx(),
            log_index=chain.log_index(),
            timestamp=chain.timestamp(block),
            thread_count=min(100, len(created) - start),
        )
        for row in threads[start : start + 100]:
            price = 20 * CHOIR + rng.randrange(0, 20 * CHOIR)
            rows.add(Price, round=round_, thread_id=row["thread_id"], price=price)
            row.update(last_price=price, last_price_round=round_, last_price_timestamp=chain.timestamp(block))


def write_rows(engine: Engine, rows: Rows) -> None:
    """Bulk inserts, table by table, in one transaction (foreign keys are checked at commit)."""
    with engine.begin() as connection:
        for model in Base.metadata.sorted_tables:
            table_rows = next((r for m, r in rows.tables.items() if m.__table__ is model), [])
            for start in range(0, len(table_rows), INSERT_CHUNK):
                connection.execute(insert(model), table_rows[start : start + INSERT_CHUNK])


@dataclass(frozen=True)
class Timing:
    """Wall seconds of each part, and the process's CPU seconds in all (SQLite runs in the process: on a busy
    machine the CPU time is what the reprice would take on an idle one)."""

    database: float
    model: float
    batching: float
    cpu: float
    threads: int
    rounds: int
    calldata_bytes: int

    @property
    def total(self) -> float:
        return self.database + self.model + self.batching


def reprice(
    engine: Engine, head: int, previous: dict[int, int], last_rounds: dict[int, int]
) -> tuple[Timing, dict[int, int], int]:
    """One full reprice at `head`, timed in three parts; the targets it computed and how many distinct model
    states (``a``, ``r``, ``c``, ``N``) it priced."""
    config = PricerConfig()
    hub = HubParameters()
    bounds = OracleBounds(hub.min_price, hub.max_price, hub.max_deviation_bps, hub.deviation_window)
    update_prices = Function.from_abi(artifacts.load("ChoirHub").abi, "updatePrices")
    position = Position(head, full=True)
    _price_wei.cache_clear()
    cpu = time.process_time()
    start = time.perf_counter()
    with Session(engine) as session:
        ids = threads_up_to(session, head)
        timestamp = block_timestamp(session, head)
        assert timestamp is not None, "the head block is a trigger block"
        states = thread_states(session, ids, head, timestamp, config.params.window)
    loaded = time.perf_counter()
    targets = clamp_to_bounds(model_prices(states.values(), config.params), bounds)
    priced = time.perf_counter()
    steps, _stuck, _waiting = pending_steps(targets, previous, bounds)
    ordered = least_recent_first(steps, last_rounds)
    next_round = max(last_rounds.values(), default=0) + 1
    calldata = []
    for number, first in enumerate(range(0, len(ordered), config.batch_size), start=next_round):
        batch = tuple(ordered[first : first + config.batch_size])
        plan = RoundPlan(round=number, position=position, steps=batch, nonce=0, started=start)
        calldata.append(round_calldata(update_prices, plan))
    done = time.perf_counter()
    timing = Timing(
        database=loaded - start,
        model=priced - loaded,
        batching=done - priced,
        cpu=time.process_time() - cpu,
        threads=len(states),
        rounds=len(calldata),
        calldata_bytes=sum(len(c) for c in calldata),
    )
    distinct = len({(s.approved_recent, s.refusal, s.citations, s.coauthors) for s in states.values()})
    return timing, targets, distinct


def previous_prices(engine: Engine) -> tuple[dict[int, int], dict[int, int]]:
    """Each thread's last price and the round it was set in (what the service reads from the hub)."""
    previous: dict[int, int] = {}
    last_rounds: dict[int, int] = {}
    with engine.connect() as connection:
        for thread_id, price, round_ in connection.execute(
            select(Thread.thread_id, Thread.last_price, Thread.last_price_round)
        ):
            previous[int(thread_id)], last_rounds[int(thread_id)] = int(price or 0), int(round_ or 0)
    return previous, last_rounds


def check_sample(engine: Engine, head: int, targets: dict[int, int], sample: int, seed: int) -> int:
    """Price `sample` threads again one at a time (their own state, `thread_price_wei`); the number checked."""
    params, bounds = QahoParams(), HubParameters()
    rng = random.Random(seed)
    chosen = rng.sample(sorted(targets), min(sample, len(targets)))
    with Session(engine) as session:
        timestamp = block_timestamp(session, head)
        assert timestamp is not None
        for thread_id in chosen:
            state = thread_states(session, [thread_id], head, timestamp, params.window)[thread_id]
            wei = thread_price_wei(state.approved_recent, state.refusal, state.citations, state.coauthors, params)
            expected = min(max(wei, bounds.min_price), bounds.max_price)
            if targets[thread_id] != expected:
                raise RuntimeError(f"thread {thread_id}: reprice gave {targets[thread_id]}, one by one {expected}")
    return len(chosen)


def run(threads: int = THREADS, repeats: int = REPEATS, seed: int = SEED, db: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="choir-reprice-") as folder:
        engine = make_engine(db or str(Path(folder) / "index.db"))
        try:
            return _run(engine, threads, repeats, seed)
        finally:
            engine.dispose()


def _run(engine: Engine, threads: int, repeats: int, seed: int) -> dict[str, Any]:
    built = time.perf_counter()
    drop_schema(engine)
    create_schema(engine)
    rows, head = build_rows(threads, seed)
    write_rows(engine, rows)
    if engine.dialect.name == "postgresql":
        # A live server has planner statistics (autovacuum analyzes within a minute of the indexer's writes).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    build_seconds = time.perf_counter() - built
    previous, last_rounds = previous_prices(engine)
    runs = []
    for _ in range(repeats):
        gc.collect()  # each repeat starts from the same heap, not from the garbage of the last one
        runs.append(reprice(engine, head, previous, last_rounds))
    best, targets, distinct = min(runs, key=lambda run: run[0].total)
    checked = check_sample(engine, head, targets, CHECKED, seed)
    return {
        "bench": "reprice",
        "backend": engine.dialect.name,
        "threads": best.threads,
        "total_seconds": round(best.total, 3),
        "database_seconds": round(best.database, 3),
        "model_wei_seconds": round(best.model, 3),
        "batching_seconds": round(best.batching, 3),
        "threads_per_second": round(best.threads / best.total),
        "cpu_seconds": round(best.cpu, 3),
        "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "target_seconds": TARGET_SECONDS,
        "pass": best.total <= TARGET_SECONDS,
        "repeat_totals": [round(t.total, 3) for t, _, _ in runs],
        "rounds": best.rounds,
        "batch_size": PricerConfig().batch_size,
        "calldata_bytes": best.calldata_bytes,
        "distinct_states": distinct,
        "checked_one_by_one": checked,
        "head_block": head,
        "rows": rows.count(),
        "fixture_seconds": round(build_seconds, 1),
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="full reprice of many indexed threads: database, model, batching")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--db", help="database URL (default: an SQLite file in a temporary folder); its tables are reset"
    )
    args = parser.parse_args(argv)
    result = run(args.threads, args.repeats, args.seed, args.db)
    print(json.dumps(result), flush=True)
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
