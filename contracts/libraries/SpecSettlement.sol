// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IThreadDAO} from "../interfaces/IThreadDAO.sol";

/// @title Outcome and division of a settled spec's stake (protocol section 3)
/// @notice With `A` approvals and `D` denials (`V = A + D`) and the thread's approval threshold `t` (basis points of
///         the votes cast, at most `BPS`; `BPS` is unanimity, the default):
///         no vote: Expired, the stake goes to the treasury;
///         `A * BPS >= t * V` (with `A > 0`): Approved, the whole stake goes to the treasury and the author joins;
///         deniers get nothing (under unanimity: only approvals);
///         otherwise only denials: Denied, the stake is split equally among the deniers, the remainder to the
///         treasury; both: Split, `stake * D / V` is split equally among the deniers and the rest goes to the treasury.
///         Integer division throughout; `treasuryGain + payoutPerDenier * D == stake` to the wei, for every `t`.
library SpecSettlement {
    /// @dev Basis points of the whole: an approval threshold of `BPS` is unanimity of the votes cast.
    uint256 internal constant BPS = 10_000;

    /// @dev The outcome, what the treasury gains and what each denier may claim, under threshold `thresholdBps`:
    ///      `split` with the verdict `approvedOverDenials`, written out in one function (a call of each costs a
    ///      settlement about 190 gas); the Halmos proof `check_divide_is_split_with_the_verdict` shows the two equal
    ///      for every input. With a denial, `A * BPS >= t * V` cannot hold for `t >= BPS`, so unanimity skips the
    ///      products: today's outcomes cost about what they did.
    function divide(uint256 stake, uint256 approvals, uint256 denials, uint256 thresholdBps)
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
        } else if (thresholdBps < BPS && approvals * BPS >= thresholdBps * (approvals + denials)) {
            return (IThreadDAO.SpecStatus.Approved, stake, 0); // approved over denials: the deniers get nothing
        } else {
            outcome = IThreadDAO.SpecStatus.Split;
            payoutPerDenier = (stake * denials / (approvals + denials)) / denials;
        }
        treasuryGain = stake - payoutPerDenier * denials;
    }

    /// @dev Whether a spec with both approvals and denials is approved: `A * BPS >= t * V` (never for `t >= BPS`,
    ///      unanimity).
    function approvedOverDenials(uint256 approvals, uint256 denials, uint256 thresholdBps)
        internal
        pure
        returns (bool)
    {
        return denials != 0 && approvals != 0 && thresholdBps < BPS
            && approvals * BPS >= thresholdBps * (approvals + denials);
    }

    /// @dev The division given the verdict on a spec with both kinds of votes (`approvedOverDenials`; ignored
    ///      otherwise). The threshold enters only through that bit, so the conservation proof covers every
    ///      threshold by covering both values of the bit.
    function split(uint256 stake, uint256 approvals, uint256 denials, bool overDenials)
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
        } else if (overDenials) {
            return (IThreadDAO.SpecStatus.Approved, stake, 0); // approved over denials: the deniers get nothing
        } else {
            outcome = IThreadDAO.SpecStatus.Split;
            payoutPerDenier = (stake * denials / (approvals + denials)) / denials;
        }
        treasuryGain = stake - payoutPerDenier * denials;
    }

    /// @dev What each denier of a Denied or Split spec (`denials > 0`) may claim. It depends on the votes only, never
    ///      on the threshold, so a claim after the governor changed the threshold pays what the settlement locked.
    function deniersShare(uint256 stake, uint256 approvals, uint256 denials) internal pure returns (uint256) {
        if (approvals == 0) return stake / denials;
        return (stake * denials / (approvals + denials)) / denials;
    }
}
