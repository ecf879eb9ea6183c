"""RewardsDistributor: the emission curve, flat and novelty rewards, citation split and the curve cap.

Mirrors contracts/rewards/RewardsDistributor.sol and its use by ThreadDAO (`settle` -> `_onApproval`,
`creditReward`) and ChoirHub (`setRewardsDistributor`), protocol sections 1 and 7. Python references:
`choir_chain.pricing.emission.emission` and `choir_chain.pricing.novelty.novelty_reward`.
"""

from __future__ import annotations

from decimal import Decimal, getcontext

import pytest
from support import CHOIR, DAY, HUMAN, content, reverts
from web3.utils.address import get_create_address

from choir_chain.pricing.emission import REWARD_POOL as PY_REWARD_POOL
from choir_chain.pricing.emission import emission
from choir_chain.pricing.novelty import novelty_reward

WAD = 10**18
YEAR = 365 * DAY
REWARD_POOL = 2_500_000_000 * CHOIR
MAX_REWARD = 100 * CHOIR
CITATION_SHARE_BPS = 1_000
ZERO_ADDRESS = "0x" + "00" * 20
APPROVED, DENIED, SPLIT, EXPIRED = 2, 3, 4, 5
REL = 1e-9


@pytest.fixture(autouse=True)
def rewards_on(distributor):
    """Every test of this module runs with the module's distributor minting (no reward set yet)."""
    return distributor


@pytest.fixture
def trio(threads, thread, coauthors):
    """A thread whose co-authors are coauthors[0] (creator), coauthors[1] and coauthors[2] (no reward set yet)."""
    threads.join(thread, coauthors[1], [coauthors[0]])
    threads.join(thread, coauthors[2], [coauthors[0], coauthors[1]])
    return thread


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def skip_on_eth_tester(chain, why: str = "two transactions in one second") -> None:
    if chain.provider.name == "test":
        pytest.skip(f"eth-tester mines every block at least one second after its parent: no {why}")


def skip_without_impersonation(chain) -> None:
    if chain.provider.name == "test":
        pytest.skip("eth-tester cannot send a transaction from a contract's address (no impersonation)")


def logs_of(receipt, event, address=None):
    """Logs of `event` in `receipt`, only those emitted by `address` if given (decode_logs ignores emitters)."""
    logs = receipt.decode_logs(event)
    if address is None:
        return list(logs)
    return [log for log in logs if log.contract_address == str(address)]


def set_reward(distributor, pricer, reward: int) -> int:
    """Set the flat reward of the current epoch; returns the epoch."""
    epoch = distributor.currentEpoch()
    distributor.setRewardPerMessage(epoch, reward, sender=pricer)
    return epoch


def pending_spec(threads, thread, author, approvers, text: str = "spec", citations=()):
    """Submit a spec and let `approvers` approve it (not settled)."""
    spec_id = threads.submit(thread, author, text=text, citations=citations)
    for voter in approvers:
        thread.vote(spec_id, True, sender=voter)
    return spec_id


def approve(threads, thread, author, approvers, text: str = "spec", citations=()):
    """Submit, approve by every approver and settle; returns (specId, settle receipt)."""
    spec_id = pending_spec(threads, thread, author, approvers, text, citations)
    receipt = thread.settle(spec_id, sender=author)
    assert thread.getSpec(spec_id).status == APPROVED
    return spec_id, receipt


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
    """A fresh distributor, minting, with the pricer's roles, set on the hub."""
    fresh = admin.deploy(project.RewardsDistributor, token, hub, admin, launch_time)
    token.grantRole(token.MINTER_ROLE(), fresh, sender=admin)
    fresh.grantRole(fresh.PRICER_ROLE(), pricer, sender=admin)
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
    assert distributor.hasRole(distributor.PRICER_ROLE(), pricer)
    assert distributor.hasRole(distributor.ORACLE_ROLE(), pricer)
    assert not distributor.hasRole(distributor.PRICER_ROLE(), admin)
    assert distributor.REWARD_POOL() == REWARD_POOL == int(PY_REWARD_POOL) * CHOIR
    assert distributor.EMISSION_K() == 2 and distributor.EMISSION_YEARS() == 4
    assert distributor.YEAR() == YEAR and distributor.EPOCH() == DAY
    assert distributor.CITATION_SHARE_BPS() == CITATION_SHARE_BPS
    assert distributor.MAX_REWARD_PER_MESSAGE() == MAX_REWARD
    assert distributor.NOVELTY_THRESHOLD() == wad("0.95")
    assert distributor.BASE_NOVELTY_REWARD() == wad("0.01")
    assert distributor.minted() == 0 and distributor.lastNoveltyRound() == 0
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
def test_novelty_reward_matches_python(distributor, similarity):
    reward = distributor.noveltyReward(wad(similarity))
    expected = novelty_reward(float(similarity)) * CHOIR
    assert rel_close(reward, expected), (similarity, reward, expected)
    assert 0 < reward <= MAX_REWARD
    if float(similarity) < 0.75:
        assert reward == MAX_REWARD  # the cap


