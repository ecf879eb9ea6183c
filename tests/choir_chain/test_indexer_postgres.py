"""The indexer on a real PostgreSQL server (Debian's binaries, started here on a loopback port in a temporary
folder): the same rows as on SQLite, the chain's state, restarts, and exact `NUMERIC` amounts.

PostgreSQL is part of the project's set-up (`make setup` runs tools/postgres/ensure.sh), so missing binaries
fail this test with the reason; they never skip it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.world import (
    ChainRun,
    assert_matches_chain,
    chain_run,
    content,
    cursor_block,
    dump,
)
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.orm import Session

from choir_chain.devnet import rpc_call
from choir_chain.indexer import Indexer, make_engine
from choir_chain.indexer.cache import rebuild
from choir_chain.indexer.models import Settlement, Spec, Thread
from choir_chain.indexer.uint import MAX_UINT256, Uint256
from choir_chain.pgserver import PostgresMissing, PostgresServer, create_database
from choir_chain.protocol.author_kind import AuthorKind


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except PostgresMissing as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainRun]:
    with chain_run(tmp_path_factory.mktemp("devnet")) as chain:
        yield chain


def database(server: PostgresServer, name: str) -> str:
    return create_database(server, name)


def test_postgres_rows_equal_sqlite_rows_and_the_chain(postgres: PostgresServer, run: ChainRun, tmp_path: Path) -> None:
    engine = make_engine(postgres.url)
    assert engine.dialect.name == "postgresql"
    with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=5) as indexer:
        indexer.sync()
    assert_matches_chain(engine, run.deployment)

    sqlite = make_engine(f"sqlite:///{tmp_path / 'choir.db'}")
    with Indexer(run.rpc_url, run.deployment.manifest, sqlite) as indexer:
        indexer.sync()
    assert dump(engine) == dump(sqlite)

    # Amounts are NUMERIC on PostgreSQL: SQL arithmetic on them is exact.
    with Session(engine) as session:
        stakes = session.scalars(select(Spec.stake)).all()
        assert session.scalar(select(func.sum(Spec.stake))) == sum(stakes)
        gains = session.scalars(select(Settlement.treasury_gain)).all()
        assert session.scalar(select(func.sum(Settlement.treasury_gain))) == sum(gains)
        richest = session.scalars(select(Thread.thread_id).order_by(Thread.treasury.desc())).first()
        treasuries = {t.thread_id: t.treasury for t in session.scalars(select(Thread))}
        assert richest == max(treasuries, key=lambda k: treasuries[k])
    engine.dispose()
    sqlite.dispose()


def test_postgres_restart_resumes_and_equals_a_fresh_index(postgres: PostgresServer, run: ChainRun) -> None:
    fresh = make_engine(database(postgres, "fresh"))
    with Indexer(run.rpc_url, run.deployment.manifest, fresh) as indexer:
        indexer.sync()

    resumed = make_engine(database(postgres, "resumed"))
    for stop_at in (run.workload.blocks["thread1"], run.workload.blocks["exit"]):
        with Indexer(run.rpc_url, run.deployment.manifest, resumed, batch_blocks=4) as indexer:
            assert indexer.sync(until=stop_at) == stop_at
        assert cursor_block(resumed) == stop_at
    with Indexer(run.rpc_url, run.deployment.manifest, resumed, batch_blocks=4) as indexer:
        indexer.sync()
    assert dump(resumed) == dump(fresh)

    # --reset re-indexes from scratch into the same rows
    with Indexer(run.rpc_url, run.deployment.manifest, resumed, reset=True) as indexer:
        assert indexer.last_block == run.deployment.manifest.deploy_block - 1
        indexer.sync()
    assert dump(resumed) == dump(fresh)
    fresh.dispose()
    resumed.dispose()


def test_uint256_on_postgres_is_exact_and_ordered(postgres: PostgresServer) -> None:
    engine = make_engine(database(postgres, "uint"))
    table = Table("u", MetaData(), Column("id", Integer, primary_key=True), Column("v", Uint256))
    table.create(engine)
    values = [MAX_UINT256, 10**28 + 1, 0, 2**64, 9, 10, 2**128 + 3]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "v": v} for i, v in enumerate(values)])
    with engine.connect() as conn:
        assert conn.scalars(select(table.c.v).order_by(table.c.v)).all() == sorted(values)
        assert int(conn.scalar(select(func.sum(table.c.v)).where(table.c.v < 2**200))) == sum(
            v for v in values if v < 2**200
        )
    engine.dispose()


def test_postgres_rolls_a_reorg_back_and_rebuilds(postgres: PostgresServer, run: ChainRun, tmp_path: Path) -> None:
    """The rollback (deletes, re-derived rows, deferred foreign keys in one transaction) and `rebuild` on
    PostgreSQL: the tables equal a fresh SQLite index of the same chain."""
    engine = make_engine(database(postgres, "reorg"))
    alice, thread = run.actors.alice, run.deployment.thread(1)
    with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=6) as indexer:
        indexer.sync()
        snapshot = rpc_call(run.rpc_url, "evm_snapshot")
        for i in range(3):
            run.chain.transact(thread.functions.post(content(f"old {i}"), [], AuthorKind.HUMAN), alice)
        indexer.sync()
        assert rpc_call(run.rpc_url, "evm_revert", [snapshot]) is True
        run.chain.transact(run.deployment.hub.functions.createThread(content("new"), AuthorKind.AI), alice)
        rpc_call(run.rpc_url, "anvil_mine", ["0x3"])
        indexer.sync()
    sqlite = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with Indexer(run.rpc_url, run.deployment.manifest, sqlite) as indexer:
        indexer.sync()
    assert dump(engine) == dump(sqlite)
    rebuild(engine, run.deployment.manifest)
    assert dump(engine) == dump(sqlite)
    engine.dispose()
    sqlite.dispose()
