// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The only minter of CHOIR after genesis: per-epoch reward budgets, allocated after each epoch closes
interface IRewardsDistributor {
    /// @notice The oracle pushed novelty scores (highest similarity to earlier messages) in round `round`, made by
    ///         the scorer's model `modelId` and mapped onto the curve's scale by calibration `calibrationVersion`.
    event NoveltyScoresSet(
        uint64 indexed round, string modelId, uint32 calibrationVersion, uint256[] messageIds, int256[] maxSimilarities
    );
    /// @notice Message `messageId`, approved during `epoch`, was paid `amount` of the epoch's budget: `toThread` to
    ///         its own thread and the rest equally to the other live threads it cites. `scoreRound` is the novelty
    ///         round that gave it its weight (a reward traces to the scorer that set it).
    event MessageRewarded(
        uint256 indexed messageId, uint256 indexed epoch, uint256 amount, uint256 toThread, uint64 scoreRound
    );
    /// @notice Thread `threadId` received `amount` because rewarded message `messageId` cites it.
    event CitationRewarded(uint256 indexed threadId, uint256 indexed messageId, uint256 amount);
    /// @notice One allocation batch of `epoch` was minted: `amount` in it, `allocated` of `budget` in all so far.
    event EpochAllocated(uint256 indexed epoch, uint256 messages, uint256 amount, uint256 allocated, uint256 budget);

    /// @notice A novelty round not above the last accepted one.
    error StaleRound(uint64 round, uint64 lastRound);
    /// @notice Arrays of different lengths.
    error LengthMismatch(uint256 messageIds, uint256 values);
    /// @notice A similarity outside [-1e18, 1e18].
    error SimilarityOutOfRange(uint256 messageId, int256 maxSimilarity);
    /// @notice A scoring round must name the scorer's model (1 to 64 bytes).
    error InvalidModelId();
    /// @notice A zero address where a contract is needed.
    error ZeroAddress();
    /// @notice The curve cannot start in the future.
    error LaunchTimeInFuture(uint256 launchTime, uint256 timestamp);
    /// @notice `epoch` has not ended yet (allocations are made only for closed epochs).
    error EpochNotClosed(uint256 epoch, uint256 endsAt);
    /// @notice `messageId` is not an approved spec whose approval became certain during `epoch`; `approvedAt` is
    ///         when its approval became certain (0: not approved, or not yet certain).
    error NotApprovedInEpoch(uint256 messageId, uint256 epoch, uint256 approvedAt);
    /// @notice `messageId` was already paid (each message is paid at most once).
    error AlreadyPaid(uint256 messageId);
    /// @notice `messageId` has no novelty weight (unscored, or scored above the threshold): it earns nothing.
    error NoNoveltyWeight(uint256 messageId);
    /// @notice An allocation of zero to `messageId`.
    error ZeroAmount(uint256 messageId);
    /// @notice The allocations of `epoch` would add up to `allocated`, above its budget `budget`.
    error BudgetExceeded(uint256 epoch, uint256 allocated, uint256 budget);
    /// @notice Minting would take `totalSupply - genesis` to `minted`, above the emission curve `cap` now.
    error EmissionCapExceeded(uint256 minted, uint256 cap);
    /// @notice This contract is not (or no longer) its hub's rewards distributor: the threads would refuse credits.
    error NotHubDistributor(address current);

    /// @notice The hub whose threads are rewarded.
    function hub() external view returns (address);

    /// @notice The CHOIR token this distributor mints.
    function token() external view returns (address);

    /// @notice CHOIR minted after genesis by every minter: `totalSupply - GENESIS_SUPPLY`.
    function minted() external view returns (uint256);

    /// @notice The emission curve: the most that may have been minted after genesis by timestamp `timestamp`.
    function emissionCap(uint256 timestamp) external view returns (uint256);
}
