// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GasBase} from "./GasBase.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";

/// @notice Gas of a thread's operations. State (like the bench's): three threads exist; the main thread has four
///         co-authors (alice, bob and carol joined long ago and have voted before; dave joined 2 days ago), a
///         non-empty treasury and a fresh pushed price; its specs each come from a fresh staker who approved
///         exactly the stake; every spec is voted on by all four co-authors unless stated.
contract ThreadGasTest is GasBase {
    ThreadDAO internal main;
    address internal dave;
    uint256 internal specOpen; // pending, no vote yet
    uint256 internal specApproved; // 4 approvals
    uint256 internal specDenied; // 4 denials
    uint256 internal specSplit; // 1 approval, 3 denials
    uint256 internal specExpired; // no vote
    uint256 internal specClaimable; // denied by all four and settled
    address internal nextStaker; // approved exactly the stake, not yet submitted

    function setUp() public {
        _deploy();
        main = _create(alice, 1);
        _create(bob, 2);
        _create(carol, 3);
        _pushPrices(1, 1, 0);
        // bob, carol and dave join through approved specs.
        uint256 spec = _submitAs(main, bob);
        _vote(main, spec, alice, true);
        main.settle(spec);
        spec = _submitAs(main, carol);
        _vote(main, spec, alice, true);
        _vote(main, spec, bob, true);
        main.settle(spec);
        (spec, dave) = _submit(main, "dave");
        _vote(main, spec, alice, true);
        _vote(main, spec, bob, true);
        _vote(main, spec, carol, true);
        main.settle(spec);
        vm.warp(block.timestamp + 2 * DAY);
        _pushPrices(1, 1, 1);

        (specClaimable,) = _submit(main, "claimable");
        _voteAll(specClaimable, false, false, false, false);
        main.settle(specClaimable);
        (specOpen,) = _submit(main, "open");
        (specApproved,) = _submit(main, "approved");
        _voteAll(specApproved, true, true, true, true);
        (specDenied,) = _submit(main, "denied");
        _voteAll(specDenied, false, false, false, false);
        (specSplit,) = _submit(main, "split");
        _voteAll(specSplit, true, false, false, false);
        (specExpired,) = _submit(main, "expired");
        nextStaker = makeAddr("next");
        _fund(nextStaker);
        _approveStake(main, nextStaker);
    }

    function _submitAs(ThreadDAO thread, address staker) internal returns (uint256 specId) {
        _approveStake(thread, staker);
        uint256 stake = hub.price(thread.threadId());
        vm.prank(staker);
        specId = thread.submitSpec(keccak256(abi.encode(staker)), new uint256[](0), stake, 0);
        _tick();
    }

    function _voteAll(uint256 specId, bool a, bool b, bool c, bool d) internal {
        _vote(main, specId, alice, a);
        _vote(main, specId, bob, b);
        _vote(main, specId, carol, c);
        _vote(main, specId, dave, d);
    }

    /// A fourth thread: EIP-1167 clone (CREATE2) and initialize.
    function test_createThread() public {
        vm.prank(carol);
        hub.createThread(keccak256("fourth root"), 0);
    }

    /// A co-author's post, no citation.
    function test_post() public {
        vm.prank(alice);
        main.post(keccak256("post"), new uint256[](0), 0);
    }

    /// A fresh staker's spec (it approved exactly the stake before), no citation.
    function test_submitSpec() public {
        uint256 stake = hub.price(1);
        vm.prank(nextStaker);
        main.submitSpec(keccak256("next"), new uint256[](0), stake, 0);
    }

    /// alice approves: the first vote on the spec (she voted on earlier specs of the thread).
    function test_vote() public {
        vm.prank(alice);
        main.vote(specOpen, true);
    }

    /// dave's approval completes a unanimous approval (alice, bob and carol approved first): the vote that makes the
    /// approval certain (it reads the thread's threshold and moves the deadline). The thread's storage is cooled
    /// first, as in a transaction of its own.
    function test_voteCertain() public {
        vm.pauseGasMetering();
        _vote(main, specOpen, alice, true);
        _vote(main, specOpen, bob, true);
        _vote(main, specOpen, carol, true);
        vm.cool(address(main));
        vm.resumeGasMetering();
        vm.prank(dave);
        main.vote(specOpen, true);
    }

    /// alice denies: the first vote on the spec.
    function test_voteDeny() public {
        vm.prank(alice);
        main.vote(specOpen, false);
    }

    /// 4 of 4 approvals, settled early: the stake to the treasury, the author joins.
    function test_settleApproved() public {
        main.settle(specApproved);
    }

    /// 4 of 4 denials, settled early: the stake stays locked for the deniers.
    function test_settleDenied() public {
        main.settle(specDenied);
    }

    /// 1 approval, 3 denials, settled early.
    function test_settleSplit() public {
        main.settle(specSplit);
    }

    /// No vote, settled after the 7-day window: the stake to the treasury.
    function test_settleExpired() public {
        vm.warp(block.timestamp + 7 * DAY + 1);
        main.settle(specExpired);
    }

    /// bob takes his share of one denied spec.
    function test_claimCuratorRewards() public {
        uint256[] memory ids = new uint256[](1);
        ids[0] = specClaimable;
        vm.prank(bob);
        main.claimCuratorRewards(ids);
    }

    /// dave, who joined 2 days ago, leaves with a pro-rata payout: the thread's first exit.
    function test_exit() public {
        vm.prank(dave);
        main.exit();
    }
}
