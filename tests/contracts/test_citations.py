"""Citations: global message ids, validation in ThreadDAO, counting at the hub (protocol sections 2, 4 and 7).

A co-author's post counts its citations at once; a spec's citations count only when the spec is approved.
Citations of the citing thread's own messages never count, and `citationsReceived` counts the distinct other
threads that cite a thread (r2): one thread citing another many times counts once. Mirrors `ThreadDAO.post`,
`submitSpec`, `settle`, `ThreadDAO.specCitations` and `ChoirHub.recordCitations`/`citationsReceived`.
No rewards in this module.
"""

from __future__ import annotations

import pytest
from helpers.contracts import CHOIR, DAY, HUMAN, content, reverts

APPROVED, DENIED, SPLIT, EXPIRED = 2, 3, 4, 5


@pytest.fixture
def network(threads, thread, coauthors):
    """Thread A (the `thread` fixture, by the creator), B (by coauthors[1], two messages) and C (by coauthors[2])."""
    other_b = threads.create(coauthors[1], "thread b")
    other_c = threads.create(coauthors[2], "thread c")
    other_b.post(content("b one"), [], HUMAN, sender=coauthors[1])
    return thread, other_b, other_c


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def recorded(receipt, hub):
    """(citedThreadId, citedMessageId, citingMessageId) of every CitationRecorded the hub emitted."""
    logs = receipt.decode_logs(hub.CitationRecorded)
    return [
        (log.citedThreadId, log.citedMessageId, log.citingMessageId)
        for log in logs
        if log.contract_address == hub.address
    ]


def counts(hub, *threads_):
    return [hub.citationsReceived(t.threadId()) for t in threads_]


def skip_without_impersonation(chain) -> None:
    if chain.provider.name == "test":
        pytest.skip("eth-tester cannot send a transaction from a contract's address (no impersonation)")


# ----------------------------------------------------------------------------------------------------------
# Message ids
# ----------------------------------------------------------------------------------------------------------


def test_message_id_is_thread_id_shifted_left_64_or_index(network, creator):
    thread_a, other_b, _ = network
    assert thread_a.threadId() == 1 and other_b.threadId() == 2
    for index in (0, 1, 7, 2**64 - 1):
        assert thread_a.messageId(index) == (1 << 64) | index
        assert other_b.messageId(index) == (2 << 64) | index
    receipt = thread_a.post(content("a one"), [], HUMAN, sender=creator)
    index = receipt.decode_logs(thread_a.MessagePosted)[0].index
    assert index == 1 and thread_a.messageId(index) == 2**64 + 1


# ----------------------------------------------------------------------------------------------------------
# Posts
# ----------------------------------------------------------------------------------------------------------


def test_post_citations_count_at_the_cited_threads(network, hub, creator):
    thread_a, other_b, other_c = network
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]
    cited = [other_b.messageId(0), other_c.messageId(0), other_b.messageId(1)]
    receipt = thread_a.post(content("cites b twice and c"), cited, HUMAN, sender=creator)
    citing = thread_a.messageId(1)
    assert list(receipt.decode_logs(thread_a.MessagePosted)[0].citations) == cited
    assert recorded(receipt, hub) == [
        (other_b.threadId(), other_b.messageId(0), citing),
        (other_c.threadId(), other_c.messageId(0), citing),
        (other_b.threadId(), other_b.messageId(1), citing),
    ]
    # r2: one per citing thread, not per citation (this was [0, 2, 1] before revision 2)
    assert counts(hub, thread_a, other_b, other_c) == [0, 1, 1]
    counted = receipt.decode_logs(hub.CitingThreadCounted)
    assert [(c.citedThreadId, c.citingThreadId, c.citingThreads) for c in counted] == [
        (other_b.threadId(), thread_a.threadId(), 1),
        (other_c.threadId(), thread_a.threadId(), 1),
    ]


