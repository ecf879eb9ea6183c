"""A devnet with the protocol deployed and the indexer tests' workload applied (threads, specs in every state,
citations, rewards, a governance transfer), indexed into SQLite, and a gateway `TestClient` over it.

The devnet lives for the module; tests that change the chain revert to `world.snapshot` (see `fresh_chain`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.world import ChainRun, chain_run

from api.app import create_app
from api.settings import GatewaySettings
from choir_chain.devnet import rpc_call
from choir_chain.indexer import Indexer
from choir_chain.indexer.db import make_engine


@dataclass
class World:
    run: ChainRun
    database_url: str
    manifest_path: Path
    settings: GatewaySettings

    def index(self) -> int:
        """Bring the database up to the chain's head; returns the last indexed block."""
        engine = make_engine(self.database_url)
        try:
            with Indexer(self.run.rpc_url, self.run.deployment.manifest, engine) as indexer:
                return indexer.sync()
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("gateway")
    with chain_run(folder / "devnet") as run:
        manifest_path = run.deployment.manifest.write(folder / "deployments")
        database_url = f"sqlite:///{folder / 'choir.db'}"
        settings = GatewaySettings(database_url=database_url, rpc_url=run.rpc_url, manifest_path=manifest_path)
        w = World(run, database_url, manifest_path, settings)
        w.index()
        yield w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


@pytest.fixture
def fresh_chain(world: World) -> Iterator[World]:
    """For a test that sends transactions: the chain is reverted afterwards (the database is not: index into a
    database of the test's own if the test compares rows)."""
    snapshot = rpc_call(world.run.rpc_url, "evm_snapshot", [])
    yield world
    rpc_call(world.run.rpc_url, "evm_revert", [snapshot])


@pytest.fixture
def chain(fresh_chain: World) -> Iterator[World]:
    """The transaction tests' name for `fresh_chain` (`test_tx_*.py`). It shadows Ape's session `chain` fixture in
    this folder; no gateway test asks for Ape's, and Ape's isolation does not go through the fixture."""
    yield fresh_chain
