// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ChoirHub} from "../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";
import {ThreadGovernor} from "../../../contracts/governance/ThreadGovernor.sol";
import {Deployer} from "../utils/Deployer.sol";

/// @notice G4 at its tightest, fuzzed over when the dissenter joined and when each step happens: with the fastest
///         governance the hub accepts (1-second voting delay, 1-hour vote, execution delay = the 1-day exit cooldown),
///         a co-author who joined just before a proposal and voted against it exits with its pro-rata share at the
///         proposal's execution time, before the execution. The invariant campaign checks the same rule on random
///         histories; this test pins the worst case.
contract DissenterExitTest is Deployer {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        vm.warp(1_780_000_000);
        _deploySystem(makeAddr("pricer"));
        hub.setGovernance(
            ChoirHub.GovernanceSettings({
                implementation: address(governorImplementation),
                votingDelay: 1,
                votingPeriod: 1 hours,
                quorumBps: QUORUM_BPS,
                executionDelay: 1 days
            })
        );
        token.transfer(alice, 1_000e18);
        token.transfer(bob, 1_000e18);
    }

    function testFuzz_aDissenterExitsBeforeTheExecution(uint256 gap, uint256 lateQueue, uint256 stake) public {
        gap = _bound(gap, 0, 2 days); // from bob's joining to the proposal
        lateQueue = _bound(lateQueue, 0, 1 days); // from the vote's end to the queueing
        stake = _bound(stake, FALLBACK_PRICE, 60e18); // with a 100 CHOIR treasury bob gets under half: alice outvotes him
        vm.prank(alice);
        (uint256 id, address t) = hub.createThread(keccak256("root"), 0);
        ThreadDAO thread = ThreadDAO(t);
        vm.prank(alice);
        token.transfer(t, 100e18);
        thread.absorbDonations();
        vm.warp(block.timestamp + 1);
        vm.startPrank(bob);
        token.approve(t, stake);
        uint256 spec = thread.submitSpec(keccak256("spec"), new uint256[](0), stake, 0);
        vm.stopPrank();
        vm.prank(alice);
        thread.vote(spec, true);
        thread.settle(spec);
        assertGt(thread.sharesOf(bob), 0, "bob joined");

        vm.warp(block.timestamp + gap);
        vm.prank(alice);
        ThreadGovernor governor = ThreadGovernor(payable(hub.createGovernor(id)));
        address[] memory targets = new address[](1);
        targets[0] = t;
        uint256[] memory values = new uint256[](1);
        bytes[] memory calls = new bytes[](1);
        calls[0] = abi.encodeCall(ThreadDAO.transferTreasury, (alice, 1e18));
        vm.prank(alice);
        uint256 proposal = governor.propose(targets, values, calls, "pay alice");
        vm.warp(governor.proposalSnapshot(proposal) + 1);
        vm.prank(alice);
        governor.castVote(proposal, 1);
        vm.prank(bob);
        governor.castVote(proposal, 0);
        vm.warp(governor.proposalDeadline(proposal) + 1 + lateQueue);
        governor.queue(targets, values, calls, keccak256("pay alice"));
        uint256 eta = governor.proposalEta(proposal);
        assertLe(thread.joinedAt(bob) + thread.EXIT_COOLDOWN(), eta, "bob's cooldown ends after the execution time");

        vm.warp(eta);
        uint256 expected = Math.mulDiv(thread.treasury(), thread.sharesOf(bob), thread.totalShares());
        uint256 before = token.balanceOf(bob);
        vm.prank(bob);
        assertEq(thread.exit(), expected, "bob's pro-rata share");
        assertEq(token.balanceOf(bob), before + expected, "paid");
        governor.execute(targets, values, calls, keccak256("pay alice"));
        assertFalse(governor.executionFailed(proposal), "executed after bob left");
    }
}
