"""A ThreadGovernor proposal's life (protocol section 8): propose, vote, queue, execute; who may propose and vote
and with what weight, the quorum, defeat and cancellation.

Votes are min(the thread's equity shares at the proposal's snapshot (a timestamp), shares now) with bravo counting;
every proposal is queued and executes once, after the execution delay. Times are set explicitly
(``chain.pending_timestamp``) from the proposal's own timepoints, so the tests behave the same on anvil (blocks may
share a second) and on eth-tester (every block is at least one second after its parent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ape
import pytest
from helpers.contracts import CHOIR, DAY
from helpers.governor import (
    ABSTAIN,
    ACTIVE,
    AGAINST,
    CANCELED,
    DEFEATED,
    EXECUTED,
    FOR,
    PENDING,
    QUEUED,
    SUCCEEDED,
    cast,
    close_vote,
    open_vote,
    propose,
    queue,
)

ONLY_ANVIL = "eth-tester mines every block at least one second after its parent: no two blocks share a second"

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # dozens of expected reverts: see conftest.py


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
