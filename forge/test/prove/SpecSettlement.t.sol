// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";
import {SpecSettlement} from "../../../contracts/libraries/SpecSettlement.sol";

/// @notice Halmos proofs (`make prove`) of the settlement split, for all inputs. `forge test` ignores `check_`.
contract SpecSettlementProof is Test {
    /// @notice For every uint256 input on which the split returns (it reverts only on overflow), the approval
    ///         threshold included, the treasury's gain plus every denier's payout is the stake to the wei, and the
    ///         outcome follows the votes and the threshold: approved exactly when `A > 0` and `A * 10,000 >= t * V`
    ///         (no denial: always), and then the deniers get nothing.
    function check_split_conserves_stake(uint256 stake, uint256 approvals, uint256 denials, uint256 thresholdBps)
        public
        pure
    {
        (IThreadDAO.SpecStatus outcome, uint256 treasuryGain, uint256 perDenier) =
            SpecSettlement.divide(stake, approvals, denials, thresholdBps);
        assert(perDenier * denials <= stake);
        assert(treasuryGain + perDenier * denials == stake);
        if (denials == 0) {
            assert(perDenier == 0);
            assert(outcome == (approvals == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved));
        } else if (approvals == 0) {
            assert(outcome == IThreadDAO.SpecStatus.Denied);
        } else if (approvals * 10_000 >= thresholdBps * (approvals + denials)) {
            assert(outcome == IThreadDAO.SpecStatus.Approved);
            assert(perDenier == 0 && treasuryGain == stake);
        } else {
            assert(outcome == IThreadDAO.SpecStatus.Split);
        }
    }

    /// @notice Under unanimity (10,000 basis points) the outcome is today's: any denial keeps a spec from approval.
    function check_unanimity_is_todays_rule(uint256 stake, uint256 approvals, uint256 denials) public pure {
        (IThreadDAO.SpecStatus outcome,,) = SpecSettlement.divide(stake, approvals, denials, 10_000);
        if (denials != 0) assert(outcome != IThreadDAO.SpecStatus.Approved);
    }
}
