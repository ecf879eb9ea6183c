"""Typed, immutable parameter set of the QAHO stake-price model (protocol section 4)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

from ._arrays import checked_window

__all__ = ["DEFAULT_WINDOW", "QahoParams"]

#: Number of trailing settled specs in the refusal ratio ``r`` (protocol section 4, ``W = 20``).
DEFAULT_WINDOW = 20

# Fields that are divided by, so zero is rejected as well as negative values.
_POSITIVE_FIELDS = frozenset({"c0", "n0"})


@dataclass(frozen=True, slots=True)
class QahoParams:
    """All parameters of the QAHO model, with the defaults of protocol section 4.

    The stake price of a thread is::

        P0 = s0 * [ (2n + 1) + (K0 * lam) ** (1 / (m + 1)) ]
        K0 = clamp(k0_base * (1 + g1 * r), k0_min, k0_max)
        m  = clamp(2 + b1 * tanh(c / c0) + b2 * ln(1 + N / n0), m_min, m_max)

    with ``r`` the refusal ratio over the last ``window`` settled specs.

    Attributes:
        s0: base stake ``S0`` in CHOIR.
        lam: coupling ``lambda``.
        k0_base: base anharmonic coefficient ``K0_base``.
        g1: sensitivity of ``K0`` to the refusal ratio.
        k0_min: lower clamp of ``K0``.
        k0_max: upper clamp of ``K0``.
        b1: weight of the citation term in ``m``.
        b2: weight of the co-author term in ``m``.
        c0: citation scale (divisor, must be > 0).
        n0: co-author scale (divisor, must be > 0).
        m_min: lower clamp of ``m``.
        m_max: upper clamp of ``m``.
        window: number of trailing settled specs in the refusal ratio (integer >= 1).

    Every float field must be finite and non-negative (``c0`` and ``n0`` strictly positive); ints are
    accepted and stored as floats. ``k0_min <= k0_max`` and ``m_min <= m_max`` are required. A violation
    raises ``ValueError`` whose message names the field. Use ``dataclasses.replace`` to derive a variant
    (it validates again).
    """

    s0: float = 10.0
    lam: float = 1.0
    k0_base: float = 1.0
    g1: float = 0.8
    k0_min: float = 0.5
    k0_max: float = 5.0
    b1: float = 0.8
    b2: float = 0.4
    c0: float = 10.0
    n0: float = 5.0
    m_min: float = 2.0
    m_max: float = 4.0
    window: int = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "window":
                continue
            object.__setattr__(self, f.name, _check_float(f.name, getattr(self, f.name)))
        object.__setattr__(self, "window", checked_window(self.window))
        if self.k0_min > self.k0_max:
            raise ValueError(f"k0_min ({self.k0_min}) must not exceed k0_max ({self.k0_max})")
        if self.m_min > self.m_max:
            raise ValueError(f"m_min ({self.m_min}) must not exceed m_max ({self.m_max})")


def _check_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    if name in _POSITIVE_FIELDS:
        if out <= 0.0:
            raise ValueError(f"{name} must be > 0 (it is a divisor), got {out!r}")
    elif out < 0.0:
        raise ValueError(f"{name} must be >= 0, got {out!r}")
    return out
