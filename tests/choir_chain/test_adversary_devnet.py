"""The adversarial strategies on a devnet (`simulation.adversary_devnet`, docs/economics.md section 7): a small
configuration (2 epochs, a thin honest background) played on the real contracts, checked against the pure
model's arithmetic for the same epochs and weights and against the rules that bound each strategy, so that a
change of the reward, equity, exit or governance rules fails here.

Exact where the chain is exact: a message's amount is `B_e * w // W` of the on-chain weights, to the wei; shares
agree with `simulation.adversary` to 1e-9 (float arithmetic). Values read back through equity claims (floor
divisions) are allowed a few wei.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from choir_chain.deploy import CHOIR
from choir_chain.protocol.units import WAD
from choir_chain.semantics.relevance import max_relevant_weight
from choir_chain.simulation import adversary as model
from choir_chain.simulation.adversary_agents import MajorityRaid, PassiveDilution, SettlementTiming
from choir_chain.simulation.adversary_devnet import PRICE, DevnetConfig, DevnetOutcome, DevnetReport, Run, run_all

CONFIG = DevnetConfig(epochs=2, honest_threads=2, honest_joiners=1, honest_per_epoch=3.0)
DUST = 1_000
"""Wei lost to floor divisions when a value is read back through equity claims and exits."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetReport]:
    yield run_all(CONFIG, Path(tmp_path_factory.mktemp("adversarial-devnet")))


def outcome(report: DevnetReport, prefix: str) -> DevnetOutcome:
    (found,) = [o for o in report.outcomes if o.strategy.startswith(prefix)]
    return found


def epoch_total(run: Run, epoch: int) -> int:
    """W of measured epoch `epoch`: the on-chain weights of every message the pricer paid (honest and the agent's)."""
    paid = run.paid[epoch]
    return sum(run.honest_weights[epoch]) + sum(run.weights[m] for m in paid.amounts if m in run.agent.messages)


def test_every_epoch_is_paid_pro_rata_by_on_chain_weight_to_the_wei(report: DevnetReport) -> None:
    for key in ("floor", "on-topic", "ring", "no-ring", "dilution", "spam"):
        run = report.runs[key]
        for e, paid in enumerate(run.paid):
            total = epoch_total(run, e)
            for m, amount in paid.amounts.items():
                w = run.weights.get(m)
                if w is not None:
                    assert amount == paid.budget * w // total, (key, e, m)
            assert sum(paid.amounts.values()) <= paid.budget
            assert paid.budget == report.epochs.budgets[e]
            assert paid.budget == pytest.approx(model.budget(CONFIG.start_day + e), rel=1e-9)  # the model's B_e


def test_self_dealing_at_the_relevance_floor_takes_the_models_share(report: DevnetReport) -> None:
    run, o = report.runs["floor"], outcome(report, "self-dealing, 3 keys, text at the relevance floor")
    weights = set(run.weights.values())
    assert len(weights) == 1 and len(run.weights) == (CONFIG.keys - 1) * CONFIG.epochs
    w_f = weights.pop() / WAD
    assert w_f == pytest.approx(max_relevant_weight(), rel=1e-9)  # the rule's bound, not the cap of 100
    for e, share in enumerate(o.shares):
        honest = sum(report.epochs.honest_weights[e])
        mine = (CONFIG.keys - 1) * w_f
        assert share == pytest.approx(mine / (mine + honest), rel=1e-9)
    assert o.shares == pytest.approx(o.model.shares, rel=1e-9)
    assert o.capital == CONFIG.keys * PRICE
    rewards = sum(a for p in run.paid for m, a in p.amounts.items() if m in run.agent.messages)
    assert abs(o.gain - rewards) <= DUST  # everything the farm gains is its reward: the stakes come back
    assert o.gain == pytest.approx(sum(o.model.gains), rel=1e-9)
    assert o.roi > 100 * o.honest_roi


def test_on_topic_self_dealing_weighs_what_the_calibration_gives(report: DevnetReport) -> None:
    o = outcome(report, "self-dealing, 3 keys, on-topic")
    floor = outcome(report, "self-dealing, 3 keys, text at the relevance floor")
    assert o.shares == pytest.approx(o.model.shares, rel=1e-9)
    assert 0 < o.mean_share < floor.mean_share


@pytest.mark.parametrize("key, prefix", [("off-topic", "self-dealing, 3 keys, off-topic"), ("spam", "spam")])
def test_withheld_text_earns_nothing_on_chain(report: DevnetReport, key: str, prefix: str) -> None:
    run, o = report.runs[key], outcome(report, prefix)
    assert set(run.weights.values()) == {0}  # similarity 1.0 on chain: no weight
    assert all(not (set(p.amounts) & run.agent.messages) for p in run.paid)
    assert o.shares == [0.0] * CONFIG.epochs == o.model.shares
    assert -DUST <= o.gain <= 0  # its stakes only cycled through its own treasury


