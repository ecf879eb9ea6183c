"""RewardsDistributor: the emission curve, novelty weights and scoring rounds, epoch allocations (their checks,
the citation split, the global cap) and the threads' side (`approvalCertainAt`, `creditReward`).

Mirrors contracts/rewards/RewardsDistributor.sol, ThreadDAO and ChoirHub (`setRewardsDistributor`), protocol
sections 1 and 7 (revision 2). The attacks of the r2 review have their own module: test_rewards_attacks.py.
Python references: `choir_chain.pricing.emission.emission` and `choir_chain.pricing.novelty.novelty_reward`.
"""

from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from helpers.contracts import CHOIR, DAY, HUB_DEFAULTS, HUMAN, content, reverts
from helpers.rewards import CALIBRATION, MODEL, approve_all, close_epoch, epoch_at, logs_of, score

from choir_chain.pricing.emission import REWARD_POOL as PY_REWARD_POOL
from choir_chain.pricing.emission import emission
from choir_chain.pricing.novelty import novelty_reward

WAD = 10**18
YEAR = 365 * DAY
REWARD_POOL = 2_500_000_000 * CHOIR
MAX_WEIGHT = 100 * CHOIR
CITATION_SHARE_BPS = 1_000
ZERO_ADDRESS = "0x" + "00" * 20
APPROVED, DENIED, SPLIT, EXPIRED = 2, 3, 4, 5
REL = 1e-9


@pytest.fixture(autouse=True)
def rewards_on(distributor):
    """Every test of this module runs with the module's distributor minting (nothing scored yet)."""
    return distributor


@pytest.fixture
def trio(threads, thread, coauthors):
    """A thread whose co-authors are coauthors[0] (creator), coauthors[1] and coauthors[2]."""
    threads.join(thread, coauthors[1], [coauthors[0]])
    threads.join(thread, coauthors[2], [coauthors[0], coauthors[1]])
    return thread


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def rel_close(actual: int, expected: float, rel: float = REL) -> bool:
    return abs(actual - expected) <= rel * abs(expected)


def exact_emission_wei(elapsed: int) -> Decimal:
    """F(t) in wei with 60-digit decimals (the float reference loses ~1e-9 in ln(1 + x) for t of a second)."""
    getcontext().prec = 60
    t = Decimal(elapsed) / Decimal(YEAR)
    return Decimal(REWARD_POOL) * (1 + 2 * t).ln() / Decimal(9).ln()


def wad(value: str) -> int:
    """A decimal string in WAD, exactly."""
    return int(Decimal(value) * WAD)


def deploy_distributor(project, admin, pricer, token, hub, launch_time: int = 0):
    """A fresh distributor, minting, with the pricer as its oracle, set on the hub."""
    fresh = admin.deploy(project.RewardsDistributor, token, hub, admin, launch_time)
    token.grantRole(token.MINTER_ROLE(), fresh, sender=admin)
    fresh.grantRole(fresh.ORACLE_ROLE(), pricer, sender=admin)
    hub.setRewardsDistributor(fresh, sender=admin)
    return fresh


# ----------------------------------------------------------------------------------------------------------
# Wiring and constructor
# ----------------------------------------------------------------------------------------------------------


def test_fixture_wiring_and_constants(distributor, token, hub, admin, pricer, chain):
    assert distributor.token() == token.address
    assert distributor.hub() == hub.address
    assert hub.rewardsDistributor() == distributor.address
    assert token.hasRole(token.MINTER_ROLE(), distributor)
    assert distributor.hasRole(distributor.DEFAULT_ADMIN_ROLE(), admin)
    assert distributor.hasRole(distributor.ORACLE_ROLE(), pricer)
    assert not distributor.hasRole(distributor.ORACLE_ROLE(), admin)
    assert not hasattr(distributor, "setRewardPerMessage") and not hasattr(distributor, "PRICER_ROLE")  # no flat rate
    assert distributor.REWARD_POOL() == REWARD_POOL == int(PY_REWARD_POOL) * CHOIR
    assert distributor.EMISSION_K() == 2 and distributor.EMISSION_YEARS() == 4
    assert distributor.YEAR() == YEAR and distributor.EPOCH() == DAY
    assert distributor.CITATION_SHARE_BPS() == CITATION_SHARE_BPS
    assert distributor.MAX_NOVELTY_WEIGHT() == MAX_WEIGHT
    assert distributor.NOVELTY_THRESHOLD() == wad("0.95")
    assert distributor.BASE_NOVELTY_WEIGHT() == wad("0.01")
    assert distributor.genesisSupply() == token.GENESIS_SUPPLY()
    assert distributor.minted() == token.totalSupply() - token.GENESIS_SUPPLY() == 0
    assert distributor.lastNoveltyRound() == 0
    launch = distributor.launchTime()
    assert 0 < launch <= chain.blocks.head.timestamp
    assert distributor.epochStart(0) == launch and distributor.epochStart(3) == launch + 3 * DAY
    assert distributor.currentEpoch() == (chain.blocks.head.timestamp - launch) // DAY


