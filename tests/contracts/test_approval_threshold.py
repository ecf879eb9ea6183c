"""A thread's approval threshold (issue 19 point 3, protocol section 3): `ThreadDAO.approvalThreshold`.

A spec with at least one vote is approved when `approvals * 10,000 >= threshold * votes cast`, and then its whole
stake goes to the treasury (deniers get nothing); otherwise as before (denied, split, expired, refunded). Every
thread starts at unanimity (10,000, the rule before the parameter existed); only its governor may change it, to
5,001..10,000. Under a threshold the approval is certain from the vote that brings the approvals to the threshold
of the *eligible* co-authors: that vote's second becomes the spec's deadline (R5, `approvalCertainAt`).

The threshold is set here through the thread's real governor (propose, vote, queue, execute). Times are set
explicitly from the proposal's timepoints, so the tests behave the same on anvil and on eth-tester.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from helpers.contracts import DAY, HUB_DEFAULTS, reverts
from helpers.governor import create_governor, execute_fails, propose

PENDING, APPROVED, DENIED, SPLIT = 1, 2, 3, 4
UNANIMITY, TWO_THIRDS = 10_000, 6_666
FOR = 1


@pytest.fixture(autouse=True)
def _quiet_reverts(monkeypatch):
    """Skip Ape's slow printout of every revert's call trace (see conftest.py, `quiet_reverts`)."""
    from ape_ethereum.trace import Trace

    monkeypatch.setattr(Trace, "show", lambda self, *args, **kwargs: None)


@dataclass
class Governed:
    """A thread, its co-authors (creator first) and its governor."""

    thread: Any
    governor: Any
    members: list[Any]


def _governed(project: Any, hub: Any, threads: Any, members: list[Any]) -> Governed:
    """A thread of `members` (each joins through a spec every earlier member approves), with its governor."""
    thread = threads.create(members[0])
    for index in range(1, len(members)):
        threads.join(thread, members[index], members[:index], text=f"join {index}")
    governor = create_governor(project, hub, thread, members[0])
    threads.tick()
    return Governed(thread, governor, list(members))


def _pass(chain: Any, dao: Governed, bps_values: list[int]) -> list[Any]:
    """Propose `setApprovalThreshold(bps)` for each value, every member votes for, all are queued and the
    execution delay passes; returns the proposals (not executed)."""
    thread = dao.thread
    proposals = [
        propose(dao.governor, dao.members[0], [(thread, thread.setApprovalThreshold.encode_input(b))], f"t {b}")
        for b in bps_values
    ]
    chain.pending_timestamp = max(chain.pending_timestamp, max(p.snapshot for p in proposals) + 1)
    for proposal in proposals:
        for member in dao.members:
            dao.governor.castVote(proposal.id, FOR, sender=member)
    chain.mine(timestamp=max(chain.pending_timestamp, max(p.deadline for p in proposals) + 1))
    etas = []
    for proposal in proposals:
        receipt = dao.governor.queue(*proposal.key, sender=dao.members[0])
        etas.append(int(dao.governor.proposalEta(proposal.id)))
        assert receipt.timestamp <= etas[-1]
    chain.mine(timestamp=max(etas))
    return proposals


def _set_threshold(chain: Any, dao: Governed, bps: int, executor: Any) -> None:
    (proposal,) = _pass(chain, dao, [bps])
    receipt = dao.governor.execute(*proposal.key, sender=executor)
    assert [e.approvalThreshold for e in receipt.decode_logs(dao.thread.ApprovalThresholdSet)] == [bps]
    assert dao.thread.approvalThreshold() == bps


@pytest.fixture
def trio(project, hub, threads, coauthors):
    """Three co-authors (creator, coauthors[1], coauthors[2]) and their governor, at the default threshold."""
    return _governed(project, hub, threads, coauthors[:3])


def _vote(thread: Any, spec_id: int, ballots: list[tuple[Any, bool]]) -> list[Any]:
    return [thread.vote(spec_id, approve, sender=voter) for voter, approve in ballots]


def _settle(thread: Any, token: Any, spec_id: int, sender: Any) -> Any:
    """Settle and check conservation: the treasury gains `gain`, `perDenier * denials` stays locked for the
    deniers, and the thread's balance is still its treasury plus its locked funds."""
    spec = thread.getSpec(spec_id)
    treasury, locked = thread.treasury(), thread.lockedBalance()
    receipt = thread.settle(spec_id, sender=sender)
    event = receipt.decode_logs(thread.SpecSettled)[0]
    assert event.treasuryGain + event.payoutPerDenier * event.denials == spec.stake
    assert thread.treasury() == treasury + event.treasuryGain
    assert thread.lockedBalance() == locked - event.treasuryGain
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()
    return event


