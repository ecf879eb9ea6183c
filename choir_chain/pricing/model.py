"""The QAHO stake price ``P0`` (protocol section 4), vectorised over threads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import Scalar, checked_array, finish, is_scalar
from .params import QahoParams
from .state import anharmonic_coefficient, excitation_level, potential_order, refusal_ratio

__all__ = ["stake_price", "thread_price", "thread_prices"]

_DEFAULT = QahoParams()


@overload
def stake_price(  # type: ignore[overload-overlap]
    n: Scalar, k0: Scalar, m: Scalar, params: QahoParams = _DEFAULT
) -> float: ...
@overload
def stake_price(n: ArrayLike, k0: ArrayLike, m: ArrayLike, params: QahoParams = _DEFAULT) -> NDArray[np.float64]: ...
def stake_price(
    n: ArrayLike, k0: ArrayLike, m: ArrayLike, params: QahoParams = _DEFAULT
) -> float | NDArray[np.float64]:
    """QAHO stake price in CHOIR (float)::

        P0 = s0 * [ (2n + 1) + (K0 * lam) ** (1 / (m + 1)) ]

    ``(2n + 1)`` is the harmonic ladder of excitation level ``n`` and ``(K0 * lam) ** (1 / (m + 1))`` the
    anharmonic ground-state shift of a potential of order ``m``. Reference values (``s0 = lam = 1``):
    ``(n, K0, m) = (0, 1, 2) -> 2``, ``(0, 8, 2) -> 3``, ``(1, 1, 2) -> 4``, ``(2, 27, 2) -> 8``,
    ``(0, 16, 3) -> 3``.

    ``n``, ``k0`` and ``m`` broadcast against each other (one element per thread); all must be finite and
    non-negative (``ValueError`` naming the argument otherwise). Scalars in give a Python ``float``, arrays
    give an ndarray. The price strictly increases with ``n`` and is non-decreasing in ``k0`` (for
    ``lam > 0``). Convert with :func:`choir_chain.pricing.to_wei` before sending it on chain.
    """
    level = checked_array(n, "n")
    coeff = checked_array(k0, "k0")
    order = checked_array(m, "m")
    return finish(_p0(level, coeff, order, params), is_scalar(n, k0, m))


def _p0(
    level: NDArray[np.float64], coeff: NDArray[np.float64], order: NDArray[np.float64], params: QahoParams
) -> NDArray[np.float64]:
    price = params.s0 * ((2.0 * level + 1.0) + (coeff * params.lam) ** (1.0 / (order + 1.0)))
    return np.asarray(price, dtype=np.float64)


@overload
def thread_prices(  # type: ignore[overload-overlap]
    approved_recent: Scalar,
    refusal: Scalar,
    citations: Scalar,
    coauthors: Scalar,
    params: QahoParams = _DEFAULT,
) -> float: ...
@overload
def thread_prices(
    approved_recent: ArrayLike,
    refusal: ArrayLike,
    citations: ArrayLike,
    coauthors: ArrayLike,
    params: QahoParams = _DEFAULT,
) -> NDArray[np.float64]: ...
def thread_prices(
    approved_recent: ArrayLike,
    refusal: ArrayLike,
    citations: ArrayLike,
    coauthors: ArrayLike,
    params: QahoParams = _DEFAULT,
) -> float | NDArray[np.float64]:
    """Vectorised price of many threads from their observable state (one element per thread)::

        n  = floor(log2(1 + approved_recent))
        K0 = clamp(k0_base * (1 + g1 * refusal), k0_min, k0_max)
        m  = clamp(2 + b1 * tanh(citations / c0) + b2 * ln(1 + coauthors / n0), m_min, m_max)
        P0 = stake_price(n, K0, m)

    ``refusal`` is each thread's refusal ratio (see :func:`refusal_ratio`).
    """
    level = np.asarray(excitation_level(approved_recent), dtype=np.float64)
    coeff = np.asarray(anharmonic_coefficient(refusal, params), dtype=np.float64)
    order = np.asarray(potential_order(citations, coauthors, params), dtype=np.float64)
    return finish(_p0(level, coeff, order, params), is_scalar(approved_recent, refusal, citations, coauthors))


def thread_price(
    approved_recent: int,
    outcomes: Sequence[float] | NDArray[Any],
    citations: float,
    coauthors: float,
    params: QahoParams = _DEFAULT,
) -> float:
    """Price of one thread in CHOIR, chaining the model end to end.

    ``n`` from ``approved_recent`` (approvals in the trailing 7 days), ``K0`` from the refusal ratio of the
    last ``params.window`` entries of ``outcomes`` (per-spec refusal weights, oldest first), ``m`` from the
    citations received and the number of co-authors; then ``P0`` as in :func:`stake_price`.
    """
    r = refusal_ratio(outcomes, params.window)
    return float(thread_prices(approved_recent, r, citations, coauthors, params))