@pytest.mark.parametrize("position", ["token", "hub", "admin"])
def test_constructor_rejects_zero_addresses(project, admin, token, hub, position):
    args = {"token": token, "hub": hub, "admin": admin}
    args[position] = ZERO_ADDRESS
    with reverts(project.RewardsDistributor.ZeroAddress):
        admin.deploy(project.RewardsDistributor, args["token"], args["hub"], args["admin"], 0)


def test_constructor_rejects_a_launch_in_the_future(project, admin, token, hub, chain):
    launch = chain.pending_timestamp + 1_000
    with reverts(project.RewardsDistributor.LaunchTimeInFuture, launchTime=launch):
        admin.deploy(project.RewardsDistributor, token, hub, admin, launch)


def test_constructor_launch_time_zero_now_or_past(project, admin, token, hub, chain):
    now = chain.pending_timestamp + 5
    chain.pending_timestamp = now
    at_zero = admin.deploy(project.RewardsDistributor, token, hub, admin, 0)
    assert at_zero.launchTime() == now  # 0: the deployment block's timestamp
    chain.pending_timestamp = now + 1
    exactly_now = admin.deploy(project.RewardsDistributor, token, hub, admin, now + 1)
    assert exactly_now.launchTime() == now + 1  # "not in the future": now is allowed
    past = now - 2 * YEAR
    earlier = admin.deploy(project.RewardsDistributor, token, hub, admin, past)
    assert earlier.launchTime() == past
    # Two years in: epoch 730 and the curve at t = 2 years (ln 5 / ln 9 of the pool).
    assert earlier.currentEpoch() == (chain.blocks.head.timestamp - past) // DAY >= 730
    assert rel_close(earlier.emissionCap(past + 2 * YEAR), emission(2.0) * CHOIR)


# ----------------------------------------------------------------------------------------------------------
# Emission curve
# ----------------------------------------------------------------------------------------------------------

