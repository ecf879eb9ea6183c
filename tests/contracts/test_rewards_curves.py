"""RewardsDistributor's curves against their Python references: the emission cap F(t)
(`choir_chain.pricing.emission.emission`, and a 60-digit reference for the first seconds) and the novelty weight
of a maximum similarity (`choir_chain.pricing.novelty.novelty_reward`).
"""

from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from helpers.contracts import CHOIR, DAY
from helpers.rewards import MAX_WEIGHT, REL, REWARD_POOL, YEAR, rel_close, wad

from choir_chain.pricing.emission import emission
from choir_chain.pricing.novelty import novelty_reward

pytestmark = pytest.mark.usefixtures("distributor")  # every test runs with the module's distributor minting


def exact_emission_wei(elapsed: int) -> Decimal:
    """F(t) in wei with 60-digit decimals (the float reference loses ~1e-9 in ln(1 + x) for t of a second)."""
    getcontext().prec = 60
    t = Decimal(elapsed) / Decimal(YEAR)
    return Decimal(REWARD_POOL) * (1 + 2 * t).ln() / Decimal(9).ln()


# ----------------------------------------------------------------------------------------------------------
# Emission curve
# ----------------------------------------------------------------------------------------------------------

# 50 points over [0, 4.2] years, in seconds since launch: the edges, then an even spread.
SPECIAL_ELAPSED = [0, 60, 3600, DAY, 7 * DAY, YEAR // 2, YEAR, 2 * YEAR, 3 * YEAR, 4 * YEAR - 1, 4 * YEAR, 4 * YEAR + 1]
SPREAD_ELAPSED = [round(4.2 * YEAR * i / 38) for i in range(1, 39)]
CURVE_ELAPSED = sorted(set(SPECIAL_ELAPSED + SPREAD_ELAPSED))


def test_curve_points_are_fifty_distinct_in_range():
    assert len(CURVE_ELAPSED) == 50
    assert CURVE_ELAPSED[0] == 0 and CURVE_ELAPSED[-1] == round(4.2 * YEAR)


def test_emission_cap_matches_the_python_curve(distributor):
    launch = distributor.launchTime()
    caps = []
    for elapsed in CURVE_ELAPSED:
        cap = distributor.emissionCap(launch + elapsed)
        expected = emission(elapsed / YEAR) * CHOIR
        if elapsed == 0:
            assert cap == 0
        else:
            assert rel_close(cap, expected), (elapsed, cap, expected)
        if elapsed >= 4 * YEAR:
            assert cap == REWARD_POOL  # exactly the pool from T on
        else:
            assert cap < REWARD_POOL
        caps.append(cap)
    assert caps == sorted(caps)  # non-decreasing
    assert len(set(caps[:-3])) == len(caps) - 3  # strictly increasing until T


def test_emission_cap_landmarks(distributor):
    launch = distributor.launchTime()
    assert distributor.emissionCap(0) == 0
    assert distributor.emissionCap(launch - 1) == 0  # before launch
    assert distributor.emissionCap(launch) == 0
    half = distributor.emissionCap(launch + YEAR)
    assert abs(half - REWARD_POOL // 2) <= REWARD_POOL // 2 * 10**-15  # F(1) = R_total / 2
    assert half <= REWARD_POOL // 2  # the cap rounds down, never above the curve
    assert distributor.emissionCap(launch + 4 * YEAR) == REWARD_POOL
    assert distributor.emissionCap(launch + 4 * YEAR - 1) < REWARD_POOL
    assert distributor.emissionCap(launch + 100 * YEAR) == REWARD_POOL
    assert distributor.emissionCap(2**255) == REWARD_POOL  # no overflow for an absurd timestamp


@pytest.mark.parametrize("elapsed", [1, 2, 3, 10])
def test_emission_cap_in_the_first_seconds(distributor, elapsed):
    """Tiny t against a 60-digit reference: ~72.2 CHOIR per second right after launch."""
    cap = distributor.emissionCap(distributor.launchTime() + elapsed)
    exact = exact_emission_wei(elapsed)
    assert abs(Decimal(cap) - exact) <= Decimal(REL) * exact
    assert cap <= exact  # rounds down
    assert 72 * CHOIR * elapsed < cap < 73 * CHOIR * elapsed


# ----------------------------------------------------------------------------------------------------------
# Novelty curve
# ----------------------------------------------------------------------------------------------------------

NOVELTY_POINTS = [
    "-1", "-0.5", "0", "0.3", "0.5", "0.6", "0.7", "0.74", "0.749999", "0.75", "0.750001", "0.76", "0.775",
    "0.8", "0.81", "0.825", "0.85", "0.86", "0.875", "0.88", "0.9", "0.91", "0.925", "0.93", "0.94", "0.945",
    "0.949", "0.949999999", "0.95",
]  # fmt: skip


@pytest.mark.parametrize("similarity", NOVELTY_POINTS)
def test_novelty_weight_matches_python(distributor, similarity):
    weight = distributor.noveltyWeight(wad(similarity))
    expected = novelty_reward(float(similarity)) * CHOIR
    assert rel_close(weight, expected), (similarity, weight, expected)
    assert 0 < weight <= MAX_WEIGHT
    if float(similarity) < 0.75:
        assert weight == MAX_WEIGHT  # the cap


def test_novelty_weight_landmarks(distributor):
    assert distributor.noveltyWeight(wad("0.95")) == wad("0.01")  # exp(0) exactly at the threshold
    assert distributor.noveltyWeight(wad("0.95") + 1) == 0  # one wei above: nothing
    assert novelty_reward(0.9500001) == 0.0
    for above in ("0.951", "0.99", "1"):
        assert distributor.noveltyWeight(wad(above)) == novelty_reward(float(above)) == 0
    assert rel_close(distributor.noveltyWeight(wad("0.9")), 0.1 * CHOIR)  # tenfold per 0.05
    assert rel_close(distributor.noveltyWeight(wad("0.85")), 1 * CHOIR)
    assert rel_close(distributor.noveltyWeight(wad("0.8")), 10 * CHOIR)
    assert distributor.noveltyWeight(wad("0.7")) == MAX_WEIGHT
    assert distributor.noveltyWeight(-(10**30)) == MAX_WEIGHT  # far below -1: still the cap
    assert distributor.noveltyWeight(2**255 - 1) == 0
    rewards = [distributor.noveltyWeight(wad(s)) for s in NOVELTY_POINTS]
    assert rewards == sorted(rewards, reverse=True)  # non-increasing in similarity
