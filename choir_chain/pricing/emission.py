"""Reward-pool emission curve ``F(t)`` and its rate ``F'(t)`` (protocol sections 1 and 7)."""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import Scalar, checked_array, finish, is_scalar

__all__ = ["EMISSION_K", "EMISSION_YEARS", "REWARD_POOL", "emission", "emission_rate"]

#: ``R_total``: CHOIR emitted as rewards over the whole curve (2.5 billion).
REWARD_POOL = 2_500_000_000.0
#: ``k``: curvature of the emission curve, per year.
EMISSION_K = 2.0
#: ``T``: length of the emission in years.
EMISSION_YEARS = 4.0

# ln(1 + k T) = ln 9. ln rather than log1p: ln 9 == 2 * ln 3 in float64, so F(1) = R_total / 2 to the bit.
_LOG_END = math.log(1.0 + EMISSION_K * EMISSION_YEARS)


@overload
def emission(t_years: Scalar) -> float: ...  # type: ignore[overload-overlap]
@overload
def emission(t_years: ArrayLike) -> NDArray[np.float64]: ...
def emission(t_years: ArrayLike) -> float | NDArray[np.float64]:
    """Cumulative reward emission in CHOIR at ``t`` years since launch::

        F(t) = R_total * ln(1 + k t) / ln(1 + k T),   R_total = 2.5e9, k = 2, T = 4

    so ``F(0) = 0``, ``F(1) = R_total * ln 3 / ln 9 = R_total / 2`` and ``F(T) = R_total``. ``t`` is clamped
    to ``[0, T]``: after ``T`` the curve stays at ``R_total`` (``t = +inf`` is accepted and gives
    ``R_total``). Negative or NaN ``t`` is a ``ValueError``. Vectorised; scalar in gives a Python ``float``.
    """
    t = checked_array(t_years, "t_years", allow_inf=True)
    clamped = np.minimum(t, EMISSION_YEARS)
    value = REWARD_POOL * (np.log(1.0 + EMISSION_K * clamped) / _LOG_END)
    return finish(np.asarray(value, dtype=np.float64), is_scalar(t_years))


@overload
def emission_rate(t_years: Scalar) -> float: ...  # type: ignore[overload-overlap]
@overload
def emission_rate(t_years: ArrayLike) -> NDArray[np.float64]: ...
def emission_rate(t_years: ArrayLike) -> float | NDArray[np.float64]:
    """Emission rate ``F'(t)`` in CHOIR per year::

        F'(t) = R_total * k / ((1 + k t) * ln(1 + k T))   for 0 <= t <= T,   0 for t > T

    At ``t = T`` this is the left derivative (the last instant of emission); strictly after ``T`` nothing is
    emitted. An epoch's budget is its integral, ``F(end) - F(start)`` (protocol section 7, revision 2); per day
    divide the rate by the days of a year. Negative or NaN ``t`` is a ``ValueError``; ``+inf`` gives 0.
    """
    t = checked_array(t_years, "t_years", allow_inf=True)
    inside = t <= EMISSION_YEARS
    safe_t = np.where(inside, t, 0.0)
    rate = np.where(inside, REWARD_POOL * EMISSION_K / ((1.0 + EMISSION_K * safe_t) * _LOG_END), 0.0)
    return finish(np.asarray(rate, dtype=np.float64), is_scalar(t_years))