def test_novelty_reward_landmarks(distributor):
    assert distributor.noveltyReward(wad("0.95")) == wad("0.01")  # exp(0) exactly at the threshold
    assert distributor.noveltyReward(wad("0.95") + 1) == 0  # one wei above: nothing
    assert novelty_reward(0.9500001) == 0.0
    for above in ("0.951", "0.99", "1"):
        assert distributor.noveltyReward(wad(above)) == novelty_reward(float(above)) == 0
    assert rel_close(distributor.noveltyReward(wad("0.9")), 0.1 * CHOIR)  # tenfold per 0.05
    assert rel_close(distributor.noveltyReward(wad("0.85")), 1 * CHOIR)
    assert rel_close(distributor.noveltyReward(wad("0.8")), 10 * CHOIR)
    assert distributor.noveltyReward(wad("0.7")) == MAX_REWARD
    assert distributor.noveltyReward(-(10**30)) == MAX_REWARD  # far below -1: still the cap
    assert distributor.noveltyReward(2**255 - 1) == 0
    rewards = [distributor.noveltyReward(wad(s)) for s in NOVELTY_POINTS]
    assert rewards == sorted(rewards, reverse=True)  # non-increasing in similarity


# ----------------------------------------------------------------------------------------------------------
# Flat reward per epoch
# ----------------------------------------------------------------------------------------------------------


def test_set_reward_per_message_records_the_epoch(distributor, pricer, thread):
    epoch = distributor.currentEpoch()
    assert distributor.rewardPerMessage(epoch) == 0 and not distributor.rewardEpoch(epoch)
    assert distributor.rewardOf(thread.messageId(1)) == 0
    receipt = distributor.setRewardPerMessage(epoch, 7 * CHOIR, sender=pricer)
    event = logs_of(receipt, distributor.RewardPerMessageSet)[0]
    assert (event.epoch, event.reward) == (epoch, 7 * CHOIR)
    assert distributor.rewardPerMessage(epoch) == 7 * CHOIR and distributor.rewardEpoch(epoch)
    assert distributor.rewardOf(thread.messageId(1)) == 7 * CHOIR  # every unscored message
    assert distributor.rewardOf(12345) == 7 * CHOIR
    assert not distributor.rewardEpoch(epoch + 1) and distributor.rewardPerMessage(epoch + 1) == 0


@pytest.mark.parametrize("caller_index", [0, 2, 6])  # admin, a co-author, an outsider
def test_only_the_pricer_sets_the_reward(distributor, accounts, caller_index):
    epoch = distributor.currentEpoch()
    with reverts(distributor.AccessControlUnauthorizedAccount, account=accounts[caller_index].address):
        distributor.setRewardPerMessage(epoch, CHOIR, sender=accounts[caller_index])
    assert not distributor.rewardEpoch(epoch) and distributor.rewardPerMessage(epoch) == 0


def test_reward_only_for_the_current_epoch(distributor, pricer, chain):
    chain.mine(deltatime=DAY)
    epoch = distributor.currentEpoch()
    assert epoch >= 1
    for wrong in (epoch - 1, epoch + 1):  # yesterday (a transaction mined late), tomorrow
        with reverts(distributor.NotCurrentEpoch, epoch=wrong, current=epoch):
            distributor.setRewardPerMessage(wrong, CHOIR, sender=pricer)
        assert not distributor.rewardEpoch(wrong)
    assert not distributor.rewardEpoch(epoch)
    distributor.setRewardPerMessage(epoch, CHOIR, sender=pricer)
    assert distributor.rewardPerMessage(epoch) == CHOIR


def test_epoch_set_once_even_to_zero(distributor, pricer):
    epoch = set_reward(distributor, pricer, 3 * CHOIR)
    for again in (5 * CHOIR, 0):
        with reverts(distributor.EpochAlreadySet, epoch=epoch):
            distributor.setRewardPerMessage(epoch, again, sender=pricer)
    assert distributor.rewardPerMessage(epoch) == 3 * CHOIR


def test_zero_reward_also_closes_the_epoch(distributor, pricer):
    epoch = set_reward(distributor, pricer, 0)
    assert distributor.rewardEpoch(epoch) and distributor.rewardPerMessage(epoch) == 0
    with reverts(distributor.EpochAlreadySet):
        distributor.setRewardPerMessage(epoch, CHOIR, sender=pricer)


def test_reward_too_large(distributor, pricer):
    epoch = distributor.currentEpoch()
    with reverts(distributor.RewardTooLarge, reward=MAX_REWARD + 1, max=MAX_REWARD):
        distributor.setRewardPerMessage(epoch, MAX_REWARD + 1, sender=pricer)
    with reverts(distributor.RewardTooLarge):
        distributor.setRewardPerMessage(epoch, 2**256 - 1, sender=pricer)
    assert not distributor.rewardEpoch(epoch)
    distributor.setRewardPerMessage(epoch, MAX_REWARD, sender=pricer)  # the cap itself is allowed
    assert distributor.rewardPerMessage(epoch) == MAX_REWARD


