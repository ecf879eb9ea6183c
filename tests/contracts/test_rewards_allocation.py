"""RewardsDistributor's epoch allocations (protocol section 7, revision 2): when a spec's approval became certain
(`ThreadDAO.approvalCertainAt`), the epoch budget, allocation of approved scored messages within it (and every
check that refuses one), and the citation share paid to the distinct cited threads.
"""

from __future__ import annotations

import pytest
from helpers.contracts import CHOIR, DAY, HUMAN, content, reverts
from helpers.rewards import (
    CITATION_SHARE_BPS,
    MAX_WEIGHT,
    approve_all,
    close_epoch,
    epoch_at,
    logs_of,
    rel_close,
    score,
    wad,
)

from choir_chain.pricing.emission import emission

pytestmark = pytest.mark.usefixtures("distributor")  # every test runs with the module's distributor minting


APPROVED, DENIED, SPLIT, EXPIRED = 2, 3, 4, 5


@pytest.fixture
def trio(threads, thread, coauthors):
    """A thread whose co-authors are coauthors[0] (creator), coauthors[1] and coauthors[2]."""
    threads.join(thread, coauthors[1], [coauthors[0]])
    threads.join(thread, coauthors[2], [coauthors[0], coauthors[1]])
    return thread


def deploy_distributor(project, admin, pricer, token, hub, launch_time: int = 0):
    """A fresh distributor, minting, with the pricer as its oracle, set on the hub."""
    fresh = admin.deploy(project.RewardsDistributor, token, hub, admin, launch_time)
    token.grantRole(token.MINTER_ROLE(), fresh, sender=admin)
    fresh.grantRole(fresh.ORACLE_ROLE(), pricer, sender=admin)
    hub.setRewardsDistributor(fresh, sender=admin)
    return fresh


# ----------------------------------------------------------------------------------------------------------
# When an approval became certain (ThreadDAO.approvalCertainAt)
# ----------------------------------------------------------------------------------------------------------


def test_unanimous_approval_is_certain_at_the_last_vote(threads, trio, coauthors, outsiders, chain):
    spec_id = threads.submit(trio, outsiders[0])
    deadline = trio.getSpec(spec_id).deadline
    trio.vote(spec_id, True, sender=coauthors[0])
    chain.mine(deltatime=100)
    trio.vote(spec_id, True, sender=coauthors[1])
    assert trio.approvalCertainAt(spec_id) == 0  # one eligible co-author has not voted, window open
    chain.mine(deltatime=100)
    last = trio.vote(spec_id, True, sender=coauthors[2]).timestamp
    assert trio.approvalCertainAt(spec_id) == last == trio.getSpec(spec_id).deadline < deadline
    chain.mine(deltatime=3 * DAY)
    receipt = trio.settle(spec_id, sender=outsiders[1])  # settled days later: the time does not move
    assert receipt.timestamp > last and trio.approvalCertainAt(spec_id) == last


def test_approval_at_window_end_is_certain_at_the_deadline(threads, trio, coauthors, outsiders, chain):
    spec_id = threads.submit(trio, outsiders[0])
    deadline = trio.getSpec(spec_id).deadline
    trio.vote(spec_id, True, sender=coauthors[0])  # one of three: certain only when the window ends
    assert trio.approvalCertainAt(spec_id) == 0
    chain.pending_timestamp = deadline + 1
    chain.mine()
    assert trio.approvalCertainAt(spec_id) == deadline  # certain, still pending
    trio.settle(spec_id, sender=outsiders[0])
    assert trio.getSpec(spec_id).status == APPROVED and trio.approvalCertainAt(spec_id) == deadline


def test_no_certain_approval_for_other_outcomes(threads, trio, coauthors, outsiders, chain):
    denied = threads.submit(trio, outsiders[0], text="denied")
    split = threads.submit(trio, outsiders[1], text="split")
    expired = threads.submit(trio, outsiders[2], text="expired")
    for voter in coauthors[:3]:
        trio.vote(denied, False, sender=voter)
    trio.vote(split, True, sender=coauthors[0])
    trio.vote(split, False, sender=coauthors[1])
    chain.mine(deltatime=8 * DAY)
    for spec_id in (denied, split, expired, 999):
        assert trio.approvalCertainAt(spec_id) == 0
    for spec_id, author in ((denied, outsiders[0]), (split, outsiders[1]), (expired, outsiders[2])):
        trio.settle(spec_id, sender=author)
        assert trio.approvalCertainAt(spec_id) == 0
    assert trio.approvalCertainAt(0) == 0  # the root message is no spec


