"""Regression tests of the reward attacks of the r2 security review (issue 13: attacks 2, 4, 6, 9b, 10a, 10c).

Each test fails against the contracts of c9dd7b7 (flat reward minted by `settle`, a per-distributor cap, credits
trusting the caller's number) and passes now. Where the old contracts needed a reward set for the attack to show,
`arm_old_flat_reward` sets the old flat rate (100 CHOIR, its maximum); on the new contracts it does nothing: there
is no flat rate. The new-only steps (allocations) run only where the new distributor exists.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.contracts import CHOIR, DAY, reverts
from helpers.rewards import (
    arm_old_flat_reward,
    close_epoch,
    epoch_at,
    is_old_distributor,
    logs_of,
    score,
    score_and_close,
)

from choir_chain.pricer.allocation import pro_rata
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.semantics.calibration import calibrate
from choir_chain.semantics.relevance import RELEVANCE_FLOOR, max_relevant_weight
from choir_chain.simulation.adversary import Epochs, Market, self_dealing

WAD = 10**18


@pytest.fixture(autouse=True)
def rewards_on(distributor):
    return distributor


def new_only(distributor) -> bool:
    return not is_old_distributor(distributor)


def test_self_dealing_farming_mints_nothing_at_settle_and_is_bounded_by_the_epoch_budget(
    distributor, admin, pricer, threads, token, accounts, chain
):
    """Attack 2: key A creates a thread, key B stakes on gibberish, A approves and settles in the same second. The
    old contracts minted up to 100 CHOIR right there, for gas; now settlement mints nothing, and what the epoch
    pays the farmer is its weight share of B_e, never more than B_e. (eth-tester mines every block a second after
    its parent: there the approval and the settlement are one second apart, the attack is the same.)"""
    same_second = chain.provider.name != "test"
    key_a, key_b = accounts[7], accounts[8]
    arm_old_flat_reward(distributor, admin, pricer)
    farm = threads.create(key_a, "farm")
    supply = token.totalSupply()
    spec_id = threads.submit(farm, key_b, text="xq7 zzv blorp 93k")
    second = chain.pending_timestamp
    chain.pending_timestamp = second
    approved = farm.vote(spec_id, True, sender=key_a)
    if same_second:
        chain.pending_timestamp = second
    settled = farm.settle(spec_id, sender=key_a)
    assert approved.timestamp == second and settled.timestamp - second == (0 if same_second else 1)
    assert token.totalSupply() == supply, "settle minted a reward"
    assert farm.treasury() == farm.getSpec(spec_id).stake  # the stake, nothing else
    if is_old_distributor(distributor):
        return
    # The oracle scores the gibberish as maximally novel; the epoch's whole budget is the most it can get.
    message_id = farm.messageId(spec_id)
    score(distributor, pricer, [message_id], [-WAD])
    epoch = epoch_at(distributor, second)
    close_epoch(chain, distributor, epoch)
    budget = distributor.epochBudget(epoch)
    with reverts(distributor.BudgetExceeded, epoch=epoch, allocated=budget + 1, budget=budget):
        distributor.allocate(epoch, [message_id], [budget + 1], sender=pricer)
    distributor.allocate(epoch, [message_id], [budget], sender=pricer)
    assert token.totalSupply() == supply + budget
    with reverts(distributor.AlreadyPaid, messageId=message_id):
        distributor.allocate(epoch, [message_id], [1], sender=pricer)
    # A backlog cannot be taken in a burst: the next approvals belong to their own epochs' budgets.
    later = threads.submit(farm, accounts[9], text="more gibberish")
    farm.vote(later, True, sender=key_a)
    with reverts(distributor.NotApprovedInEpoch, messageId=farm.messageId(later), epoch=epoch):
        distributor.allocate(epoch, [farm.messageId(later)], [1], sender=pricer)


def test_a_failing_distributor_does_not_block_settlement(
    distributor, admin, pricer, threads, thread, creator, outsiders, token
):
    """Attack 4: the distributor lost its minter role (or is otherwise broken). The old `settle` called it and
    reverted for every approval; now `settle` makes no call to it."""
    arm_old_flat_reward(distributor, admin, pricer)
    token.revokeRole(token.MINTER_ROLE(), distributor, sender=admin)
    spec_id = threads.submit(thread, outsiders[0])
    thread.vote(spec_id, True, sender=creator)
    receipt = thread.settle(spec_id, sender=outsiders[0])
    assert thread.getSpec(spec_id).status == 2  # Approved
    assert thread.isCoauthor(outsiders[0])
    assert not logs_of(receipt, thread.RewardCredited)


def test_rewards_off_does_not_block_settlement(distributor, admin, hub, threads, thread, creator, outsiders, token):
    hub.setRewardsDistributor("0x" + "00" * 20, sender=admin)
    supply = token.totalSupply()
    threads.join(thread, outsiders[0], [creator])
    assert token.totalSupply() == supply and thread.isCoauthor(outsiders[0])


def test_who_settles_and_when_does_not_change_the_reward(
    distributor, admin, pricer, threads, thread, creator, outsiders, token, chain
):
    """Attack 6: two specs approved in the same epoch, one settled at once, the other settled two epochs later by
    someone else. The old contracts paid the settlement epoch's rate (here 100 CHOIR, then 0); now settlement pays
    nothing and both are paid from the epoch in which their approval became certain, whatever the settling."""
    arm_old_flat_reward(distributor, admin, pricer)
    early = threads.submit(thread, outsiders[0], text="settled at once")
    late = threads.submit(thread, outsiders[1], text="settled later")
    thread.vote(early, True, sender=creator)
    certain = thread.vote(late, True, sender=creator).timestamp
    supply = token.totalSupply()
    thread.settle(early, sender=outsiders[0])
    minted_early = token.totalSupply() - supply
    chain.mine(deltatime=2 * DAY + 1)
    supply = token.totalSupply()
    thread.settle(late, sender=outsiders[2])  # a third party, two epochs later
    minted_late = token.totalSupply() - supply
    assert minted_early == minted_late, f"settling earlier paid {minted_early}, later {minted_late}"
    if is_old_distributor(distributor):
        return
    assert minted_early == 0
    epoch = epoch_at(distributor, certain)
    assert epoch_at(distributor, thread.approvalCertainAt(late)) == epoch < distributor.currentEpoch() - 1
    ids = [thread.messageId(early), thread.messageId(late)]
    score(distributor, pricer, ids, [8 * WAD // 10, 8 * WAD // 10])
    treasury = thread.treasury()
    distributor.allocate(epoch, ids, [5 * CHOIR, 5 * CHOIR], sender=pricer)
    assert thread.treasury() == treasury + 10 * CHOIR


def test_a_rogue_distributor_cannot_inflate_a_treasury(project, distributor, admin, hub, token, thread, creator, chain):
    """Attack 9b: a compromised admin installs a distributor that credits numbers of its choosing. The old thread
    added whatever it was told to its treasury (escrowed stakes then paid the difference); now it credits only
    tokens that arrived."""
    rogue = admin.deploy(project.RogueDistributor, hub, token)
    token.grantRole(token.MINTER_ROLE(), rogue, sender=admin)
    hub.setRewardsDistributor(rogue, sender=admin)
    message_id = thread.messageId(0)
    for minted, claimed in ((0, 1_000 * CHOIR), (10 * CHOIR, 1_000 * CHOIR), (10 * CHOIR, 10 * CHOIR + 1)):
        treasury = thread.treasury()
        if new_only(distributor):
            with reverts(thread.RewardNotReceived, amount=claimed, arrived=minted):
                rogue.credit(thread, message_id, minted, claimed, sender=admin)
        else:
            rogue.credit(thread, message_id, minted, claimed, sender=admin)  # the old thread takes any number
        assert thread.treasury() == treasury, "the thread credited more than arrived"
    rogue.credit(thread, message_id, 10 * CHOIR, 10 * CHOIR, sender=admin)  # what arrived is credited
    assert thread.treasury() == 10 * CHOIR == token.balanceOf(thread) - thread.lockedBalance()


def test_citation_share_of_a_thread_without_coauthors_stays_with_the_citing_thread(
    distributor, admin, pricer, threads, thread, creator, coauthors, outsiders, chain
):
    """Attack 10a: a cited thread whose last co-author left can never move its treasury. The old distributor
    minted the citation share into it; now that share stays with the citing thread."""
    empty = threads.create(coauthors[1], "abandoned")
    live = threads.create(coauthors[2], "alive")
    chain.mine(deltatime=DAY + 1)
    empty.exit(sender=coauthors[1])
    assert empty.coauthorCount() == 0
    arm_old_flat_reward(distributor, admin, pricer)
    spec_id = threads.submit(thread, outsiders[0], citations=[empty.messageId(0), live.messageId(0)])
    certain = thread.vote(spec_id, True, sender=creator).timestamp
    thread.settle(spec_id, sender=creator)
    if new_only(distributor):
        message_id = thread.messageId(spec_id)
        epoch = score_and_close(chain, distributor, pricer, message_id, 0, certain)
        treasury = thread.treasury()
        receipt = distributor.allocate(epoch, [message_id], [10 * CHOIR], sender=pricer)
        assert [e.threadId for e in logs_of(receipt, distributor.CitationRewarded)] == [live.threadId()]
        assert live.treasury() == CHOIR  # the 10% is split among the cited threads that have co-authors
        assert thread.treasury() == treasury + 9 * CHOIR
    assert empty.treasury() == 0, "a citation share went to a thread nobody can ever take it from"


def test_the_emission_cap_is_global_across_minters(
    project, distributor, admin, pricer, hub, threads, thread, creator, outsiders, token, chain
):
    """Attack 10c: the old cap counted only what each distributor minted itself, so a second minter (or a
    replaced distributor) doubled the emission. Now every mint of the distributor keeps totalSupply - genesis
    within F(now), counting every minter's mints."""
    genesis = token.GENESIS_SUPPLY()
    arm_old_flat_reward(distributor, admin, pricer)
    spec_id = threads.submit(thread, outsiders[0])
    certain = thread.vote(spec_id, True, sender=creator).timestamp
    if new_only(distributor):
        score(distributor, pricer, [thread.messageId(spec_id)], [0])
        close_epoch(chain, distributor, epoch_at(distributor, certain))
    # Another minter (a second distributor, or one that was replaced) takes all the curve allows at second t.
    other = admin.deploy(project.RogueDistributor, hub, token)
    token.grantRole(token.MINTER_ROLE(), other, sender=admin)
    t = chain.pending_timestamp + 5
    chain.pending_timestamp = t
    other.mint(admin, distributor.emissionCap(t) - (token.totalSupply() - genesis), sender=admin)
    assert token.totalSupply() - genesis == distributor.emissionCap(t)
    chain.pending_timestamp = t + 1  # the curve grows about 72 CHOIR in a second
    if is_old_distributor(distributor):
        thread.settle(spec_id, sender=creator)  # the old distributor mints its 100 CHOIR on top
    else:
        epoch = epoch_at(distributor, certain)
        with reverts(distributor.EmissionCapExceeded):
            distributor.allocate(epoch, [thread.messageId(spec_id)], [100 * CHOIR], sender=pricer)
        assert distributor.availableToMint() < 100 * CHOIR
    assert chain.blocks.head.timestamp == t + 1
    assert token.totalSupply() - genesis <= distributor.emissionCap(t + 1), "minted beyond F(now) in all"


