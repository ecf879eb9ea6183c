"""The thread governor tests' building blocks (import as `from helpers.governor import ...`): proposal states and
vote types, a `Proposal` as its governor identifies it, a `Dao` of four co-authors with unequal shares, and the
steps of a proposal's life (propose, vote, queue, execute, a failed execution) and of a signed ballot (EIP-712).

Used by the test_thread_governor_*.py modules, test_governance_attacks.py and test_approval_threshold.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ape
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from helpers.contracts import GOVERNANCE_DEFAULTS, HUMAN, content

PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
AGAINST, FOR, ABSTAIN = 0, 1, 2
ZERO_ADDRESS = "0x" + "00" * 20

EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
BALLOT = [
    {"name": "proposalId", "type": "uint256"},
    {"name": "support", "type": "uint8"},
    {"name": "voter", "type": "address"},
    {"name": "nonce", "type": "uint256"},
]
BALLOT_WITH_DEADLINE = [*BALLOT, {"name": "deadline", "type": "uint256"}]


@dataclass
class Proposal:
    """A proposal as its governor identifies it: actions, description and the timepoints it was given."""

    governor: Any
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str
    id: int
    snapshot: int
    deadline: int

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    @property
    def key(self) -> tuple[list[str], list[int], list[bytes], bytes]:
        """The arguments `queue`, `execute` and `cancel` take."""
        return self.targets, self.values, self.calldatas, self.description_hash

    def state(self) -> int:
        return int(self.governor.state(self.id))

    def votes(self) -> tuple[int, int, int]:
        """(against, for, abstain)."""
        return tuple(self.governor.proposalVotes(self.id))  # type: ignore[return-value]


@dataclass
class Dao:
    """A thread of four co-authors with unequal shares, a funded treasury and its governor."""

    thread: Any
    governor: Any
    members: list[Any]  # creator first

    def shares(self, member: Any) -> int:
        return int(self.thread.sharesOf(member))


def propose(governor: Any, proposer: Any, actions: Sequence[tuple[Any, bytes]], description: str) -> Proposal:
    """Propose `actions` (target, calldata) with no ether; check the id and timepoints the governor gives."""
    targets = [str(getattr(target, "address", target)) for target, _ in actions]
    calldatas = [bytes(data) for _, data in actions]
    values = [0] * len(actions)
    receipt = governor.propose(targets, values, calldatas, description, sender=proposer)
    event = receipt.decode_logs(governor.ProposalCreated)[0]
    proposal_id = int(event.proposalId)
    assert proposal_id == governor.hashProposal(targets, values, calldatas, keccak(text=description))
    assert event.proposer == proposer.address
    assert event.voteStart == receipt.timestamp + GOVERNANCE_DEFAULTS["votingDelay"]
    assert event.voteEnd == event.voteStart + GOVERNANCE_DEFAULTS["votingPeriod"]
    return Proposal(
        governor,
        targets,
        values,
        calldatas,
        description,
        proposal_id,
        int(event.voteStart),
        int(event.voteEnd),
    )


def open_vote(chain: Any, proposal: Proposal) -> None:
    """Make the next block the first one in which the proposal is Active (one second after its snapshot)."""
    chain.pending_timestamp = max(chain.pending_timestamp, proposal.snapshot + 1)


def close_vote(chain: Any, proposal: Proposal) -> None:
    """Mine the first block after the vote's deadline."""
    chain.mine(timestamp=max(chain.pending_timestamp, proposal.deadline + 1))


def cast(proposal: Proposal, ballots: dict[Any, int]) -> None:
    for voter, support in ballots.items():
        proposal.governor.castVote(proposal.id, support, sender=voter)


def queue(chain: Any, proposal: Proposal, sender: Any) -> int:
    """Queue a succeeded proposal; returns its eta (queue time + execution delay)."""
    receipt = proposal.governor.queue(*proposal.key, sender=sender)
    eta = receipt.timestamp + GOVERNANCE_DEFAULTS["executionDelay"]
    assert receipt.decode_logs(proposal.governor.ProposalQueued)[0].etaSeconds == eta
    assert proposal.governor.proposalEta(proposal.id) == eta
    return eta


def pass_proposals(chain: Any, dao: Dao, proposals: Sequence[Proposal]) -> None:
    """Every co-author votes for every proposal; all are queued and the execution delay passes."""
    open_vote(chain, max(proposals, key=lambda p: p.snapshot))
    for proposal in proposals:
        cast(proposal, dict.fromkeys(dao.members, FOR))
    close_vote(chain, max(proposals, key=lambda p: p.deadline))
    etas = [queue(chain, proposal, dao.members[0]) for proposal in proposals]
    chain.mine(timestamp=max(etas))