def test_next_epoch_takes_a_new_reward(distributor, pricer, chain):
    first = set_reward(distributor, pricer, 4 * CHOIR)
    chain.mine(deltatime=DAY)
    second = distributor.currentEpoch()
    assert second == first + 1
    assert distributor.rewardOf(99) == 0  # the new epoch starts unset
    distributor.setRewardPerMessage(second, 9 * CHOIR, sender=pricer)
    assert distributor.rewardOf(99) == 9 * CHOIR
    assert distributor.rewardPerMessage(first) == 4 * CHOIR and distributor.rewardPerMessage(second) == 9 * CHOIR
    assert distributor.rewardEpoch(first) and distributor.rewardEpoch(second)


def test_epoch_boundaries(distributor, pricer, chain):
    launch = distributor.launchTime()
    epoch = distributor.currentEpoch()
    boundary = distributor.epochStart(epoch + 2)
    assert boundary == launch + (epoch + 2) * DAY
    chain.mine(timestamp=boundary - 1)
    assert distributor.currentEpoch() == epoch + 1  # the last second of epoch + 1
    chain.mine(timestamp=boundary)
    assert distributor.currentEpoch() == epoch + 2
    distributor.setRewardPerMessage(epoch + 2, CHOIR, sender=pricer)
    assert distributor.rewardEpoch(epoch + 2) and not distributor.rewardEpoch(epoch + 1)


# ----------------------------------------------------------------------------------------------------------
# Novelty scores
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_index", [0, 2, 6])  # admin, a co-author, an outsider
def test_only_the_oracle_sets_scores(distributor, accounts, caller_index):
    with reverts(distributor.AccessControlUnauthorizedAccount, account=accounts[caller_index].address):
        distributor.setNoveltyScores(1, [5], [0], sender=accounts[caller_index])
    assert not distributor.isScored(5) and distributor.lastNoveltyRound() == 0


def test_scores_are_recorded_with_event(distributor, pricer):
    ids, sims = [11, 12, 13], [wad("0.85"), wad("0.99"), -WAD]
    receipt = distributor.setNoveltyScores(1, ids, sims, sender=pricer)
    event = logs_of(receipt, distributor.NoveltyScoresSet)[0]
    assert event.round == 1 and list(event.messageIds) == ids and list(event.maxSimilarities) == sims
    assert distributor.lastNoveltyRound() == 1
    assert [distributor.isScored(i) for i in (11, 12, 13, 14)] == [True, True, True, False]
    assert rel_close(distributor.rewardOf(11), 1 * CHOIR)
    assert distributor.rewardOf(12) == 0  # scored, too similar: no reward (not the flat rate)
    assert distributor.rewardOf(13) == MAX_REWARD


def test_stale_rounds_and_replays_revert(distributor, pricer):
    with reverts(distributor.StaleRound, round=0, lastRound=0):
        distributor.setNoveltyScores(0, [1], [0], sender=pricer)  # round 0 is never above the last
    distributor.setNoveltyScores(1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.StaleRound, round=1, lastRound=1):
        distributor.setNoveltyScores(1, [2], [0], sender=pricer)  # replay
    distributor.setNoveltyScores(5, [3], [0], sender=pricer)  # gaps allowed
    for stale in (4, 5):
        with reverts(distributor.StaleRound, round=stale, lastRound=5):
            distributor.setNoveltyScores(stale, [2], [0], sender=pricer)
    assert distributor.lastNoveltyRound() == 5
    assert not distributor.isScored(2)
    distributor.setNoveltyScores(2**64 - 1, [], [], sender=pricer)  # an empty batch still advances the round
    assert distributor.lastNoveltyRound() == 2**64 - 1


def test_rejected_batches_change_nothing(distributor, pricer):
    distributor.setNoveltyScores(1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.LengthMismatch, messageIds=2, scores=1):
        distributor.setNoveltyScores(2, [2, 3], [0], sender=pricer)
    with reverts(distributor.LengthMismatch, messageIds=0, scores=1):
        distributor.setNoveltyScores(2, [], [0], sender=pricer)
    for bad in (WAD + 1, -WAD - 1):
        # a valid first entry, then the bad one: the whole batch reverts
        with reverts(distributor.SimilarityOutOfRange, messageId=3, maxSimilarity=bad):
            distributor.setNoveltyScores(2, [2, 3], [wad("0.5"), bad], sender=pricer)
    assert distributor.lastNoveltyRound() == 1
    assert not distributor.isScored(2) and not distributor.isScored(3)
    distributor.setNoveltyScores(2, [2, 3], [WAD, -WAD], sender=pricer)  # the bounds themselves are valid
    assert distributor.rewardOf(2) == 0 and distributor.rewardOf(3) == MAX_REWARD


