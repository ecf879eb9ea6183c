// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title A thread's nano-DAO: messages, staked specs, approval votes, settlement, equity and exit
interface IThreadDAO {
    /// @notice Life cycle of a spec; `None` marks an unknown id.
    enum SpecStatus {
        None,
        Pending,
        Approved,
        Denied,
        Split,
        Expired,
        Refunded
    }

    /// @notice Who wrote a message, as its submitter declares (protocol section 7): a person (ugc), an AI (aigc), or an AI
    ///         acting on a person's prompt (aiugc). Passed to the message functions as a `uint8`.
    enum AuthorKind {
        Human,
        AI,
        AIPrompted
    }

    /// @notice A co-author's vote on a spec; `DenyClaimed` once the curator took its share.
    enum Ballot {
        None,
        Approve,
        Deny,
        DenyClaimed
    }

    /// @notice A staked submission awaiting (or past) the co-authors' decision.
    struct Spec {
        address author;
        uint96 stake;
        uint96 price; // stake price when submitted, the P0 of the equity formula
        uint40 snapshot; // votes need shares at this timepoint (submission time - 1)
        uint40 deadline; // last second at which votes are accepted; once approval is certain, that vote's second
        uint24 eligible; // co-authors at the snapshot: all of them voting settles early
        uint24 approvals;
        uint24 denials;
        SpecStatus status;
    }

    /// @notice A message became part of the thread (the root message, a co-author's post or an approved spec's
    ///         submission). `index` is the thread-local message index; the global message id is
    ///         `threadId << 64 | index`.
    event MessagePosted(
        uint256 indexed index, address indexed author, bytes32 contentHash, uint256[] citations, AuthorKind authorKind
    );
    /// @notice A non-co-author staked on a message; it is spec `specId` (also its message index).
    event SpecSubmitted(
        uint256 indexed specId,
        address indexed author,
        bytes32 contentHash,
        uint256 stake,
        uint256 price,
        uint256 deadline,
        uint256[] citations,
        AuthorKind authorKind
    );
    /// @notice A co-author voted on a spec.
    event VoteCast(uint256 indexed specId, address indexed voter, bool approve);
    /// @notice The approvals of spec `specId` reached the thread's approval threshold of its eligible co-authors
    ///         (under unanimity: every eligible co-author approved): its approval became certain in this block, whose
    ///         timestamp is now the spec's `deadline` (voting closes with it; its reward comes from this block's
    ///         epoch). Under a threshold below unanimity it may come again for the same spec in the same second,
    ///         when the last eligible co-authors approve in the second the approval became certain.
    event ApprovalCertain(uint256 indexed specId);
    /// @notice A spec was settled. `treasuryGain + payoutPerDenier * denials == stake`, except for `Refunded`, where
    ///         the whole stake went back to its author (gain and payouts 0).
    event SpecSettled(
        uint256 indexed specId,
        SpecStatus outcome,
        uint256 treasuryGain,
        uint256 payoutPerDenier,
        uint256 approvals,
        uint256 denials
    );
    /// @notice `account` received `sharesAdded` equity shares (joining, or adding to its stake in the thread).
    event CoauthorJoined(address indexed account, uint256 indexed specId, uint256 sharesAdded, uint256 totalShares);
    /// @notice `account` left, burning `shares` and taking `payout` from the treasury.
    event CoauthorExited(address indexed account, uint256 shares, uint256 payout, uint256 totalShares);
    /// @notice A denier of spec `specId` took its share of the stake.
    event CuratorRewardClaimed(uint256 indexed specId, address indexed curator, uint256 amount);
    /// @notice Tokens sent to the thread outside the protocol were added to the treasury.
    event DonationAbsorbed(uint256 amount);
    /// @notice CHOIR minted by the rewards distributor was added to the treasury: the reward of this thread's
    ///         approved message `messageId`, or a citation reward because another thread's message cites this one.
    event RewardCredited(uint256 indexed messageId, uint256 amount);
    /// @notice The thread's governor changed (set by the hub once, afterwards only by the governor itself).
    event GovernorSet(address indexed governor);
    /// @notice Governance moved `amount` CHOIR out of the treasury to `to`.
    event TreasuryTransferred(address indexed to, uint256 amount);
    /// @notice Governance changed the approval window of new specs.
    event ApprovalWindowSet(uint256 approvalWindow);
    /// @notice Governance changed the approval threshold (basis points of the votes cast) of specs settled from now.
    event ApprovalThresholdSet(uint256 approvalThreshold);

