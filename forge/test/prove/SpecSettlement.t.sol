// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";
import {SpecSettlement} from "../../../contracts/libraries/SpecSettlement.sol";

/// @notice Halmos proofs (`make prove`) of the settlement split, for all inputs. `forge test` ignores `check_`.
contract SpecSettlementProof is Test {
    /// @notice For every uint256 input on which the split returns (it reverts only on overflow), the treasury's
    ///         gain plus every denier's payout is the stake to the wei, and the outcome follows the votes.
    function check_split_conserves_stake(uint256 stake, uint256 approvals, uint256 denials) public pure {
        (IThreadDAO.SpecStatus outcome, uint256 treasuryGain, uint256 perDenier) =
            SpecSettlement.divide(stake, approvals, denials);
        assert(perDenier * denials <= stake);
        assert(treasuryGain + perDenier * denials == stake);
        if (denials == 0) {
            assert(perDenier == 0);
            assert(outcome == (approvals == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved));
        } else {
            assert(outcome == (approvals == 0 ? IThreadDAO.SpecStatus.Denied : IThreadDAO.SpecStatus.Split));
        }
    }
}
