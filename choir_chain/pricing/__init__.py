"""QAHO stake pricing and reward emission: the pure-NumPy model of protocol section 4 (and sections 1 and 7).

Per thread, with excitation level ``n``, anharmonic coefficient ``K0`` and potential order ``m``::

    P0 = s0 * [ (2n + 1) + (K0 * lam) ** (1 / (m + 1)) ]            (CHOIR)
    n  = floor(log2(1 + a))                                       a: approvals in the trailing 7 days
    K0 = clamp(k0_base * (1 + g1 * r), k0_min, k0_max)            r: refusal ratio of the last W specs
    m  = clamp(2 + b1 * tanh(c / c0) + b2 * ln(1 + N / n0), m_min, m_max)
    F(t) = R_total * ln(1 + k t) / ln(1 + k T)                     reward emission, t in years

Prices are floats in CHOIR for analysis; the wei a price is sent on chain as comes from
:func:`thread_price_wei`, which evaluates the same formula in decimal arithmetic so that every machine gets the
same integer (see ``wei.py``). No chain dependency: everything here is plain NumPy and the standard library.
"""

from .emission import EMISSION_K, EMISSION_YEARS, REWARD_POOL, emission, emission_rate
from .model import stake_price, thread_price, thread_prices
from .novelty import MAX_NOVELTY_REWARD, NOVELTY_THRESHOLD, novelty_reward
from .params import DEFAULT_WINDOW, QahoParams
from .state import (
    BASE_ORDER,
    anharmonic_coefficient,
    excitation_level,
    potential_order,
    refusal_ratio,
    refusal_weight,
)
from .units import WAD, from_wei, to_wei
from .wei import stake_price_wei, thread_price_wei, thread_prices_wei

__all__ = [
    "BASE_ORDER",
    "DEFAULT_WINDOW",
    "EMISSION_K",
    "EMISSION_YEARS",
    "MAX_NOVELTY_REWARD",
    "NOVELTY_THRESHOLD",
    "REWARD_POOL",
    "WAD",
    "QahoParams",
    "anharmonic_coefficient",
    "emission",
    "emission_rate",
    "excitation_level",
    "from_wei",
    "novelty_reward",
    "potential_order",
    "refusal_ratio",
    "refusal_weight",
    "stake_price",
    "stake_price_wei",
    "thread_price",
    "thread_price_wei",
    "thread_prices",
    "thread_prices_wei",
    "to_wei",
]
