// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStakePriceOracle} from "./IStakePriceOracle.sol";

/// @title The Choir hub: thread factory, thread registry and stake price oracle
interface IChoirHub is IStakePriceOracle {
    /// @notice Emitted for every new thread, with the clone that holds its treasury.
    event ThreadCreated(uint256 indexed threadId, address indexed thread, address indexed creator, bytes32 contentHash);
    /// @notice Emitted when the admin changes the approval window given to new threads.
    event DefaultApprovalWindowSet(uint256 approvalWindow);

    /// @notice The content hash is zero (no content).
    error EmptyContent();

    /// @notice Create a thread; the caller becomes its first co-author.
    function createThread(bytes32 contentHash) external returns (uint256 threadId, address thread);

    /// @notice The CHOIR token.
    function token() external view returns (IERC20);

    /// @notice The address of thread `threadId`'s contract; reverts for an unknown id.
    function threadAddress(uint256 threadId) external view returns (address);

    /// @notice How many threads exist; ids run from 1 to this number.
    function threadCount() external view returns (uint256);
}
