// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice What every handler shares: a fixed set of funded actors (with private keys, for permits), and a record of
///         violations. A handler never reverts on a property it checks: it counts the violation and keeps the first
///         message, and the invariant test asserts that there were none (so a violation is reported with its cause,
///         whatever `fail_on_revert` says).
abstract contract HandlerBase is CommonBase, StdCheats, StdUtils {
    address[] internal actors;
    mapping(address => uint256) internal keyOf;

    uint256 public violations;
    string public firstViolation;

    /// @notice Calls that did what they were asked (not counting early returns for lack of a candidate).
    mapping(bytes32 => uint256) public done;
    bytes32[] internal doneKeys;

    constructor(address[] memory actors_, uint256[] memory keys) {
        actors = actors_;
        for (uint256 i; i < actors_.length; ++i) {
            keyOf[actors_[i]] = keys[i];
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function doneKeyCount() external view returns (uint256) {
        return doneKeys.length;
    }

    function doneKeyAt(uint256 i) external view returns (bytes32) {
        return doneKeys[i];
    }

    /// @notice Forget the counts of the set-up's calls (the test calls it at the end of `setUp`; not a target).
    function resetCounts() external virtual {
        for (uint256 i; i < doneKeys.length; ++i) {
            delete done[doneKeys[i]];
        }
        delete doneKeys;
    }

    function _count(bytes32 key) internal {
        if (done[key] == 0) doneKeys.push(key);
        done[key] += 1;
    }

    function _violation(string memory what) internal {
        if (violations == 0) firstViolation = what;
        violations += 1;
    }

    /// @dev `what` plus the revert data of a call that should have succeeded.
    function _unexpected(string memory what, bytes memory reason) internal {
        _violation(string.concat(what, " reverted: ", vm.toString(reason)));
    }

    function _selector(bytes memory reason) internal pure returns (bytes4 sel) {
        if (reason.length >= 4) sel = bytes4(reason);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }
}
