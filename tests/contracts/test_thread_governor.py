"""ThreadGovernor, the hub's governance settings and the thread's governed functions (protocol sections 3, 5, 8).

Every thread gets at most one governor, an EIP-1167 clone (with immutable arguments) of OpenZeppelin's
`Governor` with bravo counting, created by a co-author. Votes are min(the thread's equity shares at the
proposal's snapshot (a timestamp), shares now); every proposal is queued and executes once, after the execution
delay (at least the exit cooldown); an execution whose calls revert is final. The governor is the only account
that can move the thread's treasury (never escrowed stakes) or change its approval window. The attacks of the
security review (protocol r2) have their own module, test_governance_attacks.py.

Times are set explicitly (``chain.pending_timestamp``) from the proposal's own timepoints, so the tests behave
the same on anvil (blocks may share a second) and on eth-tester (every block is at least one second after its
parent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from helpers.contracts import CHOIR, DAY, GOVERNANCE_DEFAULTS, HUB_DEFAULTS, HUMAN, content

PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
AGAINST, FOR, ABSTAIN = 0, 1, 2
ZERO_ADDRESS = "0x" + "00" * 20
EIP1167_PREFIX = bytes.fromhex("363d3d373d3d3d363d73")
EIP1167_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")

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

ONLY_ANVIL = "eth-tester mines every block at least one second after its parent: no two blocks share a second"


# --- helpers ------------------------------------------------------------------------------------------------


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


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quiet_reverts(monkeypatch):
    """Ape's foundry provider prints the enriched call trace of every revert, and enriching it derives the
    test accounts' keys again for each frame (about half a second a revert). This module expects dozens of
    reverts and checks each one's error, so it skips the printout; the raised errors are unchanged."""
    from ape_ethereum.trace import Trace

    monkeypatch.setattr(Trace, "show", lambda self, *args, **kwargs: None)


@pytest.fixture(scope="module")
def builder(project, chain, hub, token):
    return Builder(project, chain, hub, token)


@pytest.fixture(scope="module")
def dao(builder, project, hub, coauthors):
    """Built once per module: Ape reverts the chain to this state after every test."""
    return new_dao(builder, project, hub, coauthors)


# --- the governor and the hub -------------------------------------------------------------------------------


def test_dao_fixture_has_unequal_shares_and_a_funded_treasury(dao, hub, token):
    creator, second, third, fourth = (dao.shares(m) for m in dao.members)
    assert (creator, second, third) == (CHOIR, CHOIR, 2 * CHOIR)
    assert fourth == 4 * CHOIR // 3  # a quarter of the new total: 4e18 * (1/4) / (3/4)
    assert dao.thread.totalShares() == creator + second + third + fourth
    price = hub.price(dao.thread.threadId())
    assert dao.thread.treasury() == 20 * price // 3 == 200 * CHOIR
    assert dao.thread.lockedBalance() == 0
    assert token.balanceOf(dao.thread) == dao.thread.treasury()


def test_governor_views(dao, hub, governor_implementation, chain):
    governor, thread = dao.governor, dao.thread
    assert governor.thread() == thread.address
    assert governor.quorumBps() == GOVERNANCE_DEFAULTS["quorumBps"]
    assert governor.executionDelay() == GOVERNANCE_DEFAULTS["executionDelay"]
    assert governor.votingDelay() == GOVERNANCE_DEFAULTS["votingDelay"]
    assert governor.votingPeriod() == GOVERNANCE_DEFAULTS["votingPeriod"]
    assert governor.name() == "ThreadGovernor"
    assert governor.version() == "1"
    assert governor.CLOCK_MODE() == "mode=timestamp"
    assert governor.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert governor.proposalThreshold() == 1
    ballot_type = "BallotWithDeadline(uint256 proposalId,uint8 support,address voter,uint256 nonce,uint256 deadline)"
    assert governor.BALLOT_WITH_DEADLINE_TYPEHASH() == keccak(text=ballot_type)
    domain = governor.eip712Domain()
    assert (domain[1], domain[2], domain[3]) == ("ThreadGovernor", "1", chain.chain_id)
    assert domain[4] == governor.address
    # the thread and the hub know it; it is a clone of the implementation carrying the settings as arguments
    assert thread.governor() == governor.address
    assert hub.governorOf(thread.threadId()) == governor.address
    code = bytes(chain.provider.get_code(governor.address))
    args = (
        bytes.fromhex(thread.address[2:])
        + GOVERNANCE_DEFAULTS["votingDelay"].to_bytes(4, "big")
        + GOVERNANCE_DEFAULTS["votingPeriod"].to_bytes(4, "big")
        + GOVERNANCE_DEFAULTS["quorumBps"].to_bytes(2, "big")
        + GOVERNANCE_DEFAULTS["executionDelay"].to_bytes(4, "big")
    )
    implementation = bytes.fromhex(governor_implementation.address[2:])
    assert code == EIP1167_PREFIX + implementation + EIP1167_SUFFIX + args
    # quorum: half of all shares at a past timepoint
    past = chain.blocks.head.timestamp - 1
    assert governor.quorum(past) == thread.getPastTotalSupply(past) * 5_000 // 10_000
    assert governor.getVotes(dao.members[2], past) == dao.shares(dao.members[2])


