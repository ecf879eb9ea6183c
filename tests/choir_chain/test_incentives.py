"""The incentives of the vote (`simulation.incentives`, docs/economics.md section 6) and the approval threshold
in the model ledger (`model_ledger.divide`, `SimParams.approval_threshold_bps`) and on a devnet (the contracts'
`ThreadDAO.approvalThreshold`, set through each thread's governor)."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from choir_chain.deploy import CHOIR
from choir_chain.simulation.incentives import (
    PROPOSED_THRESHOLD_BPS,
    VoteCase,
    advantage,
    compare_rules,
    expected_payoffs,
    payoff,
)
from choir_chain.simulation.model_ledger import UNANIMOUS, divide
from choir_chain.simulation.params import SimParams
from choir_chain.simulation.runner import run_devnet, run_model, simulate

S, P, T = 31 * CHOIR, 21 * CHOIR, 2_300 * CHOIR


def test_the_threshold_rule_pays_deniers_only_when_the_spec_fails() -> None:
    assert divide(90, 2, 1) == divide(90, 2, 1, UNANIMOUS) == ("split", 60, 30)  # today's rule
    assert divide(90, 2, 1, PROPOSED_THRESHOLD_BPS) == ("approved", 90, 0)  # 2 of 3 >= 66.67%
    assert divide(90, 3, 2, PROPOSED_THRESHOLD_BPS) == ("split", 54, 18)  # 60%: not approved, as today
    assert divide(90, 0, 3, PROPOSED_THRESHOLD_BPS) == divide(90, 0, 3)
    assert divide(90, 0, 0, PROPOSED_THRESHOLD_BPS) == ("expired", 90, 0)


def test_thresholds_are_checked() -> None:
    for bad in (0, 10_001, 0.5):
        with pytest.raises(ValueError, match="approval_threshold_bps"):
            SimParams(approval_threshold_bps=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("coauthors", [1, 2, 3, 5, 8, 13, 20])
def test_without_a_reward_denial_pays_more_pivotal_or_not(coauthors: int) -> None:
    pivotal = VoteCase(coauthors, S, P, T, coauthors - 1, 0)
    assert 0 <= payoff(pivotal, True) < 10**4  # the NAV floor: the stake buys what it adds (to rounding, in wei)
    # the analytic value, to rounding: S/N + S (N-1)/N^2
    expected = Fraction(S, coauthors) + Fraction(S * (coauthors - 1), coauthors**2)
    assert abs(payoff(pivotal, False) - expected) <= 10  # wei of rounding
    assert advantage(pivotal) < 0
    if coauthors > 1:
        other = VoteCase(coauthors, S, P, T, coauthors - 2, 1)
        assert abs(-advantage(other) - Fraction(S * (coauthors - 1), coauthors**2)) <= 10


def test_a_reward_makes_the_pivotal_voter_approve_but_not_the_others() -> None:
    reward = 2 * S * 2  # above the break-even of about twice the stake
    pivotal = VoteCase(8, S, P, T, 7, 0, reward)
    assert advantage(pivotal) > 0
    assert advantage(VoteCase(8, S, P, T, 6, 1, reward)) < 0  # a split either way: the denier's cash wins
    below = VoteCase(8, S, P, T, 7, 0, S)
    assert advantage(below) < 0


def test_under_the_threshold_a_denial_that_changes_nothing_pays_nothing() -> None:
    passing = VoteCase(8, S, P, T, 6, 1, 0, PROPOSED_THRESHOLD_BPS)  # 6 of 8 approve either way
    assert payoff(passing, False) == payoff(passing, True) < 10**4  # approved either way: no cash, no gain
    today = VoteCase(8, S, P, T, 6, 1)
    assert payoff(today, False) > 0


def test_expected_payoffs_enumerate_the_other_votes() -> None:
    alone = expected_payoffs(1, 0.5, stake=S, price=P, treasury=T)
    assert alone.pivotal == 1.0 and alone.approve < 10**4 and alone.deny == S
    good = expected_payoffs(8, 0.8, stake=S, price=P, treasury=T)
    poor = expected_payoffs(8, 0.2, stake=S, price=P, treasury=T)
    assert good.pivotal > poor.pivotal and good.deny > good.approve
    proposed = expected_payoffs(8, 0.8, stake=S, price=P, treasury=T, threshold_bps=PROPOSED_THRESHOLD_BPS)
    assert proposed.deny - proposed.approve < good.deny - good.approve


def test_the_threshold_grows_threads_in_a_small_run() -> None:
    runs = compare_rules(SimParams(threads=6, agents=80, days=60, seed=3))
    today, proposed = runs[str(UNANIMOUS)], runs[str(PROPOSED_THRESHOLD_BPS)]
    assert proposed["settled"]["approved"] > today["settled"]["approved"]
    assert proposed["final_coauthors"] > today["final_coauthors"]
    assert sum(sum(c.values()) for c in today["by_size"].values()) == sum(today["settled"].values())
    assert compare_rules(SimParams(threads=6, agents=80, days=60, seed=3)) == runs  # deterministic


def test_the_devnet_engine_refuses_a_threshold_the_contracts_refuse(tmp_path: Path) -> None:
    for minority in (1, 5_000):
        with pytest.raises(ValueError, match="pure model only"):
            simulate(SimParams(approval_threshold_bps=minority), "devnet", tmp_path)


def test_the_devnet_engine_runs_the_threshold_like_the_model(tmp_path: Path) -> None:
    """Two thirds on the real contracts (set through each thread's governor before day 0): every row and the
    final state equal the pure engine's under the same rule, to the wei; the rule was in force (more approvals
    than under unanimity for the same community)."""
    tiny = SimParams(threads=3, days=12, agents=16, participation=0.6, exit_rate=0.08, spec_rate=1.5, seed=6)
    params = replace(tiny, approval_threshold_bps=PROPOSED_THRESHOLD_BPS)
    onchain, balances = run_devnet(params, tmp_path / "devnet")
    model = run_model(params)
    assert list(onchain.history.rows()) == list(model.history.rows())
    assert onchain.final == model.final
    assert onchain.totals.settled == model.totals.settled
    assert onchain.totals.settled["approved"] > run_model(tiny).totals.settled["approved"]
    for thread, balance in balances.items():
        assert balance == onchain.final.treasury[thread] + onchain.final.locked[thread]


def test_the_cli_runs_a_minority_rule_on_the_model_and_refuses_it_on_a_devnet(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from choir_chain.cli import app

    base = ["simulate", "--threads", "3", "--days", "10", "--agents", "30", "--no-csv", "--approval-threshold-bps"]
    result = CliRunner().invoke(app, [*base, "4000", "--model", "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "model" / "summary.json").read_text())["parameters"]["approval_threshold_bps"] == 4000
    refused = CliRunner().invoke(app, [*base, "4000", "--out", str(tmp_path / "devnet")])
    assert refused.exit_code == 1 and "pure model only" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "devnet" / "summary.json").exists()