    /// @notice Only the hub may call this.
    error OnlyHub();
    /// @notice The thread was already initialised.
    error AlreadyInitialized();
    /// @notice The content hash is zero (no content).
    error EmptyContent();
    /// @notice A stake of zero was offered.
    error ZeroStake();
    /// @notice The stake is below the thread's current price.
    error StakeBelowPrice(uint256 stake, uint256 price);
    /// @notice The stake does not fit the thread's accounting (above the token's supply cap).
    error StakeTooLarge(uint256 stake);
    /// @notice The caller must be a co-author.
    error NotCoauthor(address account);
    /// @notice Co-authors post directly; they cannot submit specs.
    error AlreadyCoauthor(address account);
    /// @notice The thread has no co-author able to vote on a new spec.
    error NoEligibleVoters();
    /// @notice More than `MAX_CITATIONS` citations.
    error TooManyCitations(uint256 count, uint256 max);
    /// @notice A cited message does not exist.
    error UnknownMessage(uint256 messageId);
    /// @notice The same message is cited twice.
    error DuplicateCitation(uint256 messageId);
    /// @notice No spec has this id.
    error UnknownSpec(uint256 specId);
    /// @notice The spec was already settled.
    error SpecNotPending(uint256 specId);
    /// @notice The approval window of the spec has ended.
    error VotingClosed(uint256 specId, uint256 deadline);
    /// @notice The voter became a co-author after the spec was submitted.
    error NotEligibleForSpec(uint256 specId, address account);
    /// @notice The voter already voted on this spec; votes cannot change.
    error AlreadyVoted(uint256 specId, address account);
    /// @notice The outcome is not yet certain: not every eligible co-author voted and the window is open.
    error SettleTooEarly(uint256 specId, uint256 deadline);
    /// @notice The exit cooldown since joining has not passed.
    error ExitCooldown(uint256 availableAt);
    /// @notice The thread's price is above the most the author accepts (`submitSpecWithMaxPrice`).
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    /// @notice The author already has a pending spec in this thread: one at a time (protocol section 3, r2).
    error PendingSpecExists(address author);
    /// @notice A listed account is not an eligible co-author of the spec who left without voting on it.
    error NotDeparted(uint256 specId, address account);
    /// @notice Departed co-authors must be listed in strictly increasing address order (each once).
    error DeparturesNotSorted(address account);
    /// @notice The caller has no unclaimed curator reward on this spec (not a denier, not settled, or claimed).
    error NoCuratorReward(uint256 specId, address account);
    /// @notice The thread holds no tokens beyond its treasury and locked funds.
    error NoDonation();
    /// @notice A past-votes lookup asked about the present or the future.
    error FutureLookup(uint256 timepoint, uint256 clock);
    /// @notice Only the thread's governor may call this.
    error OnlyGovernor(address caller);
    /// @notice Only the hub's rewards distributor may call this.
    error OnlyRewardsDistributor(address caller);
    /// @notice The treasury holds less than asked for.
    error InsufficientTreasury(uint256 amount, uint256 treasury);
    /// @notice An approval window outside the hub's bounds.
    error InvalidApprovalWindow(uint256 approvalWindow);
    /// @notice An approval threshold outside `MIN_APPROVAL_THRESHOLD`..10,000 basis points.
    error InvalidApprovalThreshold(uint256 approvalThreshold);
    /// @notice A zero address where an account is needed.
    error ZeroAddress();
    /// @notice An author kind other than 0 (human), 1 (AI) or 2 (AI on a person's prompt).
    error UnknownAuthorKind(uint256 authorKind);
    /// @notice A reward credit of `amount` when only `arrived` tokens reached the thread unaccounted.
    error RewardNotReceived(uint256 amount, uint256 arrived);

    /// @notice Post a message as a co-author, free of stake.
    function post(bytes32 contentHash, uint256[] calldata citations, uint8 authorKind)
        external
        returns (uint256 index);

    /// @notice Stake `stake` CHOIR on a message; the thread escrows it until the co-authors decide.
    function submitSpec(bytes32 contentHash, uint256[] calldata citations, uint256 stake, uint8 authorKind)
        external
        returns (uint256 specId);

    /// @notice Vote on a pending spec, once.
    function vote(uint256 specId, bool approve) external;

    /// @notice Settle a spec whose outcome is certain; anyone may call.
    function settle(uint256 specId) external;

    /// @notice `settle`, counting `departed` (co-authors eligible for the spec who left without voting) as no
    ///         longer awaited: exits never block a decision (protocol section 3, r2).
    function settleWithDepartures(uint256 specId, address[] calldata departed) external;

    /// @notice Leave the thread, burning all shares for a pro-rata part of the treasury.
    function exit() external returns (uint256 payout);

    /// @notice The accounts that exited at or after `timepoint`, most recent first (an account that left, rejoined
    ///         and left again appears once per exit). Shares fall only by exiting, so every other account holds at
    ///         least as many shares now as at `timepoint`: a governor reads this to weigh a vote by
    ///         min(shares at the snapshot, shares now) without looping over its voters.
    /// @param timepoint a timestamp (a proposal's snapshot); the answer's length is the number of exits since then
    function exitsSince(uint256 timepoint) external view returns (address[] memory accounts);

    /// @notice Add `amount` CHOIR, just minted to this thread by the hub's rewards distributor, to the treasury;
    ///         reverts `RewardNotReceived` unless at least `amount` arrived beyond the thread's books.
    function creditReward(uint256 messageId, uint256 amount) external;

    /// @notice When the approval of spec `specId` became certain: the second of the vote that brought its approvals
    ///         to the approval threshold of the eligible co-authors (under unanimity: the last of them), else the end
    ///         of its window; 0 if it is not approved (or not yet certain). For a pending spec it reads the threshold
    ///         in force now, the one its settlement will use.
    function approvalCertainAt(uint256 specId) external view returns (uint256);

    /// @notice The messages spec `specId` cites (counted at its approval, and sharing its reward).
    function specCitations(uint256 specId) external view returns (uint256[] memory);

    /// @notice Current number of co-authors.
    function coauthorCount() external view returns (uint256);

    /// @notice Set the thread's governor: by the hub when it has none, afterwards only by the governor itself.
    function setGovernor(address governor_) external;
}
