"""The pricer recovers exactly: restarts (even with a round in flight), reorgs that drop its rounds or move its
trigger blocks, a round the node forgets, and flaky or faulty nodes all end with the rounds of the uninterrupted
reference run, none reverted or repeated.

The workload and the reference run are the fixtures of conftest.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from helpers.pricer_runs import FAST, Outcome, held, outcome, price_once, pricer_statuses
from helpers.pricer_workload import World
from helpers.world import content, dump, gid, indexing, time_travel

from choir_chain.deploy import HOUR
from choir_chain.devnet import rpc_call
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import Indexer, make_engine
from choir_chain.pricer import Pricer
from choir_chain.protocol.author_kind import AuthorKind


def test_restarts_resume_exactly(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'restarted.db'}"
    resumes: list[dict[str, Any]] = []
    for steps in (1, 2, 1, 3):  # a new process each time, stopped after a few steps
        events: list[dict[str, Any]] = []
        with (
            indexing(fresh.rpc_url, fresh.deployment.manifest, db),
            Pricer(fresh.rpc_url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as p,
        ):
            p.check_role()
            for _ in range(steps):
                p.step()
        resumes += [e for e in events if e["event"] == "resume"]
    assert [e["last_round"] for e in resumes] == [0, 1, 3, 4]
    result = price_once(fresh, db)
    assert result.rounds == reference.rounds
    assert result.points.keys() == reference.points.keys()
    assert all(result.points[t][0] == reference.points[t][0] for t in result.points)


def test_a_round_in_flight_at_a_crash_is_waited_for_not_repeated(
    fresh: World, reference: Outcome, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'inflight.db'}"
    url = fresh.rpc_url
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST) as first,
    ):
        for _ in range(2):
            first.step()
        rpc_call(url, "evm_setAutomine", [False])
        first.sync()
        nonce, pending = first.sender.nonces()
        assert nonce == pending
        plan = first.plan(nonce)
        assert plan is not None and plan.round == 3
        first.send(plan)  # ... and the process dies before the round is mined

    def on_event(event: dict[str, Any]) -> None:
        events.append(event)
        if event["event"] == "waiting":  # the node mines the transaction at last
            rpc_call(url, "evm_setAutomine", [True])
            rpc_call(url, "evm_mine")

    events: list[dict[str, Any]] = []
    try:
        with (
            indexing(url, fresh.deployment.manifest, db),
            Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=on_event) as second,
        ):
            second.run(once=True)
    finally:
        rpc_call(url, "evm_setAutomine", [True])
    assert [e["event"] for e in events][:2] == ["waiting", "resume"]
    assert next(e for e in events if e["event"] == "resume")["last_round"] == 3
    result = outcome(fresh)
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)  # nothing reverted, nothing repeated


def test_rounds_a_reorg_dropped_are_sent_again_under_new_numbers(
    fresh: World, reference: Outcome, tmp_path: Path
) -> None:
    """Rounds 1 and 2 are mined and indexed, then a reorg replaces their blocks: the indexer rolls back, and the
    same process prices them again as the next free rounds; nothing reverts, no number is used twice."""
    db = f"sqlite:///{tmp_path / 'reorg.db'}"
    url = fresh.rpc_url
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db) as indexer,
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        pricer.check_role()
        snapshot = rpc_call(url, "evm_snapshot")
        for _ in range(2):
            pricer.step()
        assert [e["round"] for e in events if e["event"] == "round"] == [1, 2]
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        rpc_call(url, "anvil_mine", ["0x3"])  # other blocks at the heights of rounds 1 and 2, and one more
        pricer.sync()  # the indexer rolls the reorg back and catches up
        assert indexer.last_block == int(str(rpc_call(url, "eth_blockNumber")), 16)
        pricer.run(once=True)
    assert [e["rollbacks"] for e in events if e["event"] == "reorg"] == [1]
    rounds = [e["round"] for e in events if e["event"] == "round"]
    assert rounds[:2] == [1, 2] and rounds[2:] == list(range(1, len(reference.rounds) + 1))
    result = outcome(fresh)  # asserts that no round number was accepted twice
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)  # nothing reverted on the chain that won
    assert dump(make_engine(db)) == dump(_fresh_index(fresh, tmp_path / "fresh.db"))


def test_a_trigger_only_the_new_branch_has_is_priced(fresh: World, tmp_path: Path) -> None:
    """The replaced blocks held a citation of thread 1 (priced), the new ones a citation of thread 3 one block
    later: the running pricer forgets the old trigger blocks and prices the new one; a fresh pricer then finds
    nothing left to send."""
    db = f"sqlite:///{tmp_path / 'branch.db'}"
    url, chain, bob = fresh.rpc_url, fresh.deployment.chain, fresh.accounts[3]
    t2 = fresh.deployment.thread(2)
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        for _ in range(10):  # until no thread waits for its deviation window
            del events[:]
            pricer.run(once=True)
            if not held(events):
                break
            time_travel(url, HOUR)
        snapshot = rpc_call(url, "evm_snapshot")
        chain.transact(t2.functions.post(content("bob cites 1"), [gid(1, 0)], AuthorKind.HUMAN), bob)
        del events[:]
        pricer.run(once=True)
        assert [e["threads"] for e in events if e["event"] == "round"] == [[1]]
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        rpc_call(url, "anvil_mine", ["0x1"])
        chain.transact(t2.functions.post(content("bob cites 3"), [gid(3, 0)], AuthorKind.HUMAN), bob)
        rpc_call(url, "anvil_mine", ["0x1"])
        pricer.sync()
        del events[:]
        pricer.run(once=True)
    assert [e["event"] for e in events if e["event"] == "reorg"] == ["reorg"]
    assert [e["threads"] for e in events if e["event"] == "round"] == [[3]]
    before = outcome(fresh)
    assert price_once(fresh, f"sqlite:///{tmp_path / 'again.db'}").rounds == before.rounds


class CountingStop(threading.Event):
    """A stop event that counts the waits between looks for a receipt, and stops after `limit` of them."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.waits = limit, 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.waits >= self.limit:
            self.set()
        return self.is_set()