def test_hub_governance_settings(hub, governor_implementation):
    settings = hub.governanceSettings()
    assert settings.implementation == governor_implementation.address
    assert (
        settings.votingDelay,
        settings.votingPeriod,
        settings.quorumBps,
        settings.executionDelay,
    ) == tuple(GOVERNANCE_DEFAULTS.values())


def test_create_governor_once_per_existing_thread(threads, thread, hub, project, creator, outsiders):
    thread_id = thread.threadId()
    assert thread.governor() == ZERO_ADDRESS and hub.governorOf(thread_id) == ZERO_ADDRESS
    receipt = hub.createGovernor(thread_id, sender=creator)  # a co-author (test_governance_attacks: only one)
    governor = receipt.decode_logs(hub.GovernorCreated)[0].governor
    assert receipt.decode_logs(thread.GovernorSet)[0].governor == governor
    assert thread.governor() == governor == hub.governorOf(thread_id)
    with ape.reverts(hub.GovernorExists, threadId=thread_id, governor=governor):
        hub.createGovernor(thread_id, sender=creator)
    with ape.reverts(hub.UnknownThread, threadId=hub.threadCount() + 1):
        hub.createGovernor(hub.threadCount() + 1, sender=creator)
    assert outsiders[0] != creator
    with ape.reverts(hub.UnknownThread, threadId=0):
        hub.createGovernor(0, sender=creator)
    assert thread.governor() == governor


def test_create_governor_needs_governance_settings(project, admin, token, creator):
    bare = admin.deploy(project.ChoirHub, token, (admin, *HUB_DEFAULTS.values()))
    receipt = bare.createThread(content("no governance yet"), HUMAN, sender=creator)
    thread_id = receipt.decode_logs(bare.ThreadCreated)[0].threadId
    with ape.reverts(bare.GovernanceNotSet):
        bare.createGovernor(thread_id, sender=creator)
    assert bare.governorOf(thread_id) == ZERO_ADDRESS


def test_set_governance_is_admin_only(hub, governor_implementation, pricer, outsiders):
    settings = (governor_implementation, *GOVERNANCE_DEFAULTS.values())
    for caller in (pricer, outsiders[0]):
        with ape.reverts(hub.AccessControlUnauthorizedAccount, account=caller.address):
            hub.setGovernance(settings, sender=caller)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("implementation", None),  # an account without code
        ("votingDelay", 0),  # shares changed in the proposal's own second would count
        ("votingDelay", 30 * DAY + 1),
        ("votingPeriod", 3600 - 1),
        ("votingPeriod", 90 * DAY + 1),
        ("quorumBps", 0),
        ("quorumBps", 10_001),
        ("executionDelay", 30 * DAY + 1),
    ],
)
def test_set_governance_rejects_invalid_values(hub, admin, governor_implementation, outsiders, field, value):
    settings = {"implementation": governor_implementation.address, **GOVERNANCE_DEFAULTS}
    settings[field] = value if value is not None else outsiders[0].address
    before = hub.governanceSettings()
    with ape.reverts(hub.InvalidParameter, parameter=field):
        hub.setGovernance(tuple(settings.values()), sender=admin)
    assert hub.governanceSettings() == before


def test_set_governance_accepts_edges_and_applies_to_new_governors_only(
    threads, project, hub, admin, governor_implementation, coauthors
):
    first = threads.create(coauthors[0], "first")
    old = create_governor(project, hub, first, coauthors[0])
    for edges in ((1, 3600, 1, DAY), (30 * DAY, 90 * DAY, 10_000, 30 * DAY)):
        receipt = hub.setGovernance((governor_implementation, *edges), sender=admin)
        event = receipt.decode_logs(hub.GovernanceSet)[0]
        assert (event.votingDelay, event.votingPeriod, event.quorumBps, event.executionDelay) == edges
    second = threads.create(coauthors[1], "second")
    new = create_governor(project, hub, second, coauthors[1])
    assert (new.votingDelay(), new.votingPeriod(), new.quorumBps(), new.executionDelay()) == (
        30 * DAY, 90 * DAY, 10_000, 30 * DAY,
    )  # fmt: skip
    assert (old.votingDelay(), old.votingPeriod(), old.quorumBps(), old.executionDelay()) == tuple(
        GOVERNANCE_DEFAULTS.values()
    )
    assert new.thread() == second.address and old.thread() == first.address


