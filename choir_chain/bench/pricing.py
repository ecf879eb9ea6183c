"""`stake_price` on 1,000,000 threads against a plain Python loop (`python -m choir_chain.bench.pricing`).

Both compute ``P0 = s0 * [(2n + 1) + (K0 * lam) ** (1 / (m + 1))]`` on the same random thread states (``n`` in
0..7, ``K0`` in [0.5, 5], ``m`` in [2, 4], as the model's clamps allow): NumPy through the public
`choir_chain.pricing.stake_price` (input checks included; `numpy_kernel_seconds` times the bare formula), the
loop with the `math` module over Python lists (converted before timing). Each is timed best of `repeats`; the
JSON line carries the times, the speed-up and how far the results differ (`identical` counts bit-for-bit equal
prices; `pow` is not correctly rounded, so a few ulps of difference would be no error). The array power with
an array exponent costs most of NumPy's time, which is why the speed-up is about 5x, not 50x.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from choir_chain.pricing import QahoParams, stake_price, thread_prices_wei
from choir_chain.pricing.wei import _price_wei

THREADS = 1_000_000
WEI_THREADS = 10_000
"""Threads priced by the deterministic wei path (`thread_prices_wei`), the one the pricer sends on chain."""
REPEATS = 3
SEED = 2024


def python_prices(ns: list[float], k0s: list[float], ms: list[float], params: QahoParams) -> list[float]:
    """The price formula one thread at a time, in plain Python."""
    s0, lam, pow_ = params.s0, params.lam, math.pow
    out = [0.0] * len(ns)
    for i in range(len(ns)):
        out[i] = s0 * ((2.0 * ns[i] + 1.0) + pow_(k0s[i] * lam, 1.0 / (ms[i] + 1.0)))
    return out


def numpy_kernel(
    n: NDArray[np.float64], k0: NDArray[np.float64], m: NDArray[np.float64], params: QahoParams
) -> NDArray[np.float64]:
    """The bare formula in NumPy, without `stake_price`'s input checks: how much of its time they take."""
    return params.s0 * ((2.0 * n + 1.0) + (k0 * params.lam) ** (1.0 / (m + 1.0)))


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Shortest wall time of `repeats` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(threads: int = THREADS, repeats: int = REPEATS, seed: int = SEED) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 8, size=threads).astype(np.float64)
    k0 = rng.uniform(0.5, 5.0, size=threads)
    m = rng.uniform(2.0, 4.0, size=threads)
    params = QahoParams()
    ns, k0s, ms = n.tolist(), k0.tolist(), m.tolist()

    numpy_seconds, vectorised = best_of(repeats, lambda: stake_price(n, k0, m, params))
    kernel_seconds, _ = best_of(repeats, lambda: numpy_kernel(n, k0, m, params))
    python_seconds, looped = best_of(repeats, lambda: python_prices(ns, k0s, ms, params))
    looped_array = np.asarray(looped, dtype=np.float64)
    diff = np.abs(vectorised - looped_array)
    return {
        "bench": "pricing.stake_price",
        "threads": threads,
        "numpy_seconds": round(numpy_seconds, 4),
        "numpy_kernel_seconds": round(kernel_seconds, 4),
        "python_seconds": round(python_seconds, 4),
        "speedup": round(python_seconds / numpy_seconds, 1),
        "max_abs_diff": float(diff.max()),
        "max_rel_diff": float((diff / looped_array).max()),
        "identical": int(np.count_nonzero(vectorised == looped_array)),
        "repeats": repeats,
        "seed": seed,
    }


def run_wei(threads: int = WEI_THREADS, seed: int = SEED) -> dict[str, Any]:
    """The pricer's wei path over distinct thread states: cold (every state new) and warm (all cached)."""
    rng = np.random.default_rng(seed)
    approved = rng.integers(0, 300, size=threads).tolist()
    refusal = rng.uniform(0.0, 1.0, size=threads).tolist()
    citations = rng.integers(0, 400, size=threads).tolist()
    coauthors = rng.integers(1, 80, size=threads).tolist()
    _price_wei.cache_clear()
    start = time.perf_counter()
    thread_prices_wei(approved, refusal, citations, coauthors)
    cold = time.perf_counter() - start
    warm, _ = best_of(REPEATS, lambda: thread_prices_wei(approved, refusal, citations, coauthors))
    return {
        "bench": "pricing.thread_prices_wei",
        "threads": threads,
        "cold_seconds": round(cold, 4),
        "cold_us_per_thread": round(cold / threads * 1e6, 1),
        "cached_us_per_thread": round(warm / threads * 1e6, 2),
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="stake_price: NumPy against a plain Python loop")
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.threads, args.repeats)), flush=True)
    print(json.dumps(run_wei()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