def test_a_dropped_round_does_not_wedge_the_pricer(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A round the node forgets (dropped from its pool, as a reorg may) ends the wait for its receipt after a
    few looks, not after `receipt_timeout`; the next step sends the same round number again, once."""
    db = f"sqlite:///{tmp_path / 'dropped.db'}"
    url = fresh.rpc_url
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST) as pricer,
    ):
        pricer.check_role()
        pricer.step()
        rpc_call(url, "evm_setAutomine", [False])
        try:
            pricer.sync()
            nonce, _ = pricer.sender.nonces()
            plan = pricer.plan(nonce)
            assert plan is not None and plan.round == 2
            sent = pricer.send(plan)
            rpc_call(url, "anvil_dropTransaction", [sent.tx_hash])
            stop = CountingStop(limit=200)
            assert pricer.sender.receipt(sent.tx_hash, 3_600.0, stop) is None
            assert stop.waits < 20, "the wait should end once the node no longer knows the transaction"
        finally:
            rpc_call(url, "evm_setAutomine", [True])
        pricer.run(once=True)
    assert outcome(fresh).rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)


def _fresh_index(world: World, path: Path) -> Any:
    engine = make_engine(f"sqlite:///{path}")
    with Indexer(world.rpc_url, world.deployment.manifest, engine) as indexer:
        indexer.sync()
    return engine


def test_a_flaky_node_changes_nothing(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """Every third request fails with HTTP 503 (sends included): retried with backoff, same rounds."""
    with FaultyRpc(fresh.rpc_url, Faults(fail_every=3, max_span=10_000)) as proxy:
        result = price_once(fresh, f"sqlite:///{tmp_path / 'flaky.db'}", rpc_url=proxy.url)
    assert proxy.counts["overloaded"] > 10
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)


def test_a_faulty_provider_changes_nothing(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A provider that caps log ranges, answers 429 with `Retry-After`, delays and drops connections (an answer to a
    sent transaction lost included): the same rounds, none reverted or repeated."""
    faults = Faults(
        max_span=16, rate_limited=0.05, retry_after=0.01, delayed=0.1, max_delay=0.005, dropped=0.05, seed=2026_12_06
    )
    with FaultyRpc(fresh.rpc_url, faults) as proxy:
        result = price_once(fresh, f"sqlite:///{tmp_path / 'faulty.db'}", rpc_url=proxy.url)
    assert proxy.counts["rate_limited"] > 0 and proxy.counts["dropped_after"] > 0
    assert proxy.counts["calls.eth_sendRawTransaction"] >= len(reference.rounds)
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)
