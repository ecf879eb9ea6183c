"""Revision 2 of the thread rules: exits never block a decision, and nobody buys equity below book value.

Regression tests of the security review's findings 1 (the survivor locked in), 7 (equity below book value) and 8
(a co-author's second key after the window). Each test states what happened before revision 2; each fails on the
contracts of c9dd7b7 (`LastCoauthorWithPendingSpecs`, `SettleTooEarly`, or a payout above the stake).
"""

from __future__ import annotations

import ape
import pytest
from helpers.contracts import CHOIR, DAY, HUMAN, content

APPROVED, DENIED, EXPIRED, REFUNDED = 2, 3, 5, 6


@pytest.fixture
def raided(threads, thread, creator, outsiders):
    """The review's set-up: the creator (the victim) and two keys of one attacker, a day past their cooldowns."""
    first, second = outsiders[0], outsiders[1]
    threads.join(thread, first, [creator])
    threads.join(thread, second, [creator, first])
    threads.tick(DAY)
    return thread, first, second


def test_the_last_coauthor_leaves_despite_a_blocking_spec(threads, raided, creator, outsiders, token):
    """Finding 1: the attacker submits a spec from a third key and never votes, then exits with both keys. Before
    r2 the victim could neither exit (`LastCoauthorWithPendingSpecs`) nor settle the spec early (`SettleTooEarly`:
    the departed still counted), so a treasury proposal could execute inside the spec's window. Now the victim
    leaves at once with the whole treasury and the blocking spec is refunded."""
    thread, first, second = raided
    blocker = outsiders[2]
    spec_id = threads.submit(thread, blocker, text="never voted on")
    stake = thread.getSpec(spec_id).stake
    thread.exit(sender=first)
    thread.exit(sender=second)
    treasury = thread.treasury()
    before = token.balanceOf(creator)
    thread.exit(sender=creator)  # reverted with LastCoauthorWithPendingSpecs before r2
    assert token.balanceOf(creator) == before + treasury
    blocker_before = token.balanceOf(blocker)
    receipt = thread.settle(spec_id, sender=creator)  # inside the window
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == REFUNDED
    assert token.balanceOf(blocker) == blocker_before + stake
    assert token.balanceOf(thread) == 0


def test_the_survivor_settles_without_waiting_for_the_departed(threads, raided, creator, outsiders, token):
    """Finding 1, the survivor stays: once it voted, the spec settles on its vote alone (before r2: SettleTooEarly
    until the window ended, the departed still awaited)."""
    thread, first, second = raided
    spec_id = threads.submit(thread, outsiders[2], text="spam")
    thread.exit(sender=first)
    thread.exit(sender=second)
    with ape.reverts(thread.SettleTooEarly):  # the survivor has not voted yet: it is still awaited
        thread.settle(spec_id, sender=creator)
    thread.vote(spec_id, False, sender=creator)
    receipt = thread.settle(spec_id, sender=creator)  # the departed are counted from the exit log
    settled = receipt.decode_logs(thread.SpecSettled)[0]
    assert (settled.outcome, settled.denials) == (DENIED, 1)
    before = token.balanceOf(creator)
    thread.claimCuratorRewards([spec_id], sender=creator)
    assert token.balanceOf(creator) == before + thread.getSpec(spec_id).stake


def test_a_spec_in_the_second_of_an_exit_does_not_lock_the_survivor(threads, thread, creator, outsiders, chain):
    """Finding 1's variant: a spec submitted in the same second as the other co-author's exit counts it as
    eligible (the snapshot is one second before). The survivor waited out the whole window before r2."""
    if chain.provider.name == "test":
        pytest.skip("eth-tester mines every block at least one second after its parent: no two blocks share a second")
    other = outsiders[0]
    threads.join(thread, other, [creator])
    threads.tick(DAY)
    author = outsiders[1]
    stake = threads.hub.price(thread.threadId())
    threads.token.approve(thread, stake, sender=author)  # before the exit: only the spec must share its second
    receipt = thread.exit(sender=other)
    chain.pending_timestamp = receipt.timestamp  # applies to the next block only
    submitted = thread.submitSpec(content("same second"), [], stake, HUMAN, sender=author)
    spec_id = submitted.decode_logs(thread.SpecSubmitted)[0].specId
    assert submitted.timestamp == receipt.timestamp
    spec = thread.getSpec(spec_id)
    assert spec.eligible == 2 and spec.snapshot == receipt.timestamp - 1
    thread.vote(spec_id, True, sender=creator)
    receipt = thread.settle(spec_id, sender=creator)  # the co-author who left in that second is not awaited
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == APPROVED
    assert thread.isCoauthor(author)