def test_a_citation_ring_moves_its_shares_inside_the_ring_and_takes_nothing(report: DevnetReport) -> None:
    ring, alone = report.runs["ring"], report.runs["no-ring"]
    o = outcome(report, "citation ring")
    threads = set(ring.agent.threads)
    for a, b in zip(ring.paid, alone.paid, strict=True):
        assert a.amounts == b.amounts  # the same weights, the same amounts
        ring_amounts = sum(x for m, x in a.amounts.items() if m in ring.agent.messages)
        assert a.citations >= ring_amounts // 10 - CONFIG.ring**2 and b.citations == 0  # 10% went round the ring
        assert sum(a.to_threads.get(t, 0) for t in threads) == sum(b.to_threads.get(t, 0) for t in threads)
    assert o.shares == [0.0] * CONFIG.epochs and abs(o.gain) <= DUST and o.model.gains == [0.0] * CONFIG.epochs


def test_settlement_timing_pays_the_votes_epoch_whenever_it_is_settled(report: DevnetReport) -> None:
    timed, at_once = report.runs["timing"], report.runs["at-once"]
    agent = timed.agent
    assert isinstance(agent, SettlementTiming)
    (message,) = agent.messages
    paid_in = [e for e, p in enumerate(timed.paid) if message in p.amounts]
    assert paid_in == [agent.vote_day]  # settled on the last day: still the vote's epoch
    assert [e for e, p in enumerate(at_once.paid) if message in p.amounts] == [0]
    w = timed.weights[message] / WAD
    budgets, honest = report.epochs.budgets, report.epochs.honest_weights
    rewards = [b * w / (float(h.sum()) + w) for b, h in zip(budgets, honest, strict=True)]
    assert agent.vote_day == int(np.argmax(rewards))
    o = outcome(report, "settlement timing")
    assert o.gain == pytest.approx(rewards[agent.vote_day] - rewards[0], rel=1e-9, abs=DUST)
    assert o.gain == pytest.approx(o.model.gains[0], rel=1e-9, abs=DUST)
    assert o.shares == pytest.approx(o.model.shares, rel=1e-9)


def test_a_majority_raid_takes_nothing_from_an_alert_minority_and_all_of_a_passive_ones(
    report: DevnetReport,
) -> None:
    alert, passive = outcome(report, "majority raid, the minority"), outcome(report, "majority raid, passive")
    assert alert.capital == pytest.approx(700 * CHOIR, abs=DUST) and passive.capital == alert.capital
    raid = report.runs["raid-alert"].agent
    assert isinstance(raid, MajorityRaid)
    assert raid.minority_payout == pytest.approx(300 * CHOIR, abs=DUST)  # it left with its pro-rata share
    assert raid.execution_failed  # the transfer of the whole treasury no longer fits: consumed, never run later
    passive_raid = report.runs["raid-passive"].agent
    assert isinstance(passive_raid, MajorityRaid) and passive_raid.proposal_id and not passive_raid.execution_failed
    assert abs(alert.gain) <= DUST
    assert passive.gain == pytest.approx(300 * CHOIR, abs=DUST)
    assert [alert.model.gains[0], passive.model.gains[0] * CONFIG.epochs] == pytest.approx([0, 300 * CHOIR])


def test_passive_dilution_takes_its_specs_share_and_nothing_of_the_passive_coauthor(report: DevnetReport) -> None:
    run, o = report.runs["dilution"], outcome(report, "passive-thread dilution")
    assert o.shares == pytest.approx(o.model.shares, rel=1e-9)
    assert all(s > 0 for s in o.shares)
    agent = run.agent
    assert isinstance(agent, PassiveDilution)
    # each second key's equity was bought at the NAV floor (worth at most its stake right after joining), so the
    # passive co-author lost nothing to the dilution: its claim only grew, by its part of the credited rewards
    assert len(agent.joined_claims) == CONFIG.epochs and all(c <= PRICE for c in agent.joined_claims)
    assert agent.passive_claim_end > agent.passive_claim > 0
    assert o.roi > o.honest_roi  # it skips the approval lottery


def test_a_compromised_pricer_pays_its_accomplice_the_whole_budget(report: DevnetReport) -> None:
    run, o = report.runs["oracle"], outcome(report, "compromised pricer")
    assert o.shares == [1.0] * CONFIG.epochs == o.model.shares
    for e, paid in enumerate(run.paid):
        assert set(paid.amounts) <= run.agent.messages and sum(paid.amounts.values()) == paid.budget
        assert report.runs["floor"].honest_weights[e], "there were honest approvals to pay"
    assert o.gain == pytest.approx(sum(report.epochs.budgets), abs=DUST)
    assert o.capital == PRICE