# --- the life cycle -----------------------------------------------------------------------------------------


def test_full_life_cycle_moves_treasury_exactly(chain, dao, token, outsiders):
    governor, thread = dao.governor, dao.thread
    creator, second, third, fourth = dao.members
    recipient, relayer = outsiders[3], outsiders[0]
    amount = 100 * CHOIR
    proposal = propose(
        governor,
        fourth,
        [(thread, thread.transferTreasury.encode_input(recipient, amount))],
        "Pay the editor",
    )
    assert proposal.state() == PENDING
    assert governor.proposalProposer(proposal.id) == fourth.address
    assert governor.proposalSnapshot(proposal.id) == proposal.snapshot
    assert governor.proposalDeadline(proposal.id) == proposal.deadline
    assert governor.proposalNeedsQueuing(proposal.id)

    open_vote(chain, proposal)
    ballots = {third: FOR, second: FOR, creator: ABSTAIN, fourth: AGAINST}
    for voter, support in ballots.items():
        receipt = governor.castVote(proposal.id, support, sender=voter)
        event = receipt.decode_logs(governor.VoteCast)[0]
        assert (event.voter, event.support, event.weight) == (voter.address, support, dao.shares(voter))
        assert governor.hasVoted(proposal.id, voter)
    assert proposal.state() == ACTIVE
    weight = {support: sum(dao.shares(v) for v, s in ballots.items() if s == support) for support in range(3)}
    assert proposal.votes() == (weight[AGAINST], weight[FOR], weight[ABSTAIN]) == (4 * CHOIR // 3, 3 * CHOIR, CHOIR)
    with ape.reverts(governor.GovernorUnexpectedProposalState):  # not before the vote ends
        governor.queue(*proposal.key, sender=relayer)

    close_vote(chain, proposal)
    assert proposal.state() == SUCCEEDED
    assert governor.quorum(proposal.snapshot) == thread.totalShares() // 2
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=SUCCEEDED):
        governor.execute(*proposal.key, sender=relayer)  # every proposal is queued first

    eta = queue(chain, proposal, relayer)  # anyone may queue and execute
    assert proposal.state() == QUEUED
    chain.pending_timestamp = eta - 1
    with ape.reverts(governor.ExecutionTooEarly, proposalId=proposal.id, eta=eta):
        governor.execute(*proposal.key, sender=relayer)

    balances = (token.balanceOf(recipient), token.balanceOf(thread), thread.treasury())
    chain.pending_timestamp = eta
    receipt = governor.execute(*proposal.key, sender=relayer)
    assert receipt.decode_logs(governor.ProposalExecuted)[0].proposalId == proposal.id
    transfer = receipt.decode_logs(thread.TreasuryTransferred)[0]
    assert (transfer.to, transfer.amount) == (recipient.address, amount)
    assert token.balanceOf(recipient) == balances[0] + amount
    assert token.balanceOf(thread) == balances[1] - amount == 100 * CHOIR
    assert thread.treasury() == balances[2] - amount == 100 * CHOIR
    assert proposal.state() == EXECUTED

    # a proposal executes at most once, and cannot be queued again
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=EXECUTED):
        governor.execute(*proposal.key, sender=relayer)
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=EXECUTED):
        governor.queue(*proposal.key, sender=relayer)
    assert token.balanceOf(recipient) == balances[0] + amount
    # the same actions with the same description are the same proposal: it cannot be proposed again
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=EXECUTED):
        governor.propose(*proposal.key[:3], proposal.description, sender=fourth)


