"""Governance attacks of the security review (issue 13, protocol r2 section 8): each test failed on c9dd7b7.

- The majority drain, governance half (attack 1): an attacker votes with two keys, exits both, and its votes must
  stop counting: a voter's weight is min(shares at the snapshot, shares now), for signed votes too.
- A co-author who votes against can leave with its pro-rata share before the proposal executes: the hub accepts
  no execution delay below the exit cooldown (attack 10, `executionDelay` 0).
- A proposal whose execution failed is final, and never runs later on a newcomer's stake (attack 10).
- Only a co-author may create its thread's governor (attack 9).

The part of attack 1 where the survivor is held back by a pending spec belongs to the thread's settlement rules
(test_thread_dao.py). Times are set explicitly from the proposal's own timepoints, so the tests behave the same on
anvil and on eth-tester.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak
from helpers.contracts import CHOIR, DAY, GOVERNANCE_DEFAULTS, raised_arguments, reverts
from helpers.governor import error_data, key_of, sign_ballot

PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
AGAINST, FOR, ABSTAIN = 0, 1, 2


@pytest.fixture(autouse=True)
def _quiet_reverts(monkeypatch):
    """Skip Ape's slow printout of every revert's call trace (see conftest.py, `quiet_reverts`)."""
    from ape_ethereum.trace import Trace

    monkeypatch.setattr(Trace, "show", lambda self, *args, **kwargs: None)


class Proposal:
    """A proposal of treasury transfers, with the timepoints its governor gave it."""

    def __init__(self, governor: Any, thread: Any, proposer: Any, transfers: list[tuple[Any, int]], text: str):
        self.governor = governor
        self.targets = [thread.address] * len(transfers)
        self.values = [0] * len(transfers)
        self.calldatas = [bytes(thread.transferTreasury.encode_input(to, amount)) for to, amount in transfers]
        receipt = governor.propose(self.targets, self.values, self.calldatas, text, sender=proposer)
        event = receipt.decode_logs(governor.ProposalCreated)[0]
        self.id, self.snapshot, self.deadline = int(event.proposalId), int(event.voteStart), int(event.voteEnd)
        self.key = (self.targets, self.values, self.calldatas, keccak(text=text))

    def state(self) -> int:
        return int(self.governor.state(self.id))

    def votes(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.governor.proposalVotes(self.id))  # type: ignore[return-value]


def governor_of(project: Any, hub: Any, thread: Any, sender: Any) -> Any:
    receipt = hub.createGovernor(thread.threadId(), sender=sender)
    return project.ThreadGovernor.at(receipt.decode_logs(hub.GovernorCreated)[0].governor)


def at(chain: Any, timestamp: int) -> None:
    """The next block is mined at `timestamp` (or later, if the chain is already past it)."""
    chain.pending_timestamp = max(chain.pending_timestamp, timestamp)


def pass_and_wait(chain: Any, governor: Any, proposal: Any, voters: list[Any], queuer: Any) -> None:
    """Every voter votes for, the vote closes, `queuer` queues, and the chain waits out the execution delay."""
    at(chain, proposal.snapshot + 1)
    for account in voters:
        governor.castVote(proposal.id, FOR, sender=account)
    chain.mine(timestamp=proposal.deadline + 1)
    eta = int(governor.queue(*proposal.key, sender=queuer).timestamp) + GOVERNANCE_DEFAULTS["executionDelay"]
    chain.mine(timestamp=eta)


# --- attack 1, governance half: votes of co-authors who left no longer count ------------------------------------


@pytest.mark.parametrize("exits", ["after-queue", "during-vote"])
def test_majority_drain_votes_then_exits_and_the_proposal_is_defeated(
    chain, threads, project, hub, token, coauthors, outsiders, exits
):
    """The review's run: three co-authors, two of them (`first`, `second`) one attacker's keys holding 3/4 of the
    shares. The attacker proposes to pay itself what will remain after its own exits, votes for with both keys
    after the snapshot (one of them by EIP-712 signature, through a relayer), then exits both with their pro-rata
    shares. On c9dd7b7 the departed keys' 3e18 still outvoted the survivor's 1e18 and the transfer took the
    survivor's whole share; now their weight is 0, the proposal is Defeated and the survivor keeps its share."""
    survivor, first, second, relayer = coauthors[0], outsiders[0], outsiders[1], outsiders[3]
    thread = threads.create(survivor, "drained")
    price = hub.price(thread.threadId())
    threads.join(thread, first, [survivor], stake=4 * price, text="first key")  # capped at half: 1e18
    threads.join(thread, second, [survivor, first], stake=9 * price, text="second key")  # half again: 2e18
    governor = governor_of(project, hub, thread, survivor)
    assert [thread.sharesOf(a) for a in (survivor, first, second)] == [CHOIR, CHOIR, 2 * CHOIR]
    treasury = thread.treasury()
    assert treasury == 13 * price
    loot = treasury * CHOIR // (4 * CHOIR)  # what remains once both keys have taken their pro-rata parts
    proposal = Proposal(governor, thread, first, [(first, loot)], "Pay the first key")

    at(chain, proposal.snapshot + 1)
    governor.castVote(proposal.id, FOR, sender=first)
    signature = sign_ballot(key_of(second), governor, chain.chain_id, proposal.id, FOR, second.address, 0)
    governor.castVoteBySig(proposal.id, FOR, second.address, signature, sender=relayer)
    governor.castVote(proposal.id, AGAINST, sender=survivor)
    assert proposal.votes() == (CHOIR, 3 * CHOIR, 0)

    def leave_with_both_keys() -> None:
        at(chain, thread.joinedAt(second) + DAY)
        payouts = [thread.exit(sender=key).decode_logs(thread.CoauthorExited)[0].payout for key in (first, second)]
        assert payouts == [treasury // 4, treasury // 2] and thread.treasury() == loot

    if exits == "after-queue":
        chain.mine(timestamp=proposal.deadline + 1)
        assert proposal.state() == SUCCEEDED
        eta = governor.queue(*proposal.key, sender=first).timestamp + GOVERNANCE_DEFAULTS["executionDelay"]
        assert proposal.state() == QUEUED
        leave_with_both_keys()
        chain.mine(timestamp=eta)
    else:
        leave_with_both_keys()
        assert chain.pending_timestamp <= proposal.deadline
        chain.mine(timestamp=proposal.deadline + 1)

    # both keys left: the proposal can be neither queued nor executed (on c9dd7b7 it executed and took the loot)
    if exits == "during-vote":
        with reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
            governor.queue(*proposal.key, sender=first)
    with reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=DEFEATED):
        governor.execute(*proposal.key, sender=first)
    assert proposal.state() == DEFEATED
    # their ballots stay recorded but weigh min(snapshot, now) = 0
    assert governor.hasVoted(proposal.id, first) and governor.hasVoted(proposal.id, second)
    assert governor.getVotes(first, proposal.snapshot) == governor.getVotes(second, proposal.snapshot) == 0
    assert proposal.votes() == (CHOIR, 0, 0)
    # the survivor keeps its share: the whole remaining treasury is its to take
    assert thread.treasury() == loot
    before = token.balanceOf(survivor)
    thread.exit(sender=survivor)
    assert token.balanceOf(survivor) == before + loot and thread.treasury() == 0


