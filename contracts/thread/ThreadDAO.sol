// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC6372} from "@openzeppelin/contracts/interfaces/IERC6372.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IChoirHub} from "../interfaces/IChoirHub.sol";
import {IThreadDAO} from "../interfaces/IThreadDAO.sol";
import {EquityMath} from "../libraries/EquityMath.sol";
import {SpecSettlement} from "../libraries/SpecSettlement.sol";

/// @title A thread's nano-DAO: its treasury, messages, staked specs, approval votes, equity and exit
/// @notice Deployed once as an implementation by the hub; every thread is an EIP-1167 clone of it, so each
///         thread's treasury is its own contract balance. Co-authors post freely; anyone else stakes at least the
///         thread's price to submit a spec, which the co-authors approve or deny (protocol sections 2, 3, 5).
/// @dev Equity is checkpointed by block timestamp (ERC-6372 `mode=timestamp`), so governance can read shares at a
///      past timepoint. Each account's current shares and the time they last changed (when it joined: the exit
///      cooldown reads it) share one slot; earlier values move to the account's share history only when they change,
///      so a first join writes one fresh slot instead of a checkpoint array's two (and a first exit one history entry).
///      Deniers' shares of stakes are pulled (`claimCuratorRewards`), so settlement never loops over voters.
contract ThreadDAO is IThreadDAO, IERC6372, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Shares the creator of a thread starts with.
    uint256 public constant INITIAL_SHARES = 1e18;
    /// @notice Time a co-author must wait after joining before it may exit.
    uint256 public constant EXIT_COOLDOWN = 1 days;
    /// @notice Most messages one message may cite.
    uint256 public constant MAX_CITATIONS = 8;
    /// @notice The lowest approval threshold the governor may set, in basis points of the votes cast: a strict
    ///         majority, so a minority of the votes can never approve a spec over a majority of denials (and a tie
    ///         is not an approval). The highest is `SpecSettlement.BPS`, unanimity, every thread's default.
    uint256 public constant MIN_APPROVAL_THRESHOLD = 5001;
    /// @notice Most equity shares a thread can ever have: approvals stop adding shares there, so share arithmetic
    ///         can never make `settle` revert (protocol section 3, r2). The NAV floor keeps real threads far below.
    uint256 public constant MAX_TOTAL_SHARES = type(uint200).max;

    /// @notice The hub that created this thread and serves its price.
    IChoirHub public immutable hub;
    /// @notice The CHOIR token the treasury is held in.
    IERC20 public immutable token;
    /// @dev The implementation's own address, shared by every clone: sibling threads' addresses derive from it.
    address private immutable _implementation;

    /// @dev Counters and parameters read and written together, in one slot (256 bits, full). The two counters were
    ///      narrowed to make room for `approvalThreshold` without a slot of its own (read by every settlement):
    ///      `messageCount` fits 2**40 (1.1e12) messages: a post costs over 24,000 gas, so one thread would need
    ///      2.7e16 gas, years of the whole capacity of any chain; `totalSharesCheckpoints` fits 2**32 checkpoints:
    ///      a change in the second of the previous one replaces it, so there is at most one per second, and 2**32
    ///      seconds are 136 years. Checked arithmetic reverts rather than wraps if either were ever reached.
    struct ThreadState {
        uint40 countChangedAt; // when coauthorCount last changed
        uint32 coauthorCount;
        uint32 prevCoauthorCount; // coauthorCount before the change at countChangedAt
        uint40 messageCount; // next message index
        uint32 pendingSpecs;
        uint32 approvalWindow; // seconds
        uint32 totalSharesCheckpoints; // length of `_totalShares`, here since every change writes this slot anyway
        uint16 approvalThreshold; // basis points of the votes cast (`approvalThreshold()`)
    }

    /// @dev The thread's money, in one slot: `balanceOf(this) == treasury + locked` (plus any donation).
    ///      `locked` holds escrowed stakes and deniers' unclaimed shares. `threadId` keeps the slot non-zero.
    struct Ledger {
        uint64 threadId;
        uint96 treasury;
        uint96 locked;
    }

    ThreadState private _state;
    Ledger private _ledger;
    mapping(uint256 specId => Spec) private _specs;
    /// @dev Ballots, 2 bits each, 128 to a slot, keyed by voter and spec window (`specId >> 7`): a co-author's first
    ///      vote in a window of 128 messages takes a fresh slot, its later votes there update a non-zero one.
    mapping(address voter => mapping(uint256 window => uint256 ballots)) private _ballotWords;
    /// @dev An account's current equity, when it last changed, and whether it has a spec pending here (one at a
    ///      time per author, protocol section 3, r2). Only non-members can have one (co-authors post instead), and an
    ///      approval clears the flag in the same write that grants the shares.
    struct Member {
        uint48 since;
        uint200 shares;
        bool pendingSpec;
    }

    mapping(address account => Member) private _members;
    /// @dev An account's shares before its `since`: entry `i` is `timepoint << 208 | shares` (its shares from that
    ///      timepoint on), in increasing timepoints. An entry is never zero (its timepoint is not), so the count is
    ///      found by searching for the first empty entry rather than stored: an account's first entry (its first
    ///      exit) writes one fresh slot, not an array's length and element.
    mapping(address account => mapping(uint256 index => uint256 entry)) private _shareHistory;
    /// @dev All equity shares over time: checkpoint `i` is `timepoint << 208 | total`, in increasing timepoints; the
    ///      count is `ThreadState.totalSharesCheckpoints`, so a change writes one slot (a fresh one unless it is in
    ///      the second of the previous change) instead of an array's length and element.
    mapping(uint256 index => uint256 checkpoint) private _totalShares;
    /// @dev Citations of pending specs, recorded at the hub and rewarded when a spec is approved.
    mapping(uint256 specId => uint256[]) private _specCitations;
    /// @dev The only account that may move the treasury or change parameters (see `setGovernor`).
    address private _governor;
    /// @dev Every exit in order, `exitTime << 160 | account` (read through `exitsSince`): an account's shares only
    ///      ever fall by exiting, so the accounts in here since a timepoint are the only ones holding fewer shares now
    ///      than then. Governance reads it to weigh a vote by min(shares at the snapshot, shares now).
    ///      Entry `i` is in `_exitLog[i]`; the count is in entry 0's top 48 bits (`exitTime` takes bits 160-207), so
    ///      the thread's first exit writes one fresh slot, not an array's length and first element.
    mapping(uint256 index => uint256 entry) private _exitLog;

    modifier onlyGovernor() {
        if (msg.sender != _governor) revert OnlyGovernor(msg.sender);
        _;
    }

    /// @param token_ the CHOIR token; the deployer (the hub) becomes `hub`
    constructor(IERC20 token_) {
        hub = IChoirHub(msg.sender);
        token = token_;
        _implementation = address(this);
        _ledger.threadId = type(uint64).max; // the implementation itself can never be initialised
    }

    // ------------------------------------------------------------------------------------------------------------
    // Set-up
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Initialise a fresh clone; called once by the hub in `createThread`.
    /// @param threadId_ the id the hub gave this thread
    /// @param creator the first co-author, holding `INITIAL_SHARES`
    /// @param contentHash keccak256 of the root message
    /// @param approvalWindow_ seconds co-authors have to vote on a spec
    /// @param authorKind who wrote the root message (checked by the hub)
    function initialize(
        uint64 threadId_,
        address creator,
        bytes32 contentHash,
        uint32 approvalWindow_,
        AuthorKind authorKind
    ) external {
        if (msg.sender != address(hub)) revert OnlyHub();
        if (_ledger.threadId != 0) revert AlreadyInitialized();
        uint48 now_ = clock();
        _ledger.threadId = threadId_;
        _members[creator] = Member({since: now_, shares: uint200(INITIAL_SHARES), pendingSpec: false});
        _totalShares[0] = _checkpoint(now_, INITIAL_SHARES);
        _state = ThreadState({
            countChangedAt: uint40(now_),
            coauthorCount: 1,
            prevCoauthorCount: 0,
            messageCount: 1,
            pendingSpecs: 0,
            approvalWindow: approvalWindow_,
            totalSharesCheckpoints: 1,
            approvalThreshold: uint16(SpecSettlement.BPS) // unanimity, today's rule
        });
        emit CoauthorJoined(creator, 0, INITIAL_SHARES, INITIAL_SHARES);
        emit MessagePosted(0, creator, contentHash, new uint256[](0), authorKind);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Messages and specs
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IThreadDAO
    function post(bytes32 contentHash, uint256[] calldata citations, uint8 authorKind)
        external
        returns (uint256 index)
    {
        if (contentHash == bytes32(0)) revert EmptyContent();
        AuthorKind kind = _authorKind(authorKind);
        if (_members[msg.sender].shares == 0) revert NotCoauthor(msg.sender);
        uint40 count = _state.messageCount;
        if (citations.length != 0) _checkCitations(citations, _ledger.threadId, count);
        index = count;
        _state.messageCount = count + 1;
        emit MessagePosted(index, msg.sender, contentHash, citations, kind);
        if (citations.length != 0) hub.recordCitations(_messageId(_ledger.threadId, index), citations);
    }

    /// @inheritdoc IThreadDAO
    function submitSpec(bytes32 contentHash, uint256[] calldata citations, uint256 stake, uint8 authorKind)
        external
        nonReentrant
        returns (uint256 specId)
    {
        specId = _submitSpec(contentHash, citations, stake, authorKind);
    }

    /// @notice `submitSpec`, refused unless the thread's price is at most `maxPrice`: a price raised just before the
    ///         transaction lands (a front-run) cannot shrink the equity the stake buys (`sqrt(stake / price)`).
    /// @param contentHash keccak256 of the message body
    /// @param citations global ids of cited messages (`threadId << 64 | index`), at most `MAX_CITATIONS`
    /// @param stake CHOIR to escrow, at least `hub.price(threadId)`
    /// @param authorKind who wrote the message: 0 human, 1 AI, 2 AI on a person's prompt
    /// @param maxPrice the highest price the author accepts (`PriceAboveMax` otherwise)
    /// @return specId the spec's id, also its message index
    function submitSpecWithMaxPrice(
        bytes32 contentHash,
        uint256[] calldata citations,
        uint256 stake,
        uint8 authorKind,
        uint256 maxPrice
    ) external nonReentrant returns (uint256 specId) {
        uint256 currentPrice = hub.price(_ledger.threadId);
        if (currentPrice > maxPrice) revert PriceAboveMax(currentPrice, maxPrice);
        specId = _submitSpec(contentHash, citations, stake, authorKind);
    }

    /// @notice `submitSpec` with an EIP-2612 permit instead of a prior `approve`, in one transaction.
    /// @dev A failing permit is ignored (it may have been front-run); the transfer then needs an allowance.
    /// @param contentHash keccak256 of the message body
    /// @param citations global ids of cited messages (`threadId << 64 | index`), at most `MAX_CITATIONS`
    /// @param stake CHOIR to escrow, at least `hub.price(threadId)`
    /// @param authorKind who wrote the message: 0 human, 1 AI, 2 AI on a person's prompt
    /// @param deadline, v, r, s the permit signature of the caller for `stake` to this thread
    /// @return specId the spec's id, also its message index
    function submitSpecWithPermit(
        bytes32 contentHash,
        uint256[] calldata citations,
        uint256 stake,
        uint8 authorKind,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 specId) {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), stake, deadline, v, r, s) {} catch {}
        specId = _submitSpec(contentHash, citations, stake, authorKind);
    }

    /// @inheritdoc IThreadDAO
    function vote(uint256 specId, bool approve) external {
        Spec storage spec_ = _specs[specId];
        _requirePending(specId, spec_.status);
        uint256 deadline = spec_.deadline;
        if (block.timestamp > deadline) revert VotingClosed(specId, deadline);
        Member memory voter = _members[msg.sender];
        if (voter.shares == 0) revert NotCoauthor(msg.sender);
        if (_sharesAt(voter, msg.sender, spec_.snapshot) == 0) revert NotEligibleForSpec(specId, msg.sender);
        mapping(uint256 => uint256) storage words = _ballotWords[msg.sender];
        uint256 word = words[specId >> 7];
        uint256 shift = (specId & 127) << 1;
        if ((word >> shift) & 3 != uint256(Ballot.None)) revert AlreadyVoted(specId, msg.sender);
        bool certain;
        if (approve) {
            words[specId >> 7] = word | (uint256(Ballot.Approve) << shift);
            uint24 approvals = spec_.approvals + 1;
            spec_.approvals = approvals;
            // The approval is certain from the vote that brings the approvals to the threshold of the *eligible*
            // count (under unanimity: the last eligible co-author's approval): votes never outnumber the eligible,
            // so no later denial can undo it. Record the second in the deadline (same slot, no extra write; voting
            // closes with this second), the time rewards are allocated by. Every eligible co-author approving is
            // certain under any threshold, so it skips the threshold's read (under a lower one the approval may
            // have been certain since an earlier vote of this same second: the deadline stays this second); and a
            // threshold is over half, so no vote at or under half of the eligible can be that vote either.
            uint256 eligible = spec_.eligible;
            if (approvals == eligible && spec_.denials == 0) {
                certain = true;
                spec_.deadline = uint40(block.timestamp);
            } else if (uint256(approvals) << 1 > eligible) {
                uint256 needed = uint256(_state.approvalThreshold) * eligible;
                certain = uint256(approvals) * SpecSettlement.BPS >= needed
                    && uint256(approvals - 1) * SpecSettlement.BPS < needed;
                if (certain) spec_.deadline = uint40(block.timestamp);
            }
        } else {
            words[specId >> 7] = word | (uint256(Ballot.Deny) << shift);
            spec_.denials += 1;
        }
        emit VoteCast(specId, msg.sender, approve);
        if (certain) emit ApprovalCertain(specId);
    }

    /// @inheritdoc IThreadDAO
    function settle(uint256 specId) external nonReentrant {
        _settle(specId, 0);
    }

    /// @notice Settle a spec, no longer waiting for the listed co-authors: each was eligible for the spec (held
    ///         shares at its snapshot), holds none now and never voted on it. Exits never block a decision
    ///         (protocol section 3, r2): once every eligible co-author has voted or left, the spec settles on the
    ///         votes cast, and when all of them left without a vote the stake goes back to its author (Refunded).
    /// @dev The list is the caller's claim and is checked entry by entry; the gateway builds it from the index.
    /// @param specId the pending spec
    /// @param departed the departed eligible non-voters, in strictly increasing address order
    function settleWithDepartures(uint256 specId, address[] calldata departed) external nonReentrant {
        uint48 snapshot = _specs[specId].snapshot;
        address previous;
        for (uint256 i; i < departed.length; ++i) {
            address account = departed[i];
            if (account <= previous) revert DeparturesNotSorted(account);
            previous = account;
            Member memory member = _members[account];
            if (
                member.shares != 0 || _ballot(specId, account) != Ballot.None
                    || _sharesAt(member, account, snapshot) == 0
            ) {
                revert NotDeparted(specId, account);
            }
        }
        _settle(specId, departed.length);
    }

    /// @notice Take the caller's share of the stakes of denied or split specs it denied.
    /// @param specIds the specs to claim from; each must hold an unclaimed share for the caller
    /// @return amount the CHOIR transferred
    function claimCuratorRewards(uint256[] calldata specIds) external nonReentrant returns (uint256 amount) {
        for (uint256 i; i < specIds.length; ++i) {
            uint256 specId = specIds[i];
            Spec storage spec_ = _specs[specId];
            SpecStatus status = spec_.status;
            mapping(uint256 => uint256) storage words = _ballotWords[msg.sender];
            uint256 word = words[specId >> 7];
            uint256 shift = (specId & 127) << 1;
            bool denied = (word >> shift) & 3 == uint256(Ballot.Deny);
            if (!denied || (status != SpecStatus.Denied && status != SpecStatus.Split)) {
                revert NoCuratorReward(specId, msg.sender);
            }
            words[specId >> 7] = word | (uint256(Ballot.DenyClaimed) << shift); // Deny (2) -> DenyClaimed (3)
            uint256 perDenier = SpecSettlement.deniersShare(spec_.stake, spec_.approvals, spec_.denials);
            amount += perDenier;
            emit CuratorRewardClaimed(specId, msg.sender, perDenier);
        }
        _ledger.locked -= amount.toUint96();
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Equity
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IThreadDAO
    function exit() external nonReentrant returns (uint256 payout) {
        Member memory own = _members[msg.sender];
        uint256 held = own.shares;
        if (held == 0) revert NotCoauthor(msg.sender);
        if (block.timestamp < own.since + EXIT_COOLDOWN) revert ExitCooldown(own.since + EXIT_COOLDOWN);
        // The last co-author may leave too, pending specs or not (protocol section 5, r2): they then settle at once,
        // Refunded when nobody voted.
        ThreadState memory state = _loadState();

        Ledger memory ledger = _ledger;
        uint256 total = _latestTotalShares(state);
        payout = Math.mulDiv(ledger.treasury, held, total);
        _setShares(msg.sender, own, 0);
        _pushTotalShares(state, total - held);
        _logExit(msg.sender);
        _changeCoauthorCount(state, false);
        ledger.treasury -= uint96(payout);
        _storeState(state);
        _storeLedger(ledger);
        emit CoauthorExited(msg.sender, held, payout, total - held);
        if (payout != 0) token.safeTransfer(msg.sender, payout);
    }

    /// @notice Add tokens sent to the thread outside the protocol to its treasury; anyone may call.
    /// @return amount the CHOIR added
    function absorbDonations() external returns (uint256 amount) {
        Ledger memory ledger = _ledger;
        uint256 balance = token.balanceOf(address(this));
        uint256 accounted = uint256(ledger.treasury) + ledger.locked;
        if (balance <= accounted) revert NoDonation();
        amount = balance - accounted;
        _ledger.treasury = (uint256(ledger.treasury) + amount).toUint96();
        emit DonationAbsorbed(amount);
    }

    /// @inheritdoc IThreadDAO
    function creditReward(uint256 messageId, uint256 amount) external {
        if (msg.sender != hub.rewardsDistributor()) revert OnlyRewardsDistributor(msg.sender);
        Ledger memory ledger = _ledger;
        // Trust the tokens that arrived, never the caller's number: only the unaccounted balance can be credited.
        uint256 balance = token.balanceOf(address(this));
        uint256 accounted = uint256(ledger.treasury) + ledger.locked;
        uint256 arrived = balance > accounted ? balance - accounted : 0;
        if (amount > arrived) revert RewardNotReceived(amount, arrived);
        _ledger.treasury = (uint256(ledger.treasury) + amount).toUint96();
        emit RewardCredited(messageId, amount);
    }

    /// @inheritdoc IThreadDAO
    function approvalCertainAt(uint256 specId) external view returns (uint256) {
        Spec memory spec_ = _specs[specId];
        if (spec_.status == SpecStatus.Approved) return spec_.deadline;
        if (spec_.status != SpecStatus.Pending || spec_.approvals == 0) return 0;
        // Pending: certain once the approvals reached the threshold of the eligible count (`vote` then moved the
        // deadline to that vote's second), else when the window ended with approvals at the threshold of the votes
        // cast. Under unanimity: every eligible co-author approved, or the window ended with approvals only.
        uint256 threshold = _state.approvalThreshold;
        uint256 approvals = uint256(spec_.approvals) * SpecSettlement.BPS;
        if (approvals >= threshold * spec_.eligible) return spec_.deadline;
        if (block.timestamp > spec_.deadline && approvals >= threshold * (uint256(spec_.approvals) + spec_.denials)) {
            return spec_.deadline;
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Governance (protocol section 8): the governor is the only way to move the treasury or change parameters
    // ------------------------------------------------------------------------------------------------------------

    /// @inheritdoc IThreadDAO
    function setGovernor(address governor_) external {
        address current = _governor;
        if (current == address(0) ? msg.sender != address(hub) : msg.sender != current) revert OnlyGovernor(msg.sender);
        if (governor_ == address(0)) revert ZeroAddress();
        _governor = governor_;
        emit GovernorSet(governor_);
    }

    /// @notice Move `amount` CHOIR from the treasury to `to`. Governor only (an executed proposal).
    /// @param to the recipient
    /// @param amount at most `treasury()`; escrowed stakes and curators' shares can never be moved
    function transferTreasury(address to, uint256 amount) external onlyGovernor nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 available = _ledger.treasury;
        if (amount > available) revert InsufficientTreasury(amount, available);
        _ledger.treasury = uint96(available - amount);
        emit TreasuryTransferred(to, amount);
        token.safeTransfer(to, amount);
    }

    /// @notice Change the approval window of specs submitted from now on. Governor only.
    /// @param approvalWindow_ seconds, within the hub's `MIN_APPROVAL_WINDOW`..`MAX_APPROVAL_WINDOW`
    function setApprovalWindow(uint256 approvalWindow_) external onlyGovernor {
        if (approvalWindow_ < hub.MIN_APPROVAL_WINDOW() || approvalWindow_ > hub.MAX_APPROVAL_WINDOW()) {
            revert InvalidApprovalWindow(approvalWindow_);
        }
        _state.approvalWindow = uint32(approvalWindow_);
        emit ApprovalWindowSet(approvalWindow_);
    }

    /// @notice Change the approval threshold: a spec is approved when its approvals are at least `bps` basis points
    ///         of the votes cast, and then its whole stake goes to the treasury (deniers are paid only when a spec
    ///         is not approved). Governor only. It applies to every spec settled from then on, pending ones
    ///         included: the threshold is read at settlement (one slot `settle` reads anyway), and a governor's
    ///         change is public for its execution delay before it takes effect.
    /// @param bps from `MIN_APPROVAL_THRESHOLD` (a strict majority) to 10,000 (unanimity, the default)
    function setApprovalThreshold(uint256 bps) external onlyGovernor {
        if (bps < MIN_APPROVAL_THRESHOLD || bps > SpecSettlement.BPS) revert InvalidApprovalThreshold(bps);
        _state.approvalThreshold = uint16(bps);
        emit ApprovalThresholdSet(bps);
    }

    /// @notice The thread's governor (zero until the hub's `createGovernor`).
    function governor() external view returns (address) {
        return _governor;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------------

    /// @notice This thread's id at the hub.
    function threadId() external view returns (uint256) {
        return _ledger.threadId;
    }

    /// @notice CHOIR owned by the thread (excludes escrowed stakes and deniers' unclaimed shares).
    function treasury() external view returns (uint256) {
        return _ledger.treasury;
    }

    /// @notice CHOIR held for others: escrowed stakes of pending specs and deniers' unclaimed shares.
    function lockedBalance() external view returns (uint256) {
        return _ledger.locked;
    }

    /// @notice Number of messages (posts and specs, including the root message); the next index.
    function messageCount() external view returns (uint256) {
        return _state.messageCount;
    }

    /// @notice Specs not yet settled.
    function pendingSpecs() external view returns (uint256) {
        return _state.pendingSpecs;
    }

    /// @inheritdoc IThreadDAO
    function coauthorCount() external view returns (uint256) {
        return _state.coauthorCount;
    }

    /// @notice Seconds co-authors have to vote on a new spec.
    function approvalWindow() external view returns (uint256) {
        return _state.approvalWindow;
    }

    /// @notice Basis points of the votes cast a spec's approvals must reach to approve it (10,000: unanimity).
    function approvalThreshold() external view returns (uint256) {
        return _state.approvalThreshold;
    }

    /// @notice The global id of this thread's message `index`: `threadId << 64 | index`.
    /// @param index the thread-local message index
    function messageId(uint256 index) external view returns (uint256) {
        return (uint256(_ledger.threadId) << 64) | index;
    }

    /// @inheritdoc IThreadDAO
    function specCitations(uint256 specId) external view returns (uint256[] memory) {
        return _specCitations[specId];
    }

    /// @notice A spec by id; `status == None` for an unknown id.
    /// @param specId the spec
    function getSpec(uint256 specId) external view returns (Spec memory) {
        return _specs[specId];
    }

    /// @notice How `account` voted on spec `specId`.
    /// @param specId the spec
    /// @param account the voter
    function ballotOf(uint256 specId, address account) external view returns (Ballot) {
        return _ballot(specId, account);
    }

    /// @notice What `account` may claim from spec `specId` as a denier (0 if nothing).
    /// @param specId the spec
    /// @param account the denier
    function curatorRewardOf(uint256 specId, address account) external view returns (uint256) {
        Spec memory spec_ = _specs[specId];
        if (_ballot(specId, account) != Ballot.Deny) return 0;
        if (spec_.status != SpecStatus.Denied && spec_.status != SpecStatus.Split) return 0;
        return SpecSettlement.deniersShare(spec_.stake, spec_.approvals, spec_.denials);
    }

    /// @notice Equity shares `account` holds now.
    /// @param account the co-author
    function sharesOf(address account) external view returns (uint256) {
        return _members[account].shares;
    }

    /// @notice All equity shares now.
    function totalShares() external view returns (uint256) {
        return _latestTotalShares(_state);
    }

    /// @notice Whether `account` is a co-author now.
    /// @param account the account
    function isCoauthor(address account) external view returns (bool) {
        return _members[account].shares != 0;
    }

    /// @notice When `account`'s shares last changed (its joining time while it is a co-author); 0 if never.
    /// @param account the account
    function joinedAt(address account) external view returns (uint256) {
        return _members[account].since;
    }

    /// @notice Voting weight of `account` now: its equity shares (equity is not transferable or delegable).
    /// @param account the co-author
    function getVotes(address account) external view returns (uint256) {
        return _members[account].shares;
    }

    /// @notice Equity shares `account` held at a past `timepoint` (a block timestamp).
    /// @param account the co-author
    /// @param timepoint a timestamp before the current one
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        return _sharesAt(_members[account], account, _pastTimepoint(timepoint));
    }

    /// @notice Governance weight of `account` on a vote whose snapshot is the past `timepoint`: min(its shares at
    ///         `timepoint`, its shares now) (protocol r2). One call and one read of the account's record where
    ///         `getPastVotes` and `getVotes` took two of each (the governor's `castVote` and `propose`).
    /// @param account the co-author
    /// @param timepoint a timestamp before the current one
    function votingWeight(address account, uint256 timepoint) external view returns (uint256) {
        uint48 then = _pastTimepoint(timepoint);
        Member storage record = _members[account];
        (uint48 since, uint256 shares) = (record.since, record.shares);
        if (then >= since) return shares; // unchanged since `timepoint`: then and now alike
        uint256 past = _sharesAt(record, account, then);
        return shares < past ? shares : past;
    }

    /// @notice All equity shares at a past `timepoint` (a block timestamp).
    /// @param timepoint a timestamp before the current one
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        return _totalSharesAt(_pastTimepoint(timepoint));
    }

    /// @inheritdoc IThreadDAO
    function exitsSince(uint256 timepoint) external view returns (address[] memory accounts) {
        uint256 length = _exitLog[0] >> 208;
        uint256 first = length;
        while (first != 0 && _exitTime(_exitLog[first - 1]) >= timepoint) --first;
        accounts = new address[](length - first);
        for (uint256 i = first; i < length; ++i) {
            accounts[length - 1 - i] = address(uint160(_exitLog[i]));
        }
    }

    /// @notice ERC-6372 clock: checkpoints are keyed by block timestamp.
    function clock() public view returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    function _submitSpec(bytes32 contentHash, uint256[] calldata citations, uint256 stake, uint8 authorKind)
        private
        returns (uint256 specId)
    {
        if (contentHash == bytes32(0)) revert EmptyContent();
        _authorKind(authorKind);
        if (stake == 0) revert ZeroStake();
        if (stake > type(uint96).max) revert StakeTooLarge(stake);
        _markPendingAuthor(msg.sender);
        ThreadState memory state = _loadState();
        Ledger memory ledger = _ledger;
        // Co-authors who can vote are those holding shares at the snapshot, one second before submission; the
        // count of them is the count before any change made in this same second.
        uint256 eligible = state.countChangedAt == block.timestamp ? state.prevCoauthorCount : state.coauthorCount;
        // Nobody left to vote either: the last co-author left earlier in this same second. The spec could never be
        // decided, and its stake would go at expiry to a treasury nobody holds a share of.
        if (eligible == 0 || state.coauthorCount == 0) revert NoEligibleVoters();
        uint256 currentPrice = hub.price(ledger.threadId);
        if (stake < currentPrice) revert StakeBelowPrice(stake, currentPrice);
        _checkCitations(citations, ledger.threadId, state.messageCount);

        specId = state.messageCount;
        _specs[specId] = Spec({
            author: msg.sender,
            stake: uint96(stake),
            price: currentPrice.toUint96(),
            snapshot: uint40(block.timestamp - 1),
            deadline: uint40(block.timestamp + state.approvalWindow),
            eligible: eligible.toUint24(),
            approvals: 0,
            denials: 0,
            status: SpecStatus.Pending
        });
        if (citations.length != 0) _specCitations[specId] = citations;
        state.messageCount += 1;
        state.pendingSpecs += 1;
        ledger.locked += uint96(stake);
        _storeState(state);
        _storeLedger(ledger);
        emit SpecSubmitted(
            specId,
            msg.sender,
            contentHash,
            stake,
            currentPrice,
            block.timestamp + state.approvalWindow,
            citations,
            AuthorKind(authorKind)
        );
        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @dev An author submits only while it is not a co-author and has no other spec pending here; mark it pending.
    function _markPendingAuthor(address account) private {
        Member storage author = _members[account];
        if (author.shares != 0) revert AlreadyCoauthor(account);
        if (author.pendingSpec) revert PendingSpecExists(account);
        author.pendingSpec = true;
    }

    /// @dev Record the approved spec's citations at the hub (a trusted contract; state is final before the call and
    ///      `settle` is non-reentrant). Rewards are not paid here: the distributor allocates them after the epoch.
    function _recordCitations(uint256 specId, uint64 threadId_) private {
        uint256[] memory citations = _specCitations[specId];
        if (citations.length != 0) hub.recordCitations(_messageId(threadId_, specId), citations);
    }

    function _authorKind(uint8 authorKind) private pure returns (AuthorKind) {
        if (authorKind > uint8(type(AuthorKind).max)) revert UnknownAuthorKind(authorKind);
        return AuthorKind(authorKind);
    }

    function _messageId(uint64 threadId_, uint256 index) private pure returns (uint256) {
        return uint256(threadId_) << 64 | index;
    }

    /// @dev Mint the approved author's equity (protocol section 5) and count it as a co-author. `treasuryBefore` is
    ///      the treasury just before the stake is added (the NAV floor's `T`). An author joining a thread that every
    ///      co-author has left starts it again with `INITIAL_SHARES`. Shares stop at `MAX_TOTAL_SHARES`.
    function _grantEquity(Spec memory spec_, uint256 specId, ThreadState memory state, uint256 treasuryBefore)
        private
    {
        Member memory author = _members[spec_.author];
        uint256 total = _latestTotalShares(state);
        uint256 added = total == 0
            ? INITIAL_SHARES
            : EquityMath.sharesForStake(spec_.stake, spec_.price, state.coauthorCount, treasuryBefore, total);
        uint256 room = MAX_TOTAL_SHARES - total;
        if (added > room) added = room;
        if (added == 0) {
            _members[spec_.author].pendingSpec = false; // the share space is full: approved, but no equity to give
            return;
        }
        _setShares(spec_.author, author, added);
        _pushTotalShares(state, total + added);
        _changeCoauthorCount(state, true);
        emit CoauthorJoined(spec_.author, specId, added, total + added);
    }

    /// @dev Co-authors eligible for spec `specId` (shares at `snapshot`) who hold none now and never voted on it,
    ///      each counted once, from the exit log's entries after the snapshot (all of them exited since).
    function _departedNonVoters(uint256 specId, uint48 snapshot) private view returns (uint256 count) {
        uint256 end = _exitLog[0] >> 208;
        uint256 first = end;
        while (first != 0 && _exitTime(_exitLog[first - 1]) > snapshot) --first;
        address[] memory counted = new address[](end - first);
        for (uint256 i = first; i < end; ++i) {
            address account = address(uint160(_exitLog[i]));
            bool again;
            for (uint256 j; j < count && !again; ++j) {
                again = counted[j] == account;
            }
            if (again) continue;
            Member memory member = _members[account];
            if (
                member.shares != 0 || _ballot(specId, account) != Ballot.None
                    || _sharesAt(member, account, snapshot) == 0
            ) {
                continue;
            }
            counted[count++] = account;
        }
    }

    /// @dev Settle `specId`, with `departed` eligible co-authors known to have left without voting on it.
    function _settle(uint256 specId, uint256 departed) private {
        Spec memory spec_ = _specs[specId];
        _requirePending(specId, spec_.status);
        ThreadState memory state = _loadState();
        uint256 votes = uint256(spec_.approvals) + spec_.denials;
        // Everyone the spec waits for has voted or left (a thread with no co-author waits for nobody).
        bool decided = state.coauthorCount == 0 || votes + departed >= spec_.eligible;
        if (!decided || votes == 0) {
            // Off the usual path (everyone voted): count the departed from the exit log, so that neither waiting
            // nor a Refunded outcome depends on who settles or whether they listed the departed.
            uint256 counted = _departedNonVoters(specId, spec_.snapshot);
            if (counted > departed) departed = counted;
            decided = state.coauthorCount == 0 || votes + departed >= spec_.eligible;
        }
        if (!decided && block.timestamp <= spec_.deadline) revert SettleTooEarly(specId, spec_.deadline);
        bool refunded = votes == 0 && (state.coauthorCount == 0 || departed >= spec_.eligible);

        Ledger memory ledger = _ledger;
        state.pendingSpecs -= 1;
        SpecStatus outcome = SpecStatus.Refunded;
        uint256 gain;
        uint256 perDenier;
        if (refunded) {
            ledger.locked -= spec_.stake;
        } else {
            // The threshold in force at settlement (a governor's change passes its execution delay first).
            (outcome, gain, perDenier) =
                SpecSettlement.divide(spec_.stake, spec_.approvals, spec_.denials, state.approvalThreshold);
            ledger.locked -= uint96(gain); // gain <= stake, which is part of locked
            if (outcome == SpecStatus.Approved) _grantEquity(spec_, specId, state, ledger.treasury);
            ledger.treasury += uint96(gain);
        }
        _specs[specId].status = outcome;
        if (outcome != SpecStatus.Approved) {
            _members[spec_.author].pendingSpec = false;
            // Only an approved spec's citations are read again (the distributor splits its reward by them).
            delete _specCitations[specId];
        }
        _storeState(state);
        _storeLedger(ledger);
        emit SpecSettled(specId, outcome, gain, perDenier, spec_.approvals, spec_.denials);
        if (outcome == SpecStatus.Approved) _recordCitations(specId, ledger.threadId);
        if (refunded) token.safeTransfer(spec_.author, spec_.stake);
    }

    /// @dev Append `account`'s exit now to the exit log (see `_exitLog`).
    function _logExit(address account) private {
        uint256 entry = (uint256(clock()) << 160) | uint160(account);
        uint256 head = _exitLog[0];
        uint256 count = head >> 208;
        if (count == 0) {
            _exitLog[0] = (1 << 208) | entry;
        } else {
            _exitLog[0] = head + (1 << 208); // 2**48 exits would take far more gas than any chain has
            _exitLog[count] = entry;
        }
    }

    /// @dev When the exit of an exit-log entry happened (without entry 0's count).
    function _exitTime(uint256 entry) private pure returns (uint256) {
        return uint48(entry >> 160);
    }

    /// @dev How `account` voted on spec `specId`.
    function _ballot(uint256 specId, address account) private view returns (Ballot) {
        return Ballot((_ballotWords[account][specId >> 7] >> ((specId & 127) << 1)) & 3);
    }

    /// @dev Shares of `account` (whose current record is `member`) at `timepoint`.
    function _sharesAt(Member memory member, address account, uint48 timepoint) private view returns (uint256) {
        if (timepoint >= member.since) return member.shares;
        mapping(uint256 => uint256) storage history = _shareHistory[account];
        return _valueAt(history, _historyLength(history), timepoint);
    }

    /// @dev The value at `timepoint` of a history of `length` entries (`timepoint << 208 | value`, timepoints
    ///      ascending): that of the last entry at or before `timepoint`, 0 if none. The first entry after
    ///      `timepoint` is found by binary search; the one before it holds the answer.
    function _valueAt(mapping(uint256 => uint256) storage entries, uint256 length, uint48 timepoint)
        private
        view
        returns (uint256)
    {
        uint256 low;
        uint256 high = length;
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (entries[mid] >> 208 > timepoint) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return high == 0 ? 0 : uint208(entries[high - 1]);
    }

    /// @dev The number of entries of a share history: the index of its first empty entry (entries are contiguous
    ///      from 0), found by doubling then halving; an account with no history costs one read.
    function _historyLength(mapping(uint256 => uint256) storage history) private view returns (uint256) {
        if (history[0] == 0) return 0;
        uint256 high = 1;
        while (history[high] != 0) high <<= 1;
        uint256 low = high >> 1; // set, and `high` is empty
        while (low + 1 < high) {
            uint256 mid = (low + high) >> 1;
            if (history[mid] != 0) {
                low = mid;
            } else {
                high = mid;
            }
        }
        return high;
    }

    /// @dev Give `account` (current record `member`) `shares` from now on; its previous value joins the history,
    ///      unless it was set in this same second (no past lookup can have seen it).
    function _setShares(address account, Member memory member, uint256 shares) private {
        uint48 now_ = clock();
        if (member.since != 0 && member.since != now_) {
            // Timepoints only grow (each `since` was an earlier `now_`), so the history stays ordered.
            mapping(uint256 => uint256) storage history = _shareHistory[account];
            history[_historyLength(history)] = uint256(member.since) << 208 | member.shares;
        }
        _members[account] = Member({since: now_, shares: shares.toUint200(), pendingSpec: false});
    }

    /// @dev `_state = state` as one SSTORE of the packed word (the compiler's member-wise copy of a full slot can
    ///      take several). Fields in declaration order from the low bits, as Solidity packs them; each memory field
    ///      holds a value of its own type (checked arithmetic), so none spills into the next.
    function _storeState(ThreadState memory state) private {
        uint256 word = uint256(state.countChangedAt) | uint256(state.coauthorCount) << 40
            | uint256(state.prevCoauthorCount) << 72 | uint256(state.messageCount) << 104
            | uint256(state.pendingSpecs) << 144 | uint256(state.approvalWindow) << 176
            | uint256(state.totalSharesCheckpoints) << 208 | uint256(state.approvalThreshold) << 240;
        assembly ("memory-safe") {
            sstore(_state.slot, word)
        }
    }

    /// @dev `_state` in memory from one SLOAD of the packed word, the inverse of `_storeState` (the compiler's
    ///      member-wise copy of a full slot can read it more than once).
    function _loadState() private view returns (ThreadState memory state) {
        uint256 word;
        assembly ("memory-safe") {
            word := sload(_state.slot)
        }
        state.countChangedAt = uint40(word);
        state.coauthorCount = uint32(word >> 40);
        state.prevCoauthorCount = uint32(word >> 72);
        state.messageCount = uint40(word >> 104);
        state.pendingSpecs = uint32(word >> 144);
        state.approvalWindow = uint32(word >> 176);
        state.totalSharesCheckpoints = uint32(word >> 208);
        state.approvalThreshold = uint16(word >> 240);
    }

    /// @dev `_ledger = ledger` as one SSTORE of the packed word, like `_storeState`.
    function _storeLedger(Ledger memory ledger) private {
        uint256 word = uint256(ledger.threadId) | uint256(ledger.treasury) << 64 | uint256(ledger.locked) << 160;
        assembly ("memory-safe") {
            sstore(_ledger.slot, word)
        }
    }

    function _checkpoint(uint256 timepoint, uint256 total) private pure returns (uint256) {
        return timepoint << 208 | total;
    }

    /// @dev All equity shares now (`state` is the current `_state`).
    function _latestTotalShares(ThreadState memory state) private view returns (uint256) {
        uint256 count = state.totalSharesCheckpoints;
        return count == 0 ? 0 : uint208(_totalShares[count - 1]); // 0: the implementation, never initialised
    }

    /// @dev Record `total` as all equity shares from now on; the count lives in `state`, which the caller writes.
    ///      A change in the second of the previous one replaces it (no past lookup can have seen it).
    function _pushTotalShares(ThreadState memory state, uint256 total) private {
        uint256 now_ = clock();
        uint256 last = state.totalSharesCheckpoints - 1;
        if (_totalShares[last] >> 208 == now_) {
            _totalShares[last] = _checkpoint(now_, total);
        } else {
            _totalShares[last + 1] = _checkpoint(now_, total);
            state.totalSharesCheckpoints += 1;
        }
    }

    /// @dev All equity shares at a past `timepoint`: the last checkpoint at or before it (0 before the first).
    function _totalSharesAt(uint48 timepoint) private view returns (uint256) {
        uint256 high = _state.totalSharesCheckpoints;
        if (high == 0) return 0; // the implementation, never initialised
        // Usually a recent timepoint (a proposal's snapshot), after the latest change.
        uint256 latest = _totalShares[high - 1];
        if (latest >> 208 <= timepoint) return uint208(latest);
        return _valueAt(_totalShares, high - 1, timepoint); // the latest is after `timepoint`: search the rest
    }

    /// @dev Keep the count as it was at the end of the previous second, for the eligibility snapshot.
    function _changeCoauthorCount(ThreadState memory state, bool increase) private view {
        if (state.countChangedAt != block.timestamp) {
            state.prevCoauthorCount = state.coauthorCount;
            state.countChangedAt = uint40(block.timestamp);
        }
        state.coauthorCount = increase ? state.coauthorCount + 1 : state.coauthorCount - 1;
    }

    /// @dev Citations name existing messages of any thread, at most `MAX_CITATIONS`, each once.
    function _checkCitations(uint256[] calldata citations, uint64 ownThreadId, uint64 ownMessageCount) private view {
        uint256 count = citations.length;
        if (count > MAX_CITATIONS) revert TooManyCitations(count, MAX_CITATIONS);
        for (uint256 i; i < count; ++i) {
            uint256 id = citations[i];
            for (uint256 j; j < i; ++j) {
                if (citations[j] == id) revert DuplicateCitation(id);
            }
            uint256 citedThread = id >> 64;
            uint256 index = uint64(id);
            if (citedThread == ownThreadId) {
                if (index >= ownMessageCount) revert UnknownMessage(id);
                continue;
            }
            address thread = Clones.predictDeterministicAddress(_implementation, bytes32(citedThread), address(hub));
            if (citedThread == 0 || thread.code.length == 0 || index >= ThreadDAO(thread).messageCount()) {
                revert UnknownMessage(id);
            }
        }
    }

    function _requirePending(uint256 specId, SpecStatus status) private pure {
        if (status == SpecStatus.None) revert UnknownSpec(specId);
        if (status != SpecStatus.Pending) revert SpecNotPending(specId);
    }

    function _pastTimepoint(uint256 timepoint) private view returns (uint48) {
        uint48 now_ = clock();
        if (timepoint >= now_) revert FutureLookup(timepoint, now_);
        return uint48(timepoint);
    }
}