def test_votes_are_shares_at_the_snapshot_and_a_flash_join_weighs_nothing(chain, threads, dao, outsiders):
    """An account that becomes a co-author after the snapshot may call castVote, but OpenZeppelin counts it
    with its weight at the snapshot: zero. The ballot is recorded (hasVoted, a VoteCast of weight 0); the
    tally does not move."""
    governor, thread = dao.governor, dao.thread
    creator, _, third, fourth = dao.members
    latecomer = outsiders[1]
    proposal = propose(governor, creator, [(thread, thread.setApprovalWindow.encode_input(DAY))], "Shorter window")
    open_vote(chain, proposal)
    cast(proposal, {creator: FOR})
    threads.join(thread, latecomer, dao.members, stake=30 * CHOIR * 100, text="late")  # after the snapshot
    assert thread.joinedAt(latecomer) > proposal.snapshot
    assert thread.getVotes(latecomer) > 0
    assert governor.getVotes(latecomer, proposal.snapshot) == 0
    assert thread.totalShares() > governor.getVotes(creator, proposal.snapshot) * 5  # the join diluted everyone

    before = proposal.votes()
    receipt = governor.castVote(proposal.id, FOR, sender=latecomer)
    event = receipt.decode_logs(governor.VoteCast)[0]
    assert (event.voter, event.weight) == (latecomer.address, 0)
    assert governor.hasVoted(proposal.id, latecomer)
    assert proposal.votes() == before == (0, CHOIR, 0)
    with ape.reverts(governor.GovernorAlreadyCastVote, voter=latecomer.address):
        governor.castVote(proposal.id, AGAINST, sender=latecomer)
    # the quorum is measured against the shares at the snapshot too, not the diluted total
    assert governor.quorum(proposal.snapshot) == sum(dao.shares(m) for m in dao.members) // 2

    # gaining shares after the snapshot adds nothing, but giving them up counts: `fourth` exits, then votes with
    # weight min(shares at the snapshot, shares now) = 0
    chain.pending_timestamp = max(chain.pending_timestamp, thread.joinedAt(fourth) + thread.EXIT_COOLDOWN())
    assert thread.getPastVotes(fourth, proposal.snapshot) == 4 * CHOIR // 3
    thread.exit(sender=fourth)
    assert thread.sharesOf(fourth) == 0 and governor.getVotes(fourth, proposal.snapshot) == 0
    assert governor.castVote(proposal.id, FOR, sender=fourth).decode_logs(governor.VoteCast)[0].weight == 0
    cast(proposal, {third: FOR})
    assert proposal.votes() == (0, CHOIR + 2 * CHOIR, 0)
    close_vote(chain, proposal)
    assert proposal.state() == SUCCEEDED


def test_a_latecomer_cannot_propose(chain, threads, dao, outsiders):
    """Proposing needs a share one second before the proposal: no outsider, no co-author of this second."""
    governor, thread = dao.governor, dao.thread
    action = [(thread, thread.setApprovalWindow.encode_input(DAY))]
    with ape.reverts(governor.GovernorInsufficientProposerVotes, proposer=outsiders[1].address, votes=0, threshold=1):
        governor.propose(*_plain(action), "outsider", sender=outsiders[1])
    if chain.provider.name == "test":
        pytest.skip(ONLY_ANVIL)
    spec_id = threads.submit(thread, outsiders[1], stake=30 * CHOIR, text="joins now")
    for member in dao.members:
        thread.vote(spec_id, True, sender=member)
    settled = thread.settle(spec_id, sender=outsiders[1])
    chain.pending_timestamp = settled.timestamp  # propose in the second it joined
    with ape.reverts(governor.GovernorInsufficientProposerVotes, proposer=outsiders[1].address, votes=0):
        governor.propose(*_plain(action), "just joined", sender=outsiders[1])


def _plain(actions: Sequence[tuple[Any, bytes]]) -> tuple[list[str], list[int], list[bytes]]:
    return [str(t.address) for t, _ in actions], [0] * len(actions), [bytes(d) for _, d in actions]


def test_vote_rules(chain, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    creator, second = dao.members[:2]
    proposal = propose(governor, creator, [(thread, thread.setApprovalWindow.encode_input(DAY))], "rules")
    chain.pending_timestamp = proposal.snapshot  # the snapshot itself is still Pending
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=PENDING):
        governor.castVote(proposal.id, FOR, sender=creator)
    open_vote(chain, proposal)
    with ape.reverts(governor.GovernorInvalidVoteType):
        governor.castVote(proposal.id, 3, sender=creator)
    cast(proposal, {creator: FOR})
    with ape.reverts(governor.GovernorAlreadyCastVote, voter=creator.address):
        governor.castVote(proposal.id, AGAINST, sender=creator)
    with ape.reverts(governor.GovernorNonexistentProposal, proposalId=proposal.id + 1):
        governor.castVote(proposal.id + 1, FOR, sender=creator)
    chain.pending_timestamp = proposal.deadline  # the deadline itself is the last second of the vote
    cast(proposal, {second: AGAINST})
    chain.pending_timestamp = proposal.deadline + 1
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
        governor.castVote(proposal.id, FOR, sender=dao.members[2])
    assert proposal.votes() == (CHOIR, CHOIR, 0)


