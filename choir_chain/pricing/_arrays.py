"""Input checking and scalar/array plumbing shared by the pricing functions (private)."""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: A scalar accepted where the functions broadcast (``np.float64`` is a ``float`` already).
#:
#: The public functions are overloaded: all-``Scalar`` arguments give a Python ``float`` (or ``int``), any
#: ``ArrayLike`` gives an ndarray. ``ArrayLike`` includes the scalars, so mypy reports the first overload as
#: overlapping; it is picked first, which is what we want, hence ``# type: ignore[overload-overlap]`` there
#: (the same pattern as NumPy's own stubs).
Scalar = float | int | np.floating[Any] | np.integer[Any]


def checked_array(
    value: ArrayLike,
    name: str,
    *,
    lower: float | None = 0.0,
    upper: float | None = None,
    allow_inf: bool = False,
) -> NDArray[np.float64]:
    """``value`` as a float64 array, or ``ValueError`` naming ``name`` if not numeric, NaN or out of range."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not be NaN")
    if not allow_inf and np.isinf(arr).any():
        raise ValueError(f"{name} must be finite")
    if lower is not None and (arr < lower).any():
        raise ValueError(f"{name} must be >= {lower}, got min {float(arr.min())!r}")
    if upper is not None and (arr > upper).any():
        raise ValueError(f"{name} must be <= {upper}, got max {float(arr.max())!r}")
    return arr


def is_scalar(*values: ArrayLike) -> bool:
    """True when every input is 0-dimensional (the result is then returned as a Python scalar)."""
    return all(np.ndim(v) == 0 for v in values)


def finish(result: NDArray[np.float64], scalar: bool) -> float | NDArray[np.float64]:
    """Python ``float`` for scalar inputs, the ndarray otherwise."""
    return float(result) if scalar else result


def checked_window(window: object) -> int:
    """``window`` as an ``int >= 1`` or ``ValueError`` naming it."""
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise ValueError(f"window must be an integer, got {window!r}")
    out = operator.index(window)
    if out < 1:
        raise ValueError(f"window must be >= 1, got {out}")
    return out