# ----------------------------------------------------------------------------------------------------------
# Allocation
# ----------------------------------------------------------------------------------------------------------


def approved_in_epoch(threads, thread, author, approvers, text="spec", citations=()):
    """A spec approved by every approver (not settled); returns (message id, epoch of its approval)."""
    spec_id = threads.submit(thread, author, text=text, citations=citations)
    last = approve_all(thread, spec_id, approvers)
    return thread.messageId(spec_id), spec_id, last


def test_epoch_budget_is_the_curve_over_the_epoch(distributor):
    launch = distributor.launchTime()
    for epoch in (0, 1, 364, 1459):
        start = launch + epoch * DAY
        assert distributor.epochBudget(epoch) == distributor.emissionCap(start + DAY) - distributor.emissionCap(start)
    assert rel_close(distributor.epochBudget(0), emission(1 / 365) * CHOIR)
    assert distributor.epochBudget(1460) == 0 and distributor.epochBudget(2**255) == 0  # past T
    # A month of budgets telescopes to the curve's growth over it, to the wei, and matches the Python curve. That
    # the budgets of all 1,461 epochs add up to the pool is the Foundry suite's (Emission.t.sol,
    # test_everyEpochsBudgetAddsUpToThePool): 1,461 calls take milliseconds there and a minute here.
    first, count = 800, 30
    month = sum(distributor.epochBudget(e) for e in range(first, first + count))
    start = launch + first * DAY
    assert month == distributor.emissionCap(start + count * DAY) - distributor.emissionCap(start)
    assert rel_close(month, (emission((first + count) / 365) - emission(first / 365)) * CHOIR)


def test_allocation_pays_approved_scored_messages(
    distributor, pricer, threads, thread, creator, outsiders, token, chain
):
    first, spec_a, t_a = approved_in_epoch(threads, thread, outsiders[0], [creator], "first")
    second, _, _ = approved_in_epoch(threads, thread, outsiders[1], [creator], "second")
    thread.settle(spec_a, sender=creator)  # one settled, one still pending: both were approved in the epoch
    round_ = score(distributor, pricer, [first, second], [wad("0.8"), wad("0.85")])
    epoch = epoch_at(distributor, t_a)
    close_epoch(chain, distributor, epoch)
    supply, treasury = token.totalSupply(), thread.treasury()
    amounts = [7 * CHOIR + 3, 2 * CHOIR]
    receipt = distributor.allocate(epoch, [first, second], amounts, sender=pricer)
    assert token.totalSupply() == supply + sum(amounts) and distributor.minted() == sum(amounts)
    assert thread.treasury() == treasury + sum(amounts)
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()
    assert distributor.allocated(epoch) == sum(amounts)
    assert distributor.isPaid(first) and distributor.isPaid(second)
    rewarded = [
        (e.messageId, e.epoch, e.amount, e.toThread, e.scoreRound)
        for e in logs_of(receipt, distributor.MessageRewarded)
    ]
    assert rewarded == [(first, epoch, amounts[0], amounts[0], round_), (second, epoch, amounts[1], amounts[1], round_)]
    batch = logs_of(receipt, distributor.EpochAllocated)[0]
    assert (batch.epoch, batch.messages, batch.amount, batch.allocated) == (epoch, 2, sum(amounts), sum(amounts))
    assert batch.budget == distributor.epochBudget(epoch)
    credited = [(e.messageId, e.amount) for e in logs_of(receipt, thread.RewardCredited, thread)]
    assert credited == [(first, amounts[0]), (second, amounts[1])]