def test_quorum_not_reached_is_defeated(chain, dao, outsiders):
    """Quorum: for + abstain >= half of all shares at the snapshot. Below it a proposal is Defeated, even
    without a vote against."""
    governor, thread = dao.governor, dao.thread
    creator, fourth = dao.members[0], dao.members[3]
    proposal = propose(governor, creator, [(thread, thread.transferTreasury.encode_input(creator, CHOIR))], "Pay me")
    open_vote(chain, proposal)
    cast(proposal, {creator: FOR, fourth: ABSTAIN})  # 1e18 + 4e18/3 < quorum 8e18/3
    assert governor.quorum(proposal.snapshot) == (CHOIR + CHOIR + 2 * CHOIR + 4 * CHOIR // 3) // 2
    assert sum(proposal.votes()[1:]) < governor.quorum(proposal.snapshot)
    close_vote(chain, proposal)
    assert proposal.state() == DEFEATED
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
        governor.queue(*proposal.key, sender=creator)
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
        governor.execute(*proposal.key, sender=creator)
    assert thread.treasury() == 200 * CHOIR


@pytest.mark.parametrize(
    "ballots",
    [
        # for 2e18 against 7e18/3, abstain 1e18 makes the quorum: more against than for
        {2: FOR, 1: ABSTAIN, 0: AGAINST, 3: AGAINST},
        # a tie (1e18 each) with the quorum reached by abstention: a tie is not a majority
        {0: FOR, 1: AGAINST, 2: ABSTAIN},
    ],
    ids=["majority-against", "tie"],
)
def test_no_majority_is_defeated(chain, dao, ballots):
    governor, thread = dao.governor, dao.thread
    proposal = propose(
        governor,
        dao.members[0],
        [(thread, thread.transferTreasury.encode_input(dao.members[0], CHOIR))],
        "Pay",
    )
    open_vote(chain, proposal)
    cast(proposal, {dao.members[index]: support for index, support in ballots.items()})
    against, for_, abstain = proposal.votes()
    assert for_ + abstain >= governor.quorum(proposal.snapshot)  # the quorum is reached
    assert against >= for_
    close_vote(chain, proposal)
    assert proposal.state() == DEFEATED
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
        governor.queue(*proposal.key, sender=dao.members[0])


def test_proposal_without_votes_is_defeated_and_proposer_may_cancel_while_pending(chain, dao):
    governor, thread = dao.governor, dao.thread
    creator, second = dao.members[:2]
    action = [(thread, thread.setApprovalWindow.encode_input(DAY))]
    # each step at the snapshot second, the last one a proposal is Pending (a failed transaction takes a block
    # on eth-tester)
    cancelled = propose(governor, creator, action, "withdrawn")
    chain.pending_timestamp = cancelled.snapshot
    governor.cancel(*cancelled.key, sender=creator)
    assert cancelled.state() == CANCELED
    silent = propose(governor, creator, action, "nobody cares")
    chain.pending_timestamp = silent.snapshot
    with ape.reverts(governor.GovernorUnableToCancel, proposalId=silent.id, account=second.address):
        governor.cancel(*silent.key, sender=second)  # only the proposer may
    open_vote(chain, silent)
    with ape.reverts(governor.GovernorUnableToCancel, proposalId=silent.id, account=creator.address):
        governor.cancel(*silent.key, sender=creator)  # and only before the vote opens
    with ape.reverts(governor.GovernorUnexpectedProposalState, proposalId=cancelled.id, current=CANCELED):
        governor.castVote(cancelled.id, FOR, sender=creator)
    close_vote(chain, silent)
    assert silent.state() == DEFEATED


# --- signed votes -------------------------------------------------------------------------------------------


def test_cast_vote_by_sig_counts_once(chain, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    third = dao.members[2]
    relayer = outsiders[0]
    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "sig")
    open_vote(chain, proposal)
    assert governor.nonces(third) == 0
    signature = sign_ballot(key_of(third), governor, chain.chain_id, proposal.id, FOR, third.address, 0)
    receipt = governor.castVoteBySig(proposal.id, FOR, third, signature, sender=relayer)
    event = receipt.decode_logs(governor.VoteCast)[0]
    assert (event.voter, event.support, event.weight) == (third.address, FOR, 2 * CHOIR)
    assert governor.nonces(third) == 1
    assert proposal.votes() == (0, 2 * CHOIR, 0)
    # replay: the nonce moved, so the same signature now recovers to someone else
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySig(proposal.id, FOR, third, signature, sender=relayer)
    # a fresh signature with the next nonce is valid but the voter has voted
    again = sign_ballot(key_of(third), governor, chain.chain_id, proposal.id, AGAINST, third.address, 1)
    with ape.reverts(governor.GovernorAlreadyCastVote, voter=third.address):
        governor.castVoteBySig(proposal.id, AGAINST, third, again, sender=relayer)
    # a signature by another key than the voter's, and one for other terms, are refused
    second = dao.members[1]
    forged = sign_ballot(Account.create().key, governor, chain.chain_id, proposal.id, FOR, second.address, 0)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):
        governor.castVoteBySig(proposal.id, FOR, second, forged, sender=relayer)
    honest = sign_ballot(key_of(second), governor, chain.chain_id, proposal.id, AGAINST, second.address, 0)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):
        governor.castVoteBySig(proposal.id, FOR, second, honest, sender=relayer)  # support changed
    assert proposal.votes() == (0, 2 * CHOIR, 0)
    assert not governor.hasVoted(proposal.id, second) and governor.nonces(second) == 0


