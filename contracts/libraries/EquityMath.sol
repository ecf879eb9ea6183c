// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Equity granted for an approved spec (protocol section 5)
/// @notice An author whose spec was approved with stake `s` at price `P0` owns the fraction
///         `e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s))` of the thread's equity after joining, `N` the
///         co-authors before and `T` the treasury just before the stake is added. The last term (r2, the NAV floor)
///         keeps a newcomer's pro-rata claim right after joining at or below its stake: nobody buys in below book
///         value. New shares: `totalShares * e / (1 - e)`. All ratios are WAD (1e18) fixed point, rounded down.
library EquityMath {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_FRACTION = WAD / 2;

    /// @dev The equity fraction `e` in WAD.
    function fraction(uint256 stake, uint256 price, uint256 coauthorsBefore, uint256 treasuryBefore)
        internal
        pure
        returns (uint256 e)
    {
        // sqrt(s / P0) in WAD = sqrt(s / P0 * 1e36); s <= 1e28 keeps s * 1e36 inside mulDiv's 512-bit range.
        uint256 root = Math.sqrt(Math.mulDiv(stake, WAD * WAD, price));
        e = root / (coauthorsBefore + 1);
        if (e > MAX_FRACTION) e = MAX_FRACTION;
        uint256 bookValue = Math.mulDiv(stake, WAD, treasuryBefore + stake);
        if (e > bookValue) e = bookValue;
    }

    /// @dev Shares to mint so that the author holds fraction `e` of the new total; at least one share.
    function sharesForStake(
        uint256 stake,
        uint256 price,
        uint256 coauthorsBefore,
        uint256 treasuryBefore,
        uint256 totalShares
    ) internal pure returns (uint256 shares) {
        uint256 e = fraction(stake, price, coauthorsBefore, treasuryBefore);
        shares = Math.mulDiv(totalShares, e, WAD - e);
        if (shares == 0) shares = 1;
    }
}
