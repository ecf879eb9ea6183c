"""Fixtures shared by the test modules of the Python package that run against a devnet.

The pricer's tests (test_pricer_*.py): the scripted workload is applied once per module (`world`); each test starts
from an anvil snapshot taken after it, with a fresh database, and compares its rounds with those of one
uninterrupted reference run (`reference`: `--once` at the workload's end, each thread as far as its deviation window
allows). The `settled` run, with the admin's bound tightened to 1% per window, goes on window after window (an hour
of chain time between runs) until no thread waits.

The indexer's tests on SQLite (test_indexer_*.py): `run`, a devnet with the indexer's workload applied, once per
module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers.pricer_runs import TIGHT_BPS, Outcome, Settled, held, outcome, price_once
from helpers.pricer_workload import QuickSender, World, run_workload, timestamp
from helpers.world import ChainRun, chain_run, time_travel

from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import HOUR, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with Devnet(tmp_path_factory.mktemp("devnet"), accounts=20) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        accounts = dev_accounts(DEV_MNEMONIC, 20)
        deployment = deploy(chain, accounts[0], pricer=accounts[1].address)
        result = run_workload(devnet, deployment, accounts)
        result.snapshot = str(rpc_call(devnet.rpc_url, "evm_snapshot"))
        yield result


@pytest.fixture(scope="module")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One uninterrupted run from the snapshot; the chain is then reverted for the tests."""
    db = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'choir.db'}"
    result = price_once(world, db)
    world.revert()
    return result


@pytest.fixture(scope="module")
def settled(world: World, reference: Outcome, tmp_path_factory: pytest.TempPathFactory) -> Settled:
    db = f"sqlite:///{tmp_path_factory.mktemp('settled') / 'choir.db'}"
    QuickSender(world.deployment.chain)(world.deployment.hub.functions.setMaxDeviationBps(TIGHT_BPS), world.accounts[0])
    events: list[dict[str, Any]] = []
    runs = 0
    while True:
        runs += 1
        result = price_once(world, db)
        events += result.events
        if not held(result.events):
            break
        assert runs < 40, "the prices should settle within a few windows"
        time_travel(world.rpc_url, HOUR)  # every window of the last run is over
    final = outcome(world, events)
    logs = world.deployment.hub.events.PricesUpdated().get_logs(from_block=0)
    times = {int(x["args"]["round"]): timestamp(world.deployment.chain, x["blockNumber"]) for x in logs}
    world.revert()
    return Settled(final, times, runs)


@pytest.fixture
def fresh(world: World, reference: Outcome) -> Iterator[World]:
    """The chain as the workload left it (no price pushed yet); reverted again afterwards."""
    yield world
    world.revert()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainRun]:
    with chain_run(tmp_path_factory.mktemp("devnet")) as chain:
        yield chain