def test_cast_vote_by_sig_with_deadline(chain, threads, project, hub, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    second, third = dao.members[1], dao.members[2]
    relayer = outsiders[0]
    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "sig")
    open_vote(chain, proposal)
    start = chain.pending_timestamp
    deadline = start + 3600
    signature = sign_ballot(key_of(second), governor, chain.chain_id, proposal.id, AGAINST, second.address, 0, deadline)
    receipt = governor.castVoteBySigWithDeadline(proposal.id, AGAINST, second, deadline, signature, sender=relayer)
    event = receipt.decode_logs(governor.VoteCast)[0]
    assert (event.voter, event.support, event.weight) == (second.address, AGAINST, CHOIR)
    assert governor.nonces(second) == 1
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):  # replay
        governor.castVoteBySigWithDeadline(proposal.id, AGAINST, second, deadline, signature, sender=relayer)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):  # as a plain Ballot
        governor.castVoteBySig(proposal.id, AGAINST, second, signature, sender=relayer)

    key = key_of(third)
    # a later deadline than signed, a signature by another key, one for another governor: all refused
    signed = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, deadline)
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline + 1, signed, sender=relayer)
    forged = sign_ballot(Account.create().key, governor, chain.chain_id, proposal.id, FOR, third.address, 0,
                         deadline)  # fmt: skip
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline, forged, sender=relayer)
    other = create_governor(project, hub, threads.create(outsiders[1], "other"), outsiders[1])
    elsewhere = sign_ballot(key, other, chain.chain_id, proposal.id, FOR, third.address, 0, deadline)
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline, elsewhere, sender=relayer)

    # expiry: valid through the deadline second, refused after it
    late = chain.pending_timestamp + 10
    expiring = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, late)
    chain.pending_timestamp = late + 1
    with ape.reverts(governor.SignatureExpired, deadline=late):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, late, expiring, sender=relayer)
    assert governor.nonces(third) == 0 and not governor.hasVoted(proposal.id, third)
    on_time = chain.pending_timestamp + 5
    signed = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, on_time)
    chain.pending_timestamp = on_time
    governor.castVoteBySigWithDeadline(proposal.id, FOR, third, on_time, signed, sender=relayer)
    assert proposal.votes() == (CHOIR, 2 * CHOIR, 0)


def test_a_fresh_key_joins_and_votes_by_signature(chain, threads, hub, token, admin, dao):
    """The spec flow end to end for a key the test holds: funded, it stakes with its own transaction, is
    approved, and a relayer carries its signed vote on a later proposal."""
    governor, thread = dao.governor, dao.thread
    signer = Account.create()
    price = hub.price(thread.threadId())
    token.transfer(signer.address, 2 * price, sender=admin)
    admin.transfer(signer.address, 10**18)  # ether for gas
    w3 = chain.provider.web3
    abis = {
        name: [abi.model_dump(by_alias=True, mode="json") for abi in contract.contract_type.abi]
        for name, contract in (("token", token), ("thread", thread))
    }
    for name, address, call in (
        ("token", token.address, lambda c: c.functions.approve(thread.address, 2 * price)),
        ("thread", thread.address, lambda c: c.functions.submitSpec(content("fresh key"), [], 2 * price, HUMAN)),
    ):
        contract = w3.eth.contract(address=to_checksum_address(address), abi=abis[name])
        tx = call(contract).build_transaction(
            {
                "from": signer.address,
                "nonce": w3.eth.get_transaction_count(signer.address),
                "chainId": chain.chain_id,
            }
        )
        tx_hash = w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    spec_id = thread.messageCount() - 1
    assert thread.getSpec(spec_id).author == signer.address
    for member in dao.members:
        thread.vote(spec_id, True, sender=member)
    thread.settle(spec_id, sender=admin)
    threads.tick()
    assert thread.isCoauthor(signer.address)

    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "fresh")
    open_vote(chain, proposal)
    signature = sign_ballot(signer.key, governor, chain.chain_id, proposal.id, FOR, signer.address, 0)
    receipt = governor.castVoteBySig(proposal.id, FOR, signer.address, signature, sender=admin)
    assert receipt.decode_logs(governor.VoteCast)[0].weight == thread.sharesOf(signer.address) > 0
    assert proposal.votes() == (0, thread.sharesOf(signer.address), 0)


