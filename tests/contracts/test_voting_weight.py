"""ThreadDAO.votingWeight: a co-author's governance weight on a vote whose snapshot is a past timepoint, min(its
shares then, its shares now) (protocol r2), in one call. The governor counts votes and checks proposers with it, so
it must agree with `getPastVotes` and `getVotes` whichever side the minimum takes."""

from __future__ import annotations

import ape
from helpers.contracts import CHOIR, DAY


def test_voting_weight_is_the_minimum_of_shares_then_and_now(threads, hub, coauthors, chain):
    creator, other, voter = coauthors[0], coauthors[1], coauthors[2]
    thread = threads.create(creator, "weights")
    price = hub.price(thread.threadId())
    threads.join(thread, other, [creator], stake=price, text="other")  # half: 1e18
    threads.join(thread, voter, [creator, other], stake=4 * price, text="voter")  # half again: 2e18
    joined_at = thread.joinedAt(voter)
    assert thread.sharesOf(voter) == 2 * CHOIR

    # shares gained after the timepoint weigh nothing; held since, they weigh in full
    assert thread.votingWeight(voter, joined_at - 1) == 0
    assert thread.votingWeight(voter, joined_at) == 2 * CHOIR

    chain.mine(deltatime=DAY)  # the exit cooldown
    thread.exit(sender=voter)
    exited_at = thread.joinedAt(voter)
    threads.tick()
    # an exit forfeits the weight though the shares at the timepoint remain on record
    assert thread.getPastVotes(voter, joined_at) == 2 * CHOIR
    assert thread.votingWeight(voter, joined_at) == 0

    threads.join(thread, voter, [creator, other], stake=price, text="voter again")
    rejoined_at, rejoined = thread.joinedAt(voter), thread.sharesOf(voter)
    assert 0 < rejoined < 2 * CHOIR
    # back with fewer shares than at the timepoint: only those count; none at the time it was away
    assert thread.votingWeight(voter, joined_at) == rejoined
    assert thread.votingWeight(voter, exited_at) == 0
    assert thread.votingWeight(voter, rejoined_at) == rejoined

    timepoints = [joined_at - 1, joined_at, exited_at - 1, exited_at, rejoined_at - 1, rejoined_at]
    for account in (creator, other, voter):
        now = thread.getVotes(account)
        for timepoint in timepoints:
            expected = min(thread.getPastVotes(account, timepoint), now)
            assert thread.votingWeight(account, timepoint) == expected, (account, timepoint)


def test_voting_weight_refuses_a_timepoint_not_yet_past(thread, creator, chain):
    now = chain.blocks.head.timestamp
    with ape.reverts(thread.FutureLookup):
        thread.votingWeight(creator, now + 10)
