"""The adversarial agents of `simulation.adversary` (docs/economics.md section 7): their mechanics, on a small
seeded market."""

from __future__ import annotations

import pytest

from choir_chain.deploy import CHOIR
from choir_chain.semantics.relevance import max_relevant_weight
from choir_chain.simulation.adversary import (
    FLOOR_WEIGHT,
    UNRULED_OFF_TOPIC_WEIGHT,
    Market,
    budget,
    citation_ring,
    compromised_oracle,
    draw_epochs,
    equity_of,
    honest_gains,
    majority_raid,
    passive_dilution,
    run_all,
    self_dealing,
    self_dealing_off_topic,
    settlement_timing,
    spam,
)

MARKET = Market(epochs=12, seed=5)


def test_budgets_follow_the_emission_curve() -> None:
    assert budget(0) == pytest.approx(6_217_497 * CHOIR, rel=1e-6)  # risks.md: day 1
    assert budget(30) == pytest.approx(5_341_789 * CHOIR, rel=1e-6)
    assert budget(0) > budget(30) > budget(364)


def test_the_market_is_seeded() -> None:
    a, b = draw_epochs(MARKET), draw_epochs(MARKET)
    assert a.honest_total == b.honest_total and len(a.budgets) == 12
    assert draw_epochs(Market(epochs=12, seed=6)).honest_total != a.honest_total
    assert [o.gains for o in run_all(MARKET)] == [o.gains for o in run_all(MARKET)]


def test_self_dealing_takes_its_weight_share_and_spam_takes_nothing() -> None:
    epochs = draw_epochs(MARKET)
    three = self_dealing(MARKET, epochs, 3)
    for share, total in zip(three.shares, epochs.honest_total, strict=True):
        assert share == pytest.approx(2 * FLOOR_WEIGHT / (total + 2 * FLOOR_WEIGHT))
    assert three.capital == 3 * MARKET.price
    shares = [self_dealing(MARKET, epochs, k).mean_share for k in (2, 3, 5, 10)]
    assert shares == sorted(shares) and shares[-1] < 1
    on_topic = self_dealing(MARKET, epochs, 3, MARKET.honest_weight_median)
    assert on_topic.mean_share < three.mean_share
    assert spam(MARKET, epochs).mean_share == 0 and spam(MARKET, epochs).roi == 0


def test_the_relevance_rule_bounds_the_off_topic_farm() -> None:
    """Off-topic text is withheld, and the farmer's best reply (text at the relevance floor) weighs about 13, not
    the cap: the farm's share (3 keys) falls from 88% of each budget (without the rule) to about half."""
    epochs = draw_epochs(MARKET)
    assert max_relevant_weight() == FLOOR_WEIGHT and 10 < FLOOR_WEIGHT < UNRULED_OFF_TOPIC_WEIGHT / 5
    off_topic = self_dealing_off_topic(MARKET, epochs)
    assert off_topic.mean_share == 0 and off_topic.roi == 0
    unruled = self_dealing(MARKET, epochs, 3, UNRULED_OFF_TOPIC_WEIGHT)
    at_floor = self_dealing(MARKET, epochs, 3)
    assert unruled.mean_share > 0.75 and at_floor.mean_share < 0.6 * unruled.mean_share


def test_rings_raids_and_dilution_gain_nothing_from_others() -> None:
    epochs = draw_epochs(MARKET)
    assert citation_ring(MARKET, epochs).roi == 0
    assert majority_raid(MARKET, epochs, alert=True).roi == 0
    passive = majority_raid(MARKET, epochs, 0.3, alert=False)
    assert sum(passive.gains) == pytest.approx(0.3 * MARKET.treasury)
    e = equity_of(MARKET.price, MARKET)  # the NAV floor: the joiner's equity is worth at most its stake
    assert e * (MARKET.treasury + MARKET.price) <= MARKET.price
    assert passive_dilution(MARKET, epochs).mean_share < self_dealing(MARKET, epochs, 2).mean_share


def test_timing_and_the_oracle() -> None:
    epochs = draw_epochs(MARKET)
    timing = settlement_timing(MARKET, epochs)
    assert len(timing.gains) == MARKET.epochs - 7 and min(timing.gains) >= 0
    oracle = compromised_oracle(MARKET, epochs)
    assert oracle.shares == [1.0] * MARKET.epochs and oracle.gains == [float(b) for b in epochs.budgets]


def test_honest_participation_with_the_same_capital() -> None:
    epochs = draw_epochs(MARKET)
    assert MARKET.approval == pytest.approx(0.568, abs=1e-3)
    assert honest_gains(0, MARKET, epochs) == [0.0] * MARKET.epochs
    without_rewards = Market(epochs=12, seed=5, start_day=2000)  # after the emission's four years
    assert all(g < 0 for g in honest_gains(10 * MARKET.price, without_rewards, draw_epochs(without_rewards)))
    assert all(g > 0 for g in honest_gains(10 * MARKET.price, MARKET, epochs))
