"""Double-double arithmetic on NumPy arrays: each number is an unevaluated sum ``hi + lo`` of two float64 arrays
(about 32 significant digits), for the batch wei path (`_wei_batch.py`).

The arithmetic is the classic error-free transformations (Dekker's split and product, Knuth's two-sum) as in
Hida, Li and Bailey's QD library ("Library for double-double and quad-double arithmetic", 2007). ``exp`` reduces
its argument by a table of exact constants (`exp`'s docstring) and ``log`` is one Newton step on ``exp`` from the
float64 logarithm, as in QD. Every step uses only IEEE-754 ``+ - * /`` and ``floor`` (correctly rounded, so
identical on every CPU), except the float64 ``log`` that seeds Newton, which only has to be close: one step
squares its error away. No fused multiply-add is used or needed: NumPy evaluates each
operation of an expression separately, so nothing is contracted.

No library provides this vectorised (the Python double-double packages work on one scalar at a time), hence the
small hand-written set here: only what the QAHO formula needs, on the ranges it needs (arguments of ``exp`` below
700 in magnitude, positive arguments of ``log``).
"""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction
from functools import cache

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
DD = tuple[F64, F64]

_SPLITTER = 134217729.0  # 2**27 + 1: Dekker's split of a float64 into two 26-bit halves


def _split_exact(value: Fraction) -> tuple[float, float]:
    """A rational as the nearest double-double (hi, lo)."""
    hi = float(value)
    return hi, float(value - Fraction(hi))


def const(value: float, like: F64) -> DD:
    """The exact float `value` as a double-double array shaped like `like`."""
    return np.full_like(like, value), np.zeros_like(like)


def two_sum(a: F64, b: F64) -> DD:
    """``a + b`` exactly, as (rounded sum, rounding error)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _quick_two_sum(a: F64, b: F64) -> DD:
    """``a + b`` exactly when ``|a| >= |b|`` (or a is 0)."""
    s = a + b
    return s, b - (s - a)


def _split(a: F64) -> DD:
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def two_prod(a: F64, b: F64) -> DD:
    """``a * b`` exactly, as (rounded product, rounding error), without FMA (Dekker)."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def add(x: DD, y: DD) -> DD:
    """``x + y`` (the accurate, IEEE-style double-double sum)."""
    s, e = two_sum(x[0], y[0])
    t, f = two_sum(x[1], y[1])
    s, e = _quick_two_sum(s, e + t)
    return _quick_two_sum(s, e + f)


def neg(x: DD) -> DD:
    return -x[0], -x[1]


def sub(x: DD, y: DD) -> DD:
    return add(x, neg(y))


def mul(x: DD, y: DD) -> DD:
    p, e = two_prod(x[0], y[0])
    return _quick_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def mul_float(x: DD, b: F64 | float) -> DD:
    """``x * b`` for a float64 (array or scalar) `b`."""
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), x[0].shape)
    p, e = two_prod(x[0], b_arr)
    return _quick_two_sum(p, e + x[1] * b_arr)


def scale(x: DD, power_of_two: float) -> DD:
    """``x * power_of_two`` (exact)."""
    return x[0] * power_of_two, x[1] * power_of_two


def div(x: DD, y: DD) -> DD:
    """``x / y`` by long division: three float quotients, each correcting the remainder of the last."""
    q1 = x[0] / y[0]
    r = sub(x, mul_float(y, q1))
    q2 = r[0] / y[0]
    r = sub(r, mul_float(y, q2))
    q3 = r[0] / y[0]
    q = _quick_two_sum(q1, q2)
    return add(q, (q3, np.zeros_like(q3)))


def exp(x: DD) -> DD:
    """``e ** x`` for ``|x| < 700``: ``e**(k / 4096) * e**r`` with ``k`` the nearest multiple (``|r| <= 2**-13``).

    ``e**(k / 4096) = e**(i / 64) * e**(j / 4096)`` (``k = 64 i + j``) from two tables of double-double constants,
    each the correctly rounded value of a 60-digit decimal ``exp``: the ``j`` table is fixed (64 entries), the
    ``i`` table is filled on demand (a few hundred entries over every price the model allows). ``e**r`` is
    ``1 + r + r**2 / 2`` in double-double plus the rest of its Taylor series in float64: that rest is below
    ``4e-13``, so its float64 rounding errors (and the ``lo`` part of ``r`` it leaves out) stay near ``1e-28``.
    """
    k = np.floor(x[0] * _EXP_STEPS + 0.5)
    r = add(x, (-k / _EXP_STEPS, np.zeros_like(k)))  # k / 4096 is exact
    r_hi = r[0]
    tail = r_hi * r_hi * r_hi * (1 / 6 + r_hi * (1 / 24 + r_hi * (1 / 120 + r_hi * (1 / 720 + r_hi / 5040))))
    small = add(add(r, scale(mul(r, r), 0.5)), (tail, np.zeros_like(tail)))
    keys = k.astype(np.int64)
    coarse, fine = np.divmod(keys, _EXP_FINE_STEPS)
    first = int(coarse.min()) if coarse.size else 0
    span = int(coarse.max()) - first + 1 if coarse.size else 0
    if span <= _DENSE_SPAN:  # the usual case: index a dense slice of the table
        coarse_values, where = np.arange(first, first + span), coarse - first
    else:
        coarse_values, where = np.unique(coarse, return_inverse=True)
    coarse_table = np.array([_exp_coarse(int(i)) for i in coarse_values.tolist()], dtype=np.float64).reshape(-1, 2)
    table = mul(
        (coarse_table[where, 0], coarse_table[where, 1]),
        (_EXP_FINE_TABLE[fine, 0], _EXP_FINE_TABLE[fine, 1]),
    )
    return add(mul(table, small), table)


_EXP_FINE_STEPS = 64
_EXP_COARSE_STEPS = 64
_EXP_STEPS = float(_EXP_FINE_STEPS * _EXP_COARSE_STEPS)
_DENSE_SPAN = 4096


def _exp_exact(value: Fraction) -> tuple[float, float]:
    context = Context(prec=60)
    return _split_exact(Fraction(context.exp(context.divide(Decimal(value.numerator), Decimal(value.denominator)))))


@cache
def _exp_coarse(i: int) -> tuple[float, float]:
    """``e ** (i / 64)`` as a double-double."""
    return _exp_exact(Fraction(i, _EXP_COARSE_STEPS))


_EXP_FINE_TABLE = np.array([_exp_exact(Fraction(j, int(_EXP_STEPS))) for j in range(_EXP_FINE_STEPS)])


def log(a: DD) -> DD:
    """``ln a`` for ``a > 0``: one Newton step ``y + a e**-y - 1`` from the float64 ``y = ln(hi)``."""
    y = np.log(a[0])
    zero = np.zeros_like(y)
    correction = sub(mul(a, exp((-y, zero))), const(1.0, y))
    return add((y, zero), correction)


def tanh_non_negative(x: DD, saturation: float) -> DD:
    """``tanh x`` for ``x >= 0`` as ``(1 - e**-2x) / (1 + e**-2x)``; exactly 1 from `saturation` on."""
    saturated = x[0] >= saturation
    capped = (np.where(saturated, 0.0, x[0]), np.where(saturated, 0.0, x[1]))
    decay = exp(scale(capped, -2.0))
    one = const(1.0, x[0])
    value = div(sub(one, decay), add(one, decay))
    return np.where(saturated, 1.0, value[0]), np.where(saturated, 0.0, value[1])
