"""RewardsDistributor's wiring (protocol sections 1 and 7, revision 2): the fixture's roles and constants, the
constructor's checks and launch time, the hub's `setRewardsDistributor` (what it accepts) and the threads'
`creditReward` (only from the distributor).

Mirrors contracts/rewards/RewardsDistributor.sol and ChoirHub (`setRewardsDistributor`); the attacks of the r2
review have their own module, test_rewards_attacks.py.
"""

from __future__ import annotations

import pytest
from helpers.contracts import CHOIR, DAY, HUB_DEFAULTS, reverts
from helpers.rewards import CITATION_SHARE_BPS, MAX_WEIGHT, REWARD_POOL, YEAR, rel_close, wad

from choir_chain.pricing.emission import REWARD_POOL as PY_REWARD_POOL
from choir_chain.pricing.emission import emission

pytestmark = pytest.mark.usefixtures("distributor")  # every test runs with the module's distributor minting


ZERO_ADDRESS = "0x" + "00" * 20


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