def test_a_throwaway_thread_cannot_pump_another_threads_count(network, hub, creator):
    """r2 (review finding 10): free posts from one thread used to add one citation each to the cited thread's
    `c`; the count is now of distinct citing threads, so a hundred posts weigh what one does."""
    thread_a, other_b, other_c = network
    for i in range(6):
        thread_a.post(content(f"pump {i}"), [other_b.messageId(0), other_b.messageId(1)], HUMAN, sender=creator)
    assert counts(hub, thread_a, other_b, other_c) == [0, 1, 0]


def test_citations_add_up_across_messages_and_threads(network, hub, creator, coauthors):
    thread_a, other_b, other_c = network
    thread_a.post(content("a cites b"), [other_b.messageId(0)], HUMAN, sender=creator)
    other_c.post(content("c cites b"), [other_b.messageId(0)], HUMAN, sender=coauthors[2])
    other_b.post(content("b cites a and c"), [thread_a.messageId(1), other_c.messageId(1)], HUMAN, sender=coauthors[1])
    assert counts(hub, thread_a, other_b, other_c) == [1, 2, 1]


def test_own_thread_citations_do_not_count(network, hub, creator):
    thread_a, other_b, other_c = network
    thread_a.post(content("a one"), [], HUMAN, sender=creator)
    receipt = thread_a.post(content("own only"), [thread_a.messageId(0), thread_a.messageId(1)], HUMAN, sender=creator)
    assert recorded(receipt, hub) == []
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]
    receipt = thread_a.post(content("mixed"), [thread_a.messageId(2), other_c.messageId(0)], HUMAN, sender=creator)
    assert recorded(receipt, hub) == [(other_c.threadId(), other_c.messageId(0), thread_a.messageId(3))]
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 1]


def test_post_without_citations_records_nothing(network, hub, creator):
    thread_a, other_b, other_c = network
    receipt = thread_a.post(content("plain"), [], HUMAN, sender=creator)
    assert recorded(receipt, hub) == []
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]


def test_post_by_a_coauthor_who_joined_counts(network, threads, hub, creator, outsiders):
    thread_a, other_b, _ = network
    threads.join(thread_a, outsiders[0], [creator])
    receipt = thread_a.post(content("newcomer cites b"), [other_b.messageId(1)], HUMAN, sender=outsiders[0])
    assert recorded(receipt, hub) == [(other_b.threadId(), other_b.messageId(1), thread_a.messageId(2))]
    assert hub.citationsReceived(other_b.threadId()) == 1


# ----------------------------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------------------------


def test_spec_citations_count_only_on_approval(network, threads, hub, creator, outsiders):
    thread_a, other_b, other_c = network
    cited = [other_b.messageId(0), thread_a.messageId(0), other_c.messageId(0)]
    spec_id = threads.submit(thread_a, outsiders[0], citations=cited)
    assert thread_a.specCitations(spec_id) == cited
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]  # not at submission
    receipt = thread_a.vote(spec_id, True, sender=creator)
    assert recorded(receipt, hub) == [] and counts(hub, thread_a, other_b, other_c) == [0, 0, 0]
    receipt = thread_a.settle(spec_id, sender=outsiders[0])
    assert thread_a.getSpec(spec_id).status == APPROVED
    citing = thread_a.messageId(spec_id)
    assert recorded(receipt, hub) == [
        (other_b.threadId(), other_b.messageId(0), citing),
        (other_c.threadId(), other_c.messageId(0), citing),
    ]
    assert counts(hub, thread_a, other_b, other_c) == [0, 1, 1]
    assert thread_a.specCitations(spec_id) == cited  # kept: the reward allocation splits by them


def test_spec_submission_emits_no_citation(network, hub, token, outsiders):
    thread_a, other_b, _ = network
    price = hub.price(thread_a.threadId())
    token.approve(thread_a, price, sender=outsiders[0])
    receipt = thread_a.submitSpec(content("spec"), [other_b.messageId(1)], price, HUMAN, sender=outsiders[0])
    assert recorded(receipt, hub) == []
    event = receipt.decode_logs(thread_a.SpecSubmitted)[0]
    assert list(event.citations) == [other_b.messageId(1)]


