// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice What the governor reads of its thread: equity shares checkpointed by timestamp (ERC-6372).
interface IThreadVotes {
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256);
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256);
}

/// @title A thread's governor: its co-authors propose, vote by equity share and execute actions on the thread
/// @notice OpenZeppelin `Governor` with simple counting (for, against, abstain), one per thread as an EIP-1167 clone
///         with immutable arguments (protocol section 8). Votes are the thread's equity shares at the proposal's snapshot,
///         so shares gained after it carry no weight. A proposal passes with more for than against and a quorum of
///         for + abstain of all shares at the snapshot; it is then queued and executes once, after the execution
///         delay. Signed votes: OpenZeppelin's `castVoteBySig` (EIP-712 with nonce) and `castVoteBySigWithDeadline`.
/// @dev The clone's arguments (appended to its code by the hub): thread (20 bytes), votingDelay, votingPeriod
///      (uint32 seconds each), quorumBps (uint16), executionDelay (uint32 seconds). The implementation itself has no
///      arguments and is never used directly. Time is block timestamps, like the thread's checkpoints.
contract ThreadGovernor is Governor, GovernorCountingSimple {
    /// @notice EIP-712 type of a signed vote that expires.
    bytes32 public constant BALLOT_WITH_DEADLINE_TYPEHASH =
        keccak256("BallotWithDeadline(uint256 proposalId,uint8 support,address voter,uint256 nonce,uint256 deadline)");

    /// @notice How long a queued proposal stays executable after its execution time; later it is `Expired`, so a
    ///         passed action that could not run (say, the treasury was short) cannot surprise anyone months later.
    uint256 public constant GRACE_PERIOD = 14 days;

    /// @notice The proposal is queued but its execution delay has not passed.
    error ExecutionTooEarly(uint256 proposalId, uint256 eta);
    /// @notice A signed vote presented after its deadline.
    error SignatureExpired(uint256 deadline);

    constructor() Governor("ThreadGovernor") {}

    /// @notice The thread this governor governs.
    function thread() public view returns (address) {
        (address thread_,,,,) = _settings();
        return thread_;
    }

    /// @notice Share of all equity at the snapshot that must vote for or abstain, in basis points.
    function quorumBps() public view returns (uint256) {
        (,,, uint256 bps,) = _settings();
        return bps;
    }

    /// @notice Seconds between queueing a passed proposal and its earliest execution.
    function executionDelay() public view returns (uint256) {
        (,,,, uint256 delay) = _settings();
        return delay;
    }

    /// @notice Cast `voter`'s signed vote (EIP-712 `BallotWithDeadline`), valid until `deadline`; the nonce is the
    ///         voter's next one, as for `castVoteBySig`, so a signature counts once.
    /// @param proposalId the proposal
    /// @param support 0 against, 1 for, 2 abstain
    /// @param voter the signer
    /// @param deadline last timestamp at which the signature is accepted
    /// @param signature the voter's EIP-712 signature (EOA or ERC-1271)
    /// @return weight the voter's shares at the proposal's snapshot
    function castVoteBySigWithDeadline(
        uint256 proposalId,
        uint8 support,
        address voter,
        uint256 deadline,
        bytes memory signature
    ) public returns (uint256 weight) {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(BALLOT_WITH_DEADLINE_TYPEHASH, proposalId, support, voter, _useNonce(voter), deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(voter, digest, signature)) revert GovernorInvalidSignature(voter);
        return _castVote(proposalId, voter, support, "");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Governor configuration
    // ------------------------------------------------------------------------------------------------------------

    /// @notice "ThreadGovernor" (a constant: clones share the implementation's code, not its storage).
    function name() public pure override returns (string memory) {
        return "ThreadGovernor";
    }

    /// @notice The current timestamp: votes are read from the thread's timestamp checkpoints.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Seconds from proposal to the snapshot at which the vote opens.
    function votingDelay() public view override returns (uint256) {
        (, uint256 delay,,,) = _settings();
        return delay;
    }

    /// @notice Seconds the vote stays open.
    function votingPeriod() public view override returns (uint256) {
        (,, uint256 period,,) = _settings();
        return period;
    }

    /// @notice For + abstain votes needed: `quorumBps` of all shares at `timepoint`.
    /// @param timepoint a past timestamp (a proposal's snapshot)
    function quorum(uint256 timepoint) public view override returns (uint256) {
        (address thread_,,, uint256 bps,) = _settings();
        return IThreadVotes(thread_).getPastTotalSupply(timepoint) * bps / 10_000;
    }

    /// @notice Only co-authors (any share one second before) may propose.
    function proposalThreshold() public pure override returns (uint256) {
        return 1;
    }

    /// @notice OpenZeppelin's proposal state, with a queued proposal `Expired` once `GRACE_PERIOD` has passed after
    ///         its execution time without a successful execution.
    /// @param proposalId the proposal
    function state(uint256 proposalId) public view override returns (ProposalState) {
        ProposalState current = super.state(proposalId);
        if (current == ProposalState.Queued && block.timestamp > proposalEta(proposalId) + GRACE_PERIOD) {
            return ProposalState.Expired;
        }
        return current;
    }

    /// @notice Every proposal is queued before it executes.
    function proposalNeedsQueuing(uint256) public pure override returns (bool) {
        return true;
    }

    function _getVotes(address account, uint256 timepoint, bytes memory) internal view override returns (uint256) {
        return IThreadVotes(thread()).getPastVotes(account, timepoint);
    }

    /// @dev Queueing only fixes the earliest execution time.
    function _queueOperations(uint256, address[] memory, uint256[] memory, bytes[] memory, bytes32)
        internal
        view
        override
        returns (uint48)
    {
        return uint48(block.timestamp + executionDelay());
    }

    /// @dev Execution waits for the queued time; `Governor.execute` has already marked the proposal executed.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override {
        uint256 eta = proposalEta(proposalId);
        if (block.timestamp < eta) revert ExecutionTooEarly(proposalId, eta);
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @dev The clone's immutable arguments.
    function _settings()
        private
        view
        returns (address thread_, uint256 votingDelay_, uint256 votingPeriod_, uint256 quorumBps_, uint256 delay)
    {
        bytes memory args = Clones.fetchCloneArgs(address(this));
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(args, 32))
        }
        thread_ = address(uint160(word >> 96));
        votingDelay_ = uint32(word >> 64);
        votingPeriod_ = uint32(word >> 32);
        quorumBps_ = uint16(word >> 16);
        // executionDelay straddles the first word's last 2 bytes and the next word's first 2 bytes.
        uint256 next;
        assembly ("memory-safe") {
            next := mload(add(args, 64))
        }
        delay = (uint256(uint16(word)) << 16) | (next >> 240);
    }
}
