"""The wei price the pricer sends (`thread_price_wei`): the model's formula, exact to the wei on every machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from choir_chain.pricing import (
    QahoParams,
    stake_price,
    stake_price_wei,
    thread_price_wei,
    thread_prices,
    thread_prices_wei,
    to_wei,
)

UNIT = QahoParams(s0=1.0, lam=1.0)
EPS = float(np.finfo(np.float64).eps)


def test_reference_values_are_exact_in_wei() -> None:
    # protocol section 4 reference values, where the anharmonic term is an integer: the decimal path hits them exactly.
    assert stake_price_wei(0, 1.0, 2.0, UNIT) == 2 * 10**18
    assert stake_price_wei(0, 8.0, 2.0, UNIT) == 3 * 10**18
    assert stake_price_wei(1, 1.0, 2.0, UNIT) == 4 * 10**18
    assert stake_price_wei(2, 27.0, 2.0, UNIT) == 8 * 10**18
    assert stake_price_wei(0, 16.0, 3.0, UNIT) == 3 * 10**18
    # A new thread: n = 0, K0 = 1, m = 2 + 0.4 ln(1.2): the default s0 = 10 gives 20 CHOIR.
    assert thread_price_wei(0, 0.0, 0, 1) == 20 * 10**18


@settings(deadline=None, max_examples=300)
@given(
    approved=st.integers(0, 10_000),
    refusal=st.floats(0.0, 1.0),
    citations=st.integers(0, 5_000),
    coauthors=st.integers(0, 5_000),
)
def test_wei_price_agrees_with_the_float_model(approved: int, refusal: float, citations: int, coauthors: int) -> None:
    """Same formula, other rounding: the float model's pow, tanh and log1p are each within a few ulp, and each ulp
    of the anharmonic term moves P0 by less than one ulp of P0, so 8 ulp of P0 (plus the half wei of rounding)
    bound the gap."""
    exact = thread_price_wei(approved, refusal, citations, coauthors)
    model = float(thread_prices(approved, refusal, citations, coauthors))
    assert abs(exact - to_wei(model)) <= 8 * EPS * model * 10**18 + 1


def test_rounding_is_to_the_nearest_wei_half_up() -> None:
    # s0 = 2**-19 CHOIR makes P0 = 2 s0 = 2**-18 CHOIR = 3814697265625 wei exactly; 1.5 s0 lands on half a wei.
    half = QahoParams(s0=2.0**-19, lam=0.0)  # lam = 0: the anharmonic term is 0, P0 = s0 (2n + 1)
    assert stake_price_wei(0, 1.0, 2.0, half) == 1_907_348_632_813  # 1907348632812.5 goes up
    assert stake_price_wei(1, 1.0, 2.0, half) == 5_722_045_898_438  # 5722045898437.5 goes up


def test_batch_equals_one_by_one_and_checks_lengths() -> None:
    a, r, c, n = [0, 3, 7], [0.0, 0.25, 1.0], [0, 4, 40], [1, 2, 9]
    assert thread_prices_wei(a, r, c, n) == [thread_price_wei(*row) for row in zip(a, r, c, n, strict=True)]
    with pytest.raises(ValueError, match="one length"):
        thread_prices_wei(a, r, c, n[:2])


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 0.0, 0, 1), "approved_recent"),
        ((0, 1.5, 0, 1), "refusal"),
        ((0, float("nan"), 0, 1), "refusal"),
        ((0, 0.0, -2, 1), "citations"),
        ((0, 0.0, 0, float("inf")), "coauthors"),
        ((0, True, 0, 1), "refusal"),
    ],
)
def test_bad_state_is_refused_by_name(args: tuple[float, float, float, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        thread_price_wei(*args)  # type: ignore[arg-type]


def test_stake_price_wei_matches_the_float_model() -> None:
    for n, k0, m in [(0, 1.0, 2.0), (3, 1.37, 2.61), (9, 5.0, 4.0), (2, 0.5, 3.3)]:
        exact, model = stake_price_wei(n, k0, m), float(stake_price(n, k0, m))
        assert abs(exact - to_wei(model)) <= 8 * EPS * model * 10**18 + 1
    assert Decimal(stake_price_wei(0, 0.0, 2.0)) == Decimal(10 * 10**18)  # K0 = 0: no anharmonic shift


STATES = 20_000

# The pricer's own path (`model_prices`) over many random thread states, printed as JSON with the SIMD features
# NumPy dispatches to in this interpreter (beyond its SSE3 baseline).
_PRICES_SCRIPT = textwrap.dedent(
    """
    import json, random, sys
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    from choir_chain.pricer.compute import model_prices
    from choir_chain.pricer.state import ThreadState

    rng = random.Random(20261206)
    states = [
        ThreadState(i, rng.randint(0, 300), rng.random(), rng.randint(0, 400), rng.randint(1, 80))
        for i in range(int(sys.argv[1]))
    ]
    active = sorted(name for name in __cpu_dispatch__ if __cpu_features__.get(name))
    print(json.dumps({"features": active, "prices": list(model_prices(states).values())}))
    """
)


def _prices_in_fresh_interpreter(disabled: list[str]) -> dict[str, list]:  # type: ignore[type-arg]
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    out = subprocess.run(
        [sys.executable, "-c", _PRICES_SCRIPT, str(STATES)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_wei_prices_do_not_depend_on_numpys_simd_dispatch() -> None:
    """protocol r2 section 9: the same state gives the same wei on every machine. One machine plays two: a fresh
    interpreter with NumPy's default dispatch and one with every SIMD extension NumPy dispatches to beyond its SSE3
    baseline switched off (AVX-512 where the CPU has it, AVX2 and FMA3 on the others). The float-then-`to_wei` path
    this replaced differed in 49 of 3,000 prices on an AVX-512 machine (NumPy's vectorised `pow`) and in 1 of
    3,000 (3 of 20,000) on an AVX2 one (2026-12-07, AMD EPYC); on a CPU with no SIMD beyond the baseline the two
    interpreters run the same code and the test cannot tell machines apart."""
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    extensions = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    default = _prices_in_fresh_interpreter([])
    plain = _prices_in_fresh_interpreter(extensions)
    assert not set(extensions) & set(plain["features"]), "NumPy did not switch its SIMD dispatch off"
    assert set(default["features"]) == set(extensions)
    assert len(default["prices"]) == STATES
    mismatches = sum(a != b for a, b in zip(default["prices"], plain["prices"], strict=True))
    assert mismatches == 0, f"{mismatches} of {STATES:,} wei prices depend on the CPU's vector instructions"