def test_denied_split_and_expired_specs_count_nothing(threads, thread, hub, coauthors, outsiders, chain):
    threads.join(thread, coauthors[1], [coauthors[0]])  # two co-authors: a split is possible
    cited_thread = threads.create(coauthors[3], "cited")
    cited = [cited_thread.messageId(0)]
    denied = threads.submit(thread, outsiders[0], text="denied", citations=cited)
    split = threads.submit(thread, outsiders[1], text="split", citations=cited)
    expired = threads.submit(thread, outsiders[2], text="expired", citations=cited)
    thread.vote(denied, False, sender=coauthors[0])
    thread.vote(denied, False, sender=coauthors[1])
    thread.vote(split, True, sender=coauthors[0])
    thread.vote(split, False, sender=coauthors[1])
    receipts = [thread.settle(denied, sender=outsiders[0]), thread.settle(split, sender=outsiders[1])]
    chain.mine(deltatime=7 * DAY + 1)
    receipts.append(thread.settle(expired, sender=outsiders[2]))
    assert [thread.getSpec(s).status for s in (denied, split, expired)] == [DENIED, SPLIT, EXPIRED]
    for receipt in receipts:
        assert recorded(receipt, hub) == []
    assert hub.citationsReceived(cited_thread.threadId()) == 0
    assert [thread.specCitations(s) for s in (denied, split, expired)] == [[]] * 3  # deleted at settlement


def test_spec_citations_view(network, threads, outsiders):
    thread_a, other_b, _ = network
    plain = threads.submit(thread_a, outsiders[0], text="no citations")
    assert thread_a.specCitations(plain) == []
    assert thread_a.specCitations(0) == []  # the root message is not a spec
    assert thread_a.specCitations(99) == []  # unknown id
    mixed = [other_b.messageId(0), other_b.messageId(1), thread_a.messageId(0), thread_a.messageId(1)]
    spec_id = threads.submit(thread_a, outsiders[1], text="cites", citations=mixed)
    assert thread_a.specCitations(spec_id) == mixed  # in the given order


# ----------------------------------------------------------------------------------------------------------
# Rejected citations
# ----------------------------------------------------------------------------------------------------------


def unknown_ids(hub, thread_a, other_b):
    return [
        (hub.threadCount() + 1) << 64,  # a thread that does not exist yet
        other_b.messageId(other_b.messageCount()),  # beyond the other thread's messages
        thread_a.messageId(thread_a.messageCount()),  # the own thread's next index (the message itself)
        0,  # thread id 0
        5,  # thread id 0, index 5
        (1 << 128) | 1,  # a thread id far beyond uint64
    ]


def test_unknown_message_reverts_a_post_and_changes_nothing(network, hub, creator):
    thread_a, other_b, other_c = network
    before = (thread_a.messageCount(), counts(hub, thread_a, other_b, other_c))
    for bad in unknown_ids(hub, thread_a, other_b):
        with reverts(thread_a.UnknownMessage, messageId=bad):
            thread_a.post(content("bad"), [other_c.messageId(0), bad], HUMAN, sender=creator)  # a valid one first
    assert (thread_a.messageCount(), counts(hub, thread_a, other_b, other_c)) == before


def test_unknown_message_reverts_a_spec_and_changes_nothing(network, hub, token, outsiders):
    thread_a, other_b, other_c = network
    staker = outsiders[0]
    price = hub.price(thread_a.threadId())
    token.approve(thread_a, price, sender=staker)
    before = (thread_a.messageCount(), thread_a.lockedBalance(), token.balanceOf(staker), thread_a.pendingSpecs())
    for bad in unknown_ids(hub, thread_a, other_b)[:4]:
        with reverts(thread_a.UnknownMessage, messageId=bad):
            thread_a.submitSpec(content("bad"), [bad], price, HUMAN, sender=staker)
    after = (thread_a.messageCount(), thread_a.lockedBalance(), token.balanceOf(staker), thread_a.pendingSpecs())
    assert after == before
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]


