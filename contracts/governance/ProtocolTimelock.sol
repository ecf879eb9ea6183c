// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title ProtocolTimelock
/// @notice The protocol's admin (protocol section 8, r2: admin powers are slow). It holds `DEFAULT_ADMIN_ROLE` on
///         the ChoirToken, the ChoirHub and the RewardsDistributor of a persistent deployment, so every admin call
///         (a new distributor, governor implementation or parameter, a role granted or revoked) is scheduled by a
///         proposer (a multisig) and executes only after `getMinDelay()` seconds, time for users to leave first.
/// @dev OpenZeppelin's `TimelockController` unchanged; this contract only makes the build compile it. Deployed
///      with no separate admin (`admin = address(0)`), so only the timelock itself, through its own delay, can
///      change its delay or roles.
contract ProtocolTimelock is TimelockController {
    /// @param minDelay seconds between scheduling an operation and executing it
    /// @param proposers accounts that schedule (and, as cancellers, cancel) operations
    /// @param executors accounts that execute ready operations (`address(0)` in the list: anyone)
    /// @param admin an optional account that may grant and revoke the timelock's roles at once (`address(0)`: none)
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
