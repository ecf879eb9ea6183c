// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IChoirHub} from "./interfaces/IChoirHub.sol";
import {StakePriceOracle} from "./hub/StakePriceOracle.sol";
import {ThreadDAO} from "./thread/ThreadDAO.sol";

/// @title The Choir hub: creates threads, keeps their registry and serves their stake prices
/// @notice Every thread is an EIP-1167 minimal proxy of one `ThreadDAO` implementation, created with CREATE2 and
///         the thread id as salt, so its address follows from its id and funds of two threads can never mix.
///         The hub also holds the price oracle state (see `StakePriceOracle`). Parameters change only through
///         `DEFAULT_ADMIN_ROLE` (a timelock or multisig outside a devnet).
contract ChoirHub is IChoirHub, StakePriceOracle {
    /// @notice Shortest and longest approval window the admin may give new threads.
    uint256 public constant MIN_APPROVAL_WINDOW = 1 hours;
    uint256 public constant MAX_APPROVAL_WINDOW = 365 days;

    IERC20 private immutable _token;

    /// @notice The implementation every thread clone delegates to (deployed by this hub's constructor).
    address public immutable threadImplementation;

    uint64 private _threadCount;
    uint32 private _defaultApprovalWindow;

    /// @notice Construction parameters of the hub.
    struct Config {
        address admin;
        uint256 minPrice;
        uint256 maxPrice;
        uint256 fallbackPrice;
        uint256 maxDeviationBps;
        uint256 heartbeat;
        uint256 approvalWindow;
    }

    /// @param token_ the CHOIR token
    /// @param config admin and initial parameters (see the setters for their ranges)
    constructor(IERC20 token_, Config memory config)
        StakePriceOracle(config.minPrice, config.maxPrice, config.fallbackPrice, config.maxDeviationBps, config.heartbeat)
    {
        if (address(token_) == address(0)) revert InvalidParameter("token");
        if (config.admin == address(0)) revert InvalidParameter("admin");
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _setDefaultApprovalWindow(config.approvalWindow);
        threadImplementation = address(new ThreadDAO(token_));
    }

    /// @inheritdoc IChoirHub
    function createThread(bytes32 contentHash) external returns (uint256 threadId, address thread) {
        if (contentHash == bytes32(0)) revert EmptyContent();
        threadId = ++_threadCount;
        thread = Clones.cloneDeterministic(threadImplementation, bytes32(threadId));
        ThreadDAO(thread).initialize(uint64(threadId), msg.sender, contentHash, _defaultApprovalWindow);
        emit ThreadCreated(threadId, thread, msg.sender, contentHash);
    }

    /// @inheritdoc IChoirHub
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IChoirHub
    function threadAddress(uint256 threadId) external view returns (address) {
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

    function _threadExists(uint256 threadId) internal view override returns (bool) {
        return threadId != 0 && threadId <= _threadCount;
    }
}