def test_a_later_round_rescores(distributor, pricer):
    distributor.setNoveltyScores(1, [7], [wad("0.85")], sender=pricer)
    distributor.setNoveltyScores(2, [7], [wad("0.9")], sender=pricer)
    assert rel_close(distributor.rewardOf(7), 0.1 * CHOIR)


def test_scored_spec_earns_its_novelty_reward_instead_of_the_flat_one(
    distributor, pricer, threads, thread, creator, outsiders, token
):
    set_reward(distributor, pricer, 5 * CHOIR)
    first = pending_spec(threads, thread, outsiders[0], [creator], "novel")
    second = pending_spec(threads, thread, outsiders[1], [creator], "copy")
    third = pending_spec(threads, thread, outsiders[2], [creator], "unscored")
    novel, copy, unscored = (thread.messageId(i) for i in (first, second, third))
    distributor.setNoveltyScores(1, [novel, copy], [wad("0.8"), wad("0.97")], sender=pricer)
    expected = distributor.noveltyReward(wad("0.8"))
    assert not distributor.isScored(unscored) and distributor.rewardOf(unscored) == 5 * CHOIR
    assert rel_close(expected, 10 * CHOIR) and distributor.rewardOf(novel) == expected
    supply, treasury = token.totalSupply(), thread.treasury()

    receipt = thread.settle(first, sender=outsiders[0])
    stake = thread.getSpec(first).stake
    assert thread.treasury() == treasury + stake + expected
    assert distributor.minted() == expected and token.totalSupply() == supply + expected
    event = logs_of(receipt, distributor.ApprovalRewarded)[0]
    assert (event.messageId, event.requested, event.total, event.toThread) == (novel, expected, expected, expected)

    receipt = thread.settle(second, sender=outsiders[1])  # scored above 0.95: nothing, not the flat 5 CHOIR
    assert distributor.isScored(copy) and distributor.rewardOf(copy) == 0
    assert thread.treasury() == treasury + 2 * stake + expected
    assert distributor.minted() == expected and token.totalSupply() == supply + expected
    assert not logs_of(receipt, thread.RewardCredited)

    thread.settle(third, sender=outsiders[2])  # not scored: the flat rate
    assert distributor.minted() == expected + 5 * CHOIR
    assert thread.treasury() == treasury + 3 * stake + expected + 5 * CHOIR
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()


# ----------------------------------------------------------------------------------------------------------
# Approval rewards
# ----------------------------------------------------------------------------------------------------------


def test_approved_spec_mints_the_flat_reward(distributor, pricer, threads, thread, creator, outsiders, token):
    reward = 7 * CHOIR + 13
    set_reward(distributor, pricer, reward)
    supply, treasury = token.totalSupply(), thread.treasury()
    spec_id, receipt = approve(threads, thread, outsiders[0], [creator])
    stake = thread.getSpec(spec_id).stake
    message_id = thread.messageId(spec_id)
    assert thread.treasury() == treasury + stake + reward
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()
    assert distributor.minted() == reward
    assert token.totalSupply() == supply + reward
    credited = logs_of(receipt, thread.RewardCredited, thread)
    assert len(credited) == 1 and (credited[0].messageId, credited[0].amount) == (message_id, reward)
    rewarded = logs_of(receipt, distributor.ApprovalRewarded)
    assert len(rewarded) == 1
    assert (rewarded[0].messageId, rewarded[0].requested, rewarded[0].total, rewarded[0].toThread) == (
        message_id,
        reward,
        reward,
        reward,
    )
    assert not logs_of(receipt, distributor.CitationRewarded)
    assert distributor.minted() <= distributor.emissionCap(receipt.timestamp)


def test_every_approval_of_the_epoch_earns_the_same_reward(distributor, pricer, threads, thread, creator, outsiders):
    set_reward(distributor, pricer, 2 * CHOIR)
    specs = [pending_spec(threads, thread, author, [creator], f"spec {i}") for i, author in enumerate(outsiders[:3])]
    treasury = thread.treasury()
    for spec_id in specs:
        thread.settle(spec_id, sender=creator)
    stakes = sum(thread.getSpec(s).stake for s in specs)
    assert distributor.minted() == 6 * CHOIR
    assert thread.treasury() == treasury + stakes + 6 * CHOIR


def test_reward_is_that_of_the_settlement_epoch(distributor, pricer, threads, thread, creator, outsiders, chain):
    set_reward(distributor, pricer, 2 * CHOIR)
    spec_id = pending_spec(threads, thread, outsiders[0], [creator])
    chain.mine(deltatime=DAY)
    set_reward(distributor, pricer, 3 * CHOIR)
    receipt = thread.settle(spec_id, sender=outsiders[0])
    assert logs_of(receipt, thread.RewardCredited, thread)[0].amount == 3 * CHOIR
    assert distributor.minted() == 3 * CHOIR


