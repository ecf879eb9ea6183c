// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EquityMath} from "../../../contracts/libraries/EquityMath.sol";

/// @notice Fuzzed properties of the equity grant (protocol section 5): `e = min(sqrt(s / P0) / (N + 1), 1/2,
///         s / (T + s))` against a reference written here (its own integer square root), its caps, its monotonicity,
///         and the NAV floor of the shares it mints.
contract EquityMathTest is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_STAKE = 1e28; // the token's supply cap bounds every stake and treasury
    uint256 internal constant MAX_PRICE = type(uint80).max; // the oracle's PRICE_LIMIT
    uint256 internal constant MAX_SHARES = type(uint200).max; // ThreadDAO.MAX_TOTAL_SHARES

    /// @dev Reference: floor(sqrt(x)) by bisection, independent of OpenZeppelin's Math.sqrt.
    function _sqrt(uint256 x) internal pure returns (uint256 lo) {
        uint256 hi = x < 2 ? x + 1 : (x >> 1) + 1;
        if (hi > type(uint128).max) hi = uint256(type(uint128).max) + 1;
        while (lo + 1 < hi) {
            uint256 mid = (lo + hi) / 2;
            if (mid * mid <= x) lo = mid;
            else hi = mid;
        }
    }

    function _reference(uint256 s, uint256 p, uint256 n, uint256 t) internal pure returns (uint256 e) {
        e = _sqrt(Math.mulDiv(s, WAD * WAD, p)) / (n + 1);
        if (e > WAD / 2) e = WAD / 2;
        uint256 book = s * WAD / (t + s);
        if (e > book) e = book;
    }

    function _inputs(uint256 s, uint256 p, uint256 n, uint256 t)
        internal
        pure
        returns (uint256, uint256, uint256, uint256)
    {
        return (_bound(s, 1, MAX_STAKE), _bound(p, 1, MAX_PRICE), _bound(n, 0, 10_000), _bound(t, 0, MAX_STAKE));
    }

    function testFuzz_fractionIsTheMinimumOfItsThreeTerms(uint256 s, uint256 p, uint256 n, uint256 t) public pure {
        (s, p, n, t) = _inputs(s, p, n, t);
        uint256 e = EquityMath.fraction(s, p, n, t);
        assertEq(e, _reference(s, p, n, t), "fraction != reference");
        assertLe(e, WAD / 2, "above one half");
        assertLe(e, s * WAD / (t + s), "above the NAV floor term");
        // (e (N + 1))^2 <= s / P in WAD^2
        assertLe((e * (n + 1)) ** 2, Math.mulDiv(s, WAD * WAD, p), "above the sqrt term");
    }

    function testFuzz_fractionIsMonotone(uint256 s, uint256 p, uint256 n, uint256 t, uint256 d) public pure {
        (s, p, n, t) = _inputs(s, p, n, t);
        uint256 e = EquityMath.fraction(s, p, n, t);
        uint256 more = _bound(d, 0, MAX_STAKE - s);
        assertGe(EquityMath.fraction(s + more, p, n, t), e, "a larger stake buys less");
        assertLe(EquityMath.fraction(s, p + _bound(d, 0, MAX_PRICE - p), n, t), e, "a higher price buys more");
        assertLe(EquityMath.fraction(s, p, n + _bound(d, 0, 10_000), t), e, "more co-authors give more");
        assertLe(EquityMath.fraction(s, p, n, t + _bound(d, 0, MAX_STAKE)), e, "a richer treasury gives more");
    }

    /// @notice The new shares give the joiner at most `e` of the new total, and at least one share.
    function testFuzz_sharesGiveAtMostTheFraction(uint256 s, uint256 p, uint256 n, uint256 t, uint256 total)
        public
        pure
    {
        (s, p, n, t) = _inputs(s, p, n, t);
        total = _bound(total, 1, MAX_SHARES);
        uint256 e = EquityMath.fraction(s, p, n, t);
        uint256 shares = EquityMath.sharesForStake(s, p, n, t, total);
        assertGe(shares, 1, "no share");
        uint256 exact = Math.mulDiv(total, e, WAD - e);
        if (exact != 0) {
            assertEq(shares, exact, "shares != total * e / (1 - e)");
            assertLe(Math.mulDiv(shares, WAD, total + shares), e, "joiner's fraction above e");
        }
    }

    /// @notice T7, the NAV floor: right after joining (treasury T + s, shares total + added), the newcomer's pro-rata
    ///         claim is at most its stake, whenever the grant is not the one-share minimum.
    function testFuzz_navFloor(uint256 s, uint256 p, uint256 n, uint256 t, uint256 total) public pure {
        (s, p, n, t) = _inputs(s, p, n, t);
        total = _bound(total, 1, MAX_SHARES);
        uint256 e = EquityMath.fraction(s, p, n, t);
        vm.assume(Math.mulDiv(total, e, WAD - e) != 0); // the minimum of one share: see the test below
        uint256 added = EquityMath.sharesForStake(s, p, n, t, total);
        assertLe(Math.mulDiv(t + s, added, total + added), s, "claim above the stake");
    }

    /// @notice The one-share minimum is the only way past the NAV floor, and only for a thread whose total shares are
    ///         below (T + s) / s: with 1e8 shares left and a 10,000,000,000 CHOIR treasury (the whole supply), a
    ///         1 CHOIR spec buys one share, a claim of 1e28 / (1e8 + 1) wei, about 100 CHOIR. Real threads start at 1e18
    ///         shares and a joiner's grant is at least total * s / (T + s), so this needs treasuries near the whole
    ///         supply; the test pins the arithmetic so a change of the rule is noticed.
    function test_oneShareMinimumCanExceedTheFloorOnlyWithTinyTotals() public pure {
        uint256 t = 1e28 - 1e18;
        uint256 s = 1e18;
        uint256 added = EquityMath.sharesForStake(s, s, 1, t, 1e8);
        assertEq(added, 1, "the one-share minimum");
        assertGt(Math.mulDiv(t + s, added, 1e8 + added), s, "the floor does not hold for the minimum share");
        // With the 1e18 shares of a fresh thread the same spec stays below its stake.
        added = EquityMath.sharesForStake(s, s, 1, t, 1e18);
        assertLe(Math.mulDiv(t + s, added, 1e18 + added), s, "a fresh thread keeps the floor");
    }
}