@dataclass
class Builder:
    """Creates threads and brings in co-authors, like conftest's `Threads`, but usable by module fixtures."""

    project: Any
    chain: Any
    hub: Any
    token: Any

    def create(self, creator: Any, text: str) -> Any:
        receipt = self.hub.createThread(content(text), HUMAN, sender=creator)
        thread = self.project.ThreadDAO.at(receipt.decode_logs(self.hub.ThreadCreated)[0].thread)
        self.tick()
        return thread

    def tick(self) -> None:
        self.chain.mine(deltatime=1)

    def join(self, thread: Any, author: Any, approvers: Sequence[Any], stake: int, text: str) -> None:
        self.token.approve(thread, stake, sender=author)
        receipt = thread.submitSpec(content(text), [], stake, HUMAN, sender=author)
        spec_id = receipt.decode_logs(thread.SpecSubmitted)[0].specId
        for voter in approvers:
            thread.vote(spec_id, True, sender=voter)
        thread.settle(spec_id, sender=author)
        self.tick()


def new_dao(threads: Builder, project: Any, hub: Any, members: list[Any], text: str = "root") -> Dao:
    """Create a thread of `members` (creator first) with unequal shares and a treasury of 200 CHOIR, then its
    governor. Stakes at the 30 CHOIR fallback price: members[1] stakes 30 (half the equity: 1e18 shares),
    members[2] stakes 120 (capped at half: 2e18), members[3] stakes 50 (a quarter, by the NAV floor
    50 / (150 + 50): 4e18 / 3)."""
    thread = threads.create(members[0], text)
    price = hub.price(thread.threadId())
    for index, stake in ((1, price), (2, 4 * price), (3, 5 * price // 3)):
        threads.join(thread, members[index], members[:index], stake=stake, text=f"{text} join {index}")
    governor = create_governor(project, hub, thread, members[0])
    threads.tick()
    return Dao(thread, governor, list(members))


def create_governor(project: Any, hub: Any, thread: Any, sender: Any) -> Any:
    receipt = hub.createGovernor(thread.threadId(), sender=sender)
    event = receipt.decode_logs(hub.GovernorCreated)[0]
    assert event.threadId == thread.threadId()
    return project.ThreadGovernor.at(event.governor)


def sign_ballot(
    key: str | bytes, governor: Any, chain_id: int, proposal_id: int, support: int, voter: str, nonce: int,
    deadline: int | None = None,
) -> bytes:  # fmt: skip
    """EIP-712 signature of a `Ballot` (OpenZeppelin's `castVoteBySig`) or, with a deadline, of a
    `BallotWithDeadline` (`castVoteBySigWithDeadline`)."""
    message: dict[str, Any] = {"proposalId": proposal_id, "support": support, "voter": voter, "nonce": nonce}
    if deadline is None:
        primary, fields = "Ballot", BALLOT
    else:
        primary, fields = "BallotWithDeadline", BALLOT_WITH_DEADLINE
        message["deadline"] = deadline
    typed = {
        "types": {"EIP712Domain": EIP712_DOMAIN, primary: fields},
        "primaryType": primary,
        "domain": {
            "name": "ThreadGovernor",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": governor.address,
        },
        "message": message,
    }
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), key).signature)


def key_of(account: Any) -> str:
    """The private key of an Ape test account (derived from the test mnemonic)."""
    key = str(account.private_key)
    assert Account.from_key(key).address == account.address
    return key


def error_data(signature: str, types: Sequence[str], args: Sequence[Any]) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(list(types), list(args))).hex()


def execute_fails(proposal: Proposal, sender: Any, signature: str, types: Sequence[str], args: Sequence[Any]) -> Any:
    """Execute a queued proposal whose calls revert: the transaction succeeds, nothing the calls did remains, and
    the proposal is final (consumed: `Executed`, `executionFailed`), with the calls' revert data in
    `ProposalExecutionFailed`."""
    governor = proposal.governor
    receipt = governor.execute(*proposal.key, sender=sender)
    failed = receipt.decode_logs(governor.ProposalExecutionFailed)
    assert [event.proposalId for event in failed] == [proposal.id]
    assert "0x" + bytes(failed[0].reason).hex() == error_data(signature, types, args)
    assert proposal.state() == EXECUTED and governor.executionFailed(proposal.id)
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=EXECUTED):
        governor.execute(*proposal.key, sender=sender)
    return receipt
