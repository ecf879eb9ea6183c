"""How the indexer follows the chain: batch sizes and restarts change nothing, the confirmation depth holds, an
unreliable node changes nothing, and a second writer, another chain or another hub under the same database are
refused.

`run` (the devnet with the indexer's workload) is the fixture of conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.index_db import index, sqlite_url
from helpers.world import ChainRun, content, cursor_block, deployed_devnet, dump, head
from sqlalchemy.orm import Session

from choir_chain.chain.rpc import RetryPolicy
from choir_chain.devnet import rpc_call
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import ChainMismatch, ConcurrentWriter, Indexer, ReorgDetected, make_engine
from choir_chain.indexer.models import Message
from choir_chain.protocol.author_kind import AuthorKind

FAST_RETRY = RetryPolicy(initial=0.001, maximum=0.01)


def test_batch_size_does_not_change_the_rows(run: ChainRun, tmp_path: Path) -> None:
    whole = index(run, sqlite_url(tmp_path / "whole.db"), batch_blocks=10_000)
    assert index(run, sqlite_url(tmp_path / "small.db"), batch_blocks=3) == whole
    assert index(run, sqlite_url(tmp_path / "single.db"), batch_blocks=1) == whole


def test_restart_resumes_from_the_last_committed_block(run: ChainRun, tmp_path: Path) -> None:
    db = sqlite_url(tmp_path / "resumed.db")
    w = run.workload
    engine = make_engine(db)
    for stop_at in (w.blocks["thread1"] - 1, w.blocks["thread1"], w.blocks["round1"], w.blocks["exit"]):
        with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=7) as indexer:
            assert indexer.sync(until=stop_at) == stop_at
        assert cursor_block(engine) == stop_at
        if stop_at == w.blocks["round1"]:
            assert dump(engine) == index(run, sqlite_url(tmp_path / f"until{stop_at}.db"), until=stop_at)
    with Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=7) as indexer:
        indexer.sync()
    assert dump(engine) == index(run, sqlite_url(tmp_path / "fresh.db"))
    engine.dispose()


def test_confirmation_depth_is_respected(run: ChainRun, tmp_path: Path) -> None:
    alice, thread = run.actors.alice, run.deployment.thread(1)
    receipt = run.chain.transact(thread.functions.post(content("late post"), [], AuthorKind.HUMAN), alice)
    latest = int(receipt["blockNumber"])
    index_ = thread.functions.messageCount().call() - 1

    engine = make_engine(sqlite_url(tmp_path / "deep.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine, confirmations=4) as indexer:
        assert indexer.sync() == latest - 4
        assert dump(engine) == index(run, sqlite_url(tmp_path / "until.db"), until=latest - 4)

        rpc_call(run.rpc_url, "anvil_mine", ["0x3"])
        assert indexer.sync() == latest - 1
        with Session(engine) as session:
            assert session.get(Message, (1, index_)) is None  # mined, but 3 confirmations < 4

        rpc_call(run.rpc_url, "anvil_mine", ["0x1"])
        assert indexer.sync() == latest
        with Session(engine) as session:
            message = session.get(Message, (1, index_))
            assert message is not None and message.block == latest
    engine.dispose()


def test_an_unreliable_node_changes_nothing(run: ChainRun, tmp_path: Path) -> None:
    """Dropped requests are retried, refused wide ranges are halved, timestamps missing from logs are read
    from block headers; no range is ever skipped."""
    with FaultyRpc(run.rpc_url, Faults(fail_every=3, max_span=4, strip_timestamps=True)) as proxy:
        engine = make_engine(sqlite_url(tmp_path / "flaky.db"))
        with Indexer(proxy.url, run.deployment.manifest, engine, batch_blocks=50, retry=FAST_RETRY) as indexer:
            indexer.sync()
        assert proxy.counts["overloaded"] > 0 and proxy.counts["range_refused"] > 0
        assert dump(engine) == index(run, sqlite_url(tmp_path / "direct.db"))
        engine.dispose()


def test_two_writers_on_one_database_are_refused(run: ChainRun, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "shared.db"))
    first = Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=5)
    second = Indexer(run.rpc_url, run.deployment.manifest, engine, batch_blocks=5)
    assert first.step() is not None
    with pytest.raises(ConcurrentWriter):
        second.step()
    first.close()
    second.close()
    engine.dispose()


def test_wrong_chain_or_database_is_refused(run: ChainRun, tmp_path: Path) -> None:
    manifest = run.deployment.manifest
    with pytest.raises(ChainMismatch, match="chain 31337"):
        Indexer(run.rpc_url, manifest.model_copy(update={"chain_id": 1}), sqlite_url(tmp_path / "a.db"))

    db = sqlite_url(tmp_path / "b.db")
    index(run, db, until=manifest.deploy_block + 5)
    other_hub = manifest.model_copy(deep=True)
    other_hub.contracts["ChoirHub"].address = run.deployment.token.address
    with pytest.raises(ChainMismatch, match="database follows hub"):
        Indexer(run.rpc_url, other_hub, db)


def test_a_different_chain_under_the_same_database_is_detected(run: ChainRun, tmp_path: Path) -> None:
    """A devnet restarted with the same deployment has the same addresses but other blocks."""
    db = sqlite_url(tmp_path / "old-chain.db")
    index(run, db)
    with deployed_devnet(tmp_path / "other-devnet") as (devnet, deployment, _actors):
        assert deployment.hub.address == run.deployment.hub.address
        with Indexer(devnet.rpc_url, deployment.manifest, db) as indexer, pytest.raises(ReorgDetected):
            indexer.sync()
        with Indexer(devnet.rpc_url, deployment.manifest, db, reset=True) as indexer:
            assert indexer.sync() == head(devnet.rpc_url)
