// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {ChoirToken} from "../../../../contracts/ChoirToken.sol";
import {ChoirHub} from "../../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../../contracts/thread/ThreadDAO.sol";
import {ThreadGovernor} from "../../../../contracts/governance/ThreadGovernor.sol";
import {HandlerBase} from "./HandlerBase.sol";
import {ThreadHandler} from "./ThreadHandler.sol";

/// @notice Drives thread governance: a co-author creates the thread's governor and proposes a treasury transfer,
///         co-authors vote for, against or abstain, anyone queues and executes. Before an execution, every co-author
///         who voted against and still holds the shares it held at the snapshot must have been able to exit before the
///         execution time (G4: its cooldown ended by then); one of them, picked at random, does exit right before the
///         execution, which must succeed with its pro-rata share. An executed proposal moves exactly its amount, or
///         nothing when its call failed, and never runs twice.
contract GovernanceHandler is HandlerBase {
    ChoirToken public immutable token;
    ChoirHub public immutable hub;
    ThreadHandler public immutable threadHandler;

    struct Proposal {
        uint256 t; // thread index in the thread handler
        ThreadGovernor governor;
        uint256 id;
        address recipient;
        uint256 amount;
        bytes32 descriptionHash;
    }

    Proposal[] internal _proposals;
    mapping(uint256 => address[]) internal _against;
    uint256 internal _nonce;

    /// @notice Dissenters found unable to exit before a proposal's execution time, or whose exit failed (G4).
    uint256 public dissentersLockedIn;
    uint256 public dissenterChecks;

    constructor(
        ChoirToken token_,
        ChoirHub hub_,
        ThreadHandler threadHandler_,
        address[] memory actors_,
        uint256[] memory keys
    ) HandlerBase(actors_, keys) {
        token = token_;
        hub = hub_;
        threadHandler = threadHandler_;
    }

    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    function propose(uint256 threadSeed, uint256 actorSeed, uint256 amountSeed, uint256 recipientSeed) external {
        uint256 n = threadHandler.threadCount();
        if (n == 0) return;
        uint256 t = threadSeed % n;
        ThreadDAO thread = threadHandler.threads(t);
        address proposer;
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[(actorSeed % actors.length + i) % actors.length];
            if (thread.sharesOf(a) != 0 && thread.getPastVotes(a, block.timestamp - 1) != 0) {
                proposer = a;
                break;
            }
        }
        if (proposer == address(0)) return;
        address gov = thread.governor();
        if (gov == address(0)) {
            uint256 threadId = threadHandler.threadIds(t);
            vm.prank(proposer);
            try hub.createGovernor(threadId) returns (address created) {
                gov = created;
                _count("createGovernor");
            } catch (bytes memory reason) {
                _unexpected("createGovernor", reason);
                return;
            }
        }
        uint256 treasury = thread.treasury();
        // Mostly within the treasury; sometimes above it (the execution then fails and the proposal is final).
        uint256 amount = _bound(amountSeed, 1, Math.max(1, amountSeed % 8 == 0 ? treasury * 2 : treasury));
        address recipient = _actor(recipientSeed);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _calls(address(thread), recipient, amount);
        string memory description = string.concat("proposal ", vm.toString(++_nonce));
        vm.prank(proposer);
        try ThreadGovernor(payable(gov)).propose(targets, values, calldatas, description) returns (uint256 id) {
            _proposals.push(
                Proposal({
                    t: t,
                    governor: ThreadGovernor(payable(gov)),
                    id: id,
                    recipient: recipient,
                    amount: amount,
                    descriptionHash: keccak256(bytes(description))
                })
            );
            _count("propose");
        } catch (bytes memory reason) {
            _unexpected("propose", reason);
        }
    }

    /// @notice The co-authors who held shares at the snapshot of an open proposal (one in its voting delay is first
    ///         waited for) vote, from a random one on, until `voters` have voted: each against, for (three times as
    ///         likely, so that proposals pass) or abstain, drawn from `ballots`.
    function castVote(uint256 proposalSeed, uint256 actorSeed, uint256 ballots, uint8 voters) external {
        (bool found, uint256 p) = _find(proposalSeed, IGovernor.ProposalState.Active);
        if (!found) {
            (found, p) = _find(proposalSeed, IGovernor.ProposalState.Pending);
            if (!found) return;
            Proposal storage pending = _proposals[p];
            _warpTo(pending.governor.proposalSnapshot(pending.id) + 1);
        }
        Proposal storage prop = _proposals[p];
        ThreadDAO thread = threadHandler.threads(prop.t);
        uint256 snapshot = prop.governor.proposalSnapshot(prop.id);
        uint256 cast;
        voters = uint8(_bound(voters, 1, actors.length));
        for (uint256 i; i < actors.length && cast < voters; ++i) {
            address a = actors[(actorSeed % actors.length + i) % actors.length];
            if (prop.governor.hasVoted(prop.id, a) || thread.getPastVotes(a, snapshot) == 0) continue;
            uint8 support = uint8(uint256(keccak256(abi.encode(ballots, i))) % 5);
            support = support == 0 ? 0 : support == 4 ? 2 : 1;
            vm.prank(a);
            try prop.governor.castVote(prop.id, support) {
                if (support == 0) _against[p].push(a);
                _count(support == 0 ? bytes32("castVote.against") : support == 1 ? bytes32("castVote.for") : bytes32("castVote.abstain"));
            } catch (bytes memory reason) {
                _unexpected("castVote", reason);
            }
            ++cast;
        }
    }

    /// @notice Queue a passed proposal; an active one whose votes are in is first waited for until its vote ends.
    function queue(uint256 proposalSeed) external {
        (bool found, uint256 p) = _find(proposalSeed, IGovernor.ProposalState.Succeeded);
        if (!found) {
            (found, p) = _find(proposalSeed, IGovernor.ProposalState.Active);
            if (!found) return;
            Proposal storage active = _proposals[p];
            _warpTo(active.governor.proposalDeadline(active.id) + 1);
            IGovernor.ProposalState state = active.governor.state(active.id);
            if (state != IGovernor.ProposalState.Succeeded) {
                _count(state == IGovernor.ProposalState.Defeated ? bytes32("proposal.defeated") : bytes32("proposal.other"));
                return;
            }
        }
        Proposal storage prop = _proposals[p];
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _calls(address(threadHandler.threads(prop.t)), prop.recipient, prop.amount);
        try prop.governor.queue(targets, values, calldatas, prop.descriptionHash) {
            _count("queue");
        } catch (bytes memory reason) {
            _unexpected("queue", reason);
        }
    }

    function _warpTo(uint256 timestamp) internal {
        if (timestamp > block.timestamp) {
            vm.warp(timestamp);
            vm.roll(block.number + 1);
            _count("governance.wait");
        }
    }

    /// @param dissenterSeed picks the dissenter that exits first; `exitFirst` whether one does
    function execute(uint256 proposalSeed, uint256 dissenterSeed, bool exitFirst) external {
        (bool found, uint256 p) = _find(proposalSeed, IGovernor.ProposalState.Queued);
        if (!found) return;
        Proposal memory prop = _proposals[p];
        uint256 eta = prop.governor.proposalEta(prop.id);
        _warpTo(eta); // time passes until the execution time (the dissenters' window)
        ThreadDAO thread = threadHandler.threads(prop.t);
        _checkDissenters(p, prop, thread, eta, dissenterSeed, exitFirst);

        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _calls(address(thread), prop.recipient, prop.amount);
        uint256 treasury = thread.treasury();
        uint256 balance = token.balanceOf(prop.recipient);
        vm.prank(_actor(dissenterSeed >> 8));
        try prop.governor.execute(targets, values, calldatas, prop.descriptionHash) {
            bool failed = prop.governor.executionFailed(prop.id);
            if (prop.governor.state(prop.id) != IGovernor.ProposalState.Executed) _violation("not Executed");
            if (failed) {
                if (prop.amount <= treasury) _violation("a transfer within the treasury failed");
                if (thread.treasury() != treasury || token.balanceOf(prop.recipient) != balance) {
                    _violation("a failed execution moved funds");
                }
                _count("execute.failed");
            } else {
                if (thread.treasury() != treasury - prop.amount || token.balanceOf(prop.recipient) != balance + prop.amount)
                {
                    _violation("execution moved another amount");
                }
                _count("execute");
            }
        } catch (bytes memory reason) {
            _unexpected("execute", reason);
            return;
        }
        // G5: at most once.
        try prop.governor.execute(targets, values, calldatas, prop.descriptionHash) {
            _violation("a proposal executed twice");
        } catch {}
    }

    /// @dev G4: every co-author who voted against and still holds its snapshot shares could exit by the execution
    ///      time; one of them (at random, if `exitFirst`) exits now, before the execution, and must succeed.
    function _checkDissenters(
        uint256 p,
        Proposal memory prop,
        ThreadDAO thread,
        uint256 eta,
        uint256 seed,
        bool exitFirst
    ) internal {
        address[] storage against = _against[p];
        uint256 snapshot = prop.governor.proposalSnapshot(prop.id);
        uint256 cooldown = thread.EXIT_COOLDOWN();
        address chosen;
        uint256 candidates;
        for (uint256 i; i < against.length; ++i) {
            address a = against[(seed % against.length + i) % against.length];
            // Still holding the shares it voted with: it never left since (a rejoin would set a later joinedAt).
            if (thread.sharesOf(a) == 0 || thread.joinedAt(a) > snapshot) continue;
            dissenterChecks += 1;
            if (thread.joinedAt(a) + cooldown > eta) {
                dissentersLockedIn += 1;
                _violation("a dissenter's exit cooldown ends after the proposal's execution time");
            }
            if (candidates++ == 0) chosen = a;
        }
        if (!exitFirst || chosen == address(0)) return;
        if (!threadHandler.checkedExit(prop.t, chosen)) {
            dissentersLockedIn += 1;
            _violation("a dissenter could not exit before the execution");
        }
    }

    function _find(uint256 seed, IGovernor.ProposalState wanted) internal view returns (bool, uint256) {
        uint256 n = _proposals.length;
        for (uint256 i; i < n; ++i) {
            uint256 p = (seed % n + i) % n;
            Proposal storage prop = _proposals[p];
            if (prop.governor.state(prop.id) == wanted) return (true, p);
        }
        return (false, 0);
    }

    function _calls(address thread, address recipient, uint256 amount)
        internal
        pure
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        targets = new address[](1);
        values = new uint256[](1);
        calldatas = new bytes[](1);
        targets[0] = thread;
        calldatas[0] = abi.encodeCall(ThreadDAO.transferTreasury, (recipient, amount));
    }
}