def test_allocation_in_batches_within_the_budget(distributor, pricer, threads, thread, creator, outsiders, chain):
    first, _, t = approved_in_epoch(threads, thread, outsiders[0], [creator], "first")
    second, _, _ = approved_in_epoch(threads, thread, outsiders[1], [creator], "second")
    score(distributor, pricer, [first, second], [0, 0])
    epoch = epoch_at(distributor, t)
    close_epoch(chain, distributor, epoch)
    budget = distributor.epochBudget(epoch)
    distributor.allocate(epoch, [first], [budget - 5], sender=pricer)
    with reverts(distributor.BudgetExceeded, epoch=epoch, allocated=budget + 1, budget=budget):
        distributor.allocate(epoch, [second], [6], sender=pricer)
    distributor.allocate(epoch, [second], [5], sender=pricer)
    assert distributor.allocated(epoch) == budget
    assert distributor.minted() == budget


def test_allocation_checks_revert_with_custom_errors(
    distributor, pricer, threads, thread, creator, outsiders, chain, token, accounts
):
    good, _, t = approved_in_epoch(threads, thread, outsiders[0], [creator], "good")
    unscored, _, _ = approved_in_epoch(threads, thread, outsiders[1], [creator], "unscored")
    copy, _, _ = approved_in_epoch(threads, thread, outsiders[2], [creator], "copy")
    pending = thread.messageId(threads.submit(thread, outsiders[3], text="pending"))
    score(distributor, pricer, [good, copy, pending, thread.messageId(0)], [0, wad("0.99"), 0, 0])
    epoch = epoch_at(distributor, t)
    with reverts(distributor.EpochNotClosed, epoch=epoch, endsAt=distributor.epochStart(epoch + 1)):
        distributor.allocate(epoch, [good], [CHOIR], sender=pricer)
    close_epoch(chain, distributor, epoch)
    later, _, t_later = approved_in_epoch(threads, thread, accounts[3], [creator], "later")  # another author
    score(distributor, pricer, [later], [0])
    supply = token.totalSupply()
    budget = distributor.epochBudget(epoch)
    with reverts(distributor.AccessControlUnauthorizedAccount, account=creator.address):
        distributor.allocate(epoch, [good], [CHOIR], sender=creator)
    with reverts(distributor.LengthMismatch, messageIds=1, values=2):
        distributor.allocate(epoch, [good], [CHOIR, CHOIR], sender=pricer)
    with reverts(distributor.NotApprovedInEpoch, messageId=later, epoch=epoch, approvedAt=t_later):  # wrong epoch
        distributor.allocate(epoch, [good, later], [CHOIR, CHOIR], sender=pricer)
    with reverts(distributor.NotApprovedInEpoch, messageId=pending, epoch=epoch, approvedAt=0):  # not approved
        distributor.allocate(epoch, [pending], [CHOIR], sender=pricer)
    with reverts(distributor.NotApprovedInEpoch, messageId=thread.messageId(0), epoch=epoch, approvedAt=0):  # a post
        distributor.allocate(epoch, [thread.messageId(0)], [CHOIR], sender=pricer)
    for unknown in (5, (99 << 64) | 1, 2**200):  # thread 0, an unknown thread, garbage
        with reverts(distributor.NotApprovedInEpoch, messageId=unknown, approvedAt=0):
            distributor.allocate(epoch, [unknown], [CHOIR], sender=pricer)
    with reverts(distributor.NoNoveltyWeight, messageId=unscored):  # no score, no weight: no flat rate
        distributor.allocate(epoch, [unscored], [CHOIR], sender=pricer)
    with reverts(distributor.NoNoveltyWeight, messageId=copy):  # scored above 0.95
        distributor.allocate(epoch, [copy], [CHOIR], sender=pricer)
    with reverts(distributor.ZeroAmount, messageId=good):
        distributor.allocate(epoch, [good], [0], sender=pricer)
    with reverts(distributor.AlreadyPaid, messageId=good):  # twice in one batch
        distributor.allocate(epoch, [good, good], [CHOIR, CHOIR], sender=pricer)
    with reverts(distributor.BudgetExceeded, epoch=epoch, allocated=budget + 1, budget=budget):
        distributor.allocate(epoch, [good], [budget + 1], sender=pricer)
    assert token.totalSupply() == supply and not distributor.isPaid(good) and distributor.allocated(epoch) == 0
    distributor.allocate(epoch, [good], [CHOIR], sender=pricer)
    with reverts(distributor.AlreadyPaid, messageId=good):  # paid twice
        distributor.allocate(epoch, [good], [CHOIR], sender=pricer)
    assert token.totalSupply() == supply + CHOIR