def test_departures_are_checked(threads, raided, creator, coauthors, outsiders):
    """Only eligible co-authors who left without voting may be listed, each once, in address order; a bad list
    changes nothing."""
    thread, first, second = raided
    spec_id = threads.submit(thread, outsiders[2], text="checked")
    thread.vote(spec_id, True, sender=first)
    thread.exit(sender=first)
    bad_lists = [
        ([first], "NotDeparted"),  # voted before leaving: its vote counts, it is not awaited anyway
        ([second], "NotDeparted"),  # still holds shares
        ([coauthors[3]], "NotDeparted"),  # never a co-author
        ([outsiders[2]], "NotDeparted"),  # the author
    ]
    for departed, error in bad_lists:
        with ape.reverts(getattr(thread, error)):
            thread.settleWithDepartures(spec_id, departed, sender=creator)
    thread.exit(sender=second)
    with ape.reverts(thread.DeparturesNotSorted):
        thread.settleWithDepartures(spec_id, [second, second], sender=creator)
    assert thread.getSpec(spec_id).status == 1  # still pending
    with ape.reverts(thread.SettleTooEarly):  # creator has not voted and still holds shares
        thread.settleWithDepartures(spec_id, [second], sender=creator)
    thread.vote(spec_id, True, sender=creator)
    receipt = thread.settleWithDepartures(spec_id, [second], sender=outsiders[3])
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == APPROVED


def test_all_eligible_left_without_voting_refunds_even_with_newer_coauthors(threads, thread, creator, outsiders):
    """Refunded needs no vote cast and no eligible co-author left; co-authors who joined after the snapshot
    cannot vote on the spec, so they do not count."""
    waiting = threads.submit(thread, outsiders[0], text="waiting")
    threads.tick(1)
    threads.join(thread, outsiders[1], [creator], text="newcomer")  # joins after `waiting`'s snapshot
    threads.tick(DAY)
    thread.exit(sender=creator)
    assert thread.coauthorCount() == 1
    receipt = thread.settleWithDepartures(waiting, [creator], sender=outsiders[0])
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == REFUNDED


def test_no_equity_below_book_value(threads, thread, creator, outsiders, token, hub):
    """Finding 7: a co-author's thread holds 10,000 CHOIR; an outsider stakes 4x the price and used to get
    e = 1/2, then exited a day later with about 5,060 CHOIR. The NAV floor e <= s / (T + s) keeps its claim at or
    below its stake."""
    token.transfer(thread, 10_000 * CHOIR, sender=creator)
    thread.absorbDonations(sender=creator)
    buyer = outsiders[0]
    stake = 4 * hub.price(thread.threadId())
    threads.join(thread, buyer, [creator], stake)
    claim = thread.treasury() * thread.sharesOf(buyer) // thread.totalShares()
    assert claim <= stake
    threads.tick(DAY)
    before = token.balanceOf(buyer)
    thread.exit(sender=buyer)
    assert token.balanceOf(buyer) - before <= stake  # was ~5,060 CHOIR for a 120 CHOIR stake


def test_a_second_key_after_the_window_takes_no_value(threads, thread, creator, outsiders, token, chain, hub):
    """Finding 8: a co-author approves its own second key's spec and lets the window run out while the other
    co-author is passive; the key used to receive half the equity. It still joins, but neither the key's exit nor
    the pair together take anything of the passive co-author's share."""
    attacker, second_key = outsiders[0], outsiders[1]
    token.transfer(thread, 5_000 * CHOIR, sender=creator)
    thread.absorbDonations(sender=creator)
    threads.join(thread, attacker, [creator])
    threads.tick(DAY)
    treasury, total = thread.treasury(), thread.totalShares()
    victim_claim = treasury * thread.sharesOf(creator) // total
    stake = 4 * hub.price(thread.threadId())
    spec_id = threads.submit(thread, second_key, stake, text="mine")
    thread.vote(spec_id, True, sender=attacker)
    chain.mine(deltatime=7 * DAY + 1)
    assert thread.settle(spec_id, sender=attacker).decode_logs(thread.SpecSettled)[0].outcome == APPROVED
    threads.tick(DAY)
    before = token.balanceOf(second_key)
    thread.exit(sender=second_key)
    assert token.balanceOf(second_key) - before <= stake
    after_claim = thread.treasury() * thread.sharesOf(creator) // thread.totalShares()
    assert after_claim >= victim_claim


def test_no_new_spec_once_every_coauthor_left(threads, thread, creator, outsiders, token, chain):
    threads.tick(DAY)
    thread.exit(sender=creator)
    chain.mine(deltatime=1)
    token.approve(thread, 30 * CHOIR, sender=outsiders[0])
    with ape.reverts(thread.NoEligibleVoters):
        thread.submitSpec(content("late"), [], 30 * CHOIR, HUMAN, sender=outsiders[0])


def test_a_submitter_bounds_the_price_it_accepts(threads, thread, creator, outsiders, token, hub, pricer):
    """Review: a price move just before a spec lands could shrink the equity its stake buys. The author names the
    highest price it accepts; a higher price refuses the spec and changes nothing."""
    author = outsiders[0]
    stake = 200 * CHOIR
    token.approve(thread, stake, sender=author)
    hub.updatePrices([thread.threadId()], [40 * CHOIR], 1, sender=pricer)
    with ape.reverts(thread.PriceAboveMax):
        thread.submitSpecWithMaxPrice(content("bounded"), [], stake, HUMAN, 35 * CHOIR, sender=author)
    assert thread.pendingSpecs() == 0 and thread.lockedBalance() == 0
    receipt = thread.submitSpecWithMaxPrice(content("bounded"), [], stake, HUMAN, 40 * CHOIR, sender=author)
    spec = thread.getSpec(receipt.decode_logs(thread.SpecSubmitted)[0].specId)
    assert (spec.stake, spec.price) == (stake, 40 * CHOIR)
