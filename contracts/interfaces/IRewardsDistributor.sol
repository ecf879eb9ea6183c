// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The only minter of CHOIR after genesis: rewards for approved messages, capped by the emission curve
interface IRewardsDistributor {
    /// @notice The pricer set the flat reward per approved message of `epoch`.
    event RewardPerMessageSet(uint256 indexed epoch, uint256 reward);
    /// @notice The oracle pushed novelty scores (highest similarity to earlier messages) in round `round`.
    event NoveltyScoresSet(uint64 indexed round, uint256[] messageIds, int256[] maxSimilarities);
    /// @notice Approved message `messageId` was rewarded: `total` minted, of which `toThread` to its thread and
    ///         the rest equally to the treasuries of the other threads it cites. `requested` is the reward before
    ///         the emission cap; `total < requested` only when the curve had no more room.
    event ApprovalRewarded(uint256 indexed messageId, uint256 requested, uint256 total, uint256 toThread);
    /// @notice Thread `threadId` received `amount` because approved message `messageId` cites it.
    event CitationRewarded(uint256 indexed threadId, uint256 indexed messageId, uint256 amount);

    /// @notice `epoch` is not the current epoch.
    error NotCurrentEpoch(uint256 epoch, uint256 current);
    /// @notice The reward of `epoch` was already set (one value per epoch).
    error EpochAlreadySet(uint256 epoch);
    /// @notice A reward above `MAX_REWARD_PER_MESSAGE`.
    error RewardTooLarge(uint256 reward, uint256 max);
    /// @notice A novelty round not above the last accepted one.
    error StaleRound(uint64 round, uint64 lastRound);
    /// @notice Arrays of different lengths.
    error LengthMismatch(uint256 messageIds, uint256 scores);
    /// @notice A similarity outside [-1e18, 1e18].
    error SimilarityOutOfRange(uint256 messageId, int256 maxSimilarity);
    /// @notice The caller is not the thread that owns the message.
    error NotMessageThread(address caller, uint256 messageId);
    /// @notice A zero address where a contract is needed.
    error ZeroAddress();
    /// @notice The curve cannot start in the future.
    error LaunchTimeInFuture(uint256 launchTime, uint256 timestamp);

    /// @notice Reward the approval of message `messageId` (`threadId << 64 | index`); called by its thread.
    /// @param messageId the approved spec's global message id
    /// @param citations global ids of the messages it cites
    /// @return toThread CHOIR minted to the calling thread (already in its balance)
    function rewardApproval(uint256 messageId, uint256[] calldata citations) external returns (uint256 toThread);

    /// @notice Total CHOIR minted by this distributor.
    function minted() external view returns (uint256);

    /// @notice The emission curve: the most that may have been minted by timestamp `timestamp`.
    function emissionCap(uint256 timestamp) external view returns (uint256);
}