@pytest.mark.parametrize("explicit_zero", [False, True])
def test_no_reward_set_mints_nothing(distributor, pricer, threads, thread, creator, outsiders, token, explicit_zero):
    if explicit_zero:
        set_reward(distributor, pricer, 0)
    supply, treasury = token.totalSupply(), thread.treasury()
    spec_id, receipt = approve(threads, thread, outsiders[0], [creator])
    assert thread.treasury() == treasury + thread.getSpec(spec_id).stake
    assert token.totalSupply() == supply and distributor.minted() == 0
    assert not logs_of(receipt, thread.RewardCredited)
    assert not logs_of(receipt, distributor.ApprovalRewarded)  # nothing requested: nothing to report


def test_rewards_off_mints_nothing(distributor, pricer, admin, hub, threads, thread, creator, outsiders, token):
    set_reward(distributor, pricer, 5 * CHOIR)
    receipt = hub.setRewardsDistributor(ZERO_ADDRESS, sender=admin)
    assert logs_of(receipt, hub.RewardsDistributorSet)[0].distributor == ZERO_ADDRESS
    supply, treasury = token.totalSupply(), thread.treasury()
    spec_id, receipt = approve(threads, thread, outsiders[0], [creator])
    assert thread.treasury() == treasury + thread.getSpec(spec_id).stake
    assert token.totalSupply() == supply and distributor.minted() == 0
    assert not logs_of(receipt, distributor.ApprovalRewarded)


def test_only_admin_sets_the_distributor(hub, outsiders, pricer, distributor):
    for caller in (outsiders[0], pricer):
        with reverts(hub.AccessControlUnauthorizedAccount):
            hub.setRewardsDistributor(ZERO_ADDRESS, sender=caller)
    assert hub.rewardsDistributor() == distributor.address


def test_denied_split_and_expired_specs_mint_nothing(
    distributor, pricer, threads, trio, coauthors, outsiders, token, chain
):
    set_reward(distributor, pricer, 5 * CHOIR)
    supply = token.totalSupply()
    denied = threads.submit(trio, outsiders[0], text="denied")
    split = threads.submit(trio, outsiders[1], text="split")
    expired = threads.submit(trio, outsiders[2], text="expired")
    for voter in coauthors[:3]:
        trio.vote(denied, False, sender=voter)
    trio.vote(split, True, sender=coauthors[0])
    trio.vote(split, False, sender=coauthors[1])
    trio.vote(split, False, sender=coauthors[2])
    receipts = [trio.settle(denied, sender=outsiders[0]), trio.settle(split, sender=outsiders[1])]
    chain.mine(deltatime=7 * DAY + 1)
    set_reward(distributor, pricer, 5 * CHOIR)  # a reward in the expiry's epoch too
    receipts.append(trio.settle(expired, sender=outsiders[2]))
    statuses = [trio.getSpec(s).status for s in (denied, split, expired)]
    assert statuses == [DENIED, SPLIT, EXPIRED]
    for receipt in receipts:
        assert not logs_of(receipt, distributor.ApprovalRewarded)
        assert not logs_of(receipt, trio.RewardCredited)
    assert distributor.minted() == 0 and token.totalSupply() == supply
    assert token.balanceOf(trio) == trio.treasury() + trio.lockedBalance()


# ----------------------------------------------------------------------------------------------------------
# Citation share
# ----------------------------------------------------------------------------------------------------------


def test_citation_share_goes_to_each_distinct_cited_thread(
    distributor, pricer, threads, thread, creator, coauthors, outsiders, token, hub
):
    other_b = threads.create(coauthors[1], "thread b")
    other_c = threads.create(coauthors[2], "thread c")
    other_b.post(content("b one"), [], HUMAN, sender=coauthors[1])
    reward = 33 * CHOIR + 7  # leaves a remainder in both divisions
    set_reward(distributor, pricer, reward)
    citations = [thread.messageId(0), other_b.messageId(0), other_b.messageId(1), other_c.messageId(0)]
    before = {t.address: t.treasury() for t in (thread, other_b, other_c)}
    supply = token.totalSupply()
    spec_id, receipt = approve(threads, thread, outsiders[0], [creator], citations=citations)
    stake = thread.getSpec(spec_id).stake
    message_id = thread.messageId(spec_id)

    per_cited = reward * CITATION_SHARE_BPS // 10_000 // 2
    to_thread = reward - 2 * per_cited
    assert per_cited == 1_650_000_000_000_000_000  # floor(33.0000...07 * 0.1 / 2)
    assert other_b.treasury() == before[other_b.address] + per_cited  # two citations, one share
    assert other_c.treasury() == before[other_c.address] + per_cited
    assert thread.treasury() == before[thread.address] + stake + to_thread  # the own citation earns nothing extra
    assert distributor.minted() == reward and token.totalSupply() == supply + reward
    for t in (thread, other_b, other_c):
        assert token.balanceOf(t) == t.treasury() + t.lockedBalance()

    rewarded = logs_of(receipt, distributor.ApprovalRewarded)[0]
    assert (rewarded.messageId, rewarded.requested, rewarded.total, rewarded.toThread) == (
        message_id,
        reward,
        reward,
        to_thread,
    )
    cited_events = logs_of(receipt, distributor.CitationRewarded)
    assert [(e.threadId, e.messageId, e.amount) for e in cited_events] == [
        (other_b.threadId(), message_id, per_cited),
        (other_c.threadId(), message_id, per_cited),
    ]
    for cited in (other_b, other_c):
        credited = logs_of(receipt, cited.RewardCredited, cited)
        assert [(e.messageId, e.amount) for e in credited] == [(message_id, per_cited)]
    own = logs_of(receipt, thread.RewardCredited, thread)
    assert [(e.messageId, e.amount) for e in own] == [(message_id, to_thread)]
    assert hub.citationsReceived(other_b.threadId()) == 2 and hub.citationsReceived(other_c.threadId()) == 1