def test_at_most_eight_citations(threads, thread, hub, creator, coauthors, outsiders, token):
    other = threads.create(coauthors[1], "many")
    for i in range(8):
        other.post(content(f"m{i}"), [], HUMAN, sender=coauthors[1])
    ids = [other.messageId(i) for i in range(9)]
    with reverts(thread.TooManyCitations, count=9, max=8):
        thread.post(content("nine"), ids, HUMAN, sender=creator)
    price = hub.price(thread.threadId())
    token.approve(thread, price, sender=outsiders[0])
    with reverts(thread.TooManyCitations, count=9, max=8):
        thread.submitSpec(content("nine"), ids, price, HUMAN, sender=outsiders[0])
    assert thread.messageCount() == 1 and hub.citationsReceived(other.threadId()) == 0
    receipt = thread.post(content("eight"), ids[:8], HUMAN, sender=creator)  # eight is the limit
    assert len(recorded(receipt, hub)) == 8
    assert hub.citationsReceived(other.threadId()) == 1  # one citing thread
    assert thread.MAX_CITATIONS() == 8


def test_duplicate_citation_reverts(network, hub, token, creator, outsiders):
    thread_a, other_b, other_c = network
    with reverts(thread_a.DuplicateCitation, messageId=other_b.messageId(0)):
        thread_a.post(
            content("dup"), [other_b.messageId(0), other_c.messageId(0), other_b.messageId(0)], HUMAN, sender=creator
        )
    with reverts(thread_a.DuplicateCitation, messageId=thread_a.messageId(0)):
        thread_a.post(content("own dup"), [thread_a.messageId(0), thread_a.messageId(0)], HUMAN, sender=creator)
    price = hub.price(thread_a.threadId())
    token.approve(thread_a, price, sender=outsiders[0])
    with reverts(thread_a.DuplicateCitation, messageId=other_c.messageId(0)):
        thread_a.submitSpec(
            content("dup"), [other_c.messageId(0), other_c.messageId(0)], price, HUMAN, sender=outsiders[0]
        )
    assert thread_a.messageCount() == 1 and thread_a.pendingSpecs() == 0
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]
    # Two different messages of one thread are not duplicates.
    receipt = thread_a.post(content("b twice"), [other_b.messageId(0), other_b.messageId(1)], HUMAN, sender=creator)
    assert len(recorded(receipt, hub)) == 2 and hub.citationsReceived(other_b.threadId()) == 1


# ----------------------------------------------------------------------------------------------------------
# Hub: only the citing thread records
# ----------------------------------------------------------------------------------------------------------


def test_record_citations_by_an_account_reverts(network, hub, creator, admin):
    thread_a, other_b, other_c = network
    for caller, citing in ((creator, thread_a.messageId(1)), (admin, other_c.messageId(0)), (creator, 7)):
        with reverts(hub.NotThread, caller=caller.address, messageId=citing):
            hub.recordCitations(citing, [other_b.messageId(0)], sender=caller)
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]


def test_record_citations_by_a_thread_for_another_threads_message_reverts(network, hub, chain, accounts):
    skip_without_impersonation(chain)
    thread_a, other_b, other_c = network
    chain.set_balance(thread_a.address, CHOIR)
    as_a = accounts[thread_a.address]
    with reverts(hub.NotThread, caller=thread_a.address, messageId=other_b.messageId(1)):
        hub.recordCitations(other_b.messageId(1), [other_c.messageId(0)], sender=as_a)
    with reverts(hub.NotThread, caller=thread_a.address, messageId=(9 << 64) | 1):
        hub.recordCitations((9 << 64) | 1, [other_c.messageId(0)], sender=as_a)  # an unknown citing thread
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 0]
    # The same call for its own message id is the thread's right.
    receipt = hub.recordCitations(thread_a.messageId(1), [other_c.messageId(0)], sender=as_a)
    assert recorded(receipt, hub) == [(other_c.threadId(), other_c.messageId(0), thread_a.messageId(1))]
    assert counts(hub, thread_a, other_b, other_c) == [0, 0, 1]
