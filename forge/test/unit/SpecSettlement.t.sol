// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {SpecSettlement} from "../../../contracts/libraries/SpecSettlement.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";

/// @notice Fuzzed properties of the settlement split (protocol section 3, T2): the outcome follows the votes and the
///         approval threshold, the stake is conserved to the wei, the deniers get their proportional part rounded
///         down and the treasury the rest; an approved spec pays the deniers nothing.
contract SpecSettlementTest is Test {
    uint256 internal constant UNANIMITY = 10_000;

    function _inputs(uint256 stake, uint256 a, uint256 d) internal pure returns (uint256, uint256, uint256) {
        // Spec.stake is a uint96, approvals and denials uint24.
        return (_bound(stake, 0, type(uint96).max), _bound(a, 0, type(uint24).max), _bound(d, 0, type(uint24).max));
    }

    /// @dev A threshold the governor may set (ThreadDAO.MIN_APPROVAL_THRESHOLD..10,000).
    function _threshold(uint256 t) internal pure returns (uint256) {
        return _bound(t, 5001, UNANIMITY);
    }

    function testFuzz_stakeIsConserved(uint256 stake, uint256 a, uint256 d, uint256 t) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        t = _bound(t, 0, type(uint16).max); // any stored value, even outside the setter's range
        (, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d, t);
        assertEq(gain + perDenier * d, stake, "gain + perDenier * denials != stake");
    }

    function testFuzz_outcomeFollowsTheVotesUnderUnanimity(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        (IThreadDAO.SpecStatus outcome, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d, UNANIMITY);
        if (d == 0) {
            assertEq(uint8(outcome), uint8(a == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved));
            assertEq(gain, stake, "the whole stake to the treasury");
            assertEq(perDenier, 0);
        } else if (a == 0) {
            assertEq(uint8(outcome), uint8(IThreadDAO.SpecStatus.Denied));
            assertEq(perDenier, stake / d, "equal shares");
            assertLt(gain, d, "the treasury keeps only the remainder");
        } else {
            assertEq(uint8(outcome), uint8(IThreadDAO.SpecStatus.Split), "any denial splits under unanimity");
        }
    }

    /// @notice Under a threshold `t`: approved exactly when `A > 0` and `A * 10,000 >= t * V`, and then the whole
    ///         stake goes to the treasury; otherwise the outcome and payouts are today's.
    function testFuzz_outcomeFollowsTheThreshold(uint256 stake, uint256 a, uint256 d, uint256 t) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        t = _threshold(t);
        (IThreadDAO.SpecStatus outcome, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d, t);
        if (a != 0 && a * UNANIMITY >= t * (a + d)) {
            assertEq(uint8(outcome), uint8(IThreadDAO.SpecStatus.Approved));
            assertEq(gain, stake, "the whole stake to the treasury");
            assertEq(perDenier, 0, "an approved spec pays its deniers nothing");
        } else {
            (IThreadDAO.SpecStatus today, uint256 gainToday, uint256 perDenierToday) =
                SpecSettlement.divide(stake, a, d, UNANIMITY);
            assertEq(uint8(outcome), uint8(today), "not approved: today's outcome");
            assertEq(gain, gainToday);
            assertEq(perDenier, perDenierToday);
            assertTrue(outcome != IThreadDAO.SpecStatus.Approved);
        }
    }

    /// @notice A lower threshold never turns an approval into anything else (approval is monotone in `t`).
    function testFuzz_lowerThresholdKeepsApprovals(uint256 stake, uint256 a, uint256 d, uint256 t, uint256 lower)
        public
        pure
    {
        (stake, a, d) = _inputs(stake, a, d);
        t = _threshold(t);
        lower = _bound(lower, 5001, t);
        (IThreadDAO.SpecStatus outcome,,) = SpecSettlement.divide(stake, a, d, t);
        (IThreadDAO.SpecStatus outcomeLower,,) = SpecSettlement.divide(stake, a, d, lower);
        if (outcome == IThreadDAO.SpecStatus.Approved) {
            assertEq(uint8(outcomeLower), uint8(IThreadDAO.SpecStatus.Approved));
        }
    }

    /// @notice A minority of the votes cast never approves, whatever threshold the governor may set.
    function testFuzz_minorityNeverApproves(uint256 stake, uint256 a, uint256 d, uint256 t) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        vm.assume(a * 2 <= a + d && d != 0);
        (IThreadDAO.SpecStatus outcome,,) = SpecSettlement.divide(stake, a, d, _threshold(t));
        assertTrue(outcome != IThreadDAO.SpecStatus.Approved, "a minority approved");
    }

    /// @notice What a denier claims (`deniersShare`) is the settlement's payout for a Denied or Split spec.
    function testFuzz_deniersShareIsThePayout(uint256 stake, uint256 a, uint256 d, uint256 t) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        d = _bound(d, 1, type(uint24).max);
        (IThreadDAO.SpecStatus outcome,, uint256 perDenier) = SpecSettlement.divide(stake, a, d, _threshold(t));
        if (outcome != IThreadDAO.SpecStatus.Approved) {
            assertEq(SpecSettlement.deniersShare(stake, a, d), perDenier);
        }
    }

    /// @notice In a split the deniers together get `stake * D / V` rounded down (less at most D - 1 wei of rounding)
    ///         and the treasury at least `stake * A / V`.
    function testFuzz_splitIsProportional(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        a = _bound(a, 1, type(uint24).max);
        d = _bound(d, 1, type(uint24).max);
        (, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d, UNANIMITY);
        uint256 deniersPart = stake * d / (a + d);
        assertLe(perDenier * d, deniersPart, "deniers above their part");
        assertLt(deniersPart - perDenier * d, d, "more than rounding withheld from the deniers");
        assertGe(gain, stake * a / (a + d), "treasury below its part");
    }

    /// @notice Under unanimity, more denials never pay each denier more than a denied spec would, and never raise the
    ///         treasury's gain. (Under a threshold a denial can: it can turn an approval, all to the treasury, into
    ///         a split.)
    function testFuzz_moreDenialsNeverRaiseTheGain(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        d = _bound(d, 0, type(uint24).max - 1);
        vm.assume(a + d != 0);
        (, uint256 gain,) = SpecSettlement.divide(stake, a, d, UNANIMITY);
        (, uint256 gainMore,) = SpecSettlement.divide(stake, a, d + 1, UNANIMITY);
        // Rounding can move a few wei either way; the proportional part never grows by more than the denials.
        assertLe(gainMore, gain + d + 1, "a denial raised the treasury's gain");
    }
}