def test_self_citations_only_keep_the_whole_reward(distributor, pricer, threads, thread, creator, outsiders):
    thread.post(content("own post"), [], HUMAN, sender=creator)
    set_reward(distributor, pricer, 10 * CHOIR)
    treasury = thread.treasury()
    spec_id, receipt = approve(
        threads, thread, outsiders[0], [creator], citations=[thread.messageId(0), thread.messageId(1)]
    )
    assert thread.treasury() == treasury + thread.getSpec(spec_id).stake + 10 * CHOIR
    assert not logs_of(receipt, distributor.CitationRewarded)
    assert logs_of(receipt, distributor.ApprovalRewarded)[0].toThread == 10 * CHOIR


def test_eight_cited_threads_share_ten_percent(distributor, pricer, threads, thread, creator, outsiders, coauthors):
    cited = [threads.create(coauthors[i % 4], f"cited {i}") for i in range(8)]
    reward = MAX_REWARD - 1
    set_reward(distributor, pricer, reward)
    before = [t.treasury() for t in cited]
    treasury = thread.treasury()
    spec_id, receipt = approve(threads, thread, outsiders[0], [creator], citations=[t.messageId(0) for t in cited])
    per_cited = reward * CITATION_SHARE_BPS // 10_000 // 8
    assert [t.treasury() - b for t, b in zip(cited, before, strict=True)] == [per_cited] * 8
    assert thread.treasury() == treasury + thread.getSpec(spec_id).stake + reward - 8 * per_cited
    assert distributor.minted() == reward
    assert len(logs_of(receipt, distributor.CitationRewarded)) == 8


def test_tiny_reward_leaves_no_citation_share(distributor, pricer, threads, thread, creator, outsiders, coauthors):
    other = threads.create(coauthors[1], "other")
    other2 = threads.create(coauthors[2], "other 2")
    one = pending_spec(threads, thread, outsiders[0], [creator], "one", [other.messageId(0)])
    two = pending_spec(threads, thread, outsiders[1], [creator], "two", [other.messageId(0), other2.messageId(0)])
    set_reward(distributor, pricer, 19)
    before_other, before_other2, treasury = other.treasury(), other2.treasury(), thread.treasury()
    thread.settle(one, sender=creator)
    assert other.treasury() == before_other + 1  # 19 * 1000 // 10000 // 1 == 1 for a single cited thread
    assert thread.treasury() == treasury + thread.getSpec(one).stake + 18
    receipt = thread.settle(two, sender=creator)
    assert (other.treasury(), other2.treasury()) == (before_other + 1, before_other2)  # 19 // 10 // 2 == 0
    assert not logs_of(receipt, distributor.CitationRewarded)
    assert logs_of(receipt, distributor.ApprovalRewarded)[0].toThread == 19
    assert distributor.minted() == 38


# ----------------------------------------------------------------------------------------------------------
# The emission curve caps what is minted
# ----------------------------------------------------------------------------------------------------------


def launch_at_next_second(project, chain, admin, pricer, token, hub):
    """A fresh distributor launched now, wired up (minter, pricer and oracle roles, set on the hub) with every
    set-up transaction in its launch second, so F(launch) == 0 is all there is (anvil only)."""
    launch = chain.pending_timestamp + 10
    chain.pending_timestamp = launch
    fresh = admin.deploy(project.RewardsDistributor, token, hub, admin, 0)
    assert fresh.launchTime() == launch
    for step in (
        lambda: token.grantRole(token.MINTER_ROLE(), fresh, sender=admin),
        lambda: fresh.grantRole(fresh.PRICER_ROLE(), pricer, sender=admin),
        lambda: fresh.grantRole(fresh.ORACLE_ROLE(), pricer, sender=admin),
        lambda: hub.setRewardsDistributor(fresh, sender=admin),
    ):
        chain.pending_timestamp = launch
        assert step().timestamp == launch
    return fresh, launch


