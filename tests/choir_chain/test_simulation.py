"""`choir simulate`: the pure engine is deterministic, conserves value and prices by the model; the devnet
engine drives the real contracts to the same integers; the command writes valid PNGs, CSV and summary."""

from __future__ import annotations

import csv
import dataclasses
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from choir_chain.cli import app
from choir_chain.pricer.compute import within_deviation
from choir_chain.pricing import (
    anharmonic_coefficient,
    excitation_level,
    potential_order,
    thread_price_wei,
)
from choir_chain.simulation.agents import approve_probability
from choir_chain.simulation.engine import SimulationResult
from choir_chain.simulation.history import COLUMNS, gini, top_share
from choir_chain.simulation.model_ledger import WAD, divide, equity_fraction, shares_for_stake
from choir_chain.simulation.params import SimParams
from choir_chain.simulation.plots import FIGURES
from choir_chain.simulation.runner import conservation_gap, run_devnet, run_model

EPS = float(np.finfo(np.float64).eps)


def voted_outcomes(settled: dict[str, int]) -> list[int]:
    """Counts of every outcome but Refunded, which needs all of a thread's eligible co-authors to leave a spec
    unvoted: the simulated communities do not do that (the contract tests do)."""
    return [count for outcome, count in settled.items() if outcome != "refunded"]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = SimParams(threads=6, days=40, agents=60, seed=5)
TINY = SimParams(threads=3, days=12, agents=16, participation=0.6, exit_rate=0.08, spec_rate=1.5, seed=6)
"""Small enough for a devnet, and it settles specs every way, with claims and exits (checked below)."""


@pytest.fixture(scope="module")
def small() -> SimulationResult:
    return run_model(SMALL)


def rows_by_thread(result: SimulationResult) -> Iterator[list[dict[str, Any]]]:
    """Each thread's rows, day by day."""
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in result.history.rows()]
    for thread in sorted({int(r["thread"]) for r in rows}):
        yield sorted((r for r in rows if r["thread"] == thread), key=lambda r: r["day"])


# --------------------------------------------------------------------------------------------------------
# The contracts' arithmetic in the pure ledger
# --------------------------------------------------------------------------------------------------------
def test_divide_follows_spec_section_3() -> None:
    assert divide(100, 0, 0) == ("expired", 100, 0)
    assert divide(100, 2, 0) == ("approved", 100, 0)
    assert divide(100, 0, 3) == ("denied", 1, 33)  # 100 // 3 each, the remainder to the treasury
    assert divide(100, 1, 2) == ("split", 34, 33)  # stake * D / V = 66 to the deniers, 33 each
    for stake in (1, 7, 10**20 + 3):
        for approvals in range(4):
            for denials in range(4):
                _, gain, per_denier = divide(stake, approvals, denials)
                assert gain + per_denier * denials == stake


def test_equity_follows_spec_section_5() -> None:
    assert equity_fraction(30 * WAD, 30 * WAD, 1, 0) == WAD // 2  # sqrt(1) / 2
    assert shares_for_stake(30 * WAD, 30 * WAD, 1, 0, 10**18) == 10**18  # e = 1/2: shares double
    assert equity_fraction(30 * WAD, 30 * WAD, 3, 0) == WAD // 4
    assert equity_fraction(120 * WAD, 30 * WAD, 3, 0) == WAD // 2  # sqrt(4) / 4
    assert equity_fraction(10**6 * WAD, WAD, 0, 0) == WAD // 2  # capped at 1/2
    assert shares_for_stake(1, 10**24, 1000, 0, 10) == 1  # at least one share
    # r2, the NAV floor: a 120 CHOIR stake into a 10,000 CHOIR treasury buys at most 120 / 10,120 of the equity
    assert equity_fraction(120 * WAD, 30 * WAD, 1, 10_000 * WAD) == 120 * WAD * WAD // (10_120 * WAD)
    assert shares_for_stake(30 * WAD, 30 * WAD, 0, 0, 0) == 10**18  # into an empty thread: the creator's shares


def test_approval_curve_is_centred_on_strictness() -> None:
    p = approve_probability(np.array([0.5, 0.9, 0.1]), np.array([0.5, 0.5, 0.5]), 0.1)
    assert p[0] == pytest.approx(0.5)
    assert p[1] > 0.97 and p[2] < 0.03


def test_spread_measures() -> None:
    assert gini([5, 5, 5]) == 0.0 and gini([7]) == 0.0
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert top_share([1, 3]) == 0.75


def test_params_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="participation"):
        SimParams(participation=1.5)
    with pytest.raises(ValueError, match="agents"):
        SimParams(threads=10, agents=10)


# --------------------------------------------------------------------------------------------------------
# The pure engine
# --------------------------------------------------------------------------------------------------------
def test_pure_engine_is_deterministic_for_a_seed(small: SimulationResult) -> None:
    again = run_model(SMALL)
    assert list(again.history.rows()) == list(small.history.rows())
    assert again.final == small.final
    other = run_model(dataclasses.replace(SMALL, seed=SMALL.seed + 1))
    assert list(other.history.rows()) != list(small.history.rows())


