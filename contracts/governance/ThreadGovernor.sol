// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice What the governor reads of its thread: equity shares checkpointed by timestamp (ERC-6372), and who left.
interface IThreadVotes {
    function votingWeight(address account, uint256 timepoint) external view returns (uint256);
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256);
    function exitsSince(uint256 timepoint) external view returns (address[] memory);
}

/// @title A thread's governor: its co-authors propose, vote by equity share and execute actions on the thread
/// @notice OpenZeppelin `Governor` with bravo-style counting (for, against, abstain), one per thread as an EIP-1167
///         clone with immutable arguments (protocol section 8). A voter's weight on a proposal is
///         `min(shares at the snapshot, shares now)` (protocol r2): shares gained after the snapshot carry no weight, and
///         a co-author who exits (burning all its shares) forfeits the votes it cast, on chain or by signature, until
///         the proposal executes. A proposal passes with more for than against and a quorum of for + abstain of all
///         shares at the snapshot; it is then queued and executes once, after the execution delay (at least the
///         thread's exit cooldown, checked by the hub), so a co-author who voted against can leave with its pro-rata
///         share first. An execution whose calls revert is final: the proposal is consumed and never runs later.
/// @dev The clone's arguments (appended to its code by the hub): thread (20 bytes), votingDelay, votingPeriod
///      (uint32 seconds each), quorumBps (uint16), executionDelay (uint32 seconds). The implementation itself has no
///      arguments and is never used directly. Time is block timestamps, like the thread's checkpoints.
///
///      Counting with exits, cheaply: a ballot stores its support and the weight counted for it (one slot, like
///      OpenZeppelin's `hasVoted` flag) and adds that weight to a running tally, as OpenZeppelin does. Shares fall
///      only by exiting, so a voter holds fewer shares now than it was counted with only if it exited since the
///      snapshot. The tallies a state check reads are the running ones corrected for the accounts the thread's exit
///      log names since the snapshot (`IThreadDAO.exitsSince`): usually none, so the check costs one extra call and
///      voting costs what OpenZeppelin's `GovernorCountingSimple` costs. No hook from `exit` into the governor: an
///      exit never depends on a governor (which may be any contract after `setGovernor`).
contract ThreadGovernor is Governor {
    /// @notice EIP-712 type of a signed vote that expires.
    bytes32 public constant BALLOT_WITH_DEADLINE_TYPEHASH =
        keccak256("BallotWithDeadline(uint256 proposalId,uint8 support,address voter,uint256 nonce,uint256 deadline)");

    /// @notice How long a queued proposal stays executable after its execution time; later it is `Expired`, so a
    ///         passed action nobody executed cannot surprise anyone months later.
    uint256 public constant GRACE_PERIOD = 14 days;

    /// @notice Bravo vote types (`support` of `castVote`).
    enum VoteType {
        Against,
        For,
        Abstain
    }

    /// @dev A voter's ballot on a proposal: `support` is the vote type + 1 (0: no ballot) and `weight` what its
    ///      running tally counted, min(shares at the snapshot, shares at the vote). One storage slot.
    struct Receipt {
        uint8 support;
        uint208 weight;
    }

    /// @dev The running tallies of a proposal, at the weights counted when the votes were cast.
    struct Tally {
        uint256 against;
        uint256 forVotes;
        uint256 abstain;
    }

    /// @dev The storage index of OpenZeppelin `Governor`'s private `_proposals` mapping in this contract (after
    ///      EIP712's two strings, Nonces' mapping and Governor's `_name`; OpenZeppelin 5.x): see `_activeSnapshot`.
    uint256 private constant _PROPOSALS_SLOT = 4;

    mapping(uint256 proposalId => Tally) private _tallies;
    mapping(uint256 proposalId => mapping(address voter => Receipt)) private _receipts;
    mapping(uint256 proposalId => bool) private _executionFailed;

    /// @notice Proposal `proposalId` was executed but one of its calls reverted with `reason`: none of its calls took
    ///         effect, and it is final (state `Executed`, `executionFailed` true); it never runs again.
    event ProposalExecutionFailed(uint256 indexed proposalId, bytes reason);

    /// @notice The proposal is queued but its execution delay has not passed.
    error ExecutionTooEarly(uint256 proposalId, uint256 eta);
    /// @notice A signed vote presented after its deadline.
    error SignatureExpired(uint256 deadline);
    /// @notice `executeCalls` is the governor's own step of `execute`; nobody else may call it.
    error OnlyGovernorItself(address caller);
    /// @notice The proposal's calls ran out of the gas this transaction gave them: the proposal stays queued (nobody
    ///         can make a proposal fail for good by sending too little gas); execute it again with more gas.
    error ExecutionOutOfGas(uint256 proposalId);

    constructor() Governor("ThreadGovernor") {}

    /// @notice The thread this governor governs.
    function thread() public view returns (address thread_) {
        // The first 20 bytes of the clone's arguments (see `_settings`), alone: every vote reads them.
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, 0x2d, 0x14)
            thread_ := shr(96, mload(0x00))
        }
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

    /// @notice Vote on proposal `proposalId` with the caller's weight (OpenZeppelin's `castVote`, without its
    ///         default-params indirection).
    /// @param proposalId the proposal
    /// @param support 0 against, 1 for, 2 abstain
    /// @return weight the weight counted: min(the caller's shares at the proposal's snapshot, its shares now)
    function castVote(uint256 proposalId, uint8 support) public override returns (uint256 weight) {
        string memory noReason; // unassigned: the zero slot, nothing allocated
        bytes memory noParams;
        return _castVote(proposalId, _msgSender(), support, noReason, noParams);
    }

    /// @notice Cast `voter`'s signed vote (EIP-712 `BallotWithDeadline`), valid until `deadline`; the nonce is the
    ///         voter's next one, as for `castVoteBySig`, so a signature counts once.
    /// @param proposalId the proposal
    /// @param support 0 against, 1 for, 2 abstain
    /// @param voter the signer
    /// @param deadline last timestamp at which the signature is accepted
    /// @param signature the voter's EIP-712 signature (EOA or ERC-1271)
    /// @return weight the weight counted: min(the voter's shares at the proposal's snapshot, its shares now)
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

    /// @notice Run a proposal's calls; the governor calls this on itself from `execute`, so that the calls of a
    ///         failed execution are undone together while the proposal stays consumed. Anyone else:
    ///         `OnlyGovernorItself`. Off chain, an `eth_call` of it from the governor's address previews whether the
    ///         calls of `execute` would succeed now.
    /// @param targets the proposal's targets
    /// @param values the ether sent with each call
    /// @param calldatas the calls
    function executeCalls(address[] calldata targets, uint256[] calldata values, bytes[] calldata calldatas) external {
        if (msg.sender != address(this)) revert OnlyGovernorItself(msg.sender);
        for (uint256 i; i < targets.length; ++i) {
            (bool success, bytes memory returndata) = targets[i].call{value: values[i]}(calldatas[i]);
            Address.verifyCallResult(success, returndata);
        }
    }

    /// @notice Whether proposal `proposalId` was executed and its calls reverted (then nothing took effect and it is
    ///         final; `state` reports `Executed`, meaning consumed).
    /// @param proposalId the proposal
    function executionFailed(uint256 proposalId) external view returns (bool) {
        return _executionFailed[proposalId];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Counting: bravo (against, for, abstain), weights min(shares at the snapshot, shares now)
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Bravo support; the quorum counts for and abstain.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override returns (string memory) {
        return "support=bravo&quorum=for,abstain";
    }

    /// @notice Whether `account` cast a ballot on proposal `proposalId` (even one of weight 0, or of a voter who left).
    /// @param proposalId the proposal
    /// @param account the voter
    function hasVoted(uint256 proposalId, address account) public view override returns (bool) {
        return _receipts[proposalId][account].support != 0;
    }

    /// @notice The tallies as they count now: each voter at min(shares at the snapshot, shares now), so the votes
    ///         of a co-author who exited after voting no longer count.
    /// @param proposalId the proposal
    /// @return againstVotes weight against
    /// @return forVotes weight for
    /// @return abstainVotes weight abstaining
    function proposalVotes(uint256 proposalId)
        public
        view
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        Tally memory tally = _currentTally(proposalId);
        return (tally.against, tally.forVotes, tally.abstain);
    }

    /// @notice The weight `account` votes with at `timepoint`: min(its shares at `timepoint`, its shares now).
    ///         Shares gained after `timepoint` do not count; shares given up by exiting no longer do.
    /// @param account the co-author
    /// @param timepoint a past timestamp (a proposal's snapshot)
    function getVotes(address account, uint256 timepoint) public view override returns (uint256) {
        return _getVotes(account, timepoint, "");
    }

    function _quorumReached(uint256 proposalId) internal view override returns (bool) {
        Tally memory tally = _currentTally(proposalId);
        return quorum(proposalSnapshot(proposalId)) <= tally.forVotes + tally.abstain;
    }

    function _voteSucceeded(uint256 proposalId) internal view override returns (bool) {
        Tally memory tally = _currentTally(proposalId);
        return tally.forVotes > tally.against;
    }

    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory)
        internal
        override
        returns (uint256)
    {
        Receipt storage receipt = _receipts[proposalId][account];
        if (receipt.support != 0) revert GovernorAlreadyCastVote(account);
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        Tally storage tally = _tallies[proposalId];
        // `Tally` lays its counts out in `VoteType` order (against, for, abstain): the count `support` adds to is at
        // its slot + support. No overflow: a tally is at most all the shares at the snapshot (uint208).
        // The receipt is one whole-slot write (no read of the fresh slot to keep other bits, no second mapping
        // lookup): `support + 1` in the low byte, `weight` above it, as `Receipt` lays them out; totalWeight <= the
        // voter's shares, which are uint200.
        assembly ("memory-safe") {
            let count := add(tally.slot, support)
            sstore(count, add(sload(count), totalWeight))
            sstore(receipt.slot, or(add(support, 1), shl(8, totalWeight)))
        }
        return totalWeight;
    }

    /// @dev OpenZeppelin's `_castVote` without what this governor does not use (the allowed-states bitmap, built
    ///      only for the revert; the `_tallyUpdated` hook, which nothing overrides here) and with the proposal's
    ///      state and snapshot read in one storage read (`_activeSnapshot`). The common `VoteCast` (no reason, no
    ///      params) is logged in assembly, the same topics and data as `emit` but without its encoder's copying.
    function _castVote(uint256 proposalId, address account, uint8 support, string memory reason, bytes memory params)
        internal
        override
        returns (uint256 weight)
    {
        // the state check, then the weight at the snapshot it returns, then the count (OpenZeppelin's order)
        weight = _countVote(
            proposalId, account, support, _getVotes(account, _activeSnapshot(proposalId), params), params
        );
        if (params.length == 0 && bytes(reason).length == 0) {
            bytes32 topic = VoteCast.selector;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                mstore(ptr, proposalId)
                mstore(add(ptr, 0x20), and(support, 0xff))
                mstore(add(ptr, 0x40), weight)
                mstore(add(ptr, 0x60), 0x80) // the reason's offset
                mstore(add(ptr, 0x80), 0) // its length
                log2(ptr, 0xa0, topic, shr(96, shl(96, account)))
            }
        } else if (params.length == 0) {
            emit VoteCast(account, proposalId, support, weight, reason);
        } else {
            emit VoteCastWithParams(account, proposalId, support, weight, reason, params);
        }
    }

    /// @dev The snapshot of proposal `proposalId` if it is `Active`; otherwise the revert of OpenZeppelin's state
    ///      check (`GovernorUnexpectedProposalState` with the state `state` reports, or `GovernorNonexistentProposal`).
    ///      Active is what OpenZeppelin's `state` computes, from one read of the proposal's first storage word
    ///      where `state`, `proposalSnapshot` and `proposalDeadline` read it four times: neither executed nor
    ///      canceled, snapshot < now <= snapshot + duration. That word is `Governor`'s private
    ///      `_proposals[proposalId]` slot 0 (proposer, voteStart uint48, voteDuration uint32, executed, canceled);
    ///      forge/test/unit/GovernorProposalSlot.t.sol checks the layout against the public getters.
    function _activeSnapshot(uint256 proposalId) private view returns (uint256 snapshot) {
        uint256 core;
        assembly ("memory-safe") {
            mstore(0x00, proposalId)
            mstore(0x20, _PROPOSALS_SLOT)
            core := sload(keccak256(0x00, 0x40))
        }
        snapshot = uint48(core >> 160);
        uint256 now_ = block.timestamp; // `clock()`
        // core >> 240: the executed and canceled flags
        if (core >> 240 != 0 || snapshot == 0 || snapshot >= now_ || snapshot + uint32(core >> 208) < now_) {
            bytes32 allowed = _encodeStateBitmap(ProposalState.Active);
            revert GovernorUnexpectedProposalState(proposalId, state(proposalId), allowed);
        }
    }

    /// @dev The running tallies corrected for every voter that exited since the snapshot: counted again at
    ///      min(shares at the snapshot, shares now) (0 unless it rejoined). Only exiters can hold fewer shares now
    ///      than at the snapshot; an account that exited twice is corrected once.
    function _currentTally(uint256 proposalId) private view returns (Tally memory tally) {
        tally = _tallies[proposalId];
        uint256 snapshot = proposalSnapshot(proposalId);
        if (snapshot == 0 || snapshot >= clock()) return tally; // unknown or Pending: nobody has voted yet
        address[] memory exited = IThreadVotes(thread()).exitsSince(snapshot);
        for (uint256 i; i < exited.length; ++i) {
            address account = exited[i];
            Receipt memory receipt = _receipts[proposalId][account];
            if (receipt.support == 0 || _listedBefore(exited, i)) continue;
            uint256 weight = _getVotes(account, snapshot, "");
            if (receipt.support == uint8(VoteType.Against) + 1) {
                tally.against = tally.against - receipt.weight + weight;
            } else if (receipt.support == uint8(VoteType.For) + 1) {
                tally.forVotes = tally.forVotes - receipt.weight + weight;
            } else {
                tally.abstain = tally.abstain - receipt.weight + weight;
            }
        }
    }

    function _listedBefore(address[] memory accounts, uint256 index) private pure returns (bool) {
        address account = accounts[index];
        for (uint256 j; j < index; ++j) {
            if (accounts[j] == account) return true;
        }
        return false;
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

    /// @dev min(shares at `timepoint`, shares now): exiting forfeits votes, joining later adds none. The thread
    ///      computes both in one call (`votingWeight`), reading the voter's record once. The call is made in
    ///      assembly (calldata built in free memory, the word returned read from the scratch space): every vote
    ///      and proposal pays for it, and the compiler's encoding and decoding cost about 170 gas more. A revert
    ///      of the thread is passed on; a reply shorter than a word reverts too.
    function _getVotes(address account, uint256 timepoint, bytes memory)
        internal
        view
        override
        returns (uint256 weight)
    {
        bytes4 selector = IThreadVotes.votingWeight.selector;
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, 0x2d, 0x14) // the thread: as `thread()` reads it
            let thread_ := shr(96, mload(0x00))
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), shr(96, shl(96, account))) // an address's upper bits, cleaned
            mstore(add(ptr, 0x24), timepoint)
            // Yul evaluates arguments right to left: the call, then the size of its reply.
            if iszero(and(gt(returndatasize(), 0x1f), staticcall(gas(), thread_, ptr, 0x44, 0x00, 0x20))) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            weight := mload(0x00)
        }
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

    /// @dev Execution waits for the queued time; `Governor.execute` has already marked the proposal executed (and
    ///      checked, through `state`, that the votes still carry it). The calls run in one call of the governor to
    ///      itself: if any reverts, all are undone, the proposal stays consumed (`_executionFailed`) and `execute`
    ///      returns normally, so a transfer that failed for lack of funds can never run later on a newcomer's stake.
    ///      A failure that left less than an eighth of the gas is taken for out-of-gas (each nested call keeps 1/64 of
    ///      the gas it had, so an exhausted call tree leaves roughly depth/64): the transaction reverts and the
    ///      proposal stays queued, so an executor cannot kill a proposal by sending too little gas.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32
    ) internal override {
        uint256 eta = proposalEta(proposalId);
        if (block.timestamp < eta) revert ExecutionTooEarly(proposalId, eta);
        uint256 gasBefore = gasleft();
        try this.executeCalls(targets, values, calldatas) {}
        catch (bytes memory reason) {
            if (gasleft() < gasBefore / 8) revert ExecutionOutOfGas(proposalId);
            _executionFailed[proposalId] = true;
            emit ProposalExecutionFailed(proposalId, reason);
        }
    }

    /// @dev The clone's immutable arguments: its 34 bytes after the 45 bytes of EIP-1167 code (what
    ///      `Clones.fetchCloneArgs` returns), copied into the scratch space rather than a fresh `bytes` (every vote
    ///      reads the thread from here).
    function _settings()
        private
        view
        returns (address thread_, uint256 votingDelay_, uint256 votingPeriod_, uint256 quorumBps_, uint256 delay)
    {
        uint256 word;
        uint256 next;
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, 0x2d, 0x22)
            word := mload(0x00)
            next := mload(0x20)
        }
        thread_ = address(uint160(word >> 96));
        votingDelay_ = uint32(word >> 64);
        votingPeriod_ = uint32(word >> 32);
        quorumBps_ = uint16(word >> 16);
        // executionDelay straddles the first word's last 2 bytes and the next word's first 2 bytes.
        delay = (uint256(uint16(word)) << 16) | (next >> 240);
    }
}
