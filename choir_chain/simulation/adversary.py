"""Adversarial strategies against the reward and settlement rules, on the pure model (docs/economics.md section 7,
docs/risks.md).

One market of `Market.epochs` daily epochs from `Market.start_day` of the emission: each epoch has the budget
`B_e = F(end) - F(start)` (`pricing.emission`) and a Poisson number of honest approvals, each with a novelty
weight drawn from the calibrated weights of on-topic contributions (log-normal around the demo's median 0.9,
capped at 100). Every strategy is an agent given `capital` CHOIR; its result is compared with **honest
participation with the same capital**: submitting `capital // stake` on-topic specs a day to honest threads,
each approved with `Market.honest_approval` (a quality-0.8 author before 8 co-authors of strictness 0.5,
`incentives`), paid its equity (worth its stake: the NAV floor) and that equity's share of its reward; a spec not
approved loses its stake.

Returns are per epoch on capital (gain / capital, averaged over the epochs); the budget share is the strategy's
weight (or payment) over the epoch's total. Settlement and equity use the contracts' integer rules
(`model_ledger`); rewards `B_e * w // W` as the pricer computes them. Everything draws from one seeded NumPy
generator, so a seed gives the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from choir_chain.deploy import CHOIR
from choir_chain.pricing.emission import emission
from choir_chain.pricing.novelty import MAX_NOVELTY_REWARD
from choir_chain.protocol.units import WAD
from choir_chain.semantics.relevance import max_relevant_weight
from choir_chain.simulation.agents import approve_probability
from choir_chain.simulation.model_ledger import shares_for_stake

CITATION_SHARE_BPS = 1_000
"""10% of a message's reward goes to the distinct other threads it cites (protocol 7)."""
SPAM_WEIGHT = 0.0
"""The spam policy withholds the score of gibberish, repetition and noisy copies (`semantics.spam`)."""
UNRULED_OFF_TOPIC_WEIGHT = MAX_NOVELTY_REWARD
"""Fluent text unrelated to anything before it, to a scorer without the relevance rule: calibrated similarity about
0.72, the capped weight (what the review's farm earned before `semantics.relevance`)."""
OFF_TOPIC_WEIGHT = 0.0
"""Text unrelated to its own thread: the relevance rule withholds its score (`semantics.relevance`)."""
FLOOR_WEIGHT = max_relevant_weight()
"""Text made to sit just above the relevance floor (related to its thread, to nothing else): the most a spec that
passes the rule can weigh, about 13; the farmer's best reply to the rule."""


