"""Reorganisations and the raw-log cache: after a reorg of 1, 5 or 30 blocks (anvil's `evm_snapshot`, other
transactions, `evm_revert`, new blocks at the same heights) the live database equals a fresh index of the same
chain, table by table; past `max_reorg_depth` the indexer stops and says so, changing nothing; `rebuild`
re-derives every table from the cached logs alone."""

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
    head,
)
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from choir_chain.cli import app
from choir_chain.devnet import rpc_call
from choir_chain.indexer import Indexer, IndexerError, ReorgDetected, make_engine
from choir_chain.indexer.cache import BlockHash, RawLog, rebuild
from choir_chain.indexer.models import Cursor, Price, Thread, Vote
from choir_chain.protocol.author_kind import AuthorKind


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainRun]:
    with chain_run(tmp_path_factory.mktemp("devnet")) as chain:
        yield chain


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def fresh_dump(run: ChainRun, path: Path) -> tuple[dict[str, list[tuple[object, ...]]], list[tuple[object, ...]]]:
    """A fresh index of the chain as it is now: its tables and its cached logs."""
    engine = make_engine(sqlite_url(path))
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        indexer.sync()
    rows = dump(engine), cached_logs(engine)
    engine.dispose()
    return rows


def cached_logs(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(RawLog.__table__).order_by("block_number", "log_index"))]


def assert_block_hashes_on_chain(engine: Engine, rpc_url: str) -> None:
    """Every block hash the cache keeps is the chain's hash of that block (replaced blocks are gone)."""
    with Session(engine) as session:
        known = session.execute(select(BlockHash.number, BlockHash.hash)).all()
    assert known
    for number, stored in known:
        block = rpc_call(rpc_url, "eth_getBlockByNumber", [hex(number), False])
        assert isinstance(block, dict) and block["hash"] == stored, f"block {number}"


def play_branch(run: ChainRun, tag: str, blocks: int, *, new_thread: bool, price: int) -> None:
    """`blocks` blocks, each with events: a new thread (if asked), a price round, then posts."""
    d, a, chain = run.deployment, run.actors, run.chain
    sent = 0
    if new_thread:
        chain.transact(d.hub.functions.createThread(content(f"{tag} root"), AuthorKind.HUMAN), a.dave)
        sent += 1
    if sent < blocks:
        next_round = d.hub.functions.lastRound().call() + 1
        chain.transact(d.hub.functions.updatePrices([1], [price], next_round), a.pricer)
        sent += 1
    while sent < blocks:
        chain.transact(d.thread(2).functions.post(content(f"{tag} {sent}"), [], AuthorKind.AI), a.bob)
        sent += 1


