"""The QAHO price in integer wei, bit-identical on every machine (protocol section 4 and r2 section 9).

The NumPy model (:func:`choir_chain.pricing.thread_prices`) is the vectorised model for analysis, simulation and
batches, but its floats depend on the CPU: NumPy dispatches ``**``, ``tanh`` and ``log1p`` to SIMD routines
(AVX-512 among them) that differ from the scalar ones by an ulp for a good share of inputs, and one ulp of a
40 CHOIR price is about 7,000 wei. A price that goes on chain must not depend on who computed it, so the path from
a thread's observable state to the wei it is sent as is evaluated here in decimal arithmetic instead.

Python's :mod:`decimal` (libmpdec) computes with integers only: the same digits on every CPU, compiler and
operating system, whatever vector instructions the machine has. ``exp`` and ``ln`` are correctly rounded
(``x ** y`` is taken as ``exp(y ln x)``), so the digits are a function of the inputs alone. The float inputs (the
refusal ratio and the parameters) are taken at their exact binary values; the evaluation carries :data:`DIGITS`
significant digits, far more than the 18 decimals of a wei amount, and the result is rounded to the nearest wei,
halves up, as :func:`choir_chain.pricing.to_wei` does. The value agrees with the float model to within a few ulp
(about 1e-15 relative): the two differ only in how they round, never in the formula.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from . import _wei_batch
from .params import QahoParams
from .state import BASE_ORDER, excitation_level
from .units import WAD

__all__ = ["DIGITS", "stake_price_wei", "thread_price_wei", "thread_prices_wei"]

#: Significant decimal digits of every intermediate result.
DIGITS = 40

_DEFAULT = QahoParams()
_ONE = Decimal(1)
_TWO = Decimal(2)
# tanh(x) = 1 to DIGITS digits beyond this; also keeps exp() away from needlessly tiny results.
_TANH_SATURATION = Decimal(DIGITS)


def thread_price_wei(
    approved_recent: int,
    refusal: float,
    citations: float,
    coauthors: float,
    params: QahoParams = _DEFAULT,
) -> int:
    """QAHO price of one thread in wei, from its observable state (the inputs of ``thread_prices``)::

        n  = floor(log2(1 + approved_recent))
        K0 = clamp(k0_base * (1 + g1 * refusal), k0_min, k0_max)
        m  = clamp(2 + b1 * tanh(citations / c0) + b2 * ln(1 + coauthors / n0), m_min, m_max)
        P0 = s0 * [ (2n + 1) + (K0 * lam) ** (1 / (m + 1)) ]          rounded to the nearest wei, halves up

    Deterministic on every machine (module docstring). Bad input raises ``ValueError`` naming the argument.
    """
    return _price_wei(
        _count(approved_recent, "approved_recent"),
        _ratio(refusal),
        _non_negative(citations, "citations"),
        _non_negative(coauthors, "coauthors"),
        params,
    )


def thread_prices_wei(
    approved_recent: Sequence[int],
    refusal: Sequence[float],
    citations: Sequence[float],
    coauthors: Sequence[float],
    params: QahoParams = _DEFAULT,
) -> list[int]:
    """:func:`thread_price_wei` of many threads (one element per thread in each sequence): the same integers.

    Evaluated all at once in double-double arithmetic (`_wei_batch.py`, about 50 times faster: a full reprice of
    100,000 threads takes a tenth of a second instead of sixteen), except the rare price within a hair of a half wei,
    which the decimal path decides. Input it would refuse, or that float64 cannot hold exactly, goes one by one
    through :func:`thread_price_wei` (so errors are the same, naming the argument)."""
    sizes = {len(approved_recent), len(refusal), len(citations), len(coauthors)}
    if len(sizes) != 1:
        raise ValueError(f"the state sequences must have one length, got lengths {sorted(sizes)}")
    arrays = _batch_arrays(approved_recent, refusal, citations, coauthors)
    if arrays is None:  # something to refuse, or outside the batch path's exact range: one by one
        return [
            thread_price_wei(a, r, c, n, params)
            for a, r, c, n in zip(approved_recent, refusal, citations, coauthors, strict=True)
        ]
    level, ratio, cited, authors = arrays
    prices = _wei_batch.prices_wei(level, ratio, cited, authors, params, float(_TANH_SATURATION))
    # The few prices too close to a half wei for the double-double value to decide: the decimal path's own.
    return [
        p
        if p is not None
        else _price_wei(
            int(level[i]), Decimal(float(ratio[i])), Decimal(float(cited[i])), Decimal(float(authors[i])), params
        )
        for i, p in enumerate(prices)
    ]


_PLAIN_TYPES = frozenset({int, float, np.int64, np.float64})
_EXACT_LIMIT = float(2**53)


def _batch_arrays(
    approved_recent: Sequence[int], refusal: Sequence[float], citations: Sequence[float], coauthors: Sequence[float]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """The four state sequences as arrays for `_wei_batch`, or None unless every value is a plain int or float
    that the scalar path would accept and that float64 holds exactly (then that path decides, errors included)."""
    columns = []
    for values in (approved_recent, refusal, citations, coauthors):
        if isinstance(values, np.ndarray):
            if values.dtype.kind not in "iuf" or values.ndim != 1:
                return None
            array = values.astype(np.float64)
            exact = values.dtype.kind == "f" or not values.size or int(np.abs(values).max()) < 2**53
        else:
            if not set(map(type, values)) <= _PLAIN_TYPES:
                return None  # bools, Decimals, NumPy scalars of other widths...: the scalar path decides
            try:
                array = np.asarray(values, dtype=np.float64)
            except OverflowError:
                return None
            exact = not array.size or float(np.abs(array).max()) < _EXACT_LIMIT
        if not exact or not np.isfinite(array).all() or (array < 0).any():
            return None
        columns.append(array)
    approved, ratio, cited, authors = columns
    if (ratio > 1.0).any():
        return None
    return excitation_level(approved), ratio, cited, authors


def stake_price_wei(n: int, k0: float, m: float, params: QahoParams = _DEFAULT) -> int:
    """``P0 = s0 * [(2n + 1) + (K0 * lam) ** (1 / (m + 1))]`` in wei from the oscillator's own state.

    The deterministic counterpart of :func:`choir_chain.pricing.stake_price` (the model's ``n``, ``K0`` and ``m``
    given directly rather than derived from a thread's observable state).
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    with localcontext(Context(prec=DIGITS)):
        return _p0_wei(int(n), Decimal(_real(k0, "k0")), Decimal(_real(m, "m")), params)


@lru_cache(maxsize=65_536)
def _price_wei(level: int, refusal: Decimal, citations: Decimal, coauthors: Decimal, params: QahoParams) -> int:
    """Cached: threads in the same state (common: new threads) cost one evaluation per process."""
    with localcontext(Context(prec=DIGITS)):
        k0 = _clamp(_d(params.k0_base) * (_ONE + _d(params.g1) * refusal), params.k0_min, params.k0_max)
        order = _clamp(
            Decimal(BASE_ORDER)
            + _d(params.b1) * _tanh(citations / _d(params.c0))
            + _d(params.b2) * (_ONE + coauthors / _d(params.n0)).ln(),
            params.m_min,
            params.m_max,
        )
        return _p0_wei(level, k0, order, params)


def _p0_wei(level: int, k0: Decimal, order: Decimal, params: QahoParams) -> int:
    """The price formula in the current (DIGITS-digit) decimal context, rounded to the nearest wei, halves up."""
    coupled = k0 * _d(params.lam)
    # x ** y as exp(y ln x): both correctly rounded, and several times faster than Decimal's own power.
    shift = (coupled.ln() / (order + _ONE)).exp() if coupled > 0 else Decimal(0)
    scaled = _d(params.s0) * (Decimal(2 * level + 1) + shift) * WAD
    # Whole wei need as many digits as the integer part has: give the final rounding room for any magnitude.
    with localcontext(Context(prec=max(DIGITS, scaled.adjusted() + 2))):
        return int(scaled.quantize(_ONE, rounding=ROUND_HALF_UP))


def _tanh(x: Decimal) -> Decimal:
    """tanh of a non-negative x from one correctly rounded ``exp``."""
    if x >= _TANH_SATURATION:
        return _ONE
    decay = (-_TWO * x).exp()
    return (_ONE - decay) / (_ONE + decay)


def _clamp(value: Decimal, low: float, high: float) -> Decimal:
    return min(max(value, _d(low)), _d(high))


def _d(value: float) -> Decimal:
    """The exact binary value of a float (no decimal-string detour)."""
    return Decimal(value)


def _count(value: object, name: str) -> int:
    level = excitation_level(_real(value, name))  # exact for ints and floats alike
    return int(level)


def _ratio(value: object) -> Decimal:
    ratio = _real(value, "refusal")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"refusal must lie in [0, 1], got {ratio!r}")
    return Decimal(ratio)


def _non_negative(value: object, name: str) -> Decimal:
    return Decimal(_real(value, name))


def _real(value: object, name: str) -> float | int:
    """A finite non-negative int or float (NumPy scalars included), else ``ValueError`` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {number!r}")
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {number!r}")
    return number