def test_a_voter_who_exits_rejoins_and_exits_again_is_counted_at_min_and_once(chain, threads, project, hub, coauthors):
    """The weight is min(shares at the snapshot, shares now) at every moment: an exit removes it, a rejoin with
    fewer shares brings back only those, a second exit removes them again (the exit log names the voter twice; it
    is corrected once). Against votes are corrected the same way; the quorum stays a share of the snapshot's total."""
    creator, voter, dissenter = coauthors[0], coauthors[1], coauthors[2]
    thread = threads.create(creator, "comings and goings")
    price = hub.price(thread.threadId())
    threads.join(thread, dissenter, [creator], stake=price, text="dissenter")  # half: 1e18
    threads.join(thread, voter, [creator, dissenter], stake=4 * price, text="voter")  # half again: 2e18
    assert [thread.sharesOf(a) for a in (creator, dissenter, voter)] == [CHOIR, CHOIR, 2 * CHOIR]
    governor = governor_of(project, hub, thread, creator)
    proposal = Proposal(governor, thread, creator, [(creator, CHOIR)], "Pay the creator")
    at(chain, max(proposal.snapshot + 1, thread.joinedAt(voter) + DAY))
    for account, support in ((creator, FOR), (voter, FOR), (dissenter, AGAINST)):
        governor.castVote(proposal.id, support, sender=account)
    assert proposal.votes() == (CHOIR, 3 * CHOIR, 0)

    thread.exit(sender=voter)
    thread.exit(sender=dissenter)
    threads.tick()  # a spec's eligible voters are those of the second before it
    assert proposal.votes() == (0, CHOIR, 0)
    assert list(thread.exitsSince(proposal.snapshot)) == [dissenter.address, voter.address]  # latest first
    # the voter comes back with fewer shares than it had at the snapshot: only those count
    threads.join(thread, voter, [creator], stake=price, text="voter again")
    rejoined = thread.sharesOf(voter)
    assert 0 < rejoined < 2 * CHOIR
    assert governor.getVotes(voter, proposal.snapshot) == rejoined
    assert proposal.votes() == (0, CHOIR + rejoined, 0)
    at(chain, thread.joinedAt(voter) + DAY)
    thread.exit(sender=voter)
    assert list(thread.exitsSince(proposal.snapshot)) == [voter.address, dissenter.address, voter.address]
    assert proposal.votes() == (0, CHOIR, 0)
    assert chain.pending_timestamp <= proposal.deadline
    chain.mine(timestamp=proposal.deadline + 1)
    assert governor.quorum(proposal.snapshot) == 2 * CHOIR  # half of the 4e18 at the snapshot
    assert proposal.state() == DEFEATED


