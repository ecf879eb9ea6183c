"""What a thread's governance can do (protocol sections 3 and 8): the governor is the only account that can move
the thread's treasury (never escrowed stakes, never another thread's), change its approval window or hand the
governorship on (`setGovernor`); a queued proposal runs within the grace period and then expires; an execution
whose calls revert is final.
"""

from __future__ import annotations

import ape
import pytest
from helpers.contracts import CHOIR, DAY
from helpers.governor import EXECUTED, EXPIRED, QUEUED, ZERO_ADDRESS, execute_fails, new_dao, pass_proposals, propose

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # dozens of expected reverts: see conftest.py


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
