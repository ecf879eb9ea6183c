"""The pricer as the rewards oracle: a closed epoch's budget is shared pro rata by the on-chain weights and
allocated exactly once (a restart, even from an empty database, sends nothing more; a reorg that dropped the
allocation gets it sent again).

The workload is the fixture of conftest.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.pricer_runs import FAST, outcome, price_once
from helpers.pricer_workload import QuickSender, World
from helpers.world import gid, indexing

from choir_chain.deploy import CHOIR, DAY
from choir_chain.devnet import rpc_call
from choir_chain.pricer import Pricer
from choir_chain.pricer.allocation import MAX_MESSAGES, pro_rata


def test_pro_rata_shares_the_budget_by_weight() -> None:
    """`B * w // W` for each positive weight: proportional, never above the budget, zero weights and zero amounts
    left out, the heaviest kept past the limit (the others' shares stay unallocated)."""
    budget = 6_172_000 * CHOIR + 7
    weights = {5: 3 * CHOIR, 2: CHOIR, 9: 0, 4: 6 * CHOIR}
    amounts = pro_rata(budget, weights)
    assert list(amounts) == [2, 4, 5]  # message id order, the unweighted one out
    assert amounts == {m: budget * weights[m] // (10 * CHOIR) for m in (2, 4, 5)}
    assert budget - 3 <= sum(amounts.values()) <= budget
    assert pro_rata(budget, {1: 0, 2: 0}) == {} and pro_rata(0, {1: CHOIR}) == {}
    assert pro_rata(10, {1: 1, 2: 10**30}) == {2: 9}  # rounds to zero: left out
    many = {m: CHOIR + m for m in range(MAX_MESSAGES + 5)}
    kept = pro_rata(budget, many)
    assert len(kept) == MAX_MESSAGES and set(kept) == set(range(5, MAX_MESSAGES + 5))  # the heaviest
    assert sum(kept.values()) < budget  # the left-out shares are not handed to the others


def approved_by_epoch(world: World) -> dict[int, list[int]]:
    """epoch -> global ids of the workload's specs whose approval became certain in it (from the chain)."""
    deployment = world.deployment
    distributor = deployment.distributor
    assert distributor is not None
    launch = distributor.functions.launchTime().call()
    out: dict[int, list[int]] = {}
    for thread_id in range(1, deployment.hub.functions.threadCount().call() + 1):
        thread = deployment.thread(thread_id)
        for index in range(1, thread.functions.messageCount().call()):
            certain = thread.functions.approvalCertainAt(index).call()
            if certain:
                out.setdefault((certain - launch) // DAY, []).append(gid(thread_id, index))
    return out


def test_the_pricer_allocates_a_closed_epoch_once_pro_rata(fresh: World, tmp_path: Path) -> None:
    """The oracle (the pricer's account) scored the approvals of a closed epoch; the pricer pays them that epoch's
    budget pro rata by their on-chain weights, exactly once: a second run (a restart) sends nothing more. Nothing
    was minted at settlement, and the unscored approvals of other epochs get nothing."""
    distributor = fresh.deployment.distributor
    assert distributor is not None
    token = fresh.deployment.token
    epochs = approved_by_epoch(fresh)
    epoch, ids = max(epochs.items(), key=lambda item: (len(item[1]), -item[0]))
    assert len(ids) >= 2 and epoch < distributor.functions.currentEpoch().call()
    assert token.functions.totalSupply().call() == token.functions.GENESIS_SUPPLY().call()  # settle minted nothing
    similarities = [int(0.8 * 10**18)] + [int(0.9 * 10**18)] * (len(ids) - 1)
    send = QuickSender(fresh.deployment.chain)
    send(distributor.functions.setNoveltyScores(1, "all-MiniLM-L6-v2", 0, ids, similarities), fresh.pricer)
    result = price_once(fresh, f"sqlite:///{tmp_path / 'alloc.db'}")
    allocations = [e for e in result.events if e["event"] == "allocation"]
    assert [e["epoch"] for e in allocations] == [epoch]
    budget = distributor.functions.epochBudget(epoch).call()
    weights = {m: distributor.functions.scoreOf(m).call()[0] for m in ids}
    expected = {m: budget * w // sum(weights.values()) for m, w in weights.items()}
    assert [int(m) for m in allocations[0]["messages"]] == sorted(ids)
    assert [int(a) for a in allocations[0]["amounts"]] == [expected[m] for m in sorted(ids)]
    assert expected[ids[0]] > 8 * expected[ids[1]]  # ten times the weight (0.8 against 0.9)
    assert distributor.functions.allocated(epoch).call() == sum(expected.values()) <= budget
    assert token.functions.totalSupply().call() - token.functions.GENESIS_SUPPLY().call() == sum(expected.values())
    assert all(distributor.functions.isPaid(m).call() for m in ids)
    assert result.rounds == outcome(fresh).rounds  # the price rounds went on as usual
    again = price_once(fresh, f"sqlite:///{tmp_path / 'alloc.db'}")
    assert not [e for e in again.events if e["event"] == "allocation"]
    fresh_db = price_once(fresh, f"sqlite:///{tmp_path / 'other.db'}")  # a restart from an empty database
    assert not [e for e in fresh_db.events if e["event"] in ("allocation", "allocation_failed")]


def test_an_allocation_a_reorg_dropped_is_sent_again(fresh: World, tmp_path: Path) -> None:
    """The allocation of a closed epoch (and the price rounds) are mined, then a reorg replaces their blocks: the
    same pricer process allocates the epoch again on the new chain, once."""
    distributor = fresh.deployment.distributor
    assert distributor is not None
    url = fresh.rpc_url
    epoch, ids = max(approved_by_epoch(fresh).items(), key=lambda item: (len(item[1]), -item[0]))
    scores = distributor.functions.setNoveltyScores(1, "all-MiniLM-L6-v2", 0, ids, [int(0.8 * 10**18)] * len(ids))
    QuickSender(fresh.deployment.chain)(scores, fresh.pricer)
    db = f"sqlite:///{tmp_path / 'realloc.db'}"
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        snapshot = rpc_call(url, "evm_snapshot")
        pricer.run(once=True)
        assert [e["epoch"] for e in events if e["event"] == "allocation"] == [epoch]
        replaced = int(str(rpc_call(url, "eth_blockNumber")), 16)
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        assert distributor.functions.allocated(epoch).call() == 0
        base = int(str(rpc_call(url, "eth_blockNumber")), 16)
        rpc_call(url, "anvil_mine", [hex(replaced - base + 1)])  # a longer chain without the pricer's blocks
        pricer.sync()
        del events[:]
        pricer.run(once=True)
    assert [e["event"] for e in events if e["event"] == "reorg"] == ["reorg"]
    assert [e["epoch"] for e in events if e["event"] == "allocation"] == [epoch]
    assert distributor.functions.allocated(epoch).call() > 0
    assert all(distributor.functions.isPaid(m).call() for m in ids)
    again = price_once(fresh, f"sqlite:///{tmp_path / 'again.db'}")
    assert not [e for e in again.events if e["event"] in ("allocation", "allocation_failed")]
