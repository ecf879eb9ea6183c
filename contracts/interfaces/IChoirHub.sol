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

    /// @notice Message `citingMessageId` cites message `citedMessageId` of thread `citedThreadId` (a co-author's post,
    ///         or a spec at its approval), another thread's message.
    event CitationRecorded(uint256 indexed citedThreadId, uint256 indexed citedMessageId, uint256 citingMessageId);
    /// @notice Thread `citingThreadId` cited thread `citedThreadId` for the first time: `citationsReceived`, the
    ///         number of distinct other threads that cite it (protocol section 7, r2), is now `citingThreads`.
    event CitingThreadCounted(uint256 indexed citedThreadId, uint256 indexed citingThreadId, uint256 citingThreads);
    /// @notice The admin set the rewards distributor whose credits threads accept (zero: no rewards).
    event RewardsDistributorSet(address distributor);
    /// @notice The admin set the governor implementation and the settings new governors get.
    event GovernanceSet(
        address implementation, uint256 votingDelay, uint256 votingPeriod, uint256 quorumBps, uint256 executionDelay
    );
    /// @notice Thread `threadId` got its governor, a clone of the governor implementation.
    event GovernorCreated(uint256 indexed threadId, address indexed governor);

    /// @notice The content hash is zero (no content).
    error EmptyContent();
    /// @notice An author kind other than 0 (human), 1 (AI) or 2 (AI on a person's prompt).
    error UnknownAuthorKind(uint256 authorKind);
    /// @notice The caller is not the thread the message belongs to.
    error NotThread(address caller, uint256 messageId);
    /// @notice The thread already has a governor.
    error GovernorExists(uint256 threadId, address governor);
    /// @notice No governor implementation is set yet.
    error GovernanceNotSet();
    /// @notice Only a co-author of thread `threadId` may create its governor.
    error OnlyCoauthor(uint256 threadId, address caller);
    /// @notice An execution delay shorter than the thread's exit cooldown: a co-author outvoted on a proposal could
    ///         not leave with its share before the proposal executes.
    error ExecutionDelayBelowExitCooldown(uint256 executionDelay, uint256 exitCooldown);
    /// @notice `distributor` cannot be this hub's rewards distributor (`reason`: not a contract, another hub, another
    ///         token, or not a minter of the token).
    error InvalidRewardsDistributor(address distributor, string reason);

    /// @notice Create a thread; the caller becomes its first co-author.
    /// @param contentHash keccak256 of the root message's body
    /// @param authorKind who wrote the root message: 0 human, 1 AI, 2 AI on a person's prompt
    function createThread(bytes32 contentHash, uint8 authorKind) external returns (uint256 threadId, address thread);

    /// @notice The CHOIR token.
    function token() external view returns (IERC20);

    /// @notice The address of thread `threadId`'s contract; reverts for an unknown id.
    function threadAddress(uint256 threadId) external view returns (address);

    /// @notice How many threads exist; ids run from 1 to this number.
    function threadCount() external view returns (uint256);

    /// @notice The implementation every thread clone delegates to.
    function threadImplementation() external view returns (address);

    /// @notice Record citations of message `citingMessageId`; called by its thread.
    function recordCitations(uint256 citingMessageId, uint256[] calldata citedMessageIds) external;

    /// @notice The rewards distributor, the only account whose reward credits threads accept; zero when rewards are off.
    function rewardsDistributor() external view returns (address);

    /// @notice Shortest approval window a thread may have.
    function MIN_APPROVAL_WINDOW() external view returns (uint256);

    /// @notice Longest approval window a thread may have.
    function MAX_APPROVAL_WINDOW() external view returns (uint256);
}
