// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";
import {SpecSettlement} from "../../../contracts/libraries/SpecSettlement.sol";

/// @notice Halmos proofs (`make prove`) of the settlement split, for all inputs. `forge test` ignores `check_`.
contract SpecSettlementProof is Test {
    /// @notice For every uint256 input on which the split returns (it reverts only on overflow) and either verdict on
    ///         a spec with both kinds of votes, the treasury's gain plus every denier's payout is the stake to the wei,
    ///         and the outcome follows the votes: approved over denials, the deniers get nothing. The threshold
    ///         enters `divide` only through that verdict (`approvedOverDenials`), so this covers every threshold.
    function check_split_conserves_stake(uint256 stake, uint256 approvals, uint256 denials, bool overDenials)
        public
        pure
    {
        (IThreadDAO.SpecStatus outcome, uint256 treasuryGain, uint256 perDenier) =
            SpecSettlement.split(stake, approvals, denials, overDenials);
        assert(perDenier * denials <= stake);
        assert(treasuryGain + perDenier * denials == stake);
        if (denials == 0) {
            assert(perDenier == 0);
            assert(outcome == (approvals == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved));
        } else if (approvals == 0) {
            assert(outcome == IThreadDAO.SpecStatus.Denied);
        } else if (overDenials) {
            assert(outcome == IThreadDAO.SpecStatus.Approved);
            assert(perDenier == 0 && treasuryGain == stake);
        } else {
            assert(outcome == IThreadDAO.SpecStatus.Split);
        }
    }

    /// @notice `divide` is `split` with the threshold's verdict, for every input (so it conserves the stake too).
    function check_divide_is_split_with_the_verdict(
        uint256 stake,
        uint256 approvals,
        uint256 denials,
        uint256 thresholdBps
    ) public pure {
        bool verdict = SpecSettlement.approvedOverDenials(approvals, denials, thresholdBps);
        (IThreadDAO.SpecStatus outcome, uint256 gain, uint256 perDenier) =
            SpecSettlement.divide(stake, approvals, denials, thresholdBps);
        (IThreadDAO.SpecStatus outcome2, uint256 gain2, uint256 perDenier2) =
            SpecSettlement.split(stake, approvals, denials, verdict);
        assert(outcome == outcome2 && gain == gain2 && perDenier == perDenier2);
    }

    /// @notice Under unanimity (10,000 basis points, or any value above) no spec with a denial is approved.
    function check_unanimity_is_todays_rule(uint256 approvals, uint256 denials, uint256 thresholdBps) public pure {
        vm.assume(thresholdBps >= 10_000);
        assert(!SpecSettlement.approvedOverDenials(approvals, denials, thresholdBps));
    }
}