def test_exits_since_names_every_exit_from_a_timepoint_on(chain, threads, hub, coauthors):
    creator, member = coauthors[0], coauthors[1]
    thread = threads.create(creator, "exit log")
    assert list(thread.exitsSince(0)) == []
    threads.join(thread, member, [creator], stake=hub.price(thread.threadId()))
    at(chain, thread.joinedAt(member) + DAY)
    left = thread.exit(sender=member).timestamp
    chain.mine(deltatime=1)
    assert list(thread.exitsSince(left)) == [member.address]  # inclusive
    assert list(thread.exitsSince(0)) == [member.address]
    assert list(thread.exitsSince(left + 1)) == []


# --- attack 10: the execution delay is at least the exit cooldown --------------------------------------------------


@pytest.mark.parametrize("delay", [0, 1, DAY - 1])
def test_execution_delay_below_the_exit_cooldown_is_refused(hub, admin, governor_implementation, delay):
    """On c9dd7b7 the hub accepted any execution delay up to 30 days, 0 included."""
    before = hub.governanceSettings()
    settings = {**GOVERNANCE_DEFAULTS, "executionDelay": delay}
    with ape.reverts() as refused:
        hub.setGovernance((governor_implementation, *settings.values()), sender=admin)
    refusal = raised_arguments(hub.ExecutionDelayBelowExitCooldown, refused.value)
    assert refusal == {"executionDelay": delay, "exitCooldown": DAY}
    assert hub.governanceSettings() == before