def _claim(thread: Any, token: Any, spec_id: int, denier: Any, amount: int) -> None:
    """`denier` claims its share of `spec_id`: exactly `amount` moves from the thread's locked funds to it."""
    balance, locked = token.balanceOf(denier), thread.lockedBalance()
    receipt = thread.claimCuratorRewards([spec_id], sender=denier)
    assert [e.amount for e in receipt.decode_logs(thread.CuratorRewardClaimed)] == [amount]
    assert (token.balanceOf(denier), thread.lockedBalance()) == (balance + amount, locked - amount)


# --- the parameter ------------------------------------------------------------------------------------------------


def test_a_new_thread_is_unanimous_and_a_split_stays_a_split(threads, token, trio, outsiders):
    """The default keeps today's rule: 2 approvals and 1 denial of 3 is a split, and the denier is paid."""
    thread = trio.thread
    creator, second, third = trio.members
    assert thread.approvalThreshold() == UNANIMITY
    assert thread.MIN_APPROVAL_THRESHOLD() == 5_001
    spec_id = threads.submit(thread, outsiders[0], text="two of three")
    _vote(thread, spec_id, [(creator, True), (second, True), (third, False)])
    assert thread.approvalCertainAt(spec_id) == 0  # a denial: never certain under unanimity
    stake = thread.getSpec(spec_id).stake
    event = _settle(thread, token, spec_id, outsiders[0])
    assert (event.outcome, event.approvals, event.denials) == (SPLIT, 2, 1)
    assert event.payoutPerDenier == stake * 1 // 3
    assert thread.curatorRewardOf(spec_id, third) == event.payoutPerDenier
    _claim(thread, token, spec_id, third, event.payoutPerDenier)
    assert not thread.isCoauthor(outsiders[0])


def test_only_the_governor_sets_the_threshold_within_its_range(chain, trio, admin, outsiders):
    """5,000 (a tie would approve) and 10,001 are refused; 5,001 (a strict majority), 6,666 and 10,000 are taken.
    Nobody but the governor may call the setter: not a co-author, not the protocol's admin."""
    thread = trio.thread
    for caller in (trio.members[0], admin, outsiders[0]):
        with reverts(thread.OnlyGovernor, caller=caller.address):
            thread.setApprovalThreshold(TWO_THIRDS, sender=caller)
    values = [5_000, 10_001, 0, 5_001, TWO_THIRDS, UNANIMITY]
    proposals = _pass(chain, trio, values)
    for proposal, bps in zip(proposals[:3], values[:3], strict=True):
        execute_fails(proposal, outsiders[0], "InvalidApprovalThreshold(uint256)", ["uint256"], [bps])
        assert thread.approvalThreshold() == UNANIMITY
    for proposal, bps in zip(proposals[3:], values[3:], strict=True):
        receipt = trio.governor.execute(*proposal.key, sender=outsiders[0])
        assert [e.approvalThreshold for e in receipt.decode_logs(thread.ApprovalThresholdSet)] == [bps]
        assert thread.approvalThreshold() == bps


# --- settlement under two thirds ----------------------------------------------------------------------------------