def test_a_reward_beyond_the_curve_mints_only_what_is_left(
    project, chain, admin, pricer, token, hub, threads, thread, creator, outsiders
):
    """F(1 s) is about 72 CHOIR: a 100 CHOIR reward one second after launch mints only F(1 s), a second one in
    the same second (a novelty reward here: the cap holds for it too) mints nothing, and one second later the
    curve has room for F(2 s) - F(1 s) again."""
    skip_on_eth_tester(chain)
    specs = [pending_spec(threads, thread, outsiders[i], [creator], f"capped {i}") for i in range(4)]
    ids = [thread.messageId(s) for s in specs]
    stake = thread.getSpec(specs[0]).stake
    fresh, launch = launch_at_next_second(project, chain, admin, pricer, token, hub)
    for step in (
        lambda: fresh.setRewardPerMessage(0, MAX_REWARD, sender=pricer),
        lambda: fresh.setNoveltyScores(1, ids[1:3], [-WAD, wad("0.8")], sender=pricer),
    ):
        chain.pending_timestamp = launch
        step()
    assert fresh.availableToMint() == 0  # F(0) == 0: nothing at launch
    ten = fresh.noveltyReward(wad("0.8"))
    cap_1, cap_2 = fresh.emissionCap(launch + 1), fresh.emissionCap(launch + 2)
    assert 72 * CHOIR < cap_1 < MAX_REWARD and 72 * CHOIR < cap_2 - cap_1 < MAX_REWARD
    assert [fresh.rewardOf(i) for i in ids] == [MAX_REWARD, MAX_REWARD, ten, MAX_REWARD]

    treasury, supply = thread.treasury(), token.totalSupply()
    chain.pending_timestamp = launch + 1
    receipt = thread.settle(specs[0], sender=creator)
    assert receipt.timestamp == launch + 1
    event = logs_of(receipt, fresh.ApprovalRewarded)[0]
    assert (event.requested, event.total, event.toThread) == (MAX_REWARD, cap_1, cap_1)  # only what is left
    assert [(e.messageId, e.amount) for e in logs_of(receipt, thread.RewardCredited, thread)] == [(ids[0], cap_1)]
    assert fresh.minted() == cap_1 and thread.treasury() == treasury + stake + cap_1
    assert token.totalSupply() == supply + cap_1 and fresh.availableToMint() == 0

    chain.pending_timestamp = launch + 1
    receipt = thread.settle(specs[1], sender=creator)  # same second: the curve has no room left
    assert receipt.timestamp == launch + 1
    event = logs_of(receipt, fresh.ApprovalRewarded)[0]
    assert (event.requested, event.total, event.toThread) == (MAX_REWARD, 0, 0)
    assert not logs_of(receipt, thread.RewardCredited)
    assert fresh.minted() == cap_1 and thread.treasury() == treasury + 2 * stake + cap_1
    assert token.totalSupply() == supply + cap_1
    assert thread.getSpec(specs[1]).status == APPROVED  # the approval itself is not held up

    chain.pending_timestamp = launch + 2
    receipt = thread.settle(specs[2], sender=creator)  # one second later: room for the whole 10 CHOIR
    event = logs_of(receipt, fresh.ApprovalRewarded)[0]
    assert (event.requested, event.total) == (ten, ten)
    chain.pending_timestamp = launch + 2
    receipt = thread.settle(specs[3], sender=creator)  # and what is left of the second for the next one
    event = logs_of(receipt, fresh.ApprovalRewarded)[0]
    assert (event.requested, event.total) == (MAX_REWARD, cap_2 - cap_1 - ten)
    assert fresh.minted() == cap_2 == fresh.emissionCap(receipt.timestamp)
    assert thread.treasury() == treasury + 4 * stake + cap_2
    assert token.totalSupply() == supply + cap_2
    assert token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()


def test_a_capped_reward_still_splits_with_cited_threads(
    project, chain, admin, pricer, token, hub, threads, thread, creator, coauthors, outsiders
):
    skip_on_eth_tester(chain)
    other = threads.create(coauthors[1], "cited")
    spec_id = pending_spec(threads, thread, outsiders[0], [creator], "cites", [other.messageId(0)])
    fresh, launch = launch_at_next_second(project, chain, admin, pricer, token, hub)
    chain.pending_timestamp = launch
    fresh.setRewardPerMessage(0, MAX_REWARD, sender=pricer)
    before_other, treasury = other.treasury(), thread.treasury()
    chain.pending_timestamp = launch + 1
    receipt = thread.settle(spec_id, sender=creator)
    total = fresh.emissionCap(launch + 1)
    per_cited = total * CITATION_SHARE_BPS // 10_000
    event = logs_of(receipt, fresh.ApprovalRewarded)[0]
    assert (event.requested, event.total, event.toThread) == (MAX_REWARD, total, total - per_cited)
    assert other.treasury() == before_other + per_cited
    assert thread.treasury() == treasury + thread.getSpec(spec_id).stake + total - per_cited
    assert fresh.minted() == total


