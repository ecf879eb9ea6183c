// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IThreadDAO} from "../interfaces/IThreadDAO.sol";

/// @title Outcome and division of a settled spec's stake (protocol section 3)
/// @notice With `A` approvals and `D` denials (`V = A + D`):
///         no vote: Expired, the stake goes to the treasury;
///         only approvals: Approved, the stake goes to the treasury and the author joins;
///         only denials: Denied, the stake is split equally among the deniers, the remainder to the treasury;
///         both: Split, `stake * D / V` is split equally among the deniers and the rest goes to the treasury.
///         Integer division throughout; `treasuryGain + payoutPerDenier * D == stake` to the wei.
library SpecSettlement {
    /// @dev The outcome, what the treasury gains and what each denier may claim.
    function divide(uint256 stake, uint256 approvals, uint256 denials)
        internal
        pure
        returns (IThreadDAO.SpecStatus outcome, uint256 treasuryGain, uint256 payoutPerDenier)
    {
        if (denials == 0) {
            outcome = approvals == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved;
            return (outcome, stake, 0);
        }
        if (approvals == 0) {
            outcome = IThreadDAO.SpecStatus.Denied;
            payoutPerDenier = stake / denials;
        } else {
            outcome = IThreadDAO.SpecStatus.Split;
            payoutPerDenier = (stake * denials / (approvals + denials)) / denials;
        }
        treasuryGain = stake - payoutPerDenier * denials;
    }
}
