// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";
import {IChoirHub} from "../interfaces/IChoirHub.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IThreadDAO} from "../interfaces/IThreadDAO.sol";

/// @notice What the distributor needs of the CHOIR token: its minter role, its supply and its genesis allocation.
interface IChoirMintable {
    function mint(address to, uint256 amount) external;
    function totalSupply() external view returns (uint256);
    // solhint-disable-next-line func-name-mixedcase
    function GENESIS_SUPPLY() external view returns (uint256);
}

/// @title Per-epoch reward budgets, shared by novelty weight after each epoch closes, never beyond the curve
/// @notice The only `MINTER_ROLE` holder of CHOIR after genesis (protocol sections 1 and 7, revision 2). Epoch `e`
///         (1 day from `launchTime`) has the budget `B_e = F(end_e) - F(start_e)`, `F(t) = R_total * ln(1 + k t) /
///         ln(1 + k T)`. The oracle records novelty scores (with the scorer's model id and calibration version);
///         once an epoch closed it submits the epoch's allocation, and this contract checks that every message was
///         approved during that epoch, has a novelty weight, is paid at most once, and that the epoch's amounts sum
///         to at most `B_e`; then it mints each amount to the message's thread, 10% of it split among the distinct
///         other cited threads that still have co-authors. Budget left unallocated is not carried over. Threads
///         never call this contract: settlement cannot be blocked by it, and who settles or when changes nothing.
///         Whatever any minter did, `totalSupply - GENESIS_SUPPLY` never exceeds `F(now)` after a mint from here.
/// @dev `F` is evaluated in WAD fixed point with Solady's `lnWad` (accurate to about 1e-18 relative); it rounds
///      down. Threads are recognised by address: thread `id` is the hub's CREATE2 clone at a known address.
contract RewardsDistributor is IRewardsDistributor, AccessControl, ReentrancyGuardTransient {
    /// @notice May push novelty scores and submit epoch allocations.
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
    /// @notice Cap of a message's novelty weight (WAD).
    uint256 public constant MAX_NOVELTY_WEIGHT = 100e18;
    /// @notice Above this similarity (WAD) a message has no novelty weight.
    int256 public constant NOVELTY_THRESHOLD = 0.95e18;
    /// @notice Novelty weight at the threshold; it grows tenfold for every 0.05 of similarity below it.
    uint256 public constant BASE_NOVELTY_WEIGHT = 0.01e18;
    /// @notice Longest model id a scoring round may name, in bytes.
    uint256 public constant MAX_MODEL_ID_LENGTH = 64;
    /// @dev ln(10) / 0.05 in WAD.
    int256 private constant NOVELTY_SLOPE = 46_051_701_859_880_913_680;

    /// @dev A message's novelty score: its weight and the round that set it (round 0: not scored). One slot.
    struct Score {
        uint64 round;
        uint192 weight;
    }

    IChoirMintable private immutable _token;
    IChoirHub private immutable _hub;
    /// @notice Start of the emission curve and of epoch 0.
    uint256 public immutable launchTime;
    /// @notice The token's genesis allocation: what `totalSupply` held before any reward.
    uint256 public immutable genesisSupply;
    /// @dev The hub's thread implementation, from which every thread's address follows.
    address private immutable _threadImplementation;
    /// @dev ln(1 + k T) in WAD.
    uint256 private immutable _lnEnd;

    uint64 private _lastNoveltyRound;
    mapping(uint256 messageId => Score) private _scores;
    mapping(uint256 messageId => bool) private _paid;
    mapping(uint256 epoch => uint256) private _allocated;

    /// @param token_ the CHOIR token
    /// @param hub_ the hub whose threads are rewarded
    /// @param admin receives `DEFAULT_ADMIN_ROLE` (grants the oracle role)
    /// @param launchTime_ start of the curve, not in the future; 0 for the deployment block's timestamp
    constructor(IChoirMintable token_, IChoirHub hub_, address admin, uint256 launchTime_) {
        if (address(token_) == address(0) || address(hub_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (launchTime_ > block.timestamp) revert LaunchTimeInFuture(launchTime_, block.timestamp);
        _token = token_;
        _hub = hub_;
        launchTime = launchTime_ == 0 ? block.timestamp : launchTime_;
        genesisSupply = token_.GENESIS_SUPPLY();
        _threadImplementation = hub_.threadImplementation();
        _lnEnd = uint256(FixedPointMathLib.lnWad(int256((1 + EMISSION_K * EMISSION_YEARS) * 1e18)));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Oracle
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Record novelty scores: each message's highest cosine similarity to any earlier message, on the
    ///         curve's scale. A score gives the message its weight `noveltyWeight(maxSimilarity)`. Oracle only.
    /// @param round strictly above the last accepted round (no replay, no reordering)
    /// @param modelId the scorer's embedding model (1 to `MAX_MODEL_ID_LENGTH` bytes), recorded in the event
    /// @param calibrationVersion the calibration that mapped the model's raw similarities onto the curve's scale
    /// @param messageIds global message ids (`threadId << 64 | index`)
    /// @param maxSimilarities similarities in WAD, each in [-1e18, 1e18]
    function setNoveltyScores(
        uint64 round,
        string calldata modelId,
        uint32 calibrationVersion,
        uint256[] calldata messageIds,
        int256[] calldata maxSimilarities
    ) external onlyRole(ORACLE_ROLE) {
        if (round <= _lastNoveltyRound) revert StaleRound(round, _lastNoveltyRound);
        uint256 idLength = bytes(modelId).length;
        if (idLength == 0 || idLength > MAX_MODEL_ID_LENGTH) revert InvalidModelId();
        if (messageIds.length != maxSimilarities.length) revert LengthMismatch(messageIds.length, maxSimilarities.length);
        for (uint256 i; i < messageIds.length; ++i) {
            int256 similarity = maxSimilarities[i];
            if (similarity < -1e18 || similarity > 1e18) revert SimilarityOutOfRange(messageIds[i], similarity);
            _scores[messageIds[i]] = Score({round: round, weight: uint192(noveltyWeight(similarity))});
        }
        _lastNoveltyRound = round;
        emit NoveltyScoresSet(round, modelId, calibrationVersion, messageIds, maxSimilarities);
    }

    /// @notice Pay a closed epoch's rewards: `amounts[i]` to approved message `messageIds[i]` (to its thread's
    ///         treasury, 10% of it split equally among the treasuries of the distinct other threads it cites that
    ///         still have co-authors). May come in several batches per epoch; all of them together stay within
    ///         `epochBudget(epoch)`. Oracle only.
    /// @dev Checks every message and the budget first, records the payments, then mints (checks-effects-interactions;
    ///      the token and the hub's threads are trusted contracts, and the call is non-reentrant).
    /// @param epoch a closed epoch (`epoch < currentEpoch()`)
    /// @param messageIds specs whose approval became certain during `epoch`, each scored with a non-zero weight,
    ///        none paid before
    /// @param amounts CHOIR for each, non-zero
    function allocate(uint256 epoch, uint256[] calldata messageIds, uint256[] calldata amounts)
        external
        onlyRole(ORACLE_ROLE)
        nonReentrant
    {
        uint256 count = messageIds.length;
        if (count != amounts.length) revert LengthMismatch(count, amounts.length);
        if (epoch >= currentEpoch()) {
            revert EpochNotClosed(epoch, epoch < type(uint64).max ? launchTime + (epoch + 1) * EPOCH : type(uint256).max);
        }
        address current = _hub.rewardsDistributor();
        if (current != address(this)) revert NotHubDistributor(current);
        uint256 start = launchTime + epoch * EPOCH;
        uint256 threadCount = _hub.threadCount();

        uint256 batch;
        uint64[] memory rounds = new uint64[](count);
        for (uint256 i; i < count; ++i) {
            rounds[i] = _recordPayment(messageIds[i], amounts[i], epoch, start, threadCount);
            batch += amounts[i];
        }
        _recordBudget(epoch, count, batch);

        for (uint256 i; i < count; ++i) {
            _pay(messageIds[i], epoch, amounts[i], rounds[i]);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice The hub whose threads are rewarded.
    function hub() external view returns (address) {
        return address(_hub);
    }

    /// @notice The CHOIR token (this contract must hold its `MINTER_ROLE`).
    function token() external view returns (address) {
        return address(_token);
    }

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

    /// @notice The budget of `epoch`: `F(end) - F(start)` (0 once the curve is complete).
    /// @param epoch the epoch
    function epochBudget(uint256 epoch) public view returns (uint256) {
        if (epoch >= EMISSION_YEARS * YEAR / EPOCH + 1) return 0; // past T (and no overflow for absurd epochs)
        uint256 start = launchTime + epoch * EPOCH;
        return emissionCap(start + EPOCH) - emissionCap(start);
    }

    /// @notice What the allocations of `epoch` paid so far.
    /// @param epoch the epoch
    function allocated(uint256 epoch) external view returns (uint256) {
        return _allocated[epoch];
    }

    /// @notice Whether message `messageId` was paid its reward.
    /// @param messageId the global message id
    function isPaid(uint256 messageId) external view returns (bool) {
        return _paid[messageId];
    }

    /// @notice What may still be minted now without exceeding the curve (counting every minter's mints).
    function availableToMint() external view returns (uint256) {
        uint256 cap = emissionCap(block.timestamp);
        uint256 done = minted();
        return cap > done ? cap - done : 0;
    }

    /// @inheritdoc IRewardsDistributor
    function minted() public view returns (uint256) {
        uint256 supply = _token.totalSupply();
        return supply > genesisSupply ? supply - genesisSupply : 0;
    }

    /// @notice `0.01 * exp((ln 10 / 0.05) * (0.95 - maxSim))` in WAD, zero above 0.95, capped at 100 (protocol 7).
    /// @param maxSimilarity the highest similarity to an earlier message, in WAD
    function noveltyWeight(int256 maxSimilarity) public pure returns (uint256) {
        if (maxSimilarity > NOVELTY_THRESHOLD) return 0;
        int256 exponent = NOVELTY_SLOPE * (NOVELTY_THRESHOLD - maxSimilarity) / 1e18;
        // exp(x) > 1e4 already caps the weight (0.01 * 1e4 = 100): skip exp where it would only overflow.
        if (exponent > 9.3e18) return MAX_NOVELTY_WEIGHT;
        uint256 weight = BASE_NOVELTY_WEIGHT * uint256(FixedPointMathLib.expWad(exponent)) / 1e18;
        return weight < MAX_NOVELTY_WEIGHT ? weight : MAX_NOVELTY_WEIGHT;
    }

    /// @notice Whether message `messageId` carries a novelty score.
    /// @param messageId the global message id
    function isScored(uint256 messageId) external view returns (bool) {
        return _scores[messageId].round != 0;
    }

    /// @notice The novelty weight (WAD) of message `messageId` and the round that set it (0, 0: not scored).
    /// @param messageId the global message id
    function scoreOf(uint256 messageId) external view returns (uint256 weight, uint64 round) {
        Score memory score = _scores[messageId];
        return (score.weight, score.round);
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
    /// @param epoch the epoch
    function epochStart(uint256 epoch) external view returns (uint256) {
        return launchTime + epoch * EPOCH;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Check that message `messageId` may be paid `amount` from `epoch` (starting at `start`) and mark it paid;
    ///      returns the novelty round that gave it its weight.
    function _recordPayment(uint256 messageId, uint256 amount, uint256 epoch, uint256 start, uint256 threadCount)
        private
        returns (uint64)
    {
        if (amount == 0) revert ZeroAmount(messageId);
        uint256 threadId = messageId >> 64;
        uint256 approvedAt;
        if (threadId != 0 && threadId <= threadCount) {
            approvedAt = IThreadDAO(_threadAt(threadId)).approvalCertainAt(uint64(messageId));
        }
        if (approvedAt < start || approvedAt >= start + EPOCH) revert NotApprovedInEpoch(messageId, epoch, approvedAt);
        if (_paid[messageId]) revert AlreadyPaid(messageId); // also catches a message twice in one batch
        Score memory score = _scores[messageId];
        if (score.weight == 0) revert NoNoveltyWeight(messageId);
        _paid[messageId] = true;
        return score.round;
    }

    /// @dev Add `batch` to what `epoch` allocated, within its budget and the emission curve now.
    function _recordBudget(uint256 epoch, uint256 count, uint256 batch) private {
        uint256 allocated_ = _allocated[epoch] + batch;
        uint256 budget = epochBudget(epoch);
        if (allocated_ > budget) revert BudgetExceeded(epoch, allocated_, budget);
        uint256 mintedAfter = minted() + batch;
        uint256 cap = emissionCap(block.timestamp);
        if (mintedAfter > cap) revert EmissionCapExceeded(mintedAfter, cap);
        _allocated[epoch] = allocated_;
        emit EpochAllocated(epoch, count, batch, allocated_, budget);
    }

    /// @dev Mint `amount` for message `messageId`: the citation share to each distinct other cited thread that has
    ///      co-authors, the rest to the message's own thread; each thread credits what arrived to its treasury.
    function _pay(uint256 messageId, uint256 epoch, uint256 amount, uint64 scoreRound) private {
        uint256 threadId = messageId >> 64;
        address thread = _threadAt(threadId);
        uint256[] memory citations = IThreadDAO(thread).specCitations(uint64(messageId));
        uint256[] memory cited = new uint256[](citations.length);
        uint256 count;
        for (uint256 i; i < citations.length; ++i) {
            uint256 citedThread = citations[i] >> 64;
            if (citedThread == threadId || _contains(cited, count, citedThread)) continue;
            if (IThreadDAO(_threadAt(citedThread)).coauthorCount() == 0) continue; // nobody to hold it: stays home
            cited[count++] = citedThread;
        }
        uint256 perCited = count == 0 ? 0 : amount * CITATION_SHARE_BPS / 10_000 / count;
        uint256 toThread = amount - perCited * count;
        emit MessageRewarded(messageId, epoch, amount, toThread, scoreRound);
        _mintTo(thread, messageId, toThread);
        if (perCited != 0) {
            for (uint256 i; i < count; ++i) {
                emit CitationRewarded(cited[i], messageId, perCited);
                _mintTo(_threadAt(cited[i]), messageId, perCited);
            }
        }
    }

    function _mintTo(address thread, uint256 messageId, uint256 amount) private {
        _token.mint(thread, amount);
        IThreadDAO(thread).creditReward(messageId, amount);
    }

    function _threadAt(uint256 threadId) private view returns (address) {
        return Clones.predictDeterministicAddress(_threadImplementation, bytes32(threadId), address(_hub));
    }

    function _contains(uint256[] memory values, uint256 length, uint256 value) private pure returns (bool) {
        for (uint256 i; i < length; ++i) {
            if (values[i] == value) return true;
        }
        return false;
    }
}