# --- what governance can do ---------------------------------------------------------------------------------


def test_governed_functions_refuse_everyone_but_the_governor(dao, hub, admin, outsiders):
    thread = dao.thread
    with ape.reverts(thread.OnlyGovernor, caller=dao.members[0].address):  # not even a co-author
        thread.transferTreasury(dao.members[0], CHOIR, sender=dao.members[0])
    with ape.reverts(thread.OnlyGovernor, caller=admin.address):  # not the protocol's admin
        thread.setApprovalWindow(DAY, sender=admin)
    with ape.reverts(thread.OnlyGovernor, caller=outsiders[0].address):
        thread.setGovernor(outsiders[0], sender=outsiders[0])
    assert thread.treasury() == 200 * CHOIR and thread.governor() == dao.governor.address


def test_one_thread_governance_cannot_touch_another_treasury(
    chain, builder, project, hub, token, admin, dao, outsiders
):
    other = new_dao(builder, project, hub, [outsiders[0], outsiders[1], outsiders[2], admin], "other")
    thief = outsiders[3]
    raid = propose(
        dao.governor, dao.members[0],
        [(other.thread, other.thread.transferTreasury.encode_input(thief, 10 * CHOIR))], "Raid the neighbour",
    )  # fmt: skip
    pass_proposals(chain, dao, [raid])
    assert raid.state() == QUEUED
    before = (token.balanceOf(other.thread), other.thread.treasury(), token.balanceOf(thief))
    execute_fails(raid, thief, "OnlyGovernor(address)", ["address"], [dao.governor.address])
    assert (token.balanceOf(other.thread), other.thread.treasury(), token.balanceOf(thief)) == before
    assert dao.thread.treasury() == 200 * CHOIR


