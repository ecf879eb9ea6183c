// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Per-thread stake prices pushed on chain by the off-chain QAHO pricer
interface IStakePriceOracle {
    /// @notice Emitted once per accepted round, with the threads and their new prices.
    event PricesUpdated(uint64 indexed round, uint256[] threadIds, uint256[] prices);
    /// @notice Emitted when the admin changes the accepted price range.
    event PriceBoundsSet(uint256 minPrice, uint256 maxPrice);
    /// @notice Emitted when the admin changes the largest move allowed within one deviation window.
    event MaxDeviationSet(uint256 maxDeviationBps);
    /// @notice Emitted when the admin changes the length of a deviation window.
    event DeviationWindowSet(uint256 deviationWindow);
    /// @notice Emitted when the admin changes how long a price stays fresh.
    event HeartbeatSet(uint256 heartbeat);
    /// @notice Emitted when the admin changes the price used when none is fresh.
    event FallbackPriceSet(uint256 fallbackPrice);

    /// @notice The batch has no entries.
    error EmptyBatch();
    /// @notice `threadIds` and `prices` differ in length.
    error LengthMismatch(uint256 threadIds, uint256 prices);
    /// @notice The round is not above the last accepted round (replay or reordering).
    error StaleRound(uint64 round, uint64 lastRound);
    /// @notice The thread id names no thread.
    error UnknownThread(uint256 threadId);
    /// @notice A thread appears twice in one round.
    error DuplicateThreadInRound(uint256 threadId);
    /// @notice The price lies outside `[minPrice, maxPrice]`.
    error PriceOutOfBounds(uint256 threadId, uint256 price, uint256 minPrice, uint256 maxPrice);
    /// @notice The price moves further from the thread's price at the start of its deviation window
    ///         (`anchorPrice`) than `maxDeviationBps` allows.
    error PriceDeviationTooLarge(uint256 threadId, uint256 anchorPrice, uint256 price, uint256 maxDeviationBps);
    /// @notice A parameter value was rejected; `parameter` names it.
    error InvalidParameter(string parameter);

    /// @notice Push new prices for a batch of threads.
    function updatePrices(uint256[] calldata threadIds, uint256[] calldata prices, uint64 round) external;

    /// @notice The stake price of a thread: its last price while fresh, else the larger of its last price and
    ///         the fallback price (the fallback price if it was never priced).
    function price(uint256 threadId) external view returns (uint256);
}