@pytest.mark.parametrize(("depth", "rebuilt"), [(1, False), (5, False), (30, False), (5, True)])
def test_a_reorg_is_rolled_back_and_reindexed(
    run: ChainRun, tmp_path: Path, caplog: pytest.LogCaptureFixture, depth: int, rebuilt: bool
) -> None:
    """By the undo records of the ranges near the head; after a `rebuild` (which drops them), by replaying the
    cache."""
    engine = make_engine(sqlite_url(tmp_path / "live.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=7) as indexer:
        indexer.sync()
        snapshot = rpc_call(run.rpc_url, "evm_snapshot")
        fork = head(run.rpc_url)
        play_branch(run, f"old {depth}", depth, new_thread=True, price=41 * 10**18)
        assert indexer.sync() == fork + depth
        if rebuilt:
            rebuild(engine, run.deployment.manifest)
        with Session(engine) as session:
            assert session.get(Thread, 3) is not None  # the old branch's thread is indexed

        assert rpc_call(run.rpc_url, "evm_revert", [snapshot]) is True
        play_branch(run, f"new {depth}", depth + 2, new_thread=depth > 1, price=43 * 10**18)
        with caplog.at_level("WARNING", logger="choir_chain.indexer"):
            assert indexer.sync() == head(run.rpc_url)  # the old code stops here with ReorgDetected
    assert ("replayed from the cache" if rebuilt else "undone") in caplog.text

    fresh_rows, fresh_logs = fresh_dump(run, tmp_path / "fresh.db")
    assert dump(engine) == fresh_rows  # table by table
    assert cached_logs(engine) == fresh_logs
    assert_block_hashes_on_chain(engine, run.rpc_url)
    assert_matches_chain(engine, run.deployment)
    with Session(engine) as session:
        prices = session.scalars(select(Price.price).order_by(Price.round.desc())).first()
        assert prices == 43 * 10**18
    engine.dispose()


def test_a_reorg_deeper_than_the_limit_stops_and_changes_nothing(run: ChainRun, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "deep.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine, max_reorg_depth=3) as indexer:
        indexer.sync()
        snapshot = rpc_call(run.rpc_url, "evm_snapshot")
        play_branch(run, "deep old", 5, new_thread=False, price=45 * 10**18)
        indexer.sync()
        before, logs_before = dump(engine), cached_logs(engine)
        rpc_call(run.rpc_url, "evm_revert", [snapshot])
        play_branch(run, "deep new", 6, new_thread=False, price=47 * 10**18)
        with pytest.raises(ReorgDetected, match="deeper than the limit of 3 blocks"):
            indexer.sync()
    assert dump(engine) == before
    assert cached_logs(engine) == logs_before
    engine.dispose()


def test_rebuild_rederives_every_table_from_the_cache(run: ChainRun, tmp_path: Path) -> None:
    """A schema bump of the derived tables (or a handler fix) is a `rebuild`, which needs no node at all."""
    engine = make_engine(sqlite_url(tmp_path / "cache.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=11) as indexer:
        last = indexer.sync()
    whole = dump(engine)
    assert whole["votes"] and whole["messages"]
    with Session(engine) as session, session.begin():
        session.execute(delete(Vote))  # as if the vote handler had been missing
        session.execute(update(Thread).where(Thread.thread_id == 2).values(message_count=0))  # a wrong total
        session.execute(update(Cursor).values(schema_version=Cursor.schema_version - 1))
    with pytest.raises(IndexerError, match=r"choir index --rebuild"):
        Indexer(run.rpc_url, run.deployment.manifest, engine)

    assert rebuild(engine, run.deployment.manifest) == last
    assert dump(engine) == whole
    assert cursor_block(engine) == last
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        assert indexer.sync() == head(run.rpc_url)  # and indexing carries on from the cache's end
    engine.dispose()


def test_rebuild_without_a_cache_is_refused(run: ChainRun, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "empty.db"))
    with pytest.raises(IndexerError, match="no raw-log cache"):
        rebuild(engine, run.deployment.manifest)
    engine.dispose()


def test_cli_rebuild_then_indexes_on(run: ChainRun, tmp_path: Path) -> None:
    db = sqlite_url(tmp_path / "cli.db")
    engine = make_engine(db)
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        last = indexer.sync()
    whole = dump(engine)
    with Session(engine) as session, session.begin():
        session.execute(delete(Vote))
        session.execute(update(Cursor).values(schema_version=Cursor.schema_version - 1))
    manifest = run.deployment.manifest.write(tmp_path / "deployments")
    command = ["index", "--rpc", run.rpc_url, "--manifest", str(manifest), "--db", db, "--once"]
    refused = CliRunner().invoke(app, command)
    assert refused.exit_code == 1 and "choir index --rebuild" in refused.stderr
    result = CliRunner().invoke(app, [*command, "--rebuild"])
    assert result.exit_code == 0, result.stderr
    assert f"up to block {last}" in result.stderr and "Traceback" not in result.stderr
    assert dump(engine) == whole
    both = CliRunner().invoke(app, [*command, "--rebuild", "--reset"])
    assert both.exit_code == 1 and "exclude each other" in both.stderr
    engine.dispose()