def test_minting_never_outruns_the_curve(
    project, chain, admin, pricer, token, hub, threads, thread, creator, outsiders
):
    """Approvals asking 100 CHOIR each right after launch: each mints min(requested, F(now) - minted), and
    minted() never exceeds F(now). Runs on both networks: the curve grows ~72 CHOIR a second, so even at one
    block a second (eth-tester) it binds within a few approvals."""
    specs = [pending_spec(threads, thread, outsiders[i % 4], [creator], f"rush {i}") for i in range(10)]
    # Wire the distributor up before it exists (its address follows from the deployer's nonce), and let the
    # pricer administer it: two transactions after the launch block, not five.
    future = get_create_address(admin.address, admin.nonce + 2)
    token.grantRole(token.MINTER_ROLE(), future, sender=admin)
    hub.setRewardsDistributor(future, sender=admin)
    fresh = admin.deploy(project.RewardsDistributor, token, hub, pricer, 0)
    assert fresh.address == future
    fresh.grantRole(fresh.PRICER_ROLE(), pricer, sender=pricer)
    fresh.setRewardPerMessage(fresh.currentEpoch(), MAX_REWARD, sender=pricer)
    supply, cut, settled = token.totalSupply(), 0, 0
    for spec_id in specs:
        before = fresh.minted()
        receipt = thread.settle(spec_id, sender=creator)
        settled += 1
        cap = fresh.emissionCap(receipt.timestamp)
        event = logs_of(receipt, fresh.ApprovalRewarded)[0]
        assert event.requested == MAX_REWARD
        assert event.total == min(MAX_REWARD, cap - before)
        assert fresh.minted() == before + event.total <= cap
        assert fresh.minted() <= fresh.emissionCap(chain.blocks.head.timestamp)
        cut += event.total < event.requested
        if cut >= 2:
            break
    assert cut >= 2, "the curve never bound"
    assert token.totalSupply() == supply + fresh.minted()
    assert fresh.minted() < settled * MAX_REWARD


def test_the_old_distributor_stops_when_replaced(
    project, distributor, chain, admin, pricer, token, hub, threads, thread, creator, outsiders
):
    set_reward(distributor, pricer, 5 * CHOIR)
    fresh = deploy_distributor(project, admin, pricer, token, hub, distributor.launchTime())
    set_reward(fresh, pricer, 2 * CHOIR)
    approve(threads, thread, outsiders[0], [creator])
    assert distributor.minted() == 0 and fresh.minted() == 2 * CHOIR


# ----------------------------------------------------------------------------------------------------------
# Callers
# ----------------------------------------------------------------------------------------------------------


def test_reward_approval_by_an_account_reverts(distributor, pricer, thread, outsiders, admin, token):
    set_reward(distributor, pricer, 5 * CHOIR)
    supply = token.totalSupply()
    cases = [(outsiders[0], thread.messageId(1)), (admin, thread.messageId(0)), (pricer, 5)]  # 5: thread 0
    for caller, message_id in cases:
        with reverts(distributor.NotMessageThread, caller=caller.address, messageId=message_id):
            distributor.rewardApproval(message_id, [], sender=caller)
    assert distributor.minted() == 0 and token.totalSupply() == supply


def test_reward_approval_by_a_thread_for_another_threads_message_reverts(
    distributor, pricer, threads, thread, coauthors, accounts, chain, token
):
    skip_without_impersonation(chain)
    other = threads.create(coauthors[1], "other")
    set_reward(distributor, pricer, 5 * CHOIR)
    chain.set_balance(thread.address, 10**18)
    as_thread = accounts[thread.address]
    with reverts(distributor.NotMessageThread, caller=thread.address, messageId=other.messageId(0)):
        distributor.rewardApproval(other.messageId(0), [], sender=as_thread)
    assert distributor.minted() == 0 and token.balanceOf(thread) == 0
    # The check is by address: the same call for its own message is accepted (the tokens land in its balance).
    distributor.rewardApproval(thread.messageId(0), [], sender=as_thread)
    assert distributor.minted() == 5 * CHOIR and token.balanceOf(thread) == 5 * CHOIR
    assert thread.treasury() == 0  # a direct call bypasses the thread's books: only settle credits the treasury


def test_credit_reward_only_from_the_distributor(distributor, thread, outsiders, creator):
    for caller in (outsiders[0], creator):  # anyone, even a co-author
        with reverts(thread.OnlyRewardsDistributor, caller=caller.address):
            thread.creditReward(thread.messageId(0), CHOIR, sender=caller)
    assert thread.treasury() == 0


def test_credit_reward_by_the_distributor_address(distributor, thread, chain, accounts):
    """creditReward accepts the hub's distributor (impersonated here: it only credits what it minted)."""
    skip_without_impersonation(chain)
    chain.set_balance(distributor.address, 10**18)
    as_distributor = accounts[distributor.address]
    receipt = thread.creditReward(thread.messageId(0), 3, sender=as_distributor)
    assert thread.treasury() == 3
    assert [(e.messageId, e.amount) for e in logs_of(receipt, thread.RewardCredited, thread)] == [
        (thread.messageId(0), 3)
    ]
