// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {ChoirHub} from "../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";
import {ThreadGovernor} from "../../../contracts/governance/ThreadGovernor.sol";
import {Deployer} from "../utils/Deployer.sol";

/// @notice `ThreadGovernor.castVote` reads a proposal's state from OpenZeppelin `Governor`'s private
///         `_proposals[id]` word (storage index 4: proposer, voteStart, voteDuration, executed, canceled) instead of
///         through `state`. These tests pin that layout against the public getters, in every state the word
///         distinguishes, and check that votes are taken exactly while `state` says Active.
contract GovernorProposalSlotTest is Deployer {
    address internal alice = makeAddr("alice");
    ThreadGovernor internal governor;
    uint256 internal proposal;
    address[] internal targets;
    uint256[] internal values;
    bytes[] internal calls;
    bytes32 internal constant DESCRIPTION = keccak256("shorter window");

    function setUp() public {
        vm.warp(1_780_000_000);
        _deploySystem(makeAddr("pricer"));
        hub.setGovernance(
            ChoirHub.GovernanceSettings({
                implementation: address(governorImplementation),
                votingDelay: VOTING_DELAY,
                votingPeriod: VOTING_PERIOD,
                quorumBps: QUORUM_BPS,
                executionDelay: EXECUTION_DELAY
            })
        );
        vm.prank(alice);
        (uint256 id, address thread) = hub.createThread(keccak256("root"), 0);
        vm.warp(block.timestamp + 1);
        vm.prank(alice);
        governor = ThreadGovernor(payable(hub.createGovernor(id)));
        vm.warp(block.timestamp + 1);
        targets.push(thread);
        values.push(0);
        calls.push(abi.encodeCall(ThreadDAO.setApprovalWindow, (1 days)));
        vm.prank(alice);
        proposal = governor.propose(targets, values, calls, "shorter window");
    }

    /// The proposal's word in `Governor._proposals`, where `_activeSnapshot` reads it.
    function _core() internal view returns (uint256) {
        return uint256(vm.load(address(governor), keccak256(abi.encode(proposal, uint256(4)))));
    }

    function _expectNotActive(IGovernor.ProposalState current) internal {
        bytes32 allowed = bytes32(uint256(1) << uint8(IGovernor.ProposalState.Active));
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorUnexpectedProposalState.selector, proposal, current, allowed)
        );
    }

    function test_theWordHoldsProposerSnapshotAndDeadline() public view {
        uint256 core = _core();
        assertEq(address(uint160(core)), governor.proposalProposer(proposal), "proposer");
        assertEq(uint48(core >> 160), governor.proposalSnapshot(proposal), "voteStart");
        assertEq(uint256(uint48(core >> 160)) + uint32(core >> 208), governor.proposalDeadline(proposal), "deadline");
        assertEq(core >> 240, 0, "neither executed nor canceled");
    }

    function test_votesOnlyWhileActiveAndTheExecutedFlag() public {
        vm.warp(governor.proposalSnapshot(proposal));
        _expectNotActive(IGovernor.ProposalState.Pending);
        vm.prank(alice);
        governor.castVote(proposal, 1);

        vm.warp(governor.proposalDeadline(proposal)); // the deadline's second still takes votes
        vm.expectEmit(address(governor)); // the assembly log is OpenZeppelin's event
        emit IGovernor.VoteCast(alice, proposal, 1, 1e18, "");
        vm.prank(alice);
        assertEq(governor.castVote(proposal, 1), 1e18, "alice's shares");

        vm.warp(block.timestamp + 1);
        _expectNotActive(IGovernor.ProposalState.Succeeded);
        vm.prank(alice);
        governor.castVote(proposal, 1);

        governor.queue(targets, values, calls, DESCRIPTION);
        vm.warp(governor.proposalEta(proposal));
        governor.execute(targets, values, calls, DESCRIPTION);
        assertEq(_core() >> 240, 1, "executed flag, canceled clear");
        _expectNotActive(IGovernor.ProposalState.Executed);
        vm.prank(alice);
        governor.castVote(proposal, 1);
    }

    function test_theCanceledFlagStopsVotes() public {
        vm.prank(alice);
        governor.cancel(targets, values, calls, DESCRIPTION);
        assertEq(_core() >> 240, 1 << 8, "canceled flag, executed clear");
        vm.warp(governor.proposalSnapshot(proposal) + 1); // when it would be Active
        _expectNotActive(IGovernor.ProposalState.Canceled);
        vm.prank(alice);
        governor.castVote(proposal, 1);
    }

    function test_anUnknownProposalIsNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorNonexistentProposal.selector, proposal + 1));
        vm.prank(alice);
        governor.castVote(proposal + 1, 1);
    }
}