def test_pure_engine_conserves_value(small: SimulationResult) -> None:
    final, totals, p = small.final, small.totals, SMALL
    assert conservation_gap(final, p) == 0
    # Every staked wei went to a treasury, to a denier, or is still locked (pending or unclaimed).
    assert totals.staked == totals.treasury_gain + totals.claimed + sum(final.locked.values())
    # Treasuries hold what settlements gave them less what leavers took.
    assert sum(final.treasury.values()) == totals.treasury_gain - totals.exited
    # The agents paid exactly the stakes and got back the curator rewards and the exit payouts.
    assert sum(final.wallets) == p.agents * p.endowment - totals.staked + totals.claimed + totals.exited
    assert totals.claimed > 0 and totals.exited > 0
    assert all(v >= 0 for v in final.wallets)
    assert all(v > 0 for v in final.treasury.values())
    assert sum(totals.settled.values()) > 100 and min(voted_outcomes(totals.settled)) > 0


def test_prices_follow_the_model(small: SimulationResult) -> None:
    hub, q = SMALL.hub, SMALL.qaho
    clamped = 0
    for rows in rows_by_thread(small):
        previous_price, previous_authors = 0, 1  # the creator, on day 0
        approvals_by_day = [int(r["approved"]) for r in rows]
        for day, r in enumerate(rows):
            assert r["n"] == excitation_level(int(r["approved_recent"]))
            assert r["approved_recent"] == sum(approvals_by_day[max(0, day - 7) : day])  # trailing 7 days
            # K0 and m are NumPy's floats, kept for analysis: its vectorised tanh and log1p may round an ulp
            # away from the scalar path on CPUs with SIMD dispatch (AVX-512), hence the relative 4 ulp.
            assert r["k0"] == pytest.approx(anharmonic_coefficient(float(r["refusal"]), q), rel=4 * EPS)
            assert r["m"] == pytest.approx(potential_order(float(r["citations"]), previous_authors, q), rel=4 * EPS)
            # The wei price is exact: the deterministic decimal evaluation from the thread's observable state.
            model = thread_price_wei(
                int(r["approved_recent"]), float(r["refusal"]), int(r["citations"]), previous_authors, q
            )
            assert r["target_wei"] == min(max(model, hub.min_price), hub.max_price)
            price = int(r["price_wei"])
            assert within_deviation(previous_price, price, hub.max_deviation_bps)
            # the step is the largest the oracle allows toward the target
            if price != r["target_wei"]:
                assert abs(price - previous_price) == previous_price * hub.max_deviation_bps // 10_000
                clamped += 1
            previous_price, previous_authors = price, int(r["coauthors"])
    assert clamped > 0, "the run should include moves larger than the deviation bound"


def test_prices_respond_to_activity_and_refusals(small: SimulationResult) -> None:
    """More recent approvals (n) and more refusals (K0) both raise the price, as protocol section 4 says."""
    h = small.history
    n, price, k0 = h.column("n"), h.column("price"), h.column("k0")
    assert price[n >= 1].mean() > price[n == 0].mean() + SMALL.qaho.s0  # each level adds 2 * S0
    low = (n == 0) & (k0 < 1.2)
    high = (n == 0) & (k0 > 1.5)
    assert low.any() and high.any() and price[high].mean() > price[low].mean()


# --------------------------------------------------------------------------------------------------------
# The devnet engine
# --------------------------------------------------------------------------------------------------------
def test_devnet_engine_matches_the_pure_engine(tmp_path: Path) -> None:
    """The same community on the real contracts: every row (prices, treasuries, shares, co-authors) and the
    final state (each agent's CHOIR, each co-author's shares) equal the pure engine's, to the wei."""
    onchain, balances = run_devnet(TINY, tmp_path / "devnet")
    model = run_model(TINY)
    settled = onchain.totals.settled
    assert min(voted_outcomes(settled)) > 0, f"the run should settle specs every way: {settled}"
    assert onchain.totals.claimed > 0 and onchain.totals.exited > 0
    assert list(onchain.history.rows()) == list(model.history.rows())
    assert onchain.final == model.final
    assert conservation_gap(onchain.final, TINY) == 0
    for thread, balance in balances.items():
        assert balance == onchain.final.treasury[thread] + onchain.final.locked[thread]


# --------------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------------
def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and data.rstrip(b"\0")[-8:-4] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_cli_writes_figures_csv_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    args = ["simulate", "--model", "--threads", "4", "--days", "15", "--agents", "40", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in FIGURES:
        width, height = _png_size(out / name)
        assert 300 < width < 1500 and 200 < height < 1000
    with (out / "threads.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 1 + 4 * 15
    assert {int(r[0]) for r in rows[1:]} == set(range(15)) and {int(r[1]) for r in rows[1:]} == {1, 2, 3, 4}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"] == "model" and summary["value_conserved"] is True
    assert summary["parameters"]["threads"] == 4


def test_cli_runs_on_a_devnet_without_csv(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    args = ["simulate", "--threads", "2", "--days", "3", "--agents", "8", "--no-csv", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*FIGURES, "summary.json"])
    assert json.loads((out / "summary.json").read_text())["engine"] == "devnet"


def test_cli_reports_bad_parameters_in_one_line(tmp_path: Path) -> None:
    args = ["simulate", "--model", "--threads", "10", "--agents", "5", "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output
