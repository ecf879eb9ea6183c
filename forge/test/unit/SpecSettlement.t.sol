// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {SpecSettlement} from "../../../contracts/libraries/SpecSettlement.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";

/// @notice Fuzzed properties of the settlement split (protocol section 3, T2): the outcome follows the votes, the
///         stake is conserved to the wei, the deniers get their proportional part rounded down and the treasury the
///         rest.
contract SpecSettlementTest is Test {
    function _inputs(uint256 stake, uint256 a, uint256 d) internal pure returns (uint256, uint256, uint256) {
        // Spec.stake is a uint96, approvals and denials uint24.
        return (_bound(stake, 0, type(uint96).max), _bound(a, 0, type(uint24).max), _bound(d, 0, type(uint24).max));
    }

    function testFuzz_stakeIsConserved(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        (, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d);
        assertEq(gain + perDenier * d, stake, "gain + perDenier * denials != stake");
    }

    function testFuzz_outcomeFollowsTheVotes(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        (IThreadDAO.SpecStatus outcome, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d);
        if (d == 0) {
            assertEq(uint8(outcome), uint8(a == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved));
            assertEq(gain, stake, "the whole stake to the treasury");
            assertEq(perDenier, 0);
        } else if (a == 0) {
            assertEq(uint8(outcome), uint8(IThreadDAO.SpecStatus.Denied));
            assertEq(perDenier, stake / d, "equal shares");
            assertLt(gain, d, "the treasury keeps only the remainder");
        } else {
            assertEq(uint8(outcome), uint8(IThreadDAO.SpecStatus.Split));
        }
    }

    /// @notice In a split the deniers together get `stake * D / V` rounded down (less at most D - 1 wei of rounding)
    ///         and the treasury at least `stake * A / V`.
    function testFuzz_splitIsProportional(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        a = _bound(a, 1, type(uint24).max);
        d = _bound(d, 1, type(uint24).max);
        (, uint256 gain, uint256 perDenier) = SpecSettlement.divide(stake, a, d);
        uint256 deniersPart = stake * d / (a + d);
        assertLe(perDenier * d, deniersPart, "deniers above their part");
        assertLt(deniersPart - perDenier * d, d, "more than rounding withheld from the deniers");
        assertGe(gain, stake * a / (a + d), "treasury below its part");
    }

    /// @notice More denials never pay each denier more than a denied spec would, and never raise the treasury's gain.
    function testFuzz_moreDenialsNeverRaiseTheGain(uint256 stake, uint256 a, uint256 d) public pure {
        (stake, a, d) = _inputs(stake, a, d);
        d = _bound(d, 0, type(uint24).max - 1);
        vm.assume(a + d != 0);
        (, uint256 gain,) = SpecSettlement.divide(stake, a, d);
        (, uint256 gainMore,) = SpecSettlement.divide(stake, a, d + 1);
        // Rounding can move a few wei either way; the proportional part never grows by more than the denials.
        assertLe(gainMore, gain + d + 1, "a denial raised the treasury's gain");
    }
}