def budget(day: int) -> int:
    """`B_e` in wei of the epoch (day) `day` since the emission's launch."""
    start, end = emission(day / 365.0), emission((day + 1) / 365.0)
    return round((end - start) * 1e6) * (CHOIR // 10**6)


@dataclass(frozen=True)
class Market:
    epochs: int = 30
    start_day: int = 30
    honest_per_epoch: float = 19.0
    """Approvals a day in the model's year (6,886 / 365)."""
    honest_weight_median: float = 0.9
    honest_weight_sigma: float = 1.0
    honest_approval: float = 0.0
    """0: computed from `approve_probability(0.8, 0.5)` with 8 voters of participation 0.9."""
    price: int = 21 * CHOIR
    treasury: int = 2_300 * CHOIR
    coauthors: int = 8
    seed: int = 1

    @property
    def approval(self) -> float:
        if self.honest_approval:
            return self.honest_approval
        p = float(approve_probability(np.array([0.8]), np.array([0.5]), 0.12)[0])
        passes = 1 - 0.9 * (1 - p)
        return passes**self.coauthors - 0.1**self.coauthors


@dataclass(frozen=True)
class Epochs:
    budgets: list[int]
    honest_weights: list[np.ndarray]

    @property
    def honest_total(self) -> list[float]:
        return [float(w.sum()) for w in self.honest_weights]


def draw_epochs(market: Market) -> Epochs:
    rng = np.random.default_rng(market.seed)
    weights = []
    for _ in range(market.epochs):
        count = int(rng.poisson(market.honest_per_epoch))
        w = np.exp(rng.normal(math.log(market.honest_weight_median), market.honest_weight_sigma, size=count))
        weights.append(np.minimum(w, MAX_NOVELTY_REWARD))
    return Epochs([budget(market.start_day + e) for e in range(market.epochs)], weights)


@dataclass(frozen=True)
class Outcome:
    strategy: str
    capital: int
    gains: list[float]
    """The strategy's gain (wei) per epoch."""
    shares: list[float]
    """Its share of each epoch's budget."""
    honest_gains: list[float]
    note: str

    @property
    def roi(self) -> float:
        return float(np.mean(self.gains)) / self.capital

    @property
    def honest_roi(self) -> float:
        return float(np.mean(self.honest_gains)) / self.capital

    @property
    def mean_share(self) -> float:
        return float(np.mean(self.shares))


def equity_of(stake: int, market: Market) -> float:
    """The equity fraction (of 1) an approved spec of `stake` buys in an honest thread."""
    total = market.coauthors * WAD
    added = shares_for_stake(stake, market.price, market.coauthors, market.treasury, total)
    return added / (total + added)


def honest_gains(capital: int, market: Market, epochs: Epochs) -> list[float]:
    """Expected gain per epoch of honest participation with `capital` (module docstring)."""
    specs = capital // market.price
    p = market.approval
    e = equity_of(market.price, market)
    w = market.honest_weight_median * math.exp(market.honest_weight_sigma**2 / 2)  # the mean honest weight
    out = []
    for b, total in zip(epochs.budgets, epochs.honest_total, strict=True):
        reward = b * w / (total + specs * p * w)
        out.append(specs * (p * e * reward * (1 - CITATION_SHARE_BPS / 10_000) - (1 - p) * market.price))
    return out


def _outcome(
    name: str, capital: int, gains: list[float], shares: list[float], market: Market, epochs: Epochs, note: str
) -> Outcome:
    return Outcome(name, capital, gains, shares, honest_gains(capital, market, epochs), note)


def self_dealing(market: Market, epochs: Epochs, keys: int = 3, weight: float = FLOOR_WEIGHT) -> Outcome:
    """The attacker's own thread, all co-authors its keys: each day its `keys - 1` non-co-author keys submit
    specs it approves alone, then leave (exit after the cooldown) to submit again. Stakes go to its own
    treasury (back on exit): its capital is one stake per key; its reward is the whole thread's."""
    capital = keys * market.price
    approvals = keys - 1
    gains, shares = [], []
    for b, total in zip(epochs.budgets, epochs.honest_total, strict=True):
        mine = approvals * weight
        share = mine / (total + mine) if mine else 0.0
        shares.append(share)
        gains.append(b * share)  # it cites its own second thread: the 10% stays with it
    return _outcome(
        f"self-dealing, {keys} keys",
        capital,
        gains,
        shares,
        market,
        epochs,
        f"text just relevant enough (at the relevance floor): weight {weight:.1f} each",
    )


def self_dealing_off_topic(market: Market, epochs: Epochs, keys: int = 3) -> Outcome:
    """Self-dealing with fluent text unrelated to its thread: weight 100 each to a scorer without the relevance
    rule (`UNRULED_OFF_TOPIC_WEIGHT`); the rule withholds the score, so the weight is 0."""
    outcome = self_dealing(market, epochs, keys, OFF_TOPIC_WEIGHT)
    return Outcome(
        f"self-dealing, {keys} keys, off-topic",
        outcome.capital,
        outcome.gains,
        outcome.shares,
        outcome.honest_gains,
        "off-topic text: withheld by the relevance rule (weight 100 each without it)",
    )


def spam(market: Market, epochs: Epochs, keys: int = 3) -> Outcome:
    """Self-dealing with gibberish or copies: the spam policy withholds the score, so the weight is 0."""
    outcome = self_dealing(market, epochs, keys, SPAM_WEIGHT)
    return Outcome(
        f"spam, {keys} keys",
        outcome.capital,
        outcome.gains,
        outcome.shares,
        outcome.honest_gains,
        "score withheld: weight 0; its stakes only cycle through its own treasury",
    )


def citation_ring(market: Market, epochs: Epochs, threads: int = 4) -> Outcome:
    """`threads` attacker threads, each approving one honest-weight spec a day that cites every other ring
    thread. The 10% citation share moves between ring threads only; `c` counts distinct citing threads once
    (r2), so the ring's price effect is fixed after the first day. Gain over the same threads not citing: 0."""
    capital = 2 * threads * market.price
    gains, shares = [], []
    w = market.honest_weight_median
    for b, total in zip(epochs.budgets, epochs.honest_total, strict=True):
        ring = threads * w
        with_ring = b * ring / (total + ring)
        without = with_ring  # the citation share returns to the ring: the total is the same
        shares.append(0.0)  # nothing taken from outside the ring's own weight share
        gains.append(with_ring - without)
    return _outcome(
        f"citation ring, {threads} threads",
        capital,
        gains,
        shares,
        market,
        epochs,
        "10% shares stay inside the ring; distinct-thread count caps c",
    )


def settlement_timing(market: Market, epochs: Epochs, window: int = 7) -> Outcome:
    """A thread owner (self-dealing, one on-topic spec) whose last approving vote it controls picks, within the
    7-day approval window, the epoch where its spec takes the largest share; the gain is over approving it on the
    day of submission."""
    capital = market.price
    w = market.honest_weight_median
    gains, shares = [], []
    for e in range(len(epochs.budgets) - window):
        shares_by_day = [epochs.budgets[e + d] * w / (epochs.honest_total[e + d] + w) for d in range(window)]
        best = max(shares_by_day)
        gains.append(best - shares_by_day[0])
        d = shares_by_day.index(best)
        shares.append(w / (epochs.honest_total[e + d] + w))
    return _outcome(
        "settlement timing (7-day window)",
        capital,
        gains,
        shares,
        market,
        epochs,
        "choice of the approval's epoch by the last vote; settle() itself changes nothing",
    )


def majority_raid(market: Market, epochs: Epochs, minority: float = 0.3, alert: bool = True) -> Outcome:
    """A majority (1 - `minority` of the shares) votes the treasury to itself. r2: the execution delay is at
    least the exit cooldown and votes are `min(snapshot, now)`, so an alert minority exits with its pro-rata
    share first; a passive one loses it."""
    capital = int(market.treasury * (1 - minority))
    taken = 0.0 if alert else market.treasury * minority
    gains = [taken / len(epochs.budgets)] * len(epochs.budgets)  # spread over the horizon
    name = "majority raid, " + ("minority exits" if alert else "passive minority")
    return _outcome(
        name,
        capital,
        gains,
        [0.0] * len(gains),
        market,
        epochs,
        "the minority's exit before execution leaves only the majority's own share",
    )


def passive_dilution(market: Market, epochs: Epochs) -> Outcome:
    """A co-author of a thread whose other co-authors never vote approves its own second key's spec alone:
    the key's equity is worth its stake (NAV floor), so the dilution itself gains nothing; it skips the honest
    approval lottery and keeps the spec's honest weight share, of which it holds its equity's part."""
    f = 1 / market.coauthors
    capital = market.price + int(f * market.treasury)  # the second key's stake and the co-author's own equity
    e = equity_of(market.price, market)
    held = f * (1 - e) + e
    w = market.honest_weight_median
    gains, shares = [], []
    for b, total in zip(epochs.budgets, epochs.honest_total, strict=True):
        reward = b * w / (total + w)
        shares.append(w / (total + w))
        gains.append(held * reward * (1 - CITATION_SHARE_BPS / 10_000))
    return _outcome(
        "passive-thread dilution, 2nd key",
        capital,
        gains,
        shares,
        market,
        epochs,
        "equity at NAV: no value taken from the passive co-authors; the reward is shared pro rata",
    )


def compromised_oracle(market: Market, epochs: Epochs) -> Outcome:
    """The pricer's key (ORACLE_ROLE), within the contract's checks: every approved spec of the epoch with a
    positive weight may be paid any amount up to `B_e` in total. An accomplice's one approved spec a day takes
    the whole budget. (Price rounds, also its own, are bounded by the deviation window; an entry made cheaper
    buys equity worth no more than its stake, the NAV floor.)"""
    capital = market.price
    gains = [float(b) for b in epochs.budgets]
    return _outcome(
        "compromised pricer (within bounds)",
        capital,
        gains,
        [1.0] * len(gains),
        market,
        epochs,
        "allocate() checks epoch, approval, weight > 0, sum <= B_e: not the split",
    )


def self_dealing_on_topic(market: Market, epochs: Epochs) -> Outcome:
    """Self-dealing with 3 keys and on-topic text (the honest median weight): what the calibration leaves it."""
    outcome = self_dealing(market, epochs, 3, market.honest_weight_median)
    return Outcome(
        "self-dealing, 3 keys, on-topic",
        outcome.capital,
        outcome.gains,
        outcome.shares,
        outcome.honest_gains,
        "on-topic text: calibrated weight about 0.9 each",
    )


STRATEGIES: tuple[Callable[[Market, Epochs], Outcome], ...] = (
    self_dealing,
    self_dealing_on_topic,
    self_dealing_off_topic,
    citation_ring,
    settlement_timing,
    majority_raid,
    lambda m, e: majority_raid(m, e, alert=False),
    passive_dilution,
    compromised_oracle,
    spam,
)


def run_all(market: Market) -> list[Outcome]:
    epochs = draw_epochs(market)
    return [strategy(market, epochs) for strategy in STRATEGIES]
