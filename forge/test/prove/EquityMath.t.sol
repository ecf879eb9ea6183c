// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EquityMath} from "../../../contracts/libraries/EquityMath.sol";

/// @notice Halmos proof (`make prove`) of the NAV-floor cap of `EquityMath.fraction`, on the library's own code, for
///         every input in the domain: stake <= 2**96, treasury <= 2**96, 1 <= price <= 2**80, co-authors <= 2**32.
///         Solver yices for this contract: z3 (the Makefile's choice) runs for minutes on the assertion queries of
///         the paths through OpenZeppelin's `sqrt` and `mulDiv` (about 5000 paths), which yices refutes in ~0.1 s.
///         Not proved (Halmos gives no verdict in 3 minutes, z3 or yices): `fraction <= 1e18 / 2` and
///         `sharesForStake <= totalShares`; left to the Foundry fuzz tests.
/// @custom:halmos --solver yices
contract EquityMathProof is Test {
    uint256 internal constant WAD = 1e18;

    /// @notice `fraction(s, P0, N, T) <= mulDiv(s, 1e18, T + s)` (the NAV floor, rounded down as the library
    ///         rounds it) for every s, T <= 2**96, P0 in [1, 2**80], N <= 2**32 with T + s > 0.
    function check_fraction_at_most_book_value(uint256 stake, uint256 price, uint256 n, uint256 t) public pure {
        vm.assume(stake <= 2 ** 96);
        vm.assume(t <= 2 ** 96);
        vm.assume(price >= 1 && price <= 2 ** 80);
        vm.assume(n <= 2 ** 32);
        vm.assume(t + stake > 0);
        assert(EquityMath.fraction(stake, price, n, t) <= Math.mulDiv(stake, WAD, t + stake));
    }
}
