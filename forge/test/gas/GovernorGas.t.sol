// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GasBase} from "./GasBase.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";
import {ThreadGovernor} from "../../../contracts/governance/ThreadGovernor.sol";
import {OzReferenceGovernor} from "../../../contracts/reference/OzReferenceGovernor.sol";
import {OzReferenceVotesToken} from "../../../contracts/reference/OzReferenceVotesToken.sol";

/// @notice Gas of the thread governor beside OpenZeppelin's reference governor. State: a thread with three
///         co-authors of long standing (alice, bob, carol), its governor, and one proposal (a treasury transfer)
///         past its snapshot; nobody has voted yet.
abstract contract ThreadGovernorSetUp is GasBase {
    ThreadDAO internal main;
    ThreadGovernor internal governor;
    uint256 internal proposalId;
    address[] internal targets;
    uint256[] internal values;
    bytes[] internal calldatas;
    bytes32 internal descriptionHash = keccak256("Pay 5 CHOIR from the treasury");

    function setUp() public virtual {
        _deploy();
        main = _create(alice, 1);
        _pushPrices(1, 1, 0);
        _join(bob);
        _join(carol);
        vm.warp(block.timestamp + 2 * DAY);
        vm.prank(alice);
        governor = ThreadGovernor(payable(hub.createGovernor(1)));
        _tick();
        targets.push(address(main));
        values.push(0);
        calldatas.push(abi.encodeCall(ThreadDAO.transferTreasury, (makeAddr("contributor"), 5 * CHOIR)));
        vm.prank(bob);
        proposalId = governor.propose(targets, values, calldatas, "Pay 5 CHOIR from the treasury");
        vm.warp(block.timestamp + governor.votingDelay() + 1);
    }

    function _join(address account) internal {
        _approveStake(main, account);
        uint256 stake = hub.price(1);
        vm.prank(account);
        uint256 spec = main.submitSpec(keccak256(abi.encode(account)), new uint256[](0), stake, 0);
        _tick();
        if (account == bob) {
            _vote(main, spec, alice, true);
        } else {
            _vote(main, spec, alice, true);
            _vote(main, spec, bob, true);
        }
        main.settle(spec);
        _tick();
    }

    function _passVote() internal {
        vm.prank(alice);
        governor.castVote(proposalId, 1);
        vm.prank(bob);
        governor.castVote(proposalId, 1);
        vm.warp(block.timestamp + governor.votingPeriod() + 1);
    }
}

/// @notice The thread governor's votes and queue.
contract ThreadGovernorGasTest is ThreadGovernorSetUp {
    /// castVote(For): the first vote on the proposal.
    function test_castVote() public {
        vm.prank(alice);
        governor.castVote(proposalId, 1);
    }

    /// queue, once alice and bob voted for and the period ended.
    function test_queue() public {
        _passVote();
        governor.queue(targets, values, calldatas, descriptionHash);
    }
}

/// @notice Gas of the thread governor's execute: the proposal passed and was queued, its delay has passed.
contract ThreadGovernorExecuteGasTest is ThreadGovernorSetUp {
    function setUp() public override {
        super.setUp();
        _passVote();
        governor.queue(targets, values, calldatas, descriptionHash);
        vm.warp(block.timestamp + governor.executionDelay() + 1);
    }

    /// execute: the treasury transfer through the governor's own executeCalls.
    function test_execute() public {
        governor.execute(targets, values, calldatas, descriptionHash);
    }
}

/// @notice OpenZeppelin's reference governor (ERC20Votes token, block-number clock): four voters self-delegated
///         before the proposal, past its snapshot; nobody has voted yet.
contract OzGovernorGasTest is GasBase {
    OzReferenceGovernor internal governor;
    uint256 internal proposalId;

    function setUp() public {
        vm.warp(1_800_000_000);
        vm.roll(100);
        OzReferenceVotesToken votes = new OzReferenceVotesToken(address(this));
        governor = new OzReferenceGovernor(votes);
        address[4] memory voters = [alice, bob, carol, makeAddr("dave")];
        for (uint256 i; i < voters.length; ++i) {
            votes.transfer(voters[i], 1_000 * CHOIR);
            vm.prank(voters[i]);
            votes.delegate(voters[i]);
        }
        vm.roll(block.number + 1);
        address[] memory targets = new address[](1);
        targets[0] = address(votes);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        calldatas[0] = abi.encodeCall(votes.transfer, (address(this), 0));
        vm.prank(alice);
        proposalId = governor.propose(targets, values, calldatas, "bench: trivial proposal");
        vm.roll(block.number + 2);
    }

    /// castVote(For): the first vote on the proposal.
    function test_ozCastVote() public {
        vm.prank(alice);
        governor.castVote(proposalId, 1);
    }
}