def test_transfer_treasury_never_moves_escrowed_stakes(chain, threads, hub, token, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    staker, recipient = outsiders[0], outsiders[3]
    spec_id = threads.submit(thread, staker, stake=50 * CHOIR, text="pending")  # escrowed, not treasury
    treasury = thread.treasury()
    assert (treasury, thread.lockedBalance(), token.balanceOf(thread)) == (
        200 * CHOIR,
        50 * CHOIR,
        250 * CHOIR,
    )
    too_much, to_nobody, everything = (
        propose(governor, dao.members[0], [(thread, thread.transferTreasury.encode_input(to, amount))], text)
        for to, amount, text in (
            (recipient, treasury + 1, "One more than the treasury"),
            (ZERO_ADDRESS, CHOIR, "Burn it"),
            (recipient, treasury, "All of the treasury"),
        )
    )
    pass_proposals(chain, dao, [too_much, to_nobody, everything])
    insufficient = ("InsufficientTreasury(uint256,uint256)", ["uint256", "uint256"], [treasury + 1, treasury])
    execute_fails(too_much, recipient, *insufficient)
    execute_fails(to_nobody, recipient, "ZeroAddress()", [], [])
    assert thread.treasury() == treasury
    before = token.balanceOf(recipient)
    governor.execute(*everything.key, sender=recipient)
    assert token.balanceOf(recipient) == before + treasury
    assert thread.treasury() == 0
    assert thread.lockedBalance() == 50 * CHOIR == token.balanceOf(thread)  # the stake stays in escrow
    # and the escrow still settles: approval moves the stake into the (now empty) treasury
    for member in dao.members:
        thread.vote(spec_id, True, sender=member)
    thread.settle(spec_id, sender=staker)
    assert (thread.treasury(), thread.lockedBalance()) == (50 * CHOIR, 0)


def test_a_queued_proposal_never_executed_runs_within_the_grace_period(chain, token, admin, dao, outsiders):
    """A queued proposal nobody has executed yet can be executed by anyone at any time within the grace period
    after its execution time (a failed execution, in contrast, is final: test_governance_attacks.py)."""
    governor, thread = dao.governor, dao.thread
    recipient = outsiders[3]
    proposal = propose(
        governor, dao.members[0], [(thread, thread.transferTreasury.encode_input(recipient, CHOIR))], "Later"
    )
    pass_proposals(chain, dao, [proposal])
    chain.mine(timestamp=governor.proposalEta(proposal.id) + 14 * DAY - 1)
    before = token.balanceOf(recipient)
    receipt = governor.execute(*proposal.key, sender=recipient)
    assert not receipt.decode_logs(governor.ProposalExecutionFailed)
    assert token.balanceOf(recipient) == before + CHOIR
    assert proposal.state() == EXECUTED and not governor.executionFailed(proposal.id)


def test_a_queued_proposal_expires_after_the_grace_period(chain, token, admin, dao, outsiders):
    """Past `GRACE_PERIOD` after its execution time a queued proposal is Expired and can never run: a stale
    action cannot surprise the co-authors months later."""
    governor, thread = dao.governor, dao.thread
    proposal = propose(
        governor, dao.members[0], [(thread, thread.transferTreasury.encode_input(outsiders[3], CHOIR))], "Stale"
    )
    pass_proposals(chain, dao, [proposal])
    eta = governor.proposalEta(proposal.id)
    assert governor.GRACE_PERIOD() == 14 * DAY
    chain.mine(timestamp=eta + 14 * DAY)
    assert proposal.state() == QUEUED  # the last second of the grace period
    chain.mine(timestamp=eta + 14 * DAY + 1)
    assert proposal.state() == EXPIRED
    treasury = thread.treasury()
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.execute(*proposal.key, sender=outsiders[0])
    assert thread.treasury() == treasury


def test_set_approval_window_through_governance(chain, threads, hub, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    low, high = hub.MIN_APPROVAL_WINDOW(), hub.MAX_APPROVAL_WINDOW()
    assert (low, high) == (3600, 365 * DAY)
    windows = [2 * DAY, low - 1, high + 1, low, high]
    proposals = [
        propose(governor, dao.members[1], [(thread, thread.setApprovalWindow.encode_input(w))], f"Window {w}")
        for w in windows
    ]
    pass_proposals(chain, dao, proposals)
    receipt = governor.execute(*proposals[0].key, sender=outsiders[0])
    assert receipt.decode_logs(thread.ApprovalWindowSet)[0].approvalWindow == 2 * DAY
    assert thread.approvalWindow() == 2 * DAY
    submitted = threads.submit(thread, outsiders[0], text="under the new window")
    assert thread.getSpec(submitted).deadline == chain.blocks.head.timestamp + 2 * DAY
    for proposal, window in zip(proposals[1:3], windows[1:3], strict=True):
        execute_fails(proposal, outsiders[0], "InvalidApprovalWindow(uint256)", ["uint256"], [window])
    assert thread.approvalWindow() == 2 * DAY
    for proposal, window in zip(proposals[3:], windows[3:], strict=True):
        governor.execute(*proposal.key, sender=outsiders[0])
        assert thread.approvalWindow() == window


def test_governor_migration_only_through_a_proposal(
    chain, project, hub, token, dao, outsiders, governor_implementation
):
    """`setGovernor`: the hub sets the first governor (createGovernor), from then on only the governor itself.
    Here the co-authors hand their treasury to a multisig (an account standing in for one)."""
    governor, thread = dao.governor, dao.thread
    multisig = outsiders[2]
    migrate = propose(governor, dao.members[0], [(thread, thread.setGovernor.encode_input(multisig))], "Migrate")
    pay = propose(
        governor,
        dao.members[0],
        [(thread, thread.transferTreasury.encode_input(multisig, CHOIR))],
        "Pay first",
    )
    pass_proposals(chain, dao, [migrate, pay])
    receipt = governor.execute(*migrate.key, sender=outsiders[0])
    assert receipt.decode_logs(thread.GovernorSet)[0].governor == multisig.address
    assert thread.governor() == multisig.address
    # the old governor lost its power: its queued proposal cannot run any more
    execute_fails(pay, outsiders[0], "OnlyGovernor(address)", ["address"], [governor.address])
    # the hub cannot take it back, and reports the governor in charge now
    with ape.reverts(hub.GovernorExists):
        hub.createGovernor(thread.threadId(), sender=dao.members[0])
    assert hub.governorOf(thread.threadId()) == multisig.address
    # the new governor has the powers, and cannot hand them to nobody
    thread.transferTreasury(multisig, 5 * CHOIR, sender=multisig)
    assert thread.treasury() == 195 * CHOIR
    with ape.reverts(thread.ZeroAddress):
        thread.setGovernor(ZERO_ADDRESS, sender=multisig)
    thread.setGovernor(governor, sender=multisig)  # and back
    assert thread.governor() == governor.address
