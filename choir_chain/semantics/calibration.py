"""Calibration of all-MiniLM-L6-v2's cosine similarity onto the scale the novelty curve was made for (protocol 7,
r2; docs/novelty.md).

The curve `w = 0.01 * exp((ln 10 / 0.05) * (0.95 - s))` (0 above 0.95, capped at 100 from 0.75 down) was tuned on
OpenAI ada-002 similarities, which crowd into [0.7, 1]. MiniLM spreads the same pairs over [-0.1, 1]: unrelated
text near 0, same-topic text near 0.4, rewordings near 0.9. Fed raw, almost every message earns the cap.

Version 1 is an affine map, fitted by least squares on the calibration corpus (`semantics.corpus`: paraphrase,
same-topic and unrelated pairs, each class with its target on the curve's scale):

    s = clamp(INTERCEPT + SLOPE * raw, -1, 1)

It is evaluated in WAD integers (`calibrate_wad`), so the similarity sent on chain, and hence the weight and the
wei paid, is the same on every machine for the same raw score. The fit itself (`fit`, `scripts/calibrate_novelty.py`)
is float arithmetic, run once; its rounded coefficients are the constants below, and
tests/choir_chain/test_calibration.py refits them from the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from choir_chain.protocol.units import WAD

CALIBRATION_VERSION = 1
"""Sent with every novelty round (`setNoveltyScores(round, modelId, calibrationVersion, ...)`). 0 was the identity
(raw MiniLM cosine); 1 is the affine map below."""
SLOPE_WAD = 260_600_000_000_000_000
"""0.2606: the fitted slope, rounded to 4 decimals."""
INTERCEPT_WAD = 729_100_000_000_000_000
"""0.7291: the fitted intercept, rounded to 4 decimals."""
DECIMALS = 4
"""The fit is rounded to this many decimals (its standard error is larger than 1e-4)."""


def to_wad(similarity: float) -> int:
    """A cosine similarity as a WAD integer, clamped to [-1e18, 1e18] (what the distributor accepts)."""
    return max(-WAD, min(WAD, round(similarity * WAD)))


def calibrate_wad(raw_wad: int) -> int:
    """The calibrated similarity of a raw MiniLM similarity, both in WAD, in integers (floor division), clamped
    to [-1e18, 1e18]."""
    raw_wad = max(-WAD, min(WAD, raw_wad))
    return max(-WAD, min(WAD, INTERCEPT_WAD + SLOPE_WAD * raw_wad // WAD))


def calibrate(raw: float) -> int:
    """`calibrate_wad(to_wad(raw))`: what the scorer sends on chain for the raw similarity `raw`."""
    return calibrate_wad(to_wad(raw))


def raw_at(calibrated: float) -> float:
    """The raw MiniLM similarity that maps to `calibrated` (for documentation: where the curve's landmarks fall)."""
    return (calibrated - INTERCEPT_WAD / WAD) / (SLOPE_WAD / WAD)


@dataclass(frozen=True)
class Fit:
    slope: float
    intercept: float
    residuals: np.ndarray
    """target - (intercept + slope * raw), per pair, in the order given."""

    @property
    def rms(self) -> float:
        return float(np.sqrt(np.mean(self.residuals**2)))

    def rounded(self) -> tuple[int, int]:
        """(slope, intercept) in WAD, rounded to `DECIMALS` decimals, as the constants of this module are."""
        step = WAD // 10**DECIMALS
        return round(self.slope * 10**DECIMALS) * step, round(self.intercept * 10**DECIMALS) * step


def fit(raw: Sequence[float], targets: Sequence[float]) -> Fit:
    """Least-squares affine fit of `targets` on `raw` similarities."""
    x = np.asarray(raw, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"fit needs two equal-length sequences of at least 2 values, got {x.shape} and {y.shape}")
    design = np.stack([np.ones_like(x), x], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    return Fit(float(slope), float(intercept), y - (intercept + slope * x))