def test_an_empty_allocation_changes_nothing(distributor, pricer, chain, token):
    close_epoch(chain, distributor, 0)
    supply = token.totalSupply()
    distributor.allocate(0, [], [], sender=pricer)
    assert token.totalSupply() == supply and distributor.allocated(0) == 0


def test_a_replaced_distributor_cannot_allocate(
    project, distributor, admin, pricer, token, hub, threads, thread, creator, outsiders, chain
):
    message_id, _, t = approved_in_epoch(threads, thread, outsiders[0], [creator])
    score(distributor, pricer, [message_id], [0])
    deploy_distributor(project, admin, pricer, token, hub, distributor.launchTime())
    epoch = epoch_at(distributor, t)
    close_epoch(chain, distributor, epoch)
    with reverts(distributor.NotHubDistributor, current=hub.rewardsDistributor()):
        distributor.allocate(epoch, [message_id], [CHOIR], sender=pricer)


# ----------------------------------------------------------------------------------------------------------
# Citation share
# ----------------------------------------------------------------------------------------------------------


def test_citation_share_goes_to_each_distinct_cited_thread(
    distributor, pricer, threads, thread, creator, coauthors, outsiders, token, hub, chain
):
    other_b = threads.create(coauthors[1], "thread b")
    other_c = threads.create(coauthors[2], "thread c")
    other_b.post(content("b one"), [], HUMAN, sender=coauthors[1])
    citations = [thread.messageId(0), other_b.messageId(0), other_b.messageId(1), other_c.messageId(0)]
    message_id, spec_id, t = approved_in_epoch(threads, thread, outsiders[0], [creator], citations=citations)
    thread.settle(spec_id, sender=creator)
    score(distributor, pricer, [message_id], [wad("0.8")])
    close_epoch(chain, distributor, epoch_at(distributor, t))
    before = {x.address: x.treasury() for x in (thread, other_b, other_c)}
    reward = 33 * CHOIR + 7  # leaves a remainder in both divisions
    receipt = distributor.allocate(epoch_at(distributor, t), [message_id], [reward], sender=pricer)
    per_cited = reward * CITATION_SHARE_BPS // 10_000 // 2
    to_thread = reward - 2 * per_cited
    assert per_cited == 1_650_000_000_000_000_000
    assert other_b.treasury() == before[other_b.address] + per_cited  # two citations, one share
    assert other_c.treasury() == before[other_c.address] + per_cited
    assert thread.treasury() == before[thread.address] + to_thread  # the own citation earns nothing extra
    assert distributor.minted() == reward
    for x in (thread, other_b, other_c):
        assert token.balanceOf(x) == x.treasury() + x.lockedBalance()
    assert logs_of(receipt, distributor.MessageRewarded)[0].toThread == to_thread
    cited_events = logs_of(receipt, distributor.CitationRewarded)
    assert [(e.threadId, e.messageId, e.amount) for e in cited_events] == [
        (other_b.threadId(), message_id, per_cited),
        (other_c.threadId(), message_id, per_cited),
    ]


def test_eight_cited_threads_share_ten_percent(
    distributor, pricer, threads, thread, creator, outsiders, coauthors, chain
):
    cited = [threads.create(coauthors[i % 4], f"cited {i}") for i in range(8)]
    message_id, _, t = approved_in_epoch(
        threads, thread, outsiders[0], [creator], citations=[x.messageId(0) for x in cited]
    )
    score(distributor, pricer, [message_id], [0])
    close_epoch(chain, distributor, epoch_at(distributor, t))
    before, treasury = [x.treasury() for x in cited], thread.treasury()
    reward = MAX_WEIGHT - 1
    receipt = distributor.allocate(epoch_at(distributor, t), [message_id], [reward], sender=pricer)
    per_cited = reward * CITATION_SHARE_BPS // 10_000 // 8
    assert [x.treasury() - b for x, b in zip(cited, before, strict=True)] == [per_cited] * 8
    assert thread.treasury() == treasury + reward - 8 * per_cited
    assert len(logs_of(receipt, distributor.CitationRewarded)) == 8
