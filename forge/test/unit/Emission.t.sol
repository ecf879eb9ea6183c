// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Deployer} from "../utils/Deployer.sol";

/// @notice Fuzzed properties of the emission curve `F(t) = R_total * ln(1 + k t) / ln(1 + k T)` and the epoch
///         budgets of the rewards distributor (protocol sections 1 and 7), and of the novelty weight.
contract EmissionTest is Deployer {
    uint256 internal constant YEAR = 365 days;
    uint256 internal launch;
    uint256 internal pool;

    function setUp() public {
        vm.warp(1_780_000_000);
        _deploySystem(makeAddr("pricer"));
        launch = distributor.launchTime();
        pool = distributor.REWARD_POOL();
    }

    function test_curveEndpoints() public view {
        assertEq(distributor.emissionCap(launch), 0, "F(0)");
        assertEq(distributor.emissionCap(launch + 4 * YEAR), pool, "F(T)");
        assertEq(distributor.emissionCap(type(uint256).max), pool, "after T");
        // F(1 year) = R_total / 2 exactly in reals (ln 3 / ln 9); lnWad is accurate to ~1e-18 relative.
        assertApproxEqRel(distributor.emissionCap(launch + YEAR), pool / 2, 1e6, "F(1 year) != R/2");
        assertEq(pool, token.REWARD_POOL(), "the token's pool");
    }

    function testFuzz_capIsMonotoneAndBounded(uint256 t1, uint256 t2) public view {
        t1 = launch + _bound(t1, 0, 5 * YEAR);
        t2 = launch + _bound(t2, 0, 5 * YEAR);
        if (t1 > t2) (t1, t2) = (t2, t1);
        uint256 f1 = distributor.emissionCap(t1);
        uint256 f2 = distributor.emissionCap(t2);
        assertLe(f1, f2, "F decreased");
        assertLe(f2, pool, "F above R_total");
    }

    /// @notice Against a reference: F(t) = R * ln(1 + 2t) / ln 9 means 9^(F / R) == 1 + 2t (t in years), checked
    ///         with a Taylor-series exp written here, for t a whole number of days, within 1e-12 relative.
    function testFuzz_capMatchesTheCurve(uint256 day) public view {
        day = _bound(day, 1, 4 * 365);
        uint256 f = distributor.emissionCap(launch + day * 1 days);
        // 9^(f/R) = exp(ln 9 * f / R); ln 9 in WAD:
        int256 ln9 = 2_197_224_577_336_219_382;
        int256 exponent = int256(f / 1e9) * ln9 / int256(pool / 1e9);
        uint256 onePlusKt = uint256(_expWad(exponent));
        uint256 expected = 1e18 + 2 * day * 1 days * 1e18 / YEAR;
        assertApproxEqRel(onePlusKt, expected, 1e6, "F does not follow ln(1 + k t) / ln(1 + k T)");
    }

    /// @notice Budgets of consecutive epochs add up to the curve's growth over them, to the wei, and never grow
    ///         (the curve is concave), up to rounding.
    function testFuzz_epochBudgetsTelescopeAndShrink(uint256 epoch, uint256 count) public view {
        epoch = _bound(epoch, 0, 4 * 365 + 5);
        count = _bound(count, 1, 20);
        uint256 sum;
        uint256 previous = type(uint256).max;
        for (uint256 e = epoch; e < epoch + count; ++e) {
            uint256 budget = distributor.epochBudget(e);
            sum += budget;
            if (e != epoch) assertLe(budget, previous + 1e9, "a later epoch has a larger budget");
            previous = budget;
        }
        uint256 start = launch + epoch * 1 days;
        assertEq(
            sum,
            distributor.emissionCap(start + count * 1 days) - distributor.emissionCap(start),
            "budgets do not telescope"
        );
    }

    /// @notice The budgets of all 1,461 epochs from launch (the last one past T is 0) add up to the whole pool, to
    ///         the wei: each epoch's budget is the curve's growth over it, with no epoch counted twice or left out.
    function test_everyEpochsBudgetAddsUpToThePool() public view {
        uint256 epochs = distributor.EMISSION_YEARS() * distributor.YEAR() / distributor.EPOCH();
        uint256 sum;
        for (uint256 e = 0; e <= epochs; ++e) {
            sum += distributor.epochBudget(e);
        }
        assertEq(distributor.epochBudget(epochs), 0, "a budget past T");
        assertEq(sum, distributor.REWARD_POOL(), "the budgets do not add up to the pool");
    }

    function testFuzz_noveltyWeight(int256 s1, int256 s2) public view {
        s1 = int256(_bound(uint256(s1), 0, 2e18)) - 1e18;
        s2 = int256(_bound(uint256(s2), 0, 2e18)) - 1e18;
        if (s1 > s2) (s1, s2) = (s2, s1);
        uint256 w1 = distributor.noveltyWeight(s1);
        uint256 w2 = distributor.noveltyWeight(s2);
        assertGe(w1, w2, "a more similar message weighs more");
        assertLe(w1, distributor.MAX_NOVELTY_WEIGHT(), "above the cap");
        if (s2 > 0.95e18) assertEq(w2, 0, "weight above the threshold");
        else assertGt(w2, 0, "no weight below the threshold");
    }

    function test_noveltyWeightReferencePoints() public view {
        assertEq(distributor.noveltyWeight(0.95e18), 0.01e18, "w(0.95)");
        assertApproxEqRel(distributor.noveltyWeight(0.9e18), 0.1e18, 1e6, "w(0.90)");
        assertApproxEqRel(distributor.noveltyWeight(0.8e18), 10e18, 1e6, "w(0.80)");
        assertEq(distributor.noveltyWeight(0.5e18), 100e18, "capped");
    }

    /// @dev exp(x) in WAD for 0 <= x <= ln 9 (about 2.2e18), by its Taylor series: a reference independent of Solady.
    function _expWad(int256 x) internal pure returns (int256 sum) {
        int256 term = 1e18;
        sum = 1e18;
        for (int256 i = 1; i < 60; ++i) {
            term = term * x / 1e18 / i;
            sum += term;
            if (term == 0) break;
        }
    }
}