def test_citation_share_with_no_live_cited_thread_stays_home(
    distributor, pricer, threads, thread, creator, coauthors, outsiders, chain
):
    """Attack 10a, the whole share: every cited thread is empty, so the citing thread keeps all of the reward."""
    if is_old_distributor(distributor):
        pytest.skip("allocations are new in r2; the old behaviour is shown by the test above")
    empty = threads.create(coauthors[1], "abandoned")
    chain.mine(deltatime=DAY + 1)
    empty.exit(sender=coauthors[1])
    spec_id = threads.submit(thread, outsiders[0], citations=[empty.messageId(0)])
    certain = thread.vote(spec_id, True, sender=creator).timestamp
    message_id = thread.messageId(spec_id)
    epoch = score_and_close(chain, distributor, pricer, message_id, 0, certain)
    treasury = thread.treasury()
    receipt = distributor.allocate(epoch, [message_id], [10 * CHOIR], sender=pricer)
    assert not logs_of(receipt, distributor.CitationRewarded)
    assert logs_of(receipt, distributor.MessageRewarded)[0].toThread == 10 * CHOIR
    assert thread.treasury() == treasury + 10 * CHOIR and empty.treasury() == 0


def test_self_dealing_at_the_relevance_floor_takes_its_calibrated_weight_share_on_chain(
    distributor, pricer, threads, creator, outsiders, accounts, chain
):
    """The adversarial simulation's headline (docs/economics.md section 7, risks.md rewards 1), on the contracts:
    one farmed spec approved in the same epoch as four honest on-topic ones (raw 0.40 to 0.55) takes
    `w_f / (w_f + W_honest)` of the epoch's budget, to the wei, paid by the pricer's own pro-rata split, what
    `simulation.adversary` computes. Off-topic text (raw 0.05: the capped weight, 95.8% of this budget) is withheld by
    the relevance rule, so the farm's best reply is text at the relevance floor (raw 0.25, calibrated 0.794: weight
    13.0), which takes 75% here against these four honest weights."""
    if not new_only(distributor):
        return
    fresh = distributor.epochStart(epoch_at(distributor, chain.pending_timestamp) + 1) + 60
    chain.pending_timestamp = fresh  # every approval below lands in this one epoch
    honest_thread = threads.create(creator, "honest")
    honest_raw = [0.40, 0.45, 0.50, 0.55]
    honest = []
    for author in outsiders:
        spec_id = threads.submit(honest_thread, author, text=f"on-topic {author.address}")
        certain = honest_thread.vote(spec_id, True, sender=creator).timestamp
        honest.append(honest_thread.messageId(spec_id))
    farm = threads.create(accounts[5], "farm")
    farmed_spec = threads.submit(farm, accounts[4], text="the lighthouse keeper painted the railings")
    last = farm.vote(farmed_spec, True, sender=accounts[5]).timestamp
    farmed = farm.messageId(farmed_spec)
    epoch = epoch_at(distributor, fresh)
    assert epoch_at(distributor, certain) == epoch_at(distributor, last) == epoch
    score(distributor, pricer, [*honest, farmed], [calibrate(r) for r in honest_raw] + [calibrate(RELEVANCE_FLOOR)])
    close_epoch(chain, distributor, epoch)
    weights = {m: distributor.scoreOf(m)[0] for m in [*honest, farmed]}
    budget = distributor.epochBudget(epoch)
    amounts = pro_rata(budget, weights)
    distributor.allocate(epoch, list(amounts), list(amounts.values()), sender=pricer)
    assert all(distributor.isPaid(m) for m in amounts)
    share = amounts[farmed] / budget
    farm_weight = weights[farmed] / WAD
    assert farm_weight == pytest.approx(max_relevant_weight(), rel=1e-9)  # the rule's bound, not the cap of 100
    honest_weights = [novelty_reward(calibrate(r) / WAD) for r in honest_raw]
    assert share == pytest.approx(farm_weight / (farm_weight + sum(honest_weights)), rel=1e-9) and 0.6 < share < 0.8
    # the pure model's arithmetic for the same epoch
    model = self_dealing(Market(epochs=1), Epochs([budget], [np.array(honest_weights)]), keys=2, weight=farm_weight)
    assert model.shares[0] == pytest.approx(share, rel=1e-9)