def test_a_dissenter_exits_with_its_share_before_the_proposal_executes(
    chain, threads, project, hub, token, admin, governor_implementation, coauthors, outsiders
):
    """Governance at its fastest (the shortest voting delay and period and execution delay the hub accepts), and a
    dissenter who joined right before the proposal: it votes against, is outvoted, and still exits with its
    pro-rata share of the whole treasury before the proposal takes the rest. On c9dd7b7 the hub accepted an
    execution delay of 0, and the proposal executed a day before the dissenter's exit cooldown ended."""
    for delay in (0, 1, 3600, DAY - 1, DAY):
        try:
            hub.setGovernance((governor_implementation, 1, 3600, 5_000, delay), sender=admin)
            break
        except ape.exceptions.ContractLogicError:
            continue
    assert hub.governanceSettings().executionDelay == delay
    first, second, dissenter = coauthors[0], coauthors[1], outsiders[0]
    thread = threads.create(first, "fast governance")
    price = hub.price(thread.threadId())
    threads.join(thread, second, [first], stake=price, text="second")
    governor = governor_of(project, hub, thread, first)
    threads.join(thread, dissenter, [first, second], stake=price, text="dissenter")  # a third of the equity
    treasury = thread.treasury()
    share = treasury * thread.sharesOf(dissenter) // thread.totalShares()
    proposal = Proposal(governor, thread, first, [(first, treasury - share)], "The majority takes its part")
    at(chain, proposal.snapshot + 1)
    for account, support in ((first, FOR), (second, FOR), (dissenter, AGAINST)):
        governor.castVote(proposal.id, support, sender=account)
    chain.mine(timestamp=proposal.deadline + 1)
    eta = int(governor.queue(*proposal.key, sender=first).timestamp) + delay
    assert governor.proposalEta(proposal.id) == eta

    can_leave = thread.joinedAt(dissenter) + thread.EXIT_COOLDOWN()
    assert can_leave < eta, "the proposal would execute before the dissenter may exit"
    at(chain, can_leave)
    before = token.balanceOf(dissenter)
    thread.exit(sender=dissenter)
    assert token.balanceOf(dissenter) == before + share
    # the dissenter's against vote left with it; the majority's proposal still passes and takes only its part
    assert proposal.votes() == (0, 2 * CHOIR, 0) and proposal.state() == QUEUED
    chain.mine(timestamp=eta)
    governor.execute(*proposal.key, sender=first)
    assert proposal.state() == EXECUTED and not governor.executionFailed(proposal.id)
    assert thread.treasury() == 0 and token.balanceOf(dissenter) == before + share


# --- attack 10: a failed execution is final ---------------------------------------------------------------------


def test_a_failed_execution_is_final_and_never_runs_on_a_newcomers_stake(
    chain, threads, project, hub, token, coauthors, outsiders
):
    """A passed transfer larger than the treasury fails at execution. On c9dd7b7 the proposal stayed Queued and
    anyone could execute it once a newcomer's approved stake had filled the treasury; now the failed execution
    consumes it (`ProposalExecutionFailed`, state Executed, `executionFailed`) and nothing moved."""
    creator, member, newcomer = coauthors[0], coauthors[1], outsiders[0]
    thread = threads.create(creator, "short of funds")
    price = hub.price(thread.threadId())
    threads.join(thread, member, [creator], stake=price, text="member")
    governor = governor_of(project, hub, thread, creator)
    treasury = thread.treasury()
    amount = treasury + 100 * CHOIR
    proposal = Proposal(governor, thread, member, [(member, amount)], "More than we have")
    pass_and_wait(chain, governor, proposal, [creator, member], member)

    receipt = governor.execute(*proposal.key, sender=member)
    failed = receipt.decode_logs(governor.ProposalExecutionFailed)
    assert [event.proposalId for event in failed] == [proposal.id]
    reason = "0x" + bytes(failed[0].reason).hex()
    assert reason == error_data("InsufficientTreasury(uint256,uint256)", ["uint256", "uint256"], [amount, treasury])
    assert not receipt.decode_logs(thread.TreasuryTransferred)
    assert proposal.state() == EXECUTED and governor.executionFailed(proposal.id)
    assert thread.treasury() == treasury

    # a newcomer's stake fills the treasury: the failed proposal still cannot run
    threads.join(thread, newcomer, [creator, member], stake=4 * price, text="newcomer")
    assert thread.treasury() >= amount
    member_balance = token.balanceOf(member)
    with reverts(governor.GovernorUnexpectedProposalState, proposalId=proposal.id, current=EXECUTED):
        governor.execute(*proposal.key, sender=member)
    assert thread.treasury() == treasury + 4 * price and token.balanceOf(member) == member_balance


