// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStakePriceOracle} from "../interfaces/IStakePriceOracle.sol";

/// @title Stake prices pushed by the off-chain QAHO pricer, guarded by round, bounds and deviation checks
/// @notice The pricer (`PRICER_ROLE`) submits batches `updatePrices(threadIds, prices, round)`. Rounds strictly
///         increase, so a replayed or reordered batch is refused. A price must lie within `[minPrice, maxPrice]`
///         and move at most `maxDeviationBps` from the thread's previous price. `price(threadId)` serves the last
///         price while it is younger than `heartbeat`, else `fallbackPrice`, so the protocol never stops.
abstract contract StakePriceOracle is IStakePriceOracle, AccessControl {
    /// @notice Role allowed to push prices.
    bytes32 public constant PRICER_ROLE = keccak256("PRICER_ROLE");

    uint256 private constant BPS = 10_000;

    /// @dev One slot per thread: the price, when it was set and in which round.
    struct PricePoint {
        uint128 price;
        uint64 updatedAt;
        uint64 round;
    }

    /// @dev Parameters read on every `price()` call, packed into one slot.
    struct PriceConfig {
        uint96 minPrice;
        uint96 maxPrice;
        uint16 maxDeviationBps;
        uint48 heartbeat;
    }

    mapping(uint256 threadId => PricePoint) private _prices;
    PriceConfig private _config;
    uint96 private _fallbackPrice;
    uint64 private _lastRound;

    constructor(uint256 minPrice_, uint256 maxPrice_, uint256 fallbackPrice_, uint256 maxDeviationBps_, uint256 heartbeat_) {
        _setPriceBounds(minPrice_, maxPrice_, fallbackPrice_);
        _setFallbackPrice(fallbackPrice_);
        _setMaxDeviation(maxDeviationBps_);
        _setHeartbeat(heartbeat_);
    }

    /// @inheritdoc IStakePriceOracle
    function updatePrices(uint256[] calldata threadIds, uint256[] calldata prices, uint64 round)
        external
        onlyRole(PRICER_ROLE)
    {
        uint256 count = threadIds.length;
        if (count == 0) revert EmptyBatch();
        if (count != prices.length) revert LengthMismatch(count, prices.length);
        uint64 lastRound = _lastRound;
        if (round <= lastRound) revert StaleRound(round, lastRound);

        PriceConfig memory config = _config;
        uint64 now_ = uint64(block.timestamp);
        for (uint256 i; i < count; ++i) {
            uint256 threadId = threadIds[i];
            uint256 newPrice = prices[i];
            if (!_threadExists(threadId)) revert UnknownThread(threadId);
            if (newPrice < config.minPrice || newPrice > config.maxPrice) {
                revert PriceOutOfBounds(threadId, newPrice, config.minPrice, config.maxPrice);
            }
            PricePoint storage point = _prices[threadId];
            uint256 previous = point.price;
            if (point.round == round) revert DuplicateThreadInRound(threadId);
            if (previous != 0) {
                uint256 move = newPrice > previous ? newPrice - previous : previous - newPrice;
                if (move * BPS > previous * config.maxDeviationBps) {
                    revert PriceDeviationTooLarge(threadId, previous, newPrice, config.maxDeviationBps);
                }
            }
            // Bounded by maxPrice (a uint96), so the narrowing casts are exact.
            point.price = uint128(newPrice);
            point.updatedAt = now_;
            point.round = round;
        }
        _lastRound = round;
        emit PricesUpdated(round, threadIds, prices);
    }

    /// @inheritdoc IStakePriceOracle
    function price(uint256 threadId) public view returns (uint256) {
        if (!_threadExists(threadId)) revert UnknownThread(threadId);
        PricePoint memory point = _prices[threadId];
        if (point.updatedAt != 0 && block.timestamp - point.updatedAt <= _config.heartbeat) return point.price;
        return _fallbackPrice;
    }

    /// @notice The last price pushed for a thread, when and in which round (zeros if never set).
    /// @param threadId the thread
    /// @return lastPrice the price, in wei-like units
    /// @return updatedAt the block timestamp of the update
    /// @return round the pricer round that set it
    function pricePoint(uint256 threadId) external view returns (uint256 lastPrice, uint256 updatedAt, uint64 round) {
        PricePoint memory point = _prices[threadId];
        return (point.price, point.updatedAt, point.round);
    }

    /// @notice The last accepted pricer round; the next batch must use a larger one.
    function lastRound() external view returns (uint64) {
        return _lastRound;
    }

    /// @notice Lowest price the pricer may set.
    function minPrice() external view returns (uint256) {
        return _config.minPrice;
    }

    /// @notice Highest price the pricer may set.
    function maxPrice() external view returns (uint256) {
        return _config.maxPrice;
    }

    /// @notice Largest move of a thread's price in one round, in basis points of its previous price.
    function maxDeviationBps() external view returns (uint256) {
        return _config.maxDeviationBps;
    }

    /// @notice How long (seconds) a pushed price stays fresh.
    function heartbeat() external view returns (uint256) {
        return _config.heartbeat;
    }

    /// @notice The price served for a thread with no fresh price.
    function fallbackPrice() external view returns (uint256) {
        return _fallbackPrice;
    }

    /// @notice Set the accepted price range; the fallback price must stay inside it. Admin only.
    /// @param minPrice_ lowest accepted price, above zero
    /// @param maxPrice_ highest accepted price, at least `minPrice_`
    function setPriceBounds(uint256 minPrice_, uint256 maxPrice_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPriceBounds(minPrice_, maxPrice_, _fallbackPrice);
    }

    /// @notice Set the largest move allowed per round, in basis points (1 to 10,000). Admin only.
    /// @param maxDeviationBps_ the bound
    function setMaxDeviationBps(uint256 maxDeviationBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxDeviation(maxDeviationBps_);
    }

    /// @notice Set how long a pushed price stays fresh, in seconds (1 minute to 30 days). Admin only.
    /// @param heartbeat_ the freshness window
    function setHeartbeat(uint256 heartbeat_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setHeartbeat(heartbeat_);
    }

    /// @notice Set the price served when no fresh price exists; must lie within the bounds. Admin only.
    /// @param fallbackPrice_ the price
    function setFallbackPrice(uint256 fallbackPrice_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        PriceConfig memory config = _config;
        if (fallbackPrice_ < config.minPrice || fallbackPrice_ > config.maxPrice) {
            revert InvalidParameter("fallbackPrice");
        }
        _setFallbackPrice(fallbackPrice_);
    }

    /// @dev Whether `threadId` names an existing thread.
    function _threadExists(uint256 threadId) internal view virtual returns (bool);

    function _setPriceBounds(uint256 minPrice_, uint256 maxPrice_, uint256 fallbackPrice_) private {
        if (minPrice_ == 0) revert InvalidParameter("minPrice");
        if (maxPrice_ < minPrice_ || maxPrice_ > type(uint96).max) revert InvalidParameter("maxPrice");
        if (fallbackPrice_ != 0 && (fallbackPrice_ < minPrice_ || fallbackPrice_ > maxPrice_)) {
            revert InvalidParameter("fallbackPrice");
        }
        _config.minPrice = uint96(minPrice_);
        _config.maxPrice = uint96(maxPrice_);
        emit PriceBoundsSet(minPrice_, maxPrice_);
    }

    function _setFallbackPrice(uint256 fallbackPrice_) private {
        if (fallbackPrice_ == 0) revert InvalidParameter("fallbackPrice");
        _fallbackPrice = uint96(fallbackPrice_);
        emit FallbackPriceSet(fallbackPrice_);
    }

    function _setMaxDeviation(uint256 maxDeviationBps_) private {
        if (maxDeviationBps_ == 0 || maxDeviationBps_ > BPS) revert InvalidParameter("maxDeviationBps");
        _config.maxDeviationBps = uint16(maxDeviationBps_);
        emit MaxDeviationSet(maxDeviationBps_);
    }

    function _setHeartbeat(uint256 heartbeat_) private {
        if (heartbeat_ < 1 minutes || heartbeat_ > 30 days) revert InvalidParameter("heartbeat");
        _config.heartbeat = uint48(heartbeat_);
        emit HeartbeatSet(heartbeat_);
    }
}