# 50 points over [0, 4.2] years, in seconds since launch: the edges, then an even spread.
SPECIAL_ELAPSED = [0, 60, 3600, DAY, 7 * DAY, YEAR // 2, YEAR, 2 * YEAR, 3 * YEAR, 4 * YEAR - 1, 4 * YEAR, 4 * YEAR + 1]
SPREAD_ELAPSED = [round(4.2 * YEAR * i / 38) for i in range(1, 39)]
CURVE_ELAPSED = sorted(set(SPECIAL_ELAPSED + SPREAD_ELAPSED))


def test_curve_points_are_fifty_distinct_in_range():
    assert len(CURVE_ELAPSED) == 50
    assert CURVE_ELAPSED[0] == 0 and CURVE_ELAPSED[-1] == round(4.2 * YEAR)


def test_emission_cap_matches_the_python_curve(distributor):
    launch = distributor.launchTime()
    caps = []
    for elapsed in CURVE_ELAPSED:
        cap = distributor.emissionCap(launch + elapsed)
        expected = emission(elapsed / YEAR) * CHOIR
        if elapsed == 0:
            assert cap == 0
        else:
            assert rel_close(cap, expected), (elapsed, cap, expected)
        if elapsed >= 4 * YEAR:
            assert cap == REWARD_POOL  # exactly the pool from T on
        else:
            assert cap < REWARD_POOL
        caps.append(cap)
    assert caps == sorted(caps)  # non-decreasing
    assert len(set(caps[:-3])) == len(caps) - 3  # strictly increasing until T


def test_emission_cap_landmarks(distributor):
    launch = distributor.launchTime()
    assert distributor.emissionCap(0) == 0
    assert distributor.emissionCap(launch - 1) == 0  # before launch
    assert distributor.emissionCap(launch) == 0
    half = distributor.emissionCap(launch + YEAR)
    assert abs(half - REWARD_POOL // 2) <= REWARD_POOL // 2 * 10**-15  # F(1) = R_total / 2
    assert half <= REWARD_POOL // 2  # the cap rounds down, never above the curve
    assert distributor.emissionCap(launch + 4 * YEAR) == REWARD_POOL
    assert distributor.emissionCap(launch + 4 * YEAR - 1) < REWARD_POOL
    assert distributor.emissionCap(launch + 100 * YEAR) == REWARD_POOL
    assert distributor.emissionCap(2**255) == REWARD_POOL  # no overflow for an absurd timestamp


@pytest.mark.parametrize("elapsed", [1, 2, 3, 10])
def test_emission_cap_in_the_first_seconds(distributor, elapsed):
    """Tiny t against a 60-digit reference: ~72.2 CHOIR per second right after launch."""
    cap = distributor.emissionCap(distributor.launchTime() + elapsed)
    exact = exact_emission_wei(elapsed)
    assert abs(Decimal(cap) - exact) <= Decimal(REL) * exact
    assert cap <= exact  # rounds down
    assert 72 * CHOIR * elapsed < cap < 73 * CHOIR * elapsed


# ----------------------------------------------------------------------------------------------------------
# Novelty curve
# ----------------------------------------------------------------------------------------------------------

NOVELTY_POINTS = [
    "-1", "-0.5", "0", "0.3", "0.5", "0.6", "0.7", "0.74", "0.749999", "0.75", "0.750001", "0.76", "0.775",
    "0.8", "0.81", "0.825", "0.85", "0.86", "0.875", "0.88", "0.9", "0.91", "0.925", "0.93", "0.94", "0.945",
    "0.949", "0.949999999", "0.95",
]  # fmt: skip


@pytest.mark.parametrize("similarity", NOVELTY_POINTS)
def test_novelty_weight_matches_python(distributor, similarity):
    weight = distributor.noveltyWeight(wad(similarity))
    expected = novelty_reward(float(similarity)) * CHOIR
    assert rel_close(weight, expected), (similarity, weight, expected)
    assert 0 < weight <= MAX_WEIGHT
    if float(similarity) < 0.75:
        assert weight == MAX_WEIGHT  # the cap


def test_novelty_weight_landmarks(distributor):
    assert distributor.noveltyWeight(wad("0.95")) == wad("0.01")  # exp(0) exactly at the threshold
    assert distributor.noveltyWeight(wad("0.95") + 1) == 0  # one wei above: nothing
    assert novelty_reward(0.9500001) == 0.0
    for above in ("0.951", "0.99", "1"):
        assert distributor.noveltyWeight(wad(above)) == novelty_reward(float(above)) == 0
    assert rel_close(distributor.noveltyWeight(wad("0.9")), 0.1 * CHOIR)  # tenfold per 0.05
    assert rel_close(distributor.noveltyWeight(wad("0.85")), 1 * CHOIR)
    assert rel_close(distributor.noveltyWeight(wad("0.8")), 10 * CHOIR)
    assert distributor.noveltyWeight(wad("0.7")) == MAX_WEIGHT
    assert distributor.noveltyWeight(-(10**30)) == MAX_WEIGHT  # far below -1: still the cap
    assert distributor.noveltyWeight(2**255 - 1) == 0
    rewards = [distributor.noveltyWeight(wad(s)) for s in NOVELTY_POINTS]
    assert rewards == sorted(rewards, reverse=True)  # non-increasing in similarity


# ----------------------------------------------------------------------------------------------------------
# Novelty scores: rounds, model id and calibration version
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_index", [0, 2, 6])  # admin, a co-author, an outsider
def test_only_the_oracle_sets_scores(distributor, accounts, caller_index):
    with reverts(distributor.AccessControlUnauthorizedAccount, account=accounts[caller_index].address):
        distributor.setNoveltyScores(1, MODEL, CALIBRATION, [5], [0], sender=accounts[caller_index])
    assert not distributor.isScored(5) and distributor.lastNoveltyRound() == 0


def test_scores_are_recorded_with_model_and_calibration(distributor, pricer):
    ids, sims = [11, 12, 13], [wad("0.85"), wad("0.99"), -WAD]
    receipt = distributor.setNoveltyScores(1, MODEL, 7, ids, sims, sender=pricer)
    event = logs_of(receipt, distributor.NoveltyScoresSet)[0]
    assert (event.round, event.modelId, event.calibrationVersion) == (1, MODEL, 7)
    assert list(event.messageIds) == ids and list(event.maxSimilarities) == sims
    assert distributor.lastNoveltyRound() == 1
    assert [distributor.isScored(i) for i in (11, 12, 13, 14)] == [True, True, True, False]
    weight, round_ = distributor.scoreOf(11)
    assert rel_close(weight, 1 * CHOIR) and round_ == 1
    assert distributor.scoreOf(12) == (0, 1)  # scored, too similar: no weight
    assert distributor.scoreOf(13) == (MAX_WEIGHT, 1)
    assert distributor.scoreOf(14) == (0, 0)


def test_model_id_is_required_and_bounded(distributor, pricer):
    for bad in ("", "m" * 65):
        with reverts(distributor.InvalidModelId):
            distributor.setNoveltyScores(1, bad, 1, [1], [0], sender=pricer)
    distributor.setNoveltyScores(1, "m" * 64, 0, [1], [0], sender=pricer)
    assert distributor.lastNoveltyRound() == 1


def test_stale_rounds_and_replays_revert(distributor, pricer):
    with reverts(distributor.StaleRound, round=0, lastRound=0):
        distributor.setNoveltyScores(0, MODEL, 1, [1], [0], sender=pricer)
    distributor.setNoveltyScores(1, MODEL, 1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.StaleRound, round=1, lastRound=1):
        distributor.setNoveltyScores(1, MODEL, 1, [2], [0], sender=pricer)  # replay
    distributor.setNoveltyScores(5, MODEL, 1, [3], [0], sender=pricer)  # gaps allowed
    for stale in (4, 5):
        with reverts(distributor.StaleRound, round=stale, lastRound=5):
            distributor.setNoveltyScores(stale, MODEL, 1, [2], [0], sender=pricer)
    assert distributor.lastNoveltyRound() == 5 and not distributor.isScored(2)


def test_rejected_batches_change_nothing(distributor, pricer):
    distributor.setNoveltyScores(1, MODEL, 1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.LengthMismatch, messageIds=2, values=1):
        distributor.setNoveltyScores(2, MODEL, 1, [2, 3], [0], sender=pricer)
    for bad in (WAD + 1, -WAD - 1):
        with reverts(distributor.SimilarityOutOfRange, messageId=3, maxSimilarity=bad):
            distributor.setNoveltyScores(2, MODEL, 1, [2, 3], [wad("0.5"), bad], sender=pricer)
    assert distributor.lastNoveltyRound() == 1
    assert not distributor.isScored(2) and not distributor.isScored(3)


def test_a_later_round_rescores(distributor, pricer):
    distributor.setNoveltyScores(1, MODEL, 1, [7], [wad("0.85")], sender=pricer)
    distributor.setNoveltyScores(2, MODEL, 2, [7], [wad("0.9")], sender=pricer)
    weight, round_ = distributor.scoreOf(7)
    assert rel_close(weight, 0.1 * CHOIR) and round_ == 2


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


# ----------------------------------------------------------------------------------------------------------
# The hub's distributor and the threads' credits
# ----------------------------------------------------------------------------------------------------------


def test_only_admin_sets_the_distributor(hub, outsiders, pricer, distributor):
    for caller in (outsiders[0], pricer):
        with reverts(hub.AccessControlUnauthorizedAccount):
            hub.setRewardsDistributor(ZERO_ADDRESS, sender=caller)
    assert hub.rewardsDistributor() == distributor.address


def test_set_distributor_checks_what_it_is_given(
    project, admin, pricer, token, hub, distributor, governor_implementation
):
    """Attack 4 of the r2 review, the setter's half: no account, no distributor of another hub or token, none
    without the minter role. Zero still turns rewards off."""
    with reverts(hub.InvalidRewardsDistributor, distributor=pricer.address, reason="not a contract"):
        hub.setRewardsDistributor(pricer, sender=admin)
    other_hub = admin.deploy(project.ChoirHub, token, (admin, *HUB_DEFAULTS.values()))
    foreign = admin.deploy(project.RewardsDistributor, token, other_hub, admin, 0)
    token.grantRole(token.MINTER_ROLE(), foreign, sender=admin)
    with reverts(hub.InvalidRewardsDistributor, distributor=foreign.address, reason="another hub"):
        hub.setRewardsDistributor(foreign, sender=admin)
    other_token = admin.deploy(project.ChoirToken, admin, admin)
    wrong_token = admin.deploy(project.RogueDistributor, hub, other_token)
    with reverts(hub.InvalidRewardsDistributor, distributor=wrong_token.address, reason="another token"):
        hub.setRewardsDistributor(wrong_token, sender=admin)
    not_minter = admin.deploy(project.RewardsDistributor, token, hub, admin, 0)
    with reverts(hub.InvalidRewardsDistributor, distributor=not_minter.address, reason="not a minter"):
        hub.setRewardsDistributor(not_minter, sender=admin)
    with reverts(hub.InvalidRewardsDistributor, reason="not a contract"):
        hub.setRewardsDistributor(governor_implementation.address[:-1] + "0", sender=admin)
    assert hub.rewardsDistributor() == distributor.address
    token.grantRole(token.MINTER_ROLE(), not_minter, sender=admin)
    hub.setRewardsDistributor(not_minter, sender=admin)
    assert hub.rewardsDistributor() == not_minter.address
    hub.setRewardsDistributor(ZERO_ADDRESS, sender=admin)
    assert hub.rewardsDistributor() == ZERO_ADDRESS


def test_credit_reward_only_from_the_distributor(distributor, thread, outsiders, creator):
    for caller in (outsiders[0], creator):
        with reverts(thread.OnlyRewardsDistributor, caller=caller.address):
            thread.creditReward(thread.messageId(0), CHOIR, sender=caller)
    assert thread.treasury() == 0
