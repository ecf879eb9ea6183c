"""Conversion of CHOIR amounts (floats) to the integer wei units used on chain (protocol section 1)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from choir_chain.protocol.units import CHOIR

__all__ = ["WAD", "from_wei", "to_wei"]

WAD = CHOIR
"""Wei per CHOIR (18 decimals); the name the pricing maths uses."""

# Enough digits for the exact decimal expansion of any float64 (at most 767 significant digits) times 1e18,
# and for the integer part of the largest float (309 digits) plus 18: no step below ever rounds but the last.
_EXACT = Context(prec=2000)
_ONE = Decimal(1)
_WAD_DECIMAL = Decimal(WAD)


@overload
def to_wei(price: float | numbers.Real | np.floating[Any] | np.integer[Any]) -> int: ...
@overload
def to_wei(price: Sequence[float] | NDArray[Any]) -> list[int]: ...
def to_wei(price: object) -> int | list[int]:
    """Exact conversion of a CHOIR amount to integer wei (``1 CHOIR = 10**18 wei``).

    Rounding rule: the **exact** binary value of the float (``Decimal(float)``, no decimal-string detour) is
    multiplied by ``10**18`` and rounded to the nearest wei, **ties (a fraction of exactly 0.5 wei) round
    half up**, i.e. away from zero since amounts are non-negative::

        wei = floor(Decimal(price) * 10**18 + 1/2)

    So ``1.5 -> 1_500_000_000_000_000_000`` exactly, and ``0.1`` (binary value ``0.1000000000000000055...``)
    gives ``100_000_000_000_000_006``. Python ints (and ``Decimal`` / ``Fraction`` values) are converted
    exactly too.

    A scalar (Python or NumPy number, 0-d array) gives a Python ``int``; a 1-D sequence or array gives a
    ``list[int]`` of Python ints, ready for ABI encoding (``uint256[]``). Negative, NaN or infinite amounts,
    booleans and arrays of more than one dimension are a ``ValueError``.
    """
    if isinstance(price, np.ndarray) or (isinstance(price, Sequence) and not isinstance(price, str | bytes)):
        arr = np.asarray(price, dtype=object)
        if arr.ndim == 0:
            return _scalar_to_wei(arr.item(), "price")
        if arr.ndim != 1:
            raise ValueError(f"price must be a scalar or a 1-D sequence, got shape {arr.shape}")
        return [_scalar_to_wei(v, f"price[{i}]") for i, v in enumerate(arr.tolist())]
    return _scalar_to_wei(price, "price")


def _scalar_to_wei(value: object, name: str) -> int:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if isinstance(value, np.generic):
        value = value.item()  # NumPy scalar -> Python int / float (exact)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value!r}")
        value = Fraction(value)  # exact, whatever its precision or exponent
    if isinstance(value, numbers.Rational):  # int, Fraction
        num, den = int(value.numerator) * WAD, int(value.denominator)
        if num < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return (2 * num + den) // (2 * den)  # floor(q + 1/2): half up, exact integer arithmetic
    if not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"{name} must be finite, got {as_float!r}")
    if as_float < 0.0:
        raise ValueError(f"{name} must be >= 0, got {as_float!r}")
    scaled = _EXACT.multiply(Decimal(as_float), _WAD_DECIMAL)  # Decimal(float) is the exact binary value
    return int(scaled.quantize(_ONE, rounding=ROUND_HALF_UP, context=_EXACT))


def from_wei(wei: int) -> float:
    """Integer wei to CHOIR as the nearest float (for display and analysis; not exact above 2**53 wei)."""
    if isinstance(wei, bool) or not isinstance(wei, numbers.Integral):
        raise ValueError(f"wei must be an integer, got {wei!r}")
    return int(wei) / WAD
