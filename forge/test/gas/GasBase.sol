// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ChoirToken} from "../../../contracts/ChoirToken.sol";
import {ChoirHub} from "../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";
import {ThreadGovernor} from "../../../contracts/governance/ThreadGovernor.sol";

/// @notice The deployment of `choir_chain.deploy` (same parameters) and the helpers the gas tests share. Every
///         gas test measures one operation in the state its `setUp` builds (stated in each test's comment); the
///         figures guard regressions (`forge snapshot --check`), `make bench-gas` stays the figure of record.
abstract contract GasBase is Test {
    uint256 internal constant CHOIR = 1e18;
    uint256 internal constant DAY = 1 days;
    uint256 internal constant FUNDS = 1_000 * CHOIR;

    ChoirToken internal token;
    ChoirHub internal hub;
    address internal admin = makeAddr("admin");
    address internal pricer = makeAddr("pricer");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    uint64 internal round;

    function _deploy() internal {
        vm.warp(1_800_000_000);
        token = new ChoirToken(admin, address(this));
        hub = new ChoirHub(
            token,
            ChoirHub.Config({
                admin: admin,
                minPrice: 1 * CHOIR,
                maxPrice: 1_000_000 * CHOIR,
                fallbackPrice: 30 * CHOIR,
                maxDeviationBps: 5_000,
                heartbeat: DAY,
                deviationWindow: 1 hours,
                approvalWindow: 7 * DAY
            })
        );
        ThreadGovernor implementation = new ThreadGovernor();
        vm.startPrank(admin);
        hub.setGovernance(
            ChoirHub.GovernanceSettings({
                implementation: address(implementation),
                votingDelay: 3600,
                votingPeriod: 3 days,
                quorumBps: 5_000,
                executionDelay: uint32(DAY)
            })
        );
        hub.grantRole(hub.PRICER_ROLE(), pricer);
        vm.stopPrank();
        _fund(alice);
        _fund(bob);
        _fund(carol);
    }

    function _fund(address account) internal {
        token.transfer(account, FUNDS);
    }

    function _tick() internal {
        vm.warp(block.timestamp + 1);
    }

    function _create(address creator, uint256 label) internal returns (ThreadDAO thread) {
        vm.prank(creator);
        (, address addr) = hub.createThread(keccak256(abi.encode("root", label)), 0);
        thread = ThreadDAO(addr);
        _tick();
    }

    /// @dev A realistic 18-digit wei price for thread `i` (like the bench's QAHO prices).
    function _price(uint256 i, uint256 step) internal pure returns (uint256) {
        return 17_320_508_075_688_772_935 + i * 1_234_567_891_011 + step * 987_654_321_987_654_321;
    }

    function _pushPrices(uint256 firstId, uint256 count, uint256 step) internal {
        uint256[] memory ids = new uint256[](count);
        uint256[] memory prices = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            ids[i] = firstId + i;
            prices[i] = _price(i, step);
        }
        vm.prank(pricer);
        hub.updatePrices(ids, prices, ++round);
        _tick();
    }

    /// @dev A fresh staker approves exactly the thread's price and stakes it; returns the spec id.
    function _submit(ThreadDAO thread, string memory name) internal returns (uint256 specId, address staker) {
        staker = makeAddr(name);
        _fund(staker);
        _approveStake(thread, staker);
        uint256 stake = hub.price(thread.threadId());
        vm.prank(staker);
        specId = thread.submitSpec(keccak256(bytes(name)), new uint256[](0), stake, 0);
        _tick();
    }

    function _approveStake(ThreadDAO thread, address staker) internal {
        uint256 stake = hub.price(thread.threadId());
        vm.prank(staker);
        token.approve(address(thread), stake);
        _tick();
    }

    function _vote(ThreadDAO thread, uint256 specId, address voter, bool approve) internal {
        vm.prank(voter);
        thread.vote(specId, approve);
        _tick();
    }
}
