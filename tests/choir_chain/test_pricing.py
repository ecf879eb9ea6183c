"""Tests of the QAHO pricing model, the emission curve and the wei conversion (protocol sections 1, 4 and 7)."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from choir_chain.pricing import (
    EMISSION_K,
    EMISSION_YEARS,
    REWARD_POOL,
    QahoParams,
    anharmonic_coefficient,
    emission,
    emission_rate,
    excitation_level,
    potential_order,
    refusal_ratio,
    refusal_weight,
    stake_price,
    thread_price,
    thread_prices,
    to_wei,
)

UNIT = QahoParams(s0=1.0, lam=1.0)
DEFAULT = QahoParams()

counts = st.integers(min_value=0, max_value=10**6)
ratios = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
non_negative = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------
def test_default_params_match_spec() -> None:
    p = QahoParams()
    assert (p.s0, p.lam, p.k0_base, p.g1, p.k0_min, p.k0_max) == (10.0, 1.0, 1.0, 0.8, 0.5, 5.0)
    assert (p.b1, p.b2, p.c0, p.n0, p.m_min, p.m_max, p.window) == (0.8, 0.4, 10.0, 5.0, 2.0, 4.0, 20)
    assert isinstance(p.window, int)


def test_params_are_immutable_and_ints_become_floats() -> None:
    p = QahoParams(s0=3)
    assert p.s0 == 3.0 and isinstance(p.s0, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.s0 = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="lam"):
        dataclasses.replace(p, lam=-1.0)


FLOAT_FIELDS = [f.name for f in dataclasses.fields(QahoParams) if f.name != "window"]


@pytest.mark.parametrize("field", FLOAT_FIELDS)
@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
def test_params_reject_negative_and_non_finite(field: str, bad: float) -> None:
    with pytest.raises(ValueError, match=field):
        QahoParams(**{field: bad})  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["c0", "n0"])
def test_params_reject_zero_divisor(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        QahoParams(**{field: 0.0})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k0_min": 6.0}, "k0_min"),
        ({"m_min": 4.5}, "m_min"),
        ({"window": 0}, "window"),
        ({"window": -3}, "window"),
        ({"window": 2.5}, "window"),
        ({"window": True}, "window"),
        ({"s0": "10"}, "s0"),
        ({"g1": None}, "g1"),
    ],
)
def test_params_reject_inconsistent_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        QahoParams(**kwargs)  # type: ignore[arg-type]


def test_params_accept_zero_where_no_division() -> None:
    p = QahoParams(lam=0.0, g1=0.0, b1=0.0, b2=0.0, k0_min=0.0, window=1)
    assert p.lam == 0.0 and p.window == 1


# --------------------------------------------------------------------------------------------------------
# Stake price: reference values and properties
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "k0", "m", "expected"),
    [(0, 1, 2, 2.0), (0, 8, 2, 3.0), (1, 1, 2, 4.0), (2, 27, 2, 8.0), (0, 16, 3, 3.0)],
)
def test_spec_reference_values(n: int, k0: float, m: float, expected: float) -> None:
    price = stake_price(n, k0, m, UNIT)
    assert isinstance(price, float)
    assert price == pytest.approx(expected, rel=1e-12)


def test_reference_values_vectorised_and_scaled_by_s0() -> None:
    n, k0, m = np.array([0, 0, 1, 2, 0]), np.array([1, 8, 1, 27, 16]), np.array([2, 2, 2, 2, 3])
    np.testing.assert_allclose(stake_price(n, k0, m, UNIT), [2, 3, 4, 8, 3], rtol=1e-12)
    np.testing.assert_allclose(stake_price(n, k0, m), [20, 30, 40, 80, 30], rtol=1e-12)


@settings(deadline=None)
@given(n=st.integers(0, 50), k0=st.floats(0.5, 5.0), m=st.floats(2.0, 4.0))
def test_price_strictly_rises_with_n(n: int, k0: float, m: float) -> None:
    assert stake_price(n + 1, k0, m) > stake_price(n, k0, m)
    assert stake_price(n + 1, k0, m) - stake_price(n, k0, m) == pytest.approx(2 * DEFAULT.s0)


@settings(deadline=None)
@given(r1=ratios, r2=ratios, n=st.integers(0, 20), m=st.floats(2.0, 4.0))
def test_price_non_decreasing_in_refusal_ratio(r1: float, r2: float, n: int, m: float) -> None:
    lo, hi = sorted((r1, r2))
    k_lo, k_hi = anharmonic_coefficient(lo), anharmonic_coefficient(hi)
    assert k_lo <= k_hi
    assert stake_price(n, k_lo, m) <= stake_price(n, k_hi, m)


@settings(deadline=None)
@given(c=non_negative, n_authors=non_negative)
def test_potential_order_within_bounds(c: float, n_authors: float) -> None:
    m = potential_order(c, n_authors)
    assert DEFAULT.m_min <= m <= DEFAULT.m_max


@settings(deadline=None)
@given(c=non_negative, n_authors=non_negative, m_min=st.floats(0.0, 3.0), width=st.floats(0.0, 3.0))
def test_potential_order_within_custom_bounds(c: float, n_authors: float, m_min: float, width: float) -> None:
    p = QahoParams(m_min=m_min, m_max=m_min + width)
    assert p.m_min <= potential_order(c, n_authors, p) <= p.m_max


@settings(deadline=None)
@given(a=st.integers(min_value=0, max_value=2**70))
def test_excitation_level_matches_brute_force(a: int) -> None:
    brute = 0
    while 2 ** (brute + 1) <= 1 + a:
        brute += 1
    assert excitation_level(a) == brute
    if a < 2**63:
        assert int(excitation_level(np.array([a], dtype=np.int64))[0]) == brute
    if a <= 2**53:
        assert excitation_level(float(a)) == brute


def test_excitation_level_table_and_rounding_edges() -> None:
    a = np.array([0, 1, 2, 3, 6, 7, 14, 15, 1022, 1023])
    np.testing.assert_array_equal(excitation_level(a), [0, 1, 1, 2, 2, 3, 3, 4, 9, 10])
    # 1 + a rounds up to a power of two in float64, but the true value is below it.
    assert excitation_level(1.0 - 2.0**-53) == 0
    assert excitation_level(float(2**54 - 2)) == 53
    assert excitation_level(np.array([2**60 - 2, 2**60 - 1], dtype=np.int64)).tolist() == [59, 60]
    assert excitation_level(2.5) == 1


@settings(deadline=None)
@given(
    arrays=st.integers(1, 30).flatmap(
        lambda size: st.tuples(
            st.lists(st.integers(0, 100), min_size=size, max_size=size),
            st.lists(st.floats(0.0, 10.0), min_size=size, max_size=size),
            st.lists(st.floats(0.0, 6.0), min_size=size, max_size=size),
        )
    )
)
def test_vectorised_stake_price_equals_scalar_loop(
    arrays: tuple[list[int], list[float], list[float]],
) -> None:
    n, k0, m = arrays
    vector = stake_price(np.array(n), np.array(k0), np.array(m))
    assert isinstance(vector, np.ndarray) and vector.shape == (len(n),)
    loop = [stake_price(a, b, c) for a, b, c in zip(n, k0, m, strict=True)]
    # NumPy computes ``**`` on arrays with SIMD routines (AVX-512 where the CPU has it) that may differ from its
    # scalar path by an ulp of the anharmonic term; the sum and the product by s0 add one rounding each: 4 ulp.
    np.testing.assert_allclose(vector, loop, rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_stake_price_broadcasts_scalars_against_arrays() -> None:
    prices = stake_price(np.arange(4), 1.0, 2.0, UNIT)
    np.testing.assert_allclose(prices, [2, 4, 6, 8], rtol=1e-12)


@pytest.mark.parametrize(("args", "field"), [((-1, 1, 2), "n"), ((0, -1, 2), "k0"), ((0, 1, math.nan), "m")])
def test_stake_price_rejects_bad_state(args: tuple[float, float, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        stake_price(*args)


# --------------------------------------------------------------------------------------------------------
# Refusal ratio, K0 and m edge cases
# --------------------------------------------------------------------------------------------------------
def test_empty_window_gives_base_coefficient() -> None:
    r = refusal_ratio([], DEFAULT.window)
    assert r == 0.0
    assert anharmonic_coefficient(r) == 1.0


def test_window_shorter_than_history_uses_last_entries() -> None:
    history = [1.0] * 10 + [0.0] * 20
    assert refusal_ratio(history, 20) == 0.0
    assert refusal_ratio(history, 30) == pytest.approx(1 / 3)
    assert refusal_ratio([1.0, 1.0, 0.0, 0.5], 2) == 0.25
    assert refusal_ratio(np.array([0.0, 1.0]), 20) == 0.5


def test_refusal_weights_of_settlements() -> None:
    assert refusal_weight(3, 0) == 0.0
    assert refusal_weight(0, 2) == 1.0
    assert refusal_weight(1, 3) == 0.75
    with pytest.raises(ValueError, match="expired"):
        refusal_weight(0, 0)
    with pytest.raises(ValueError, match="deniers"):
        refusal_weight(1, -1)


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-0.1], [math.nan]])
def test_refusal_ratio_rejects_out_of_range(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="outcomes"):
        refusal_ratio(bad, 20)


@pytest.mark.parametrize("window", [0, -1, 2.0])
def test_refusal_ratio_rejects_bad_window(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        refusal_ratio([0.0], window)


def test_anharmonic_coefficient_default_range_and_clamps() -> None:
    assert anharmonic_coefficient(0.0) == 1.0
    assert anharmonic_coefficient(1.0) == pytest.approx(1.8)
    np.testing.assert_allclose(anharmonic_coefficient(np.array([0.0, 0.5, 1.0])), [1.0, 1.4, 1.8])
    assert anharmonic_coefficient(1.0, QahoParams(k0_base=10.0)) == 5.0
    assert anharmonic_coefficient(0.0, QahoParams(k0_base=0.1)) == 0.5
    with pytest.raises(ValueError, match="r must be"):
        anharmonic_coefficient(1.5)


def test_potential_order_edges() -> None:
    assert potential_order(0, 0) == 2.0  # zero citations and zero co-authors: the base order
    assert potential_order(0, 5) == pytest.approx(2.0 + 0.4 * math.log(2.0))
    assert potential_order(10, 0) == pytest.approx(2.0 + 0.8 * math.tanh(1.0))
    assert potential_order(1e9, 1e9) == 4.0  # clamped at m_max
    np.testing.assert_allclose(potential_order(np.zeros(3), np.array([0, 5, 15])), 2 + 0.4 * np.log1p([0, 1, 3]))
    with pytest.raises(ValueError, match="citations"):
        potential_order(-1, 0)
    with pytest.raises(ValueError, match="coauthors"):
        potential_order(0, -1)


def test_excitation_level_rejects_negative() -> None:
    with pytest.raises(ValueError, match="approved_recent"):
        excitation_level(-1)
    with pytest.raises(ValueError, match="approved_recent"):
        excitation_level(np.array([1, -2]))
    with pytest.raises(ValueError, match="approved_recent"):
        excitation_level(math.nan)


def test_thread_price_chains_the_model() -> None:
    outcomes = [1.0] * 5 + [0.0, 0.5]
    p = QahoParams(window=2)
    expected = stake_price(
        excitation_level(3), anharmonic_coefficient(0.25, p), potential_order(4, 2, p), p
    )  # n = 2, r = mean(0, 0.5)
    assert thread_price(3, outcomes, 4, 2, p) == pytest.approx(expected, rel=1e-15)
    vector = thread_prices(np.array([0, 3]), np.array([0.0, 0.25]), np.array([0, 4]), np.array([1, 2]), p)
    assert vector[1] == pytest.approx(expected, rel=1e-15)
    assert vector[0] == pytest.approx(stake_price(0, 1.0, potential_order(0, 1, p), p), rel=1e-15)


# --------------------------------------------------------------------------------------------------------
# Emission curve
# --------------------------------------------------------------------------------------------------------
def test_emission_key_points() -> None:
    assert emission(0) == 0.0
    assert emission(1) == pytest.approx(REWARD_POOL / 2, rel=1e-12)
    assert emission(EMISSION_YEARS) == pytest.approx(REWARD_POOL, rel=1e-15)
    assert emission(10) == emission(EMISSION_YEARS) == emission(math.inf)
    assert (REWARD_POOL, EMISSION_K, EMISSION_YEARS) == (2.5e9, 2.0, 4.0)


@settings(deadline=None)
@given(t1=st.floats(0.0, 8.0), t2=st.floats(0.0, 8.0))
def test_emission_monotone_and_bounded(t1: float, t2: float) -> None:
    lo, hi = sorted((t1, t2))
    assert 0.0 <= emission(lo) <= emission(hi) <= REWARD_POOL


@settings(deadline=None)
@given(t=st.floats(0.01, 3.99))
def test_emission_rate_matches_finite_difference(t: float) -> None:
    h = 1e-5
    central = (emission(t + h) - emission(t - h)) / (2 * h)
    assert emission_rate(t) == pytest.approx(central, rel=1e-6)


def test_emission_rate_values_and_vectorised() -> None:
    rates = emission_rate(np.array([0.0, 1.0, 4.0, 4.5]))
    expected_0 = REWARD_POOL * 2 / math.log(9)
    np.testing.assert_allclose(rates, [expected_0, expected_0 / 3, expected_0 / 9, 0.0], rtol=1e-14)
    np.testing.assert_allclose(emission(np.array([0.0, 1.0])), [0.0, REWARD_POOL / 2], rtol=1e-12)


@pytest.mark.parametrize("fn", [emission, emission_rate])
def test_emission_rejects_negative_and_nan(fn: object) -> None:
    assert callable(fn)
    with pytest.raises(ValueError, match="t_years"):
        fn(-0.5)
    with pytest.raises(ValueError, match="t_years"):
        fn(math.nan)


# --------------------------------------------------------------------------------------------------------
# to_wei
# --------------------------------------------------------------------------------------------------------
def test_to_wei_exact_values() -> None:
    assert to_wei(1.5) == 1_500_000_000_000_000_000
    assert to_wei(0.0) == 0
    assert to_wei(10) == 10 * 10**18
    assert to_wei(0.1) == 100_000_000_000_000_006  # the exact binary value of 0.1, not the string "0.1"
    assert to_wei(1e30) == int(1e30) * 10**18  # int(float) is exact
    assert type(to_wei(np.float64(2.0))) is int


def test_to_wei_rounds_half_up() -> None:
    # 2**-19 CHOIR = 5**18 / 2 wei = 1907348632812.5 wei exactly: a true tie, which goes up.
    assert Decimal(2.0**-19) * 10**18 == Decimal("1907348632812.5")
    assert to_wei(2.0**-19) == 1_907_348_632_813
    assert to_wei(5 * 2.0**-19) == 9_536_743_164_063  # 9536743164062.5: half-even would give ...062
    assert to_wei(np.nextafter(2.0**-19, 0.0)) == 1_907_348_632_812  # just below the tie
    assert to_wei(np.nextafter(2.0**-19, 1.0)) == 1_907_348_632_813
    assert to_wei(Fraction(1, 4 * 10**18)) == 0 and to_wei(Fraction(1, 2 * 10**18)) == 1


@settings(deadline=None)
@given(x=st.floats(min_value=0.0, max_value=1e24, allow_nan=False, allow_infinity=False))
def test_to_wei_equals_exact_rational_rounding(x: float) -> None:
    exact = Fraction(x) * 10**18
    assert to_wei(x) == math.floor(exact + Fraction(1, 2))


def test_to_wei_arrays_give_lists_of_python_ints() -> None:
    out = to_wei(np.array([1.5, 0.25, 2.0**-19]))
    assert out == [1_500_000_000_000_000_000, 250_000_000_000_000_000, 1_907_348_632_813]
    assert all(type(v) is int for v in out)
    assert to_wei([1.0, 2]) == [10**18, 2 * 10**18]
    assert to_wei(np.array(3.0)) == 3 * 10**18
    prices = stake_price(np.arange(3), 1.0, 2.0)
    assert to_wei(prices) == [to_wei(float(p)) for p in prices]


@pytest.mark.parametrize("bad", [-1.0, -(2.0**-80), math.nan, math.inf, True, "1.0", [[1.0]], [1.0, -2.0]])
def test_to_wei_rejects_bad_amounts(bad: object) -> None:
    with pytest.raises(ValueError, match="price"):
        to_wei(bad)  # type: ignore[call-overload]
