"""ThreadDAO: messages, specs, votes, settlement, equity, curator claims and exit (protocol sections 2, 3, 5, 9)."""

from __future__ import annotations

from math import isqrt

import ape
import pytest
from helpers.contracts import CHOIR, DAY, HUMAN, content

WAD = 10**18
PENDING, APPROVED, DENIED, SPLIT, EXPIRED, REFUNDED = 1, 2, 3, 4, 5, 6
NO_BALLOT, APPROVE, DENY, DENY_CLAIMED = 0, 1, 2, 3


def expected_new_shares(stake: int, price: int, coauthors_before: int, total: int, treasury_before: int) -> int:
    """protocol section 5 in the contract's integer WAD arithmetic, the NAV floor `s / (T + s)` included."""
    e = min(
        isqrt(stake * WAD * WAD // price) // (coauthors_before + 1),
        WAD // 2,
        stake * WAD // (treasury_before + stake),
    )
    return max(total * e // (WAD - e), 1)


@pytest.fixture
def trio(threads, thread, coauthors):
    """A thread whose co-authors are coauthors[0] (creator), coauthors[1] and coauthors[2]."""
    threads.join(thread, coauthors[1], [coauthors[0]])
    threads.join(thread, coauthors[2], [coauthors[0], coauthors[1]])
    return thread


def ledger_holds(token, thread) -> bool:
    return token.balanceOf(thread) == thread.treasury() + thread.lockedBalance()


# --- posting --------------------------------------------------------------------------------------------------


def test_coauthor_posts_free_and_others_cannot(thread, creator, outsiders, token):
    balance = token.balanceOf(creator)
    receipt = thread.post(content("hello"), [], HUMAN, sender=creator)
    event = receipt.decode_logs(thread.MessagePosted)[0]
    assert event.index == 1 and event.author == creator.address and event.contentHash == content("hello")
    assert thread.messageCount() == 2
    assert token.balanceOf(creator) == balance
    with ape.reverts(thread.NotCoauthor):
        thread.post(content("spam"), [], HUMAN, sender=outsiders[0])
    with ape.reverts(thread.EmptyContent):
        thread.post(b"\x00" * 32, [], HUMAN, sender=creator)


def test_citations_must_name_existing_messages(threads, thread, creator, coauthors, hub):
    other = threads.create(coauthors[1], "other thread")
    own_root, other_root = thread.messageId(0), other.messageId(0)
    receipt = thread.post(content("cites"), [own_root, other_root], HUMAN, sender=creator)
    assert list(receipt.decode_logs(thread.MessagePosted)[0].citations) == [own_root, other_root]
    with ape.reverts(thread.UnknownMessage):
        thread.post(content("x"), [thread.messageId(99)], HUMAN, sender=creator)  # no such index yet
    with ape.reverts(thread.UnknownMessage):
        thread.post(content("x"), [other.messageId(1)], HUMAN, sender=creator)
    with ape.reverts(thread.UnknownMessage):
        thread.post(content("x"), [(hub.threadCount() + 1) << 64], HUMAN, sender=creator)  # no such thread
    with ape.reverts(thread.UnknownMessage):
        thread.post(content("x"), [0], HUMAN, sender=creator)  # thread 0 does not exist
    with ape.reverts(thread.DuplicateCitation):
        thread.post(content("x"), [own_root, own_root], HUMAN, sender=creator)
    with ape.reverts(thread.TooManyCitations):
        thread.post(content("x"), [own_root] * 9, HUMAN, sender=creator)
    assert thread.messageCount() == 2  # only the first post landed


# --- submitting -----------------------------------------------------------------------------------------------


def test_submit_spec_escrows_the_stake(threads, thread, hub, token, outsiders):
    staker = outsiders[0]
    price = hub.price(thread.threadId())
    assert price == 30 * CHOIR  # fallback: no price pushed yet
    before = token.balanceOf(staker)
    token.approve(thread, price + 5, sender=staker)
    receipt = thread.submitSpec(content("spec"), [], price + 5, HUMAN, sender=staker)
    event = receipt.decode_logs(thread.SpecSubmitted)[0]
    assert (event.specId, event.author, event.stake, event.price) == (1, staker.address, price + 5, price)
    assert event.deadline == receipt.timestamp + 7 * DAY
    assert token.balanceOf(staker) == before - price - 5
    assert thread.lockedBalance() == price + 5 and thread.treasury() == 0
    assert ledger_holds(token, thread)
    spec = thread.getSpec(1)
    assert spec.status == PENDING and spec.eligible == 1 and spec.snapshot == receipt.timestamp - 1
    assert thread.pendingSpecs() == 1


def test_submit_spec_refusals_change_nothing(threads, thread, hub, token, creator, outsiders):
    staker = outsiders[0]
    price = hub.price(thread.threadId())
    token.approve(thread, 10 * price, sender=staker)
    before = (token.balanceOf(staker), thread.messageCount(), thread.lockedBalance())
    with ape.reverts(thread.StakeBelowPrice):
        thread.submitSpec(content("cheap"), [], price - 1, HUMAN, sender=staker)
    with ape.reverts(thread.ZeroStake):
        thread.submitSpec(content("zero"), [], 0, HUMAN, sender=staker)
    with ape.reverts(thread.EmptyContent):
        thread.submitSpec(b"\x00" * 32, [], price, HUMAN, sender=staker)
    with ape.reverts(thread.StakeTooLarge):
        thread.submitSpec(content("huge"), [], 2**96, HUMAN, sender=staker)
    with ape.reverts(thread.AlreadyCoauthor):
        thread.submitSpec(content("mine"), [], price, HUMAN, sender=creator)
    with ape.reverts(thread.UnknownMessage):
        thread.submitSpec(content("cites"), [thread.messageId(5)], price, HUMAN, sender=staker)
    with ape.reverts(token.ERC20InsufficientAllowance):
        thread.submitSpec(content("too much"), [], 11 * price, HUMAN, sender=staker)
    assert (token.balanceOf(staker), thread.messageCount(), thread.lockedBalance()) == before


def test_no_spec_before_any_coauthor_can_vote(hub, token, creator, outsiders, project, chain):
    """Votes need shares one second before submission; a thread created this second has no such voter."""
    if chain.provider.name == "test":
        pytest.skip("eth-tester mines every block at least one second after its parent: no two blocks share a second")
    receipt = hub.createThread(content("brand new"), HUMAN, sender=creator)
    thread = project.ThreadDAO.at(receipt.decode_logs(hub.ThreadCreated)[0].thread)
    # Both blocks after the creation are pinned to its second: otherwise the wall clock may tick between them,
    # and the stake would come one second after the creation (or the pin would go back in time).
    chain.pending_timestamp = receipt.timestamp
    assert token.approve(thread, 30 * CHOIR, sender=outsiders[0]).timestamp == receipt.timestamp
    chain.pending_timestamp = receipt.timestamp  # same second as the creation
    with ape.reverts(thread.NoEligibleVoters):
        thread.submitSpec(content("too soon"), [], 30 * CHOIR, HUMAN, sender=outsiders[0])


def test_submit_spec_with_permit(thread, hub, token, chain, outsiders):
    from eth_account import Account

    from choir_chain.permit import sign_permit

    signer = Account.create()
    token.transfer(signer.address, 100 * CHOIR, sender=outsiders[0])
    outsiders[0].transfer(signer.address, 10**18)  # ether for gas
    price = hub.price(thread.threadId())
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(signer, token.address, chain.chain_id, thread.address, price, 0, deadline)
    w3 = chain.provider.web3
    call = w3.eth.contract(
        address=thread.address, abi=[abi.model_dump(by_alias=True) for abi in thread.contract_type.abi]
    )
    tx = call.functions.submitSpecWithPermit(content("permit"), [], price, HUMAN, deadline, v, r, s).build_transaction(
        {"from": signer.address, "nonce": 0, "chainId": chain.chain_id}
    )
    signed = signer.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1
    assert thread.lockedBalance() == price
    assert token.balanceOf(signer.address) == 100 * CHOIR - price
    assert thread.getSpec(1).author == signer.address


# --- voting ---------------------------------------------------------------------------------------------------


def test_vote_rules(threads, trio, coauthors, outsiders, chain):
    spec_id = threads.submit(trio, outsiders[0])
    with ape.reverts(trio.NotCoauthor):
        trio.vote(spec_id, True, sender=outsiders[1])
    receipt = trio.vote(spec_id, False, sender=coauthors[0])
    assert not receipt.decode_logs(trio.VoteCast)[0].approve
    assert trio.ballotOf(spec_id, coauthors[0]) == DENY
    with ape.reverts(trio.AlreadyVoted):
        trio.vote(spec_id, False, sender=coauthors[0])
    with ape.reverts(trio.AlreadyVoted):  # no change of vote either
        trio.vote(spec_id, True, sender=coauthors[0])
    with ape.reverts(trio.UnknownSpec):
        trio.vote(99, True, sender=coauthors[1])
    with ape.reverts(trio.UnknownSpec):
        trio.vote(0, True, sender=coauthors[1])  # the root message is not a spec
    chain.mine(deltatime=7 * DAY + 1)
    with ape.reverts(trio.VotingClosed):
        trio.vote(spec_id, True, sender=coauthors[1])
    spec = trio.getSpec(spec_id)
    assert (spec.approvals, spec.denials) == (0, 1)


def test_coauthor_who_joined_after_submission_cannot_vote(threads, thread, creator, outsiders):
    early = threads.submit(thread, outsiders[0], text="early")
    threads.join(thread, outsiders[1], [creator])  # joins while `early` is pending
    assert thread.isCoauthor(outsiders[1])
    with ape.reverts(thread.NotEligibleForSpec):
        thread.vote(early, True, sender=outsiders[1])
    late = threads.submit(thread, outsiders[2], text="late")
    thread.vote(late, True, sender=outsiders[1])  # eligible for specs submitted after joining


# --- settlement -----------------------------------------------------------------------------------------------


def test_settle_too_early_until_all_voted_or_window_ends(threads, trio, coauthors, outsiders, chain):
    spec_id = threads.submit(trio, outsiders[0])
    with ape.reverts(trio.SettleTooEarly):
        trio.settle(spec_id, sender=outsiders[0])
    trio.vote(spec_id, True, sender=coauthors[0])
    trio.vote(spec_id, True, sender=coauthors[1])
    with ape.reverts(trio.SettleTooEarly):  # one eligible co-author has not voted yet
        trio.settle(spec_id, sender=outsiders[0])
    deadline = trio.getSpec(spec_id).deadline
    chain.pending_timestamp = deadline  # still inside the window at its last second
    with ape.reverts(trio.SettleTooEarly):
        trio.settle(spec_id, sender=outsiders[0])
    chain.pending_timestamp = deadline + 1
    trio.settle(spec_id, sender=outsiders[0])
    assert trio.getSpec(spec_id).status == APPROVED
    with ape.reverts(trio.SpecNotPending):
        trio.settle(spec_id, sender=outsiders[0])
    with ape.reverts(trio.SpecNotPending):
        trio.vote(spec_id, True, sender=coauthors[2])


def test_approved_spec_pays_treasury_and_grants_equity(threads, trio, coauthors, outsiders, token, hub):
    author = outsiders[0]
    price = hub.price(trio.threadId())
    stake = 4 * price
    total_before, n_before, treasury_before = trio.totalShares(), trio.coauthorCount(), trio.treasury()
    spec_id = threads.submit(trio, author, stake)
    for voter in coauthors[:3]:
        trio.vote(spec_id, True, sender=voter)
    receipt = trio.settle(spec_id, sender=outsiders[3])  # anyone may settle
    settled = receipt.decode_logs(trio.SpecSettled)[0]
    assert (settled.outcome, settled.treasuryGain, settled.payoutPerDenier) == (APPROVED, stake, 0)
    new_shares = expected_new_shares(stake, price, n_before, total_before, treasury_before)
    joined = receipt.decode_logs(trio.CoauthorJoined)[0]
    assert (joined.account, joined.sharesAdded, joined.totalShares) == (
        author.address, new_shares, total_before + new_shares
    )  # fmt: skip
    # sqrt(4) / (3 + 1) = 1/2 of the equity after joining
    assert new_shares == total_before
    assert trio.sharesOf(author) == new_shares and trio.totalShares() == total_before + new_shares
    assert trio.coauthorCount() == n_before + 1 and trio.isCoauthor(author)
    assert trio.treasury() >= stake and trio.lockedBalance() == 0 and ledger_holds(token, trio)


@pytest.mark.parametrize("multiple", [1, 2, 9, 10_000])
def test_equity_fraction_follows_spec(threads, trio, coauthors, outsiders, hub, multiple):
    """e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s)), capped at half the equity for any stake."""
    price = hub.price(trio.threadId())
    stake = multiple * price
    total, n, treasury = trio.totalShares(), trio.coauthorCount(), trio.treasury()
    threads.join(trio, outsiders[0], coauthors[:3], stake)
    added = trio.sharesOf(outsiders[0])
    assert added == expected_new_shares(stake, price, n, total, treasury)
    fraction = added / (total + added)
    assert fraction == pytest.approx(min(multiple**0.5 / (n + 1), 0.5, stake / (treasury + stake)), rel=1e-12)


def test_denied_spec_pays_the_deniers(threads, trio, coauthors, outsiders, token):
    stake = 100 * CHOIR + 1  # not divisible by 3: the remainder goes to the treasury
    spec_id = threads.submit(trio, outsiders[0], stake)
    for voter in coauthors[:3]:
        trio.vote(spec_id, False, sender=voter)
    treasury_before = trio.treasury()
    receipt = trio.settle(spec_id, sender=outsiders[0])
    settled = receipt.decode_logs(trio.SpecSettled)[0]
    per_denier = stake // 3
    assert (settled.outcome, settled.payoutPerDenier, settled.treasuryGain) == (
        DENIED,
        per_denier,
        stake - 3 * per_denier,
    )
    assert settled.treasuryGain + 3 * settled.payoutPerDenier == stake
    assert trio.treasury() == treasury_before + stake - 3 * per_denier
    assert trio.lockedBalance() == 3 * per_denier and ledger_holds(token, trio)
    assert not trio.isCoauthor(outsiders[0])
    for voter in coauthors[:3]:
        assert trio.curatorRewardOf(spec_id, voter) == per_denier
        before = token.balanceOf(voter)
        claim = trio.claimCuratorRewards([spec_id], sender=voter)
        assert claim.decode_logs(trio.CuratorRewardClaimed)[0].amount == per_denier
        assert token.balanceOf(voter) == before + per_denier
        assert trio.ballotOf(spec_id, voter) == DENY_CLAIMED
        with ape.reverts(trio.NoCuratorReward):
            trio.claimCuratorRewards([spec_id], sender=voter)
    assert trio.lockedBalance() == 0 and ledger_holds(token, trio)


def test_split_spec_divides_by_votes(threads, trio, coauthors, outsiders, token):
    stake = 90 * CHOIR + 2
    spec_id = threads.submit(trio, outsiders[0], stake)
    trio.vote(spec_id, True, sender=coauthors[0])
    trio.vote(spec_id, False, sender=coauthors[1])
    trio.vote(spec_id, False, sender=coauthors[2])
    treasury_before = trio.treasury()
    settled = trio.settle(spec_id, sender=outsiders[0]).decode_logs(trio.SpecSettled)[0]
    per_denier = (stake * 2 // 3) // 2
    assert (settled.outcome, settled.approvals, settled.denials) == (SPLIT, 1, 2)
    assert settled.payoutPerDenier == per_denier
    assert settled.treasuryGain == stake - 2 * per_denier
    assert trio.treasury() == treasury_before + settled.treasuryGain
    assert not trio.isCoauthor(outsiders[0])
    with ape.reverts(trio.NoCuratorReward):  # the approver has nothing to claim
        trio.claimCuratorRewards([spec_id], sender=coauthors[0])
    trio.claimCuratorRewards([spec_id], sender=coauthors[1])
    assert trio.lockedBalance() == per_denier and ledger_holds(token, trio)


def test_expired_spec_goes_to_treasury(threads, thread, outsiders, chain):
    stake = 31 * CHOIR
    spec_id = threads.submit(thread, outsiders[0], stake)
    chain.mine(deltatime=7 * DAY + 1)
    settled = thread.settle(spec_id, sender=outsiders[0]).decode_logs(thread.SpecSettled)[0]
    assert (settled.outcome, settled.treasuryGain) == (EXPIRED, stake)
    assert thread.treasury() == stake and thread.pendingSpecs() == 0
    assert not thread.isCoauthor(outsiders[0])


def test_window_end_with_only_approvals_approves(threads, trio, coauthors, outsiders, chain):
    spec_id = threads.submit(trio, outsiders[0])
    trio.vote(spec_id, True, sender=coauthors[2])
    chain.mine(deltatime=7 * DAY + 1)
    settled = trio.settle(spec_id, sender=outsiders[0]).decode_logs(trio.SpecSettled)[0]
    assert settled.outcome == APPROVED and trio.isCoauthor(outsiders[0])


def test_claim_requires_a_settled_denial(threads, trio, coauthors, outsiders):
    spec_id = threads.submit(trio, outsiders[0])
    trio.vote(spec_id, False, sender=coauthors[0])
    with ape.reverts(trio.NoCuratorReward):  # still pending
        trio.claimCuratorRewards([spec_id], sender=coauthors[0])
    with ape.reverts(trio.NoCuratorReward):  # unknown spec
        trio.claimCuratorRewards([77], sender=coauthors[0])


# --- exit and checkpoints -------------------------------------------------------------------------------------


def test_exit_pays_exactly_the_pro_rata_share(threads, trio, coauthors, outsiders, token, chain):
    threads.submit(trio, outsiders[0], 77 * CHOIR + 7)  # pending: locked, not treasury
    leaver = coauthors[1]
    with ape.reverts(trio.ExitCooldown):
        trio.exit(sender=leaver)
    chain.mine(deltatime=DAY)
    shares, total, treasury = trio.sharesOf(leaver), trio.totalShares(), trio.treasury()
    locked = trio.lockedBalance()
    before = token.balanceOf(leaver)
    receipt = trio.exit(sender=leaver)
    payout = treasury * shares // total
    exited = receipt.decode_logs(trio.CoauthorExited)[0]
    assert (exited.shares, exited.payout, exited.totalShares) == (shares, payout, total - shares)
    assert token.balanceOf(leaver) == before + payout
    assert trio.treasury() == treasury - payout and trio.lockedBalance() == locked
    assert trio.sharesOf(leaver) == 0 and trio.totalShares() == total - shares
    assert not trio.isCoauthor(leaver) and trio.coauthorCount() == 2
    assert ledger_holds(token, trio)
    with ape.reverts(trio.NotCoauthor):
        trio.exit(sender=leaver)


def test_last_coauthor_may_leave_and_the_unvoted_spec_is_refunded(threads, thread, creator, outsiders, token, chain):
    """r2: exits never block a decision. The last co-author leaves with a spec pending (it used to be refused with
    `LastCoauthorWithPendingSpecs`); the spec then settles at once, and with no vote cast its stake goes back."""
    author = outsiders[0]
    spec_id = threads.submit(thread, author)
    stake = thread.getSpec(spec_id).stake
    chain.mine(deltatime=DAY)
    treasury = thread.treasury()
    before = token.balanceOf(creator)
    thread.exit(sender=creator)
    assert token.balanceOf(creator) == before + treasury  # the treasury only: the escrowed stake is not its to take
    assert thread.treasury() == 0 and thread.coauthorCount() == 0 and thread.totalShares() == 0
    assert thread.lockedBalance() == stake
    author_before = token.balanceOf(author)
    receipt = thread.settle(spec_id, sender=outsiders[3])  # well inside the window: nobody is left to wait for
    settled = receipt.decode_logs(thread.SpecSettled)[0]
    assert (settled.outcome, settled.treasuryGain, settled.payoutPerDenier) == (REFUNDED, 0, 0)
    assert token.balanceOf(author) == author_before + stake
    assert thread.lockedBalance() == 0 and token.balanceOf(thread) == 0 and thread.pendingSpecs() == 0
    chain.mine(deltatime=1)
    token.approve(thread, 30 * CHOIR, sender=outsiders[1])
    with ape.reverts(thread.NoEligibleVoters):  # an abandoned thread takes no more stakes
        thread.submitSpec(content("anyone?"), [], 30 * CHOIR, HUMAN, sender=outsiders[1])


def test_no_spec_in_the_second_the_last_coauthor_left(hub, token, creator, outsiders, project, chain):
    """Found by the property test: the last co-author leaves and a stake arrives in the same second. The
    snapshot (one second before) still counts one voter, but nobody holds shares now, so nobody could ever
    decide the spec; it must be refused rather than locked until expiry in a treasury nobody owns."""
    if chain.provider.name == "test":
        pytest.skip("eth-tester mines every block at least one second after its parent: no two blocks share a second")
    receipt = hub.createThread(content("short-lived"), HUMAN, sender=creator)
    thread = project.ThreadDAO.at(receipt.decode_logs(hub.ThreadCreated)[0].thread)
    chain.mine(deltatime=DAY)
    token.approve(thread, 30 * CHOIR, sender=outsiders[0])
    exit_receipt = thread.exit(sender=creator)
    chain.pending_timestamp = exit_receipt.timestamp  # same second as the exit
    before = (token.balanceOf(outsiders[0]), thread.messageCount(), thread.pendingSpecs())
    with ape.reverts(thread.NoEligibleVoters):
        thread.submitSpec(content("into the void"), [], 30 * CHOIR, HUMAN, sender=outsiders[0])
    assert (token.balanceOf(outsiders[0]), thread.messageCount(), thread.pendingSpecs()) == before


def test_shares_are_checkpointed_for_governance(threads, thread, creator, outsiders, chain):
    created_at = thread.joinedAt(creator)
    assert thread.CLOCK_MODE() == "mode=timestamp"
    threads.join(thread, outsiders[0], [creator])
    joined_at = thread.joinedAt(outsiders[0])
    chain.mine(deltatime=1)
    assert thread.getPastVotes(outsiders[0], joined_at - 1) == 0
    assert thread.getPastVotes(outsiders[0], joined_at) == thread.sharesOf(outsiders[0])
    assert thread.getPastTotalSupply(created_at) == 10**18
    assert thread.getPastTotalSupply(joined_at) == thread.totalShares()
    assert thread.getVotes(creator) == 10**18
    now = chain.blocks.head.timestamp
    with ape.reverts(thread.FutureLookup):
        thread.getPastVotes(creator, now + 10)


def test_donations_join_the_treasury(thread, token, outsiders, creator):
    with ape.reverts(thread.NoDonation):
        thread.absorbDonations(sender=creator)
    token.transfer(thread, 5 * CHOIR, sender=outsiders[0])
    receipt = thread.absorbDonations(sender=outsiders[0])
    assert receipt.decode_logs(thread.DonationAbsorbed)[0].amount == 5 * CHOIR
    assert thread.treasury() == 5 * CHOIR and ledger_holds(token, thread)


def test_one_pending_spec_per_author(threads, thread, creator, outsiders, hub, token):
    """r2 (review finding 3): an author could keep several specs pending and be approved again and again, each
    approval at up to half the equity: 148 of them pushed total shares past uint208 and every later `settle`
    reverted, locking stakes. Now a second spec is refused while the first is pending, and allowed once it settled."""
    author = outsiders[0]
    price = hub.price(thread.threadId())
    first = threads.submit(thread, author, price, text="one")
    token.approve(thread, price, sender=author)
    locked = thread.lockedBalance()
    with ape.reverts(thread.PendingSpecExists):
        thread.submitSpec(content("two"), [], price, HUMAN, sender=author)
    assert thread.lockedBalance() == locked and thread.pendingSpecs() == 1
    threads.submit(thread, outsiders[1], price, text="another author")  # others are not affected
    thread.vote(first, False, sender=creator)
    thread.settle(first, sender=creator)  # denied: the author may try again
    again = threads.submit(thread, author, price, text="two")
    thread.vote(again, True, sender=creator)
    thread.settle(again, sender=creator)
    assert thread.isCoauthor(author)
    with ape.reverts(thread.AlreadyCoauthor):  # and a co-author posts instead
        thread.submitSpec(content("three"), [], price, HUMAN, sender=author)


def test_share_history_survives_exit_and_rejoin(threads, thread, creator, outsiders, chain):
    """Past shares come from the member record or, once it changed, from the checkpoint history."""
    member = outsiders[0]
    threads.join(thread, member, [creator])
    first_join, first_shares = thread.joinedAt(member), thread.sharesOf(member)
    chain.mine(deltatime=DAY)
    thread.exit(sender=member)
    exited_at = thread.joinedAt(member)
    chain.mine(deltatime=1)
    threads.join(thread, member, [creator], text="again")
    rejoined_at, rejoined_shares = thread.joinedAt(member), thread.sharesOf(member)
    chain.mine(deltatime=1)
    assert thread.getPastVotes(member, first_join - 1) == 0
    assert thread.getPastVotes(member, first_join) == first_shares
    assert thread.getPastVotes(member, exited_at - 1) == first_shares
    assert thread.getPastVotes(member, exited_at) == 0
    assert thread.getPastVotes(member, rejoined_at - 1) == 0
    assert thread.getPastVotes(member, rejoined_at) == rejoined_shares