def test_two_of_three_pass_at_two_thirds_and_the_denier_gets_nothing(chain, threads, token, trio, outsiders):
    """approve, deny, approve: the second approval makes 2 of 3 eligible, at least 6,666 basis points: certain at
    once, despite the denial. Settled: Approved, the whole stake to the treasury, the author joins, and the
    denier has nothing to claim."""
    thread = trio.thread
    creator, second, third = trio.members
    _set_threshold(chain, trio, TWO_THIRDS, outsiders[1])
    author = outsiders[0]
    spec_id = threads.submit(thread, author, text="two of three")
    stake = thread.getSpec(spec_id).stake
    deadline = thread.getSpec(spec_id).deadline
    first, denial = _vote(thread, spec_id, [(creator, True), (third, False)])
    assert not first.decode_logs(thread.ApprovalCertain) and not denial.decode_logs(thread.ApprovalCertain)
    assert thread.approvalCertainAt(spec_id) == 0 and thread.getSpec(spec_id).deadline == deadline
    (last,) = _vote(thread, spec_id, [(second, True)])
    assert [e.specId for e in last.decode_logs(thread.ApprovalCertain)] == [spec_id]
    assert thread.getSpec(spec_id).deadline == last.timestamp == thread.approvalCertainAt(spec_id)
    threads.tick()
    event = _settle(thread, token, spec_id, author)
    assert (event.outcome, event.approvals, event.denials) == (APPROVED, 2, 1)
    assert (event.treasuryGain, event.payoutPerDenier) == (stake, 0)
    assert thread.isCoauthor(author) and thread.coauthorCount() == 4
    assert thread.getSpec(spec_id).deadline == last.timestamp == thread.approvalCertainAt(spec_id)
    assert thread.curatorRewardOf(spec_id, third) == 0
    with reverts(thread.NoCuratorReward, specId=spec_id, account=third.address):
        thread.claimCuratorRewards([spec_id], sender=third)


