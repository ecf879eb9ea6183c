// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EquityMath} from "../../../contracts/libraries/EquityMath.sol";

/// @notice Halmos proofs of the two caps of `EquityMath.fraction`, on the library's own code (OpenZeppelin's `sqrt`
///         and `mulDiv` included), for every input in the domain the contracts reach: stake, treasury <= 2**96
///         (ThreadDAO keeps both in uint96), 1 <= price <= 2**80 (the oracle's uint80 prices), co-authors <= 2**32.
///         `check_` functions run in `make prove`; the `prove_` function is too slow for it and runs in
///         `make prove-slow` (Halmos `--function prove_`).
///         Solver yices for this contract (the annotation below; the config's default is z3). For the 1/2 cap about
///         a thousand of the ~5500 paths through `sqrt` and `mulDiv` end in an assertion query that Halmos's
///         in-process check (1 ms) cannot settle: z3 takes over a minute on one such query, yices ~0.2 s. The NAV
///         floor's paths are settled in-process but for a few (7 of 5,688 went to the external solver); with the
///         cores shared by other Halmos runs it passed in 5 to 12 minutes with yices, and z3 had not finished
///         after 15 (2026-12-07).
///         Not proved here: `sharesForStake <= totalShares`. On paper it follows from `e <= 1/2` (then
///         `e / (1 - e) <= 1`, mulDiv rounds down, and ThreadDAO calls it with `totalShares >= 1`, so the one-share
///         minimum stays within it), but a Halmos check of OpenZeppelin's `mulDiv(total, e, 1e18 - e) <= total`
///         for total < 2**200 (ThreadDAO's `MAX_TOTAL_SHARES`) and e <= 1/2 gives no verdict: the abstract query
///         (mul and div as uninterpreted functions) is satisfiable and the refined one, 512-bit multiplications
///         bit-blasted, gave no answer in 5 minutes with yices, nor in about 4 with z3 (2026-12-07). Left to the
///         Foundry fuzz tests (forge/test/unit/EquityMath.t.sol) and the stateful Ape test.
/// @custom:halmos --solver yices
contract EquityMathProof is Test {
    uint256 internal constant WAD = 1e18;

    function _assumeDomain(uint256 stake, uint256 price, uint256 n, uint256 t) internal pure {
        vm.assume(stake <= 2 ** 96);
        vm.assume(t <= 2 ** 96);
        vm.assume(price >= 1 && price <= 2 ** 80);
        vm.assume(n <= 2 ** 32);
        vm.assume(t + stake > 0);
    }

    /// @notice `fraction(s, P0, N, T) <= mulDiv(s, 1e18, T + s)` (the NAV floor, rounded down as the library
    ///         rounds it) for every s, T <= 2**96, P0 in [1, 2**80], N <= 2**32 with T + s > 0.
    function check_fraction_at_most_book_value(uint256 stake, uint256 price, uint256 n, uint256 t) public pure {
        _assumeDomain(stake, price, n, t);
        assert(EquityMath.fraction(stake, price, n, t) <= Math.mulDiv(stake, WAD, t + stake));
    }

    /// @notice `fraction(s, P0, N, T) <= 1e18 / 2` (MAX_FRACTION) on the same domain. About 5,500 paths, some
    ///         thousand of them external yices queries: 5 minutes on this 2-core machine with the cores mostly
    ///         free, 21 minutes shared with three other Halmos runs (2026-12-07), which is why it is not part of
    ///         `make prove`.
    function prove_fraction_at_most_half(uint256 stake, uint256 price, uint256 n, uint256 t) public pure {
        _assumeDomain(stake, price, n, t);
        assert(EquityMath.fraction(stake, price, n, t) <= WAD / 2);
    }
}