def test_too_little_gas_cannot_make_a_proposal_fail_for_good(chain, threads, project, hub, token, coauthors):
    """Finality must not hand a griefer a kill switch: an executor who sends too little gas for the proposal's
    calls gets a reverted transaction (`ExecutionOutOfGas` once the governor itself had gas to tell), and the
    proposal stays Queued, whatever gas limit it picks."""
    creator, member = coauthors[0], coauthors[1]
    thread = threads.create(creator, "gas griefing")
    price = hub.price(thread.threadId())
    threads.join(thread, member, [creator], stake=price, text="member")
    governor = governor_of(project, hub, thread, creator)
    proposal = Proposal(governor, thread, creator, [(member, CHOIR)], "A transfer that can succeed")
    pass_and_wait(chain, governor, proposal, [creator, member], member)

    needed = governor.execute.estimate_gas_cost(*proposal.key, sender=member)
    out_of_gas = 0
    # Gas limits from half of what execution needs up to all of it, 10,000 apart (each refused try costs Ape a
    # trace): the low ones run out before the calls, the high ones inside them (ExecutionOutOfGas).
    for gas in range(needed // 2, needed + 10_000, 10_000):
        try:
            receipt = governor.execute(*proposal.key, sender=member, gas=gas)
        except ape.exceptions.TransactionError as exc:
            out_of_gas += isinstance(exc, ape.exceptions.ContractLogicError) and "ExecutionOutOfGas" in repr(exc)
            assert proposal.state() == QUEUED and not governor.executionFailed(proposal.id)
            continue
        # enough gas for the calls after all: it ran, for real
        assert not receipt.decode_logs(governor.ProposalExecutionFailed)
        break
    assert out_of_gas > 0
    if proposal.state() == QUEUED:
        governor.execute(*proposal.key, sender=member)
    assert proposal.state() == EXECUTED and not governor.executionFailed(proposal.id)
    assert thread.treasury() == price - CHOIR


def test_execute_calls_is_the_governors_own(chain, threads, project, hub, coauthors, outsiders):
    creator = coauthors[0]
    thread = threads.create(creator, "self calls only")
    governor = governor_of(project, hub, thread, creator)
    call = bytes(thread.transferTreasury.encode_input(outsiders[0], 0))
    for caller in (creator, outsiders[0]):
        with reverts(governor.OnlyGovernorItself, caller=caller.address):
            governor.executeCalls([thread.address], [0], [call], sender=caller)


# --- attack 9: only a co-author creates its thread's governor ----------------------------------------------------


def test_only_a_coauthor_creates_the_governor(chain, threads, project, hub, admin, coauthors, outsiders):
    """On c9dd7b7 anyone could create any thread's governor (with whatever implementation the hub's admin had just
    set): the admin, an outsider and a co-author who left are refused now; a co-author who joined by a spec may."""
    creator, member, joiner = coauthors[0], coauthors[1], outsiders[1]
    thread = threads.create(creator, "whose governor")
    thread_id = thread.threadId()
    price = hub.price(thread_id)
    threads.join(thread, member, [creator], stake=price, text="member")
    at(chain, thread.joinedAt(member) + DAY)
    thread.exit(sender=member)
    threads.tick()
    for caller in (outsiders[0], admin, member):
        with ape.reverts() as refused:
            hub.createGovernor(thread_id, sender=caller)
        refusal = raised_arguments(hub.OnlyCoauthor, refused.value)
        assert refusal is not None and (refusal["threadId"], refusal["caller"].lower()) == (
            thread_id,
            caller.address.lower(),
        )
    assert thread.governor() == hub.governorOf(thread_id) == "0x" + "00" * 20
    threads.join(thread, joiner, [creator], stake=price, text="joiner")
    governor = governor_of(project, hub, thread, joiner)
    assert thread.governor() == governor.address and governor.thread() == thread.address
