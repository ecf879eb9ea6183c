// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IChoirHub} from "./interfaces/IChoirHub.sol";
import {IRewardsDistributor} from "./interfaces/IRewardsDistributor.sol";
import {IThreadDAO} from "./interfaces/IThreadDAO.sol";
import {StakePriceOracle} from "./hub/StakePriceOracle.sol";
import {ThreadDAO} from "./thread/ThreadDAO.sol";

/// @title The Choir hub: creates threads, keeps their registry and serves their stake prices
/// @notice Every thread is an EIP-1167 minimal proxy of one `ThreadDAO` implementation, created with CREATE2 and
///         the thread id as salt, so its address follows from its id and funds of two threads can never mix.
///         The hub also holds the price oracle state (see `StakePriceOracle`). Parameters change only through
///         `DEFAULT_ADMIN_ROLE` (a timelock or multisig outside a devnet).
contract ChoirHub is IChoirHub, StakePriceOracle {
    /// @inheritdoc IChoirHub
    uint256 public constant MIN_APPROVAL_WINDOW = 1 hours;
    /// @inheritdoc IChoirHub
    uint256 public constant MAX_APPROVAL_WINDOW = 365 days;

    /// @dev The token's minter role (`ChoirToken.MINTER_ROLE`), which a rewards distributor must hold.
    bytes32 private constant MINTER_ROLE = keccak256("MINTER_ROLE");

    IERC20 private immutable _token;

    /// @inheritdoc IChoirHub
    address public immutable threadImplementation;

    uint64 private _threadCount;
    uint32 private _defaultApprovalWindow;
    address private _rewardsDistributor;

    /// @notice What a new thread governor is cloned from and configured with.
    struct GovernanceSettings {
        address implementation; // a ThreadGovernor
        uint32 votingDelay; // seconds from proposal to the vote's start (the snapshot)
        uint32 votingPeriod; // seconds the vote stays open
        uint16 quorumBps; // share of all equity at the snapshot that must vote for or abstain
        uint32 executionDelay; // seconds between queueing a passed proposal and its execution
    }

    GovernanceSettings private _governance;
    mapping(uint256 threadId => uint256) private _citationsReceived;
    mapping(uint256 citedThreadId => mapping(uint256 citingThreadId => bool)) private _citedBy;

    /// @notice Construction parameters of the hub.
    struct Config {
        address admin;
        uint256 minPrice;
        uint256 maxPrice;
        uint256 fallbackPrice;
        uint256 maxDeviationBps;
        uint256 heartbeat;
        uint256 deviationWindow;
        uint256 approvalWindow;
    }

    /// @param token_ the CHOIR token
    /// @param config admin and initial parameters (see the setters for their ranges)
    constructor(IERC20 token_, Config memory config)
        StakePriceOracle(
            config.minPrice,
            config.maxPrice,
            config.fallbackPrice,
            config.maxDeviationBps,
            config.heartbeat,
            config.deviationWindow
        )
    {
        if (address(token_) == address(0)) revert InvalidParameter("token");
        if (config.admin == address(0)) revert InvalidParameter("admin");
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _setDefaultApprovalWindow(config.approvalWindow);
        threadImplementation = address(new ThreadDAO(token_));
    }

    /// @inheritdoc IChoirHub
    function createThread(bytes32 contentHash, uint8 authorKind) external returns (uint256 threadId, address thread) {
        if (contentHash == bytes32(0)) revert EmptyContent();
        if (authorKind > uint8(type(IThreadDAO.AuthorKind).max)) revert UnknownAuthorKind(authorKind);
        threadId = ++_threadCount;
        thread = Clones.cloneDeterministic(threadImplementation, bytes32(threadId));
        ThreadDAO(thread).initialize(
            uint64(threadId), msg.sender, contentHash, _defaultApprovalWindow, IThreadDAO.AuthorKind(authorKind)
        );
        emit ThreadCreated(threadId, thread, msg.sender, contentHash);
    }

    /// @notice Give thread `threadId` its governor: a clone of the governor implementation carrying the current
    ///         governance settings, from then on the only account that can move the thread's treasury or change
    ///         its parameters. Only a co-author of the thread may call (`OnlyCoauthor`), once per thread: otherwise
    ///         whoever held the hub's admin role could pick the moment and the implementation of every thread's
    ///         governor.
    /// @param threadId the thread
    /// @return governor the new governor
    function createGovernor(uint256 threadId) external returns (address governor) {
        address thread = _threadAddress(threadId);
        if (ThreadDAO(thread).sharesOf(msg.sender) == 0) revert OnlyCoauthor(threadId, msg.sender);
        address existing = ThreadDAO(thread).governor();
        if (existing != address(0)) revert GovernorExists(threadId, existing);
        GovernanceSettings memory settings = _governance;
        if (settings.implementation == address(0)) revert GovernanceNotSet();
        _checkExecutionDelay(settings.executionDelay);
        bytes memory args = abi.encodePacked(
            thread, settings.votingDelay, settings.votingPeriod, settings.quorumBps, settings.executionDelay
        );
        governor = Clones.cloneDeterministicWithImmutableArgs(settings.implementation, args, bytes32(threadId));
        ThreadDAO(thread).setGovernor(governor);
        emit GovernorCreated(threadId, governor);
    }

    /// @notice The governor of thread `threadId` now (zero until `createGovernor`; follows a migration the thread's
    ///         governance made with `setGovernor`). Reverts `UnknownThread` for an unknown id.
    function governorOf(uint256 threadId) external view returns (address) {
        return ThreadDAO(_threadAddress(threadId)).governor();
    }

    /// @inheritdoc IChoirHub
    function recordCitations(uint256 citingMessageId, uint256[] calldata citedMessageIds) external {
        uint256 citingThread = citingMessageId >> 64;
        if (
            !_threadExists(citingThread)
                || msg.sender != Clones.predictDeterministicAddress(threadImplementation, bytes32(citingThread))
        ) revert NotThread(msg.sender, citingMessageId);
        for (uint256 i; i < citedMessageIds.length; ++i) {
            uint256 cited = citedMessageIds[i];
            uint256 citedThread = cited >> 64;
            if (citedThread == citingThread) continue; // a thread cannot raise its own count
            emit CitationRecorded(citedThread, cited, citingMessageId);
            // A thread that cites another many times counts once: throwaway posts cannot pump a price (r2).
            if (_citedBy[citedThread][citingThread]) continue;
            _citedBy[citedThread][citingThread] = true;
            uint256 citingThreads = _citationsReceived[citedThread] + 1;
            _citationsReceived[citedThread] = citingThreads;
            emit CitingThreadCounted(citedThread, citingThread, citingThreads);
        }
    }

    /// @notice Distinct other threads whose posts or approved specs cite thread `threadId` (the `c` of its price).
    function citationsReceived(uint256 threadId) external view returns (uint256) {
        return _citationsReceived[threadId];
    }

    /// @inheritdoc IChoirHub
    function rewardsDistributor() external view returns (address) {
        return _rewardsDistributor;
    }

    /// @notice Set the rewards distributor, the only account whose reward credits threads accept (zero turns rewards
    ///         off). Threads never call it: settlement goes on whatever it is. Admin only.
    /// @param distributor zero, or a contract that names this hub and this hub's token and holds the token's
    ///        `MINTER_ROLE` (else `InvalidRewardsDistributor`)
    function setRewardsDistributor(address distributor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (distributor != address(0)) {
            if (distributor.code.length == 0) revert InvalidRewardsDistributor(distributor, "not a contract");
            if (IRewardsDistributor(distributor).hub() != address(this)) {
                revert InvalidRewardsDistributor(distributor, "another hub");
            }
            if (IRewardsDistributor(distributor).token() != address(_token)) {
                revert InvalidRewardsDistributor(distributor, "another token");
            }
            if (!IAccessControl(address(_token)).hasRole(MINTER_ROLE, distributor)) {
                revert InvalidRewardsDistributor(distributor, "not a minter");
            }
        }
        _rewardsDistributor = distributor;
        emit RewardsDistributorSet(distributor);
    }

    /// @notice The governor implementation and the settings new governors get.
    function governanceSettings() external view returns (GovernanceSettings memory) {
        return _governance;
    }

    /// @notice Set the governor implementation and the settings of governors created from now on (existing
    ///         governors keep theirs). Admin only.
    /// @param settings implementation (a contract), voting delay (1 second to 30 days: shares changed in the second
    ///        of the proposal must not count), voting period (1 hour to 90 days),
    ///        quorum (1 to 10,000 bps), execution delay (the thread's exit cooldown, 1 day, to 30 days: below the
    ///        cooldown `ExecutionDelayBelowExitCooldown`, so a co-author outvoted can always exit first)
    function setGovernance(GovernanceSettings calldata settings) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (settings.implementation.code.length == 0) revert InvalidParameter("implementation");
        if (settings.votingDelay == 0 || settings.votingDelay > 30 days) revert InvalidParameter("votingDelay");
        if (settings.votingPeriod < 1 hours || settings.votingPeriod > 90 days) revert InvalidParameter("votingPeriod");
        if (settings.quorumBps == 0 || settings.quorumBps > 10_000) revert InvalidParameter("quorumBps");
        _checkExecutionDelay(settings.executionDelay);
        if (settings.executionDelay > 30 days) revert InvalidParameter("executionDelay");
        _governance = settings;
        emit GovernanceSet(
            settings.implementation,
            settings.votingDelay,
            settings.votingPeriod,
            settings.quorumBps,
            settings.executionDelay
        );
    }

    /// @inheritdoc IChoirHub
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IChoirHub
    function threadAddress(uint256 threadId) external view returns (address) {
        return _threadAddress(threadId);
    }

    function _threadAddress(uint256 threadId) private view returns (address) {
        if (!_threadExists(threadId)) revert UnknownThread(threadId);
        return Clones.predictDeterministicAddress(threadImplementation, bytes32(threadId));
    }

    /// @inheritdoc IChoirHub
    function threadCount() external view returns (uint256) {
        return _threadCount;
    }

    /// @notice The approval window new threads start with, in seconds.
    function defaultApprovalWindow() external view returns (uint256) {
        return _defaultApprovalWindow;
    }

    /// @notice Set the approval window new threads start with (1 hour to 365 days). Admin only; existing threads
    ///         keep theirs.
    /// @param approvalWindow the window in seconds
    function setDefaultApprovalWindow(uint256 approvalWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDefaultApprovalWindow(approvalWindow);
    }

    function _setDefaultApprovalWindow(uint256 approvalWindow) private {
        if (approvalWindow < MIN_APPROVAL_WINDOW || approvalWindow > MAX_APPROVAL_WINDOW) {
            revert InvalidParameter("approvalWindow");
        }
        _defaultApprovalWindow = uint32(approvalWindow);
        emit DefaultApprovalWindowSet(approvalWindow);
    }

    /// @dev A passed proposal waits at least the threads' exit cooldown, so whoever voted against it can leave first.
    function _checkExecutionDelay(uint256 executionDelay) private view {
        uint256 cooldown = ThreadDAO(threadImplementation).EXIT_COOLDOWN();
        if (executionDelay < cooldown) revert ExecutionDelayBelowExitCooldown(executionDelay, cooldown);
    }

    function _threadExists(uint256 threadId) internal view override returns (bool) {
        return threadId != 0 && threadId <= _threadCount;
    }

    function _threadCountForPrices() internal view override returns (uint256) {
        return _threadCount;
    }
}
