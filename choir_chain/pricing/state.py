"""The three state variables of a thread's QAHO oscillator: ``n``, ``K0`` (via ``r``) and ``m``.

All functions broadcast over NumPy arrays (one element per thread) and return a Python scalar when every
input is a scalar. Bad input (negative counts, NaN, a ratio outside [0, 1]) raises ``ValueError`` naming the
argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import Scalar, checked_array, checked_window, finish, is_scalar
from .params import DEFAULT_WINDOW, QahoParams

__all__ = [
    "BASE_ORDER",
    "anharmonic_coefficient",
    "excitation_level",
    "potential_order",
    "refusal_ratio",
    "refusal_weight",
]

_DEFAULT = QahoParams()

#: Base order of the potential: ``m = 2`` (harmonic-plus-quartic) before citations and co-authors.
BASE_ORDER = 2.0

_EXACT_FLOAT_INT = 2**53


# ---------------------------------------------------------------------------------------------------------
# n: excitation level from activity
# ---------------------------------------------------------------------------------------------------------
@overload
def excitation_level(approved_recent: Scalar) -> int: ...  # type: ignore[overload-overlap]
@overload
def excitation_level(approved_recent: ArrayLike) -> NDArray[np.int64]: ...
def excitation_level(approved_recent: ArrayLike) -> int | NDArray[np.int64]:
    """Excitation level ``n = floor(log2(1 + a))``.

    ``a`` is the number of approved messages of the thread in the trailing 7 days (any non-negative finite
    real is accepted). The result is exact for every input, including integers above ``2**53`` and values
    just below ``2**k - 1`` where ``1 + a`` would round up to a power of two in floating point:
    ``a = 0 -> 0``, ``1..2 -> 1``, ``3..6 -> 2``, ``7..14 -> 3``, ...

    Returns a Python ``int`` for a scalar, an ``int64`` array otherwise.
    """
    if isinstance(approved_recent, int) and not isinstance(approved_recent, bool):
        if approved_recent < 0:
            raise ValueError(f"approved_recent must be >= 0, got {approved_recent}")
        return (approved_recent + 1).bit_length() - 1  # exact for arbitrarily large Python ints
    raw = np.asarray(approved_recent)
    if raw.dtype.kind in "iu":
        if raw.size and int(raw.min()) < 0:
            raise ValueError(f"approved_recent must be >= 0, got min {int(raw.min())}")
        if raw.size and int(raw.max()) >= _EXACT_FLOAT_INT:
            exact = np.frompyfunc(lambda v: (int(v) + 1).bit_length() - 1, 1, 1)(raw)
            levels = np.asarray(exact, dtype=np.int64)
            return int(levels) if levels.ndim == 0 else levels
    a = checked_array(approved_recent, "approved_recent")
    # frexp(x) = (f, e) with x = f * 2**e, 0.5 <= f < 1, so floor(log2(x)) = e - 1 exactly for a float x.
    _, exponent = np.frexp(1.0 + a)
    level = exponent.astype(np.int64) - 1
    # 1 + a may have rounded up onto 2**level; the true 1 + a < 2**level iff a < 2**level - 1 (the right side
    # is exact for level <= 53, and above that a is an even integer, so comparing with 2**level is exact).
    level = np.where(a < np.ldexp(1.0, level) - 1.0, level - 1, level)
    return int(level) if level.ndim == 0 else level


# ---------------------------------------------------------------------------------------------------------
# r: refusal ratio of the last W settled specs
# ---------------------------------------------------------------------------------------------------------
def refusal_weight(approvers: int, deniers: int) -> float:
    """Refusal weight of one settled spec: ``D / V`` with ``V = A + D`` (protocol sections 3 and 4).

    Approved (``D = 0``) gives 0, denied (``A = 0``) gives 1, a split gives ``D / V``. An expired spec
    (``V = 0``) is not counted in the refusal ratio, so it is a ``ValueError`` here: leave it out of the
    sequence passed to :func:`refusal_ratio`.
    """
    for name, value in (("approvers", approvers), ("deniers", deniers)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    votes = int(approvers) + int(deniers)
    if votes == 0:
        raise ValueError("approvers + deniers is 0: an expired spec is not counted in the refusal ratio")
    return int(deniers) / votes


def refusal_ratio(outcomes: Sequence[float] | NDArray[Any], window: int = DEFAULT_WINDOW) -> float:
    """Refusal ratio ``r`` = mean refusal weight of the last ``window`` settled specs.

    ``outcomes`` lists the per-spec refusal weights of one thread, oldest first: 0 approved, 1 denied,
    ``D / V`` split (see :func:`refusal_weight`); expired specs are simply absent. With fewer than
    ``window`` entries the mean is over all of them (a correctly rounded sum divided by the count); an empty
    sequence gives ``r = 0.0`` (so ``K0 = K0_base``).
    Weights must lie in [0, 1] (NaN rejected); ``window`` must be an integer >= 1.
    """
    w = checked_window(window)
    weights = checked_array(outcomes, "outcomes", lower=0.0, upper=1.0)
    if weights.ndim != 1:
        raise ValueError(f"outcomes must be a 1-D sequence, got shape {weights.shape}")
    if weights.size == 0:
        return 0.0
    recent = weights[-w:].tolist()
    # fsum is correctly rounded, so the ratio (an input of the wei price) is the same float on every machine,
    # whatever order a vectorised mean would add in.
    return math.fsum(recent) / len(recent)


# ---------------------------------------------------------------------------------------------------------
# K0: anharmonic coefficient
# ---------------------------------------------------------------------------------------------------------
@overload
def anharmonic_coefficient(  # type: ignore[overload-overlap]
    r: Scalar, params: QahoParams = _DEFAULT
) -> float: ...
@overload
def anharmonic_coefficient(r: ArrayLike, params: QahoParams = _DEFAULT) -> NDArray[np.float64]: ...
def anharmonic_coefficient(r: ArrayLike, params: QahoParams = _DEFAULT) -> float | NDArray[np.float64]:
    """Anharmonic coefficient ``K0 = clamp(k0_base * (1 + g1 * r), k0_min, k0_max)``.

    ``r`` is the refusal ratio in [0, 1]. With the defaults ``K0`` runs from 1 (no refusals) to 1.8 (all
    refused); the clamp to [0.5, 5] matters for other parameter sets. Non-decreasing in ``r``.
    """
    ratio = checked_array(r, "r", lower=0.0, upper=1.0)
    k0 = np.clip(params.k0_base * (1.0 + params.g1 * ratio), params.k0_min, params.k0_max)
    return finish(k0, is_scalar(r))


# ---------------------------------------------------------------------------------------------------------
# m: potential order
# ---------------------------------------------------------------------------------------------------------
@overload
def potential_order(  # type: ignore[overload-overlap]
    citations: Scalar, coauthors: Scalar, params: QahoParams = _DEFAULT
) -> float: ...
@overload
def potential_order(
    citations: ArrayLike, coauthors: ArrayLike, params: QahoParams = _DEFAULT
) -> NDArray[np.float64]: ...
def potential_order(
    citations: ArrayLike, coauthors: ArrayLike, params: QahoParams = _DEFAULT
) -> float | NDArray[np.float64]:
    """Potential order ``m = clamp(2 + b1 * tanh(c / c0) + b2 * ln(1 + N / n0), m_min, m_max)``.

    ``c`` = citations the thread has received, ``N`` = its co-authors (zero allowed for both; negative is a
    ``ValueError``). The base order 2 is the constant :data:`BASE_ORDER`. Non-decreasing in ``c`` and ``N``;
    always within ``[m_min, m_max]``.
    """
    c = checked_array(citations, "citations")
    n_authors = checked_array(coauthors, "coauthors")
    m = BASE_ORDER + params.b1 * np.tanh(c / params.c0) + params.b2 * np.log1p(n_authors / params.n0)
    return finish(np.clip(m, params.m_min, params.m_max), is_scalar(citations, coauthors))
