// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ChoirToken} from "../../../../contracts/ChoirToken.sol";
import {ChoirHub} from "../../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../../contracts/thread/ThreadDAO.sol";
import {IStakePriceOracle} from "../../../../contracts/interfaces/IStakePriceOracle.sol";
import {IRewardsDistributor} from "../../../../contracts/interfaces/IRewardsDistributor.sol";
import {RewardsDistributor} from "../../../../contracts/rewards/RewardsDistributor.sol";
import {HandlerBase} from "./HandlerBase.sol";
import {ThreadHandler} from "./ThreadHandler.sol";

/// @notice Drives time, prices and rewards: warps, the pricer's rounds (each price inside the band of its deviation
///         window; sometimes one wei outside it, or a stale round, which must be refused), novelty scoring and the
///         allocation of closed epochs to approved specs (within the epoch's budget and what may still be minted),
///         and a second minter that mints within the curve, so that the distributor's global cap check has other
///         minters' supply to count.
contract MarketHandler is HandlerBase {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant FIRST_PRICE_CAP = 100e18;
    uint256 internal constant PRICE_CAP = 2_000e18; // keeps stakes affordable for the actors

    ChoirToken public immutable token;
    ChoirHub public immutable hub;
    RewardsDistributor public immutable distributor;
    ThreadHandler public immutable threadHandler;
    address public immutable pricer;

    uint64 public round;
    uint64 public noveltyRound;
    mapping(uint256 messageId => bool) public paid;
    uint256[] public epochsAllocated;
    uint256 public rewarded;
    uint256 public otherMinted;

    constructor(
        ChoirToken token_,
        ChoirHub hub_,
        RewardsDistributor distributor_,
        ThreadHandler threadHandler_,
        address pricer_,
        address[] memory actors_,
        uint256[] memory keys
    ) HandlerBase(actors_, keys) {
        token = token_;
        hub = hub_;
        distributor = distributor_;
        threadHandler = threadHandler_;
        pricer = pricer_;
    }

    function epochsAllocatedCount() external view returns (uint256) {
        return epochsAllocated.length;
    }

    function warp(uint256 seconds_) external {
        seconds_ = _bound(seconds_, 1, 2 days);
        vm.warp(block.timestamp + seconds_);
        vm.roll(block.number + 1);
        _count("warp");
    }

    /// @notice The band a new price of `threadId` must lie in now (protocol section 6, r2).
    function band(uint256 threadId) public view returns (uint256 lo, uint256 hi, uint256 anchor) {
        (uint256 last, uint256 updatedAt,) = hub.pricePoint(threadId);
        if (updatedAt == 0) return (hub.minPrice(), FIRST_PRICE_CAP, 0);
        (uint256 windowAnchor, uint256 start) = hub.priceWindow(threadId);
        anchor = block.timestamp - start >= hub.deviationWindow() ? last : windowAnchor;
        uint256 move = anchor * hub.maxDeviationBps() / BPS;
        lo = Math.max(anchor - move, hub.minPrice());
        hi = Math.min(anchor + move, hub.maxPrice());
    }

    /// @param mode 0: one price one wei above its band (refused), 1: a stale round (refused), else a valid round
    function updatePrices(uint256 threadSeed, uint256 count, uint256 priceSeed, uint8 mode) external {
        uint256 n = threadHandler.threadCount();
        if (n == 0) return;
        count = _bound(count, 1, n);
        uint256[] memory ids = new uint256[](count);
        uint256[] memory prices = new uint256[](count);
        uint256 above; // for mode 0: the anchor-bounded maximum of entry 0
        for (uint256 i; i < count; ++i) {
            ids[i] = threadHandler.threadIds((threadSeed % n + i) % n);
            (uint256 lo, uint256 hi, uint256 anchor) = band(ids[i]);
            if (i == 0 && anchor != 0) above = hi;
            uint256 target = hi > PRICE_CAP ? Math.max(lo, PRICE_CAP) : hi;
            prices[i] = _bound(uint256(keccak256(abi.encode(priceSeed, i))), lo, target);
        }
        mode = mode % 8;
        if (mode == 0 && above != 0 && above < hub.maxPrice()) {
            prices[0] = above + 1;
            vm.prank(pricer);
            try hub.updatePrices(ids, prices, round + 1) {
                _violation("a price outside its window's band was accepted");
            } catch (bytes memory reason) {
                if (_selector(reason) != IStakePriceOracle.PriceDeviationTooLarge.selector) {
                    _unexpected("out-of-band refusal", reason);
                } else {
                    _count("updatePrices.outOfBand");
                }
            }
            return;
        }
        if (mode == 1 && round != 0) {
            vm.prank(pricer);
            try hub.updatePrices(ids, prices, round) {
                _violation("a stale round was accepted");
            } catch (bytes memory reason) {
                if (_selector(reason) != IStakePriceOracle.StaleRound.selector) _unexpected("stale refusal", reason);
                else _count("updatePrices.staleRound");
            }
            return;
        }
        vm.prank(pricer);
        try hub.updatePrices(ids, prices, round + 1) {
            round += 1;
            for (uint256 i; i < count; ++i) {
                if (hub.price(ids[i]) != prices[i]) _violation("price not served");
            }
            _count("updatePrices");
        } catch (bytes memory reason) {
            _unexpected("updatePrices", reason);
        }
    }

    /// @notice Score some approved, unpaid specs of one closed epoch and allocate part of the epoch's budget to them.
    /// @param overCap when another minter left less than the budget, ask one wei more than may be minted (refused)
    function allocate(uint256 seed, uint256 simSeed, uint256 amountSeed, bool overCap) external {
        (uint256 epoch, uint256[] memory ids) = _unpaid(seed);
        if (ids.length == 0) return;
        if (!_score(ids, simSeed)) return;
        uint256 remaining = distributor.epochBudget(epoch) - distributor.allocated(epoch);
        uint256 available = distributor.availableToMint();
        if (overCap && available < remaining) {
            _overCap(epoch, ids[0], available);
            return;
        }
        uint256 k = ids.length;
        uint256 cap = Math.min(Math.min(remaining, available), 1_000_000e18 * k);
        if (cap < k) {
            _count("allocate.noBudget");
            return;
        }
        uint256[] memory amounts = new uint256[](k);
        uint256 sum;
        for (uint256 i; i < k; ++i) {
            amounts[i] = _bound(uint256(keccak256(abi.encode(amountSeed, i))), 1, cap / k);
            sum += amounts[i];
        }
        uint256 supply = token.totalSupply();
        vm.prank(pricer);
        try distributor.allocate(epoch, ids, amounts) {
            for (uint256 i; i < k; ++i) {
                paid[ids[i]] = true;
            }
            if (token.totalSupply() != supply + sum) _violation("allocation minted another amount");
            rewarded += sum;
            epochsAllocated.push(epoch);
            _count("allocate");
        } catch (bytes memory reason) {
            _unexpected("allocate", reason);
        }
    }

    /// @dev Up to three approved, unpaid messages whose approval became certain in the same closed epoch.
    function _unpaid(uint256 seed) internal view returns (uint256 epoch, uint256[] memory ids) {
        uint256 n = threadHandler.approvedCount();
        uint256 current = distributor.currentEpoch();
        uint256 launch = distributor.launchTime();
        uint256[] memory found = new uint256[](3);
        uint256 k;
        for (uint256 i; i < n && k < 3; ++i) {
            uint256 id = threadHandler.approvedMessages((seed % n + i) % n);
            if (paid[id]) continue;
            uint256 certainAt = ThreadDAO(hub.threadAddress(id >> 64)).approvalCertainAt(uint64(id));
            if (certainAt < launch) continue;
            uint256 e = (certainAt - launch) / 1 days;
            if (e >= current) continue;
            if (k == 0) epoch = e;
            else if (e != epoch) continue;
            found[k++] = id;
        }
        ids = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            ids[i] = found[i];
        }
    }

    /// @dev Novelty scores with a non-zero weight (similarity in [-1, 0.95]).
    function _score(uint256[] memory ids, uint256 simSeed) internal returns (bool) {
        int256[] memory sims = new int256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            sims[i] = int256(_bound(uint256(keccak256(abi.encode(simSeed, i))), 0, 1.95e18)) - 1e18;
        }
        vm.prank(pricer);
        try distributor.setNoveltyScores(noveltyRound + 1, "all-MiniLM-L6-v2", 0, ids, sims) {
            noveltyRound += 1;
            _count("setNoveltyScores");
            return true;
        } catch (bytes memory reason) {
            _unexpected("setNoveltyScores", reason);
            return false;
        }
    }

    /// @dev One wei more than the curve allows now, with other minters' supply counted: refused.
    function _overCap(uint256 epoch, uint256 id, uint256 available) internal {
        uint256[] memory one = new uint256[](1);
        uint256[] memory amount = new uint256[](1);
        one[0] = id;
        amount[0] = available + 1;
        vm.prank(pricer);
        try distributor.allocate(epoch, one, amount) {
            _violation("an allocation beyond the emission curve was accepted");
        } catch (bytes memory reason) {
            if (_selector(reason) != IRewardsDistributor.EmissionCapExceeded.selector) {
                _unexpected("over-cap refusal", reason);
            } else {
                _count("allocate.overCap");
            }
        }
    }

    /// @notice Another `MINTER_ROLE` holder (this handler) mints within what the curve still allows.
    function otherMint(uint256 actorSeed, uint256 amount) external {
        uint256 available = distributor.availableToMint();
        if (available == 0) return;
        amount = _bound(amount, 1, Math.min(available, 10_000_000e18));
        token.mint(_actor(actorSeed), amount);
        otherMinted += amount;
        _count("otherMint");
    }
}