def test_one_of_three_is_a_split_at_two_thirds(chain, threads, token, trio, outsiders):
    """1 approval and 2 denials is under two thirds: a split as before, the deniers paid `stake * 2/3` between
    them."""
    thread = trio.thread
    creator, second, third = trio.members
    _set_threshold(chain, trio, TWO_THIRDS, outsiders[1])
    spec_id = threads.submit(thread, outsiders[0], text="one of three")
    stake = thread.getSpec(spec_id).stake
    _vote(thread, spec_id, [(creator, True), (second, False), (third, False)])
    assert thread.approvalCertainAt(spec_id) == 0
    event = _settle(thread, token, spec_id, outsiders[0])
    assert (event.outcome, event.approvals, event.denials) == (SPLIT, 1, 2)
    assert event.payoutPerDenier == (stake * 2 // 3) // 2
    for denier in (second, third):
        _claim(thread, token, spec_id, denier, event.payoutPerDenier)
    assert not thread.isCoauthor(outsiders[0])


def test_certain_before_everyone_voted_closes_the_vote(chain, threads, token, trio, outsiders):
    """Two approvals of three eligible reach two thirds: certain at that second, so voting closes with it (the
    third co-author's vote comes too late) and the spec settles at once, without waiting for the window."""
    thread = trio.thread
    creator, second, third = trio.members
    _set_threshold(chain, trio, TWO_THIRDS, outsiders[1])
    spec_id = threads.submit(thread, outsiders[0], text="early")
    _, certain = _vote(thread, spec_id, [(creator, True), (second, True)])
    assert thread.getSpec(spec_id).deadline == certain.timestamp
    threads.tick()
    with reverts(thread.VotingClosed, specId=spec_id, deadline=certain.timestamp):
        thread.vote(spec_id, False, sender=third)
    event = _settle(thread, token, spec_id, outsiders[0])
    assert (event.outcome, event.approvals, event.denials) == (APPROVED, 2, 0)
    assert thread.approvalCertainAt(spec_id) == certain.timestamp


def test_window_end_decides_on_the_votes_cast(chain, threads, token, project, hub, coauthors, outsiders):
    """Four eligible, two approvals and one denial, the fourth never votes: 2 of 4 eligible is under two thirds,
    so not certain early; at the window's end 2 of 3 votes cast pass, and the approval counts from the deadline."""
    dao = _governed(project, hub, threads, coauthors[:4])
    thread = dao.thread
    _set_threshold(chain, dao, TWO_THIRDS, outsiders[1])
    spec_id = threads.submit(thread, outsiders[0], text="quiet fourth")
    _vote(thread, spec_id, [(dao.members[0], True), (dao.members[1], False), (dao.members[2], True)])
    deadline = thread.getSpec(spec_id).deadline
    assert thread.approvalCertainAt(spec_id) == 0
    with reverts(thread.SettleTooEarly, specId=spec_id, deadline=deadline):
        thread.settle(spec_id, sender=outsiders[0])
    chain.mine(timestamp=deadline + 1)
    assert thread.approvalCertainAt(spec_id) == deadline
    event = _settle(thread, token, spec_id, outsiders[0])
    assert (event.outcome, event.payoutPerDenier, event.treasuryGain) == (APPROVED, 0, thread.getSpec(spec_id).stake)
    assert thread.approvalCertainAt(spec_id) == deadline


def test_a_pending_spec_settles_under_the_threshold_in_force_at_settlement(
    chain, threads, token, project, hub, coauthors, outsiders
):
    """The threshold is read at settlement: a spec voted 2 for, 1 against under unanimity, still pending when the
    governor's change to two thirds executes (the window, 7 days, outlasts the proposal's 4 days), is approved."""
    dao = _governed(project, hub, threads, coauthors[:4])
    thread = dao.thread
    spec_id = threads.submit(thread, outsiders[0], text="pending across the change")
    _vote(thread, spec_id, [(dao.members[0], True), (dao.members[1], False), (dao.members[2], True)])
    assert thread.approvalCertainAt(spec_id) == 0
    deadline = thread.getSpec(spec_id).deadline
    assert deadline == thread.getSpec(spec_id).snapshot + 1 + HUB_DEFAULTS["approvalWindow"]
    _set_threshold(chain, dao, TWO_THIRDS, outsiders[1])
    assert chain.pending_timestamp <= deadline - DAY
    assert thread.getSpec(spec_id).status == PENDING
    chain.mine(timestamp=deadline + 1)
    event = _settle(thread, token, spec_id, outsiders[0])
    assert (event.outcome, event.approvals, event.denials, event.payoutPerDenier) == (APPROVED, 2, 1, 0)


def test_a_claim_pays_what_the_settlement_locked_after_the_threshold_changes(chain, threads, token, trio, outsiders):
    """A split settled under unanimity keeps its deniers' shares when the threshold later drops to two thirds (under
    which 2 of 3 would have been an approval): a claim never re-reads the threshold."""
    thread = trio.thread
    creator, second, third = trio.members
    spec_id = threads.submit(thread, outsiders[0], text="split first")
    _vote(thread, spec_id, [(creator, True), (second, True), (third, False)])
    event = _settle(thread, token, spec_id, outsiders[0])
    assert event.outcome == SPLIT and event.payoutPerDenier > 0
    _set_threshold(chain, trio, TWO_THIRDS, outsiders[1])
    assert thread.curatorRewardOf(spec_id, third) == event.payoutPerDenier
    before = token.balanceOf(third)
    thread.claimCuratorRewards([spec_id], sender=third)
    assert token.balanceOf(third) == before + event.payoutPerDenier
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()
    assert thread.lockedBalance() == 0 and thread.treasury() > 0


def test_the_threshold_does_not_disturb_the_other_counters(chain, threads, trio, outsiders):
    """The threshold shares its storage slot with the thread's counters: setting it leaves them as they were, and
    posting, submitting and settling afterwards leave the threshold alone."""
    thread = trio.thread
    before = (thread.messageCount(), thread.pendingSpecs(), thread.coauthorCount(), thread.approvalWindow())
    total = thread.totalShares()
    _set_threshold(chain, trio, 5_001, outsiders[1])
    assert (thread.messageCount(), thread.pendingSpecs(), thread.coauthorCount(), thread.approvalWindow()) == before
    assert thread.totalShares() == total
    spec_id = threads.submit(thread, outsiders[0], text="after")
    _vote(thread, spec_id, [(m, True) for m in trio.members[:2]])  # 2 of 3 eligible: certain at 5,001
    threads.tick()
    thread.settle(spec_id, sender=outsiders[0])
    assert thread.approvalThreshold() == 5_001
    assert thread.messageCount() == before[0] + 1 and thread.coauthorCount() == 4
    assert thread.totalShares() > total
