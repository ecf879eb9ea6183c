// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";
import {IChoirHub} from "../interfaces/IChoirHub.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IThreadDAO} from "../interfaces/IThreadDAO.sol";

/// @notice What the distributor needs of the CHOIR token: its minter role.
interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @title Rewards for approved messages and the threads they cite, never beyond the emission curve
/// @notice The only `MINTER_ROLE` holder of CHOIR after genesis (protocol sections 1 and 7). The pricer sets a flat
///         `rewardPerMessage` once per 1-day epoch; the oracle pushes novelty scores in round-numbered batches, and a
///         scored message earns its novelty reward instead of the flat rate. Whatever is asked for, the total
///         minted up to time `t` never exceeds `F(t) = R_total * ln(1 + k t) / ln(1 + k T)`: a reward that would
///         exceed it mints only what is left, or nothing.
/// @dev `F` is evaluated in WAD fixed point with Solady's `lnWad` (accurate to about 1e-18 relative); it rounds
///      down, so the cap is never above the real curve by more than rounding. Threads are recognised by address:
///      thread `id` is the hub's CREATE2 clone at a known address, so no registry lookup is needed.
contract RewardsDistributor is IRewardsDistributor, AccessControl {
    /// @notice May set the reward per message of the current epoch.
    bytes32 public constant PRICER_ROLE = keccak256("PRICER_ROLE");
    /// @notice May push novelty scores.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    /// @notice `R_total`: CHOIR emitted over the whole curve.
    uint256 public constant REWARD_POOL = 2_500_000_000e18;
    /// @notice `k` of the curve, per year (an integer: `1 + k t` stays exact in WAD).
    uint256 public constant EMISSION_K = 2;
    /// @notice `T`: length of the emission, in years.
    uint256 public constant EMISSION_YEARS = 4;
    /// @notice Seconds in a year of the curve's time axis.
    uint256 public constant YEAR = 365 days;
    /// @notice Length of a reward epoch.
    uint256 public constant EPOCH = 1 days;
    /// @notice Share of a reward split among the cited threads, in basis points.
    uint256 public constant CITATION_SHARE_BPS = 1_000;
    /// @notice Cap of the flat and of the novelty reward per message.
    uint256 public constant MAX_REWARD_PER_MESSAGE = 100e18;
    /// @notice Above this similarity (WAD) a message earns no novelty reward.
    int256 public constant NOVELTY_THRESHOLD = 0.95e18;
    /// @notice Novelty reward at the threshold; it grows tenfold for every 0.05 of similarity below it.
    uint256 public constant BASE_NOVELTY_REWARD = 0.01e18;
    /// @dev ln(10) / 0.05 in WAD.
    int256 private constant NOVELTY_SLOPE = 46_051_701_859_880_913_680;

    /// @notice The CHOIR token (this contract must hold its `MINTER_ROLE`).
    IMintable public immutable token;
    /// @notice The hub whose threads are rewarded.
    IChoirHub public immutable hub;
    /// @notice Start of the emission curve and of epoch 0.
    uint256 public immutable launchTime;
    /// @dev The hub's thread implementation, from which every thread's address follows.
    address private immutable _threadImplementation;
    /// @dev ln(1 + k T) in WAD.
    uint256 private immutable _lnEnd;

    uint256 private _minted;
    uint64 private _lastNoveltyRound;
    mapping(uint256 epoch => uint256) private _rewardPerMessage;
    mapping(uint256 epoch => bool) private _epochSet;
    /// @dev Novelty reward + 1 of a scored message (0: not scored).
    mapping(uint256 messageId => uint256) private _noveltyRewardPlusOne;

    /// @param token_ the CHOIR token
    /// @param hub_ the hub whose threads call `rewardApproval`
    /// @param admin receives `DEFAULT_ADMIN_ROLE` (grants the pricer and oracle roles)
    /// @param launchTime_ start of the curve, not in the future; 0 for the deployment block's timestamp
    constructor(IMintable token_, IChoirHub hub_, address admin, uint256 launchTime_) {
        if (address(token_) == address(0) || address(hub_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (launchTime_ > block.timestamp) revert LaunchTimeInFuture(launchTime_, block.timestamp);
        token = token_;
        hub = hub_;
        launchTime = launchTime_ == 0 ? block.timestamp : launchTime_;
        _threadImplementation = hub_.threadImplementation();
        _lnEnd = uint256(FixedPointMathLib.lnWad(int256((1 + EMISSION_K * EMISSION_YEARS) * 1e18)));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Pricer and oracle
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Set the flat reward per approved message of the current epoch, once. Pricer only.
    /// @param epoch the current epoch (a guard against a transaction mined a day late)
    /// @param reward CHOIR per approved message, at most `MAX_REWARD_PER_MESSAGE`
    function setRewardPerMessage(uint256 epoch, uint256 reward) external onlyRole(PRICER_ROLE) {
        uint256 current = currentEpoch();
        if (epoch != current) revert NotCurrentEpoch(epoch, current);
        if (_epochSet[epoch]) revert EpochAlreadySet(epoch);
        if (reward > MAX_REWARD_PER_MESSAGE) revert RewardTooLarge(reward, MAX_REWARD_PER_MESSAGE);
        _epochSet[epoch] = true;
        _rewardPerMessage[epoch] = reward;
        emit RewardPerMessageSet(epoch, reward);
    }

    /// @notice Record novelty scores: each message's highest cosine similarity to any earlier message. A scored
    ///         message earns `noveltyReward(maxSimilarity)` on approval instead of the flat rate. Oracle only.
    /// @param round strictly above the last accepted round (no replay, no reordering)
    /// @param messageIds global message ids (`threadId << 64 | index`)
    /// @param maxSimilarities similarities in WAD, each in [-1e18, 1e18]
    function setNoveltyScores(uint64 round, uint256[] calldata messageIds, int256[] calldata maxSimilarities)
        external
        onlyRole(ORACLE_ROLE)
    {
        if (round <= _lastNoveltyRound) revert StaleRound(round, _lastNoveltyRound);
        if (messageIds.length != maxSimilarities.length) revert LengthMismatch(messageIds.length, maxSimilarities.length);
        for (uint256 i; i < messageIds.length; ++i) {
            int256 similarity = maxSimilarities[i];
            if (similarity < -1e18 || similarity > 1e18) revert SimilarityOutOfRange(messageIds[i], similarity);
            _noveltyRewardPlusOne[messageIds[i]] = noveltyReward(similarity) + 1;
        }
        _lastNoveltyRound = round;
        emit NoveltyScoresSet(round, messageIds, maxSimilarities);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Threads
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IRewardsDistributor
    function rewardApproval(uint256 messageId, uint256[] calldata citations) external returns (uint256 toThread) {
        uint256 threadId = messageId >> 64;
        if (threadId == 0 || msg.sender != _threadAt(threadId)) revert NotMessageThread(msg.sender, messageId);
        uint256 requested = rewardOf(messageId);
        if (requested == 0) return 0; // no reward set for this epoch (or a zero novelty reward): nothing to do
        uint256 room = availableToMint();
        uint256 total = requested < room ? requested : room;
        if (total == 0) {
            emit ApprovalRewarded(messageId, requested, 0, 0);
            return 0;
        }
        _minted += total;

        // Distinct threads cited, other than the citing one; each gets an equal part of the citation share.
        uint256[] memory cited = new uint256[](citations.length);
        uint256 count;
        for (uint256 i; i < citations.length; ++i) {
            uint256 citedThread = citations[i] >> 64;
            if (citedThread == threadId || _contains(cited, count, citedThread)) continue;
            cited[count++] = citedThread;
        }
        uint256 perCited = count == 0 ? 0 : total * CITATION_SHARE_BPS / 10_000 / count;
        toThread = total - perCited * count;
        emit ApprovalRewarded(messageId, requested, total, toThread);
        token.mint(msg.sender, toThread);
        if (perCited != 0) {
            for (uint256 i; i < count; ++i) {
                address citedAddress = _threadAt(cited[i]);
                emit CitationRewarded(cited[i], messageId, perCited);
                token.mint(citedAddress, perCited);
                IThreadDAO(citedAddress).creditReward(messageId, perCited);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IRewardsDistributor
    function emissionCap(uint256 timestamp) public view returns (uint256) {
        if (timestamp <= launchTime) return 0;
        uint256 elapsed = timestamp - launchTime;
        if (elapsed >= EMISSION_YEARS * YEAR) return REWARD_POOL;
        // 1 + k t in WAD, t = elapsed / YEAR; ln of it over ln(1 + k T), times R_total.
        uint256 x = 1e18 + EMISSION_K * elapsed * 1e18 / YEAR;
        uint256 ratio = uint256(FixedPointMathLib.lnWad(int256(x))) * 1e18 / _lnEnd;
        uint256 cap = REWARD_POOL / 1e18 * ratio;
        return cap < REWARD_POOL ? cap : REWARD_POOL;
    }

    /// @notice What may still be minted now without exceeding the curve.
    function availableToMint() public view returns (uint256) {
        uint256 cap = emissionCap(block.timestamp);
        return cap > _minted ? cap - _minted : 0;
    }

    /// @inheritdoc IRewardsDistributor
    function minted() external view returns (uint256) {
        return _minted;
    }

    /// @notice The reward an approval of `messageId` would ask for now (before the emission cap): its novelty
    ///         reward if scored, else the current epoch's flat reward.
    /// @param messageId the global message id
    function rewardOf(uint256 messageId) public view returns (uint256) {
        uint256 novelty = _noveltyRewardPlusOne[messageId];
        return novelty != 0 ? novelty - 1 : _rewardPerMessage[currentEpoch()];
    }

    /// @notice `0.01 * exp((ln 10 / 0.05) * (0.95 - maxSim))` CHOIR, zero above 0.95, capped at 100 (protocol section 7).
    /// @param maxSimilarity the highest similarity to an earlier message, in WAD
    function noveltyReward(int256 maxSimilarity) public pure returns (uint256) {
        if (maxSimilarity > NOVELTY_THRESHOLD) return 0;
        int256 exponent = NOVELTY_SLOPE * (NOVELTY_THRESHOLD - maxSimilarity) / 1e18;
        // exp(x) > 1e4 already caps the reward (0.01 * 1e4 = 100): skip exp where it would only overflow.
        if (exponent > 9.3e18) return MAX_REWARD_PER_MESSAGE;
        uint256 reward = BASE_NOVELTY_REWARD * uint256(FixedPointMathLib.expWad(exponent)) / 1e18;
        return reward < MAX_REWARD_PER_MESSAGE ? reward : MAX_REWARD_PER_MESSAGE;
    }

    /// @notice Whether message `messageId` carries a novelty score.
    function isScored(uint256 messageId) external view returns (bool) {
        return _noveltyRewardPlusOne[messageId] != 0;
    }

    /// @notice The last accepted novelty round.
    function lastNoveltyRound() external view returns (uint64) {
        return _lastNoveltyRound;
    }

    /// @notice The epoch now: whole days since `launchTime`.
    function currentEpoch() public view returns (uint256) {
        return (block.timestamp - launchTime) / EPOCH;
    }

    /// @notice When `epoch` starts.
    function epochStart(uint256 epoch) external view returns (uint256) {
        return launchTime + epoch * EPOCH;
    }

    /// @notice The flat reward per approved message of `epoch` (0 until the pricer sets it).
    function rewardPerMessage(uint256 epoch) external view returns (uint256) {
        return _rewardPerMessage[epoch];
    }

    /// @notice Whether the pricer set the reward of `epoch`.
    function rewardEpoch(uint256 epoch) external view returns (bool) {
        return _epochSet[epoch];
    }

    function _threadAt(uint256 threadId) private view returns (address) {
        return Clones.predictDeterministicAddress(_threadImplementation, bytes32(threadId), address(hub));
    }

    function _contains(uint256[] memory values, uint256 length, uint256 value) private pure returns (bool) {
        for (uint256 i; i < length; ++i) {
            if (values[i] == value) return true;
        }
        return false;
    }
}
