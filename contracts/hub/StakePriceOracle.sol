// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStakePriceOracle} from "../interfaces/IStakePriceOracle.sol";

/// @title Stake prices pushed by the off-chain QAHO pricer, guarded by round, bounds and deviation checks
/// @notice The pricer (`PRICER_ROLE`) submits batches `updatePrices(threadIds, prices, round)`. Rounds strictly
///         increase, so a replayed or reordered batch is refused. A price must lie within `[minPrice, maxPrice]`
///         and within `maxDeviationBps` of the thread's price at the start of its current deviation window
///         (protocol section 6, r2): however many rounds land in one window, the price cannot leave that band.
///         A window starts at an update when the thread's current one is `deviationWindow` old or more (or
///         at its second price: a first price is not bounded), and is anchored at the price just before that
///         update. `price(threadId)` serves the last price while it is younger than `heartbeat`, else
///         `max(last price, fallbackPrice)` (`fallbackPrice` if never set), so a stalled pricer never makes
///         entry cheaper and the protocol never stops.
abstract contract StakePriceOracle is IStakePriceOracle, AccessControl {
    /// @notice Role allowed to push prices.
    bytes32 public constant PRICER_ROLE = keccak256("PRICER_ROLE");

    uint256 private constant BPS = 10_000;

    /// @notice Shortest deviation window the admin may set.
    uint256 public constant MIN_DEVIATION_WINDOW = 1 minutes;
    /// @notice Longest deviation window the admin may set.
    uint256 public constant MAX_DEVIATION_WINDOW = 7 days;

    /// @notice Highest `maxPrice` the admin may set: prices are packed into 80 bits (1,208,925 CHOIR).
    uint256 public constant PRICE_LIMIT = type(uint80).max;

    /// @dev One slot per thread, read and written once by every update, as before deviation windows: the price,
    ///      its window's anchor price, when the price was set, when the window started (0: no window yet) and
    ///      the low 32 bits of the round that set it (`pricePoint` restores the full round from `_lastRound`;
    ///      the duplicate check compares the low bits of the same round). Timestamps fit 32 bits until 2106.
    struct PricePoint {
        uint80 price;
        uint80 anchor;
        uint32 updatedAt;
        uint32 windowStart;
        uint32 round;
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
    uint48 private _deviationWindow; // in the slot of `_lastRound`, which every update reads anyway

    constructor(
        uint256 minPrice_,
        uint256 maxPrice_,
        uint256 fallbackPrice_,
        uint256 maxDeviationBps_,
        uint256 heartbeat_,
        uint256 deviationWindow_
    ) {
        _setPriceBounds(minPrice_, maxPrice_, fallbackPrice_);
        _setFallbackPrice(fallbackPrice_);
        _setMaxDeviation(maxDeviationBps_);
        _setHeartbeat(heartbeat_);
        _setDeviationWindow(deviationWindow_);
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
        uint256 window = _deviationWindow;
        uint32 now_ = uint32(block.timestamp);
        uint32 round32 = uint32(round);
        uint256 lastThreadId = _threadCountForPrices(); // read once: `_threadExists` for the whole batch
        for (uint256 i; i < count; ++i) {
            uint256 threadId = threadIds[i];
            uint256 newPrice = prices[i];
            if (threadId == 0 || threadId > lastThreadId) revert UnknownThread(threadId);
            if (newPrice < config.minPrice || newPrice > config.maxPrice) {
                revert PriceOutOfBounds(threadId, newPrice, config.minPrice, config.maxPrice);
            }
            // The thread's PricePoint as one word (fields from the low bits: price 80, anchor 80, updatedAt 32,
            // windowStart 32, round 32), read and written once: the memory struct's member-wise copy costs more.
            uint256 word;
            assembly ("memory-safe") {
                mstore(0x00, threadId)
                mstore(0x20, _prices.slot)
                word := sload(keccak256(0x00, 0x40))
            }
            uint256 anchor = uint80(word >> 80);
            uint256 windowStart = uint32(word >> 192);
            // Set in this round already (a thread priced 2**32 rounds earlier in the same second aside).
            if (uint32(word >> 224) == round32 && uint32(word >> 160) == now_) revert DuplicateThreadInRound(threadId);
            if (uint80(word) != 0) {
                if (now_ - windowStart >= window) {
                    // The current window (if any) is over: a new one starts now, anchored at the price so far.
                    anchor = uint80(word);
                    windowStart = now_;
                }
                uint256 move = newPrice > anchor ? newPrice - anchor : anchor - newPrice;
                if (move * BPS > anchor * config.maxDeviationBps) {
                    revert PriceDeviationTooLarge(threadId, anchor, newPrice, config.maxDeviationBps);
                }
            }
            // Bounded by maxPrice (at most PRICE_LIMIT, a uint80), so the price fits its 80 bits.
            word = newPrice | anchor << 80 | uint256(now_) << 160 | windowStart << 192 | uint256(round32) << 224;
            assembly ("memory-safe") {
                mstore(0x00, threadId)
                mstore(0x20, _prices.slot)
                sstore(keccak256(0x00, 0x40), word)
            }
        }
        _lastRound = round;
        emit PricesUpdated(round, threadIds, prices);
    }

    /// @inheritdoc IStakePriceOracle
    function price(uint256 threadId) public view returns (uint256) {
        if (!_threadExists(threadId)) revert UnknownThread(threadId);
        PricePoint memory point = _prices[threadId];
        if (point.updatedAt != 0 && block.timestamp - point.updatedAt <= _config.heartbeat) return point.price;
        uint256 fallback_ = _fallbackPrice;
        // Stale: never below the last price, so a stalled pricer cannot make entry cheaper (protocol section 6, r2).
        return point.price > fallback_ ? point.price : fallback_;
    }

    /// @notice The last price pushed for a thread, when and in which round (zeros if never set).
    /// @param threadId the thread
    /// @return lastPrice the price, in wei-like units
    /// @return updatedAt the block timestamp of the update
    /// @return round the pricer round that set it (exact unless 2**32 or more rounds came after it)
    function pricePoint(uint256 threadId) external view returns (uint256 lastPrice, uint256 updatedAt, uint64 round) {
        PricePoint memory point = _prices[threadId];
        if (point.updatedAt == 0) return (0, 0, 0);
        // The newest round whose low 32 bits are the stored ones, at most `_lastRound`: exact unless the thread
        // was last priced 2**32 or more rounds ago.
        uint64 last = _lastRound;
        unchecked {
            round = last - uint32(uint32(last) - point.round);
        }
        return (point.price, point.updatedAt, round);
    }

    /// @notice A thread's current deviation window: the price it started from and when it started. Until a
    ///         later update `deviationWindow` or more after `start`, every new price must lie within
    ///         `maxDeviationBps` of `anchorPrice`; an update from then on starts a new window anchored at the
    ///         price it replaces. `start` is 0 while no window has started (the thread has at most one price).
    /// @param threadId the thread
    /// @return anchorPrice the price at the start of the window (0 if none)
    /// @return start the block timestamp at which the window started (0 if none)
    function priceWindow(uint256 threadId) external view returns (uint256 anchorPrice, uint256 start) {
        PricePoint memory point = _prices[threadId];
        if (point.windowStart != 0) (anchorPrice, start) = (point.anchor, point.windowStart);
    }

    /// @notice How long (seconds) a deviation window lasts: within one, a thread's price stays within
    ///         `maxDeviationBps` of its price at the window's start, however many rounds land in it.
    function deviationWindow() external view returns (uint256) {
        return _deviationWindow;
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

    /// @notice Largest move of a thread's price within one deviation window, in basis points of its price at
    ///         the window's start.
    function maxDeviationBps() external view returns (uint256) {
        return _config.maxDeviationBps;
    }

    /// @notice How long (seconds) a pushed price stays fresh.
    function heartbeat() external view returns (uint256) {
        return _config.heartbeat;
    }

    /// @notice The price served for a thread never priced; a stale price is served as at least this.
    function fallbackPrice() external view returns (uint256) {
        return _fallbackPrice;
    }

    /// @notice Set the accepted price range; the fallback price must stay inside it. Admin only.
    /// @param minPrice_ lowest accepted price, above zero
    /// @param maxPrice_ highest accepted price, at least `minPrice_` and at most `PRICE_LIMIT`
    function setPriceBounds(uint256 minPrice_, uint256 maxPrice_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPriceBounds(minPrice_, maxPrice_, _fallbackPrice);
    }

    /// @notice Set the largest move allowed within one deviation window, in basis points (1 to 10,000).
    ///         Admin only.
    /// @param maxDeviationBps_ the bound
    function setMaxDeviationBps(uint256 maxDeviationBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMaxDeviation(maxDeviationBps_);
    }

    /// @notice Set how long a pushed price stays fresh, in seconds (1 minute to 30 days). Admin only.
    /// @param heartbeat_ the freshness window
    function setHeartbeat(uint256 heartbeat_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setHeartbeat(heartbeat_);
    }

    /// @notice Set the length of a deviation window, in seconds (`MIN_DEVIATION_WINDOW` to
    ///         `MAX_DEVIATION_WINDOW`). Applies to windows already running: a window older than the new length
    ///         ends at the next update. Admin only.
    /// @param deviationWindow_ the window, in seconds
    function setDeviationWindow(uint256 deviationWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDeviationWindow(deviationWindow_);
    }

    /// @notice Set the price served for a thread never priced (and the least served for a stale price); must
    ///         lie within the bounds. Admin only.
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

    /// @dev The highest existing thread id: ids 1 to it exist (`_threadExists`).
    function _threadCountForPrices() internal view virtual returns (uint256);

    function _setPriceBounds(uint256 minPrice_, uint256 maxPrice_, uint256 fallbackPrice_) private {
        if (minPrice_ == 0) revert InvalidParameter("minPrice");
        if (maxPrice_ < minPrice_ || maxPrice_ > PRICE_LIMIT) revert InvalidParameter("maxPrice");
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

    function _setDeviationWindow(uint256 deviationWindow_) private {
        if (deviationWindow_ < MIN_DEVIATION_WINDOW || deviationWindow_ > MAX_DEVIATION_WINDOW) {
            revert InvalidParameter("deviationWindow");
        }
        _deviationWindow = uint48(deviationWindow_);
        emit DeviationWindowSet(deviationWindow_);
    }

    function _setHeartbeat(uint256 heartbeat_) private {
        if (heartbeat_ < 1 minutes || heartbeat_ > 30 days) revert InvalidParameter("heartbeat");
        _config.heartbeat = uint48(heartbeat_);
        emit HeartbeatSet(heartbeat_);
    }
}
