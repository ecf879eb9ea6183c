"""Author kind (protocol section 7): every message declares who wrote it, and the chain records the declaration.

`createThread`, `post`, `submitSpec` and `submitSpecWithPermit` take the kind as a `uint8` (0 human, 1 AI,
2 AI on a person's prompt); anything else reverts `UnknownAuthorKind(kind)` before any state changes. The kind
is carried by `MessagePosted` (the root message and co-authors' posts) and `SpecSubmitted` (a staked message):
the contracts keep no copy in storage, so the indexer reads it from those two events. Approving a spec emits no
second `MessagePosted`: the spec's `SpecSubmitted` stays the only record of its message and its kind.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from helpers.contracts import AI, AI_PROMPTED, HUMAN, content, reverts

from choir_chain.permit import sign_permit
from choir_chain.protocol.author_kind import AuthorKind

KINDS = [HUMAN, AI, AI_PROMPTED]
BAD_KINDS = [AI_PROMPTED + 1, 255]  # the first value past the enum, and the largest uint8
APPROVED, DENIED = 2, 3


def test_kinds_match_the_python_enum(project):
    """The Solidity enum and choir_chain.protocol.author_kind agree on names and values (the indexer relies on it)."""
    for name in ("MessagePosted", "SpecSubmitted"):
        [event] = [item for item in project.IThreadDAO.contract_type.abi if item.type == "event" and item.name == name]
        kind = event.inputs[-1]
        assert (kind.name, kind.type, kind.internal_type) == ("authorKind", "uint8", "enum IThreadDAO.AuthorKind")
    assert [int(kind) for kind in AuthorKind] == KINDS
    assert [kind.label for kind in AuthorKind] == ["human", "ai", "ai_prompted"]


def permit_signature(token, chain, owner, spender: str, value: int, deadline: int) -> tuple[int, bytes, bytes]:
    """`owner`'s EIP-2612 permit of `value` CHOIR to `spender` (v, r, s), signed with its test key."""
    signer = Account.from_key(owner.private_key)
    return sign_permit(signer, token.address, chain.chain_id, spender, value, token.nonces(owner), deadline)


def spec_state(token, thread, staker) -> tuple:
    """Everything a refused submission must leave as it was."""
    return (
        token.balanceOf(staker),
        token.balanceOf(thread),
        token.allowance(staker, thread),
        token.nonces(staker),
        thread.messageCount(),
        thread.pendingSpecs(),
        thread.lockedBalance(),
        thread.treasury(),
    )


# --- createThread -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_create_thread_records_the_root_kind(project, hub, creator, kind):
    receipt = hub.createThread(content(f"root by kind {kind}"), kind, sender=creator)
    [created] = receipt.decode_logs(hub.ThreadCreated)
    thread = project.ThreadDAO.at(created.thread)
    [root] = receipt.decode_logs(thread.MessagePosted)
    assert (root.index, root.author, root.contentHash) == (0, creator.address, content(f"root by kind {kind}"))
    assert root.authorKind == kind
    assert list(root.citations) == []


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_create_thread_refuses_an_unknown_kind(hub, token, creator, kind):
    before = (hub.threadCount(), token.balanceOf(creator))
    with reverts(hub.UnknownAuthorKind, authorKind=kind):
        hub.createThread(content("root"), kind, sender=creator)
    assert (hub.threadCount(), token.balanceOf(creator)) == before


def test_create_thread_checks_content_before_kind(hub, creator):
    """An empty hash is refused as such, whatever the kind."""
    with reverts(hub.EmptyContent):
        hub.createThread(b"\x00" * 32, BAD_KINDS[0], sender=creator)
    assert hub.threadCount() == 0


# --- post ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_post_records_the_kind(thread, creator, kind):
    cited = [thread.messageId(0)]
    receipt = thread.post(content(f"post by kind {kind}"), cited, kind, sender=creator)
    [posted] = receipt.decode_logs(thread.MessagePosted)
    assert (posted.index, posted.author, posted.authorKind) == (1, creator.address, kind)
    assert list(posted.citations) == cited


def test_posts_of_one_thread_keep_their_own_kinds(thread, creator):
    """Kinds are per message, not per author or thread."""
    kinds = [AI, HUMAN, AI_PROMPTED, AI, HUMAN]
    seen = []
    for i, kind in enumerate(kinds):
        receipt = thread.post(content(f"message {i}"), [], kind, sender=creator)
        seen.append(receipt.decode_logs(thread.MessagePosted)[0].authorKind)
    assert seen == kinds
    assert thread.messageCount() == 1 + len(kinds)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_post_refuses_an_unknown_kind(thread, creator, outsiders, kind):
    with reverts(thread.UnknownAuthorKind, authorKind=kind):
        thread.post(content("bad kind"), [thread.messageId(0)], kind, sender=creator)
    # The kind is checked before membership: an outsider learns the same.
    with reverts(thread.UnknownAuthorKind, authorKind=kind):
        thread.post(content("bad kind"), [], kind, sender=outsiders[0])
    assert thread.messageCount() == 1


# --- submitSpec ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_submit_spec_records_the_kind(hub, token, thread, outsiders, kind):
    staker = outsiders[0]
    price = hub.price(thread.threadId())
    token.approve(thread, price, sender=staker)
    receipt = thread.submitSpec(content(f"spec by kind {kind}"), [thread.messageId(0)], price, kind, sender=staker)
    [event] = receipt.decode_logs(thread.SpecSubmitted)
    assert (event.specId, event.author, event.authorKind) == (1, staker.address, kind)
    assert list(event.citations) == [thread.messageId(0)]
    assert receipt.decode_logs(thread.MessagePosted) == []  # a pending spec is not yet a posted message


def message_kinds(chain, thread) -> dict[int, list[int]]:
    """Message index -> the author kinds of every MessagePosted and SpecSubmitted log of the thread for it: the
    chain keeps the kind nowhere else."""
    stop = chain.blocks.height + 1  # range() stops before this block
    kinds: dict[int, list[int]] = {}
    for log in thread.MessagePosted.range(0, stop):
        kinds.setdefault(log.index, []).append(log.authorKind)
    for log in thread.SpecSubmitted.range(0, stop):
        kinds.setdefault(log.specId, []).append(log.authorKind)
    return kinds


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_submit_spec_refuses_an_unknown_kind(hub, token, thread, outsiders, kind):
    staker = outsiders[0]
    price = hub.price(thread.threadId())
    token.approve(thread, price, sender=staker)
    before = spec_state(token, thread, staker)
    with reverts(thread.UnknownAuthorKind, authorKind=kind):
        thread.submitSpec(content("bad kind"), [thread.messageId(0)], price, kind, sender=staker)
    assert spec_state(token, thread, staker) == before
    # the same submission with a valid kind goes through: the kind alone was wrong
    receipt = thread.submitSpec(content("bad kind"), [thread.messageId(0)], price, AI, sender=staker)
    assert receipt.decode_logs(thread.SpecSubmitted)[0].authorKind == AI


# --- submitSpecWithPermit -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_submit_spec_with_permit_records_the_kind(hub, token, chain, thread, outsiders, kind):
    staker = outsiders[1]
    price = hub.price(thread.threadId())
    deadline = chain.pending_timestamp + 3600
    v, r, s = permit_signature(token, chain, staker, thread.address, price, deadline)
    receipt = thread.submitSpecWithPermit(
        content(f"permit spec by kind {kind}"), [], price, kind, deadline, v, r, s, sender=staker
    )
    [event] = receipt.decode_logs(thread.SpecSubmitted)
    assert (event.specId, event.author, event.stake, event.authorKind) == (1, staker.address, price, kind)
    assert thread.lockedBalance() == price
    assert token.nonces(staker) == 1  # the permit was used


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_submit_spec_with_permit_refuses_an_unknown_kind(hub, token, chain, thread, outsiders, kind):
    staker = outsiders[1]
    price = hub.price(thread.threadId())
    deadline = chain.pending_timestamp + 3600
    v, r, s = permit_signature(token, chain, staker, thread.address, price, deadline)
    before = spec_state(token, thread, staker)
    with reverts(thread.UnknownAuthorKind, authorKind=kind):
        thread.submitSpecWithPermit(content("bad kind"), [], price, kind, deadline, v, r, s, sender=staker)
    assert spec_state(token, thread, staker) == before  # the permit's allowance and nonce are rolled back too
    # The same signed permit still works with a valid kind.
    receipt = thread.submitSpecWithPermit(content("bad kind"), [], price, AI_PROMPTED, deadline, v, r, s, sender=staker)
    assert receipt.decode_logs(thread.SpecSubmitted)[0].authorKind == AI_PROMPTED


# --- settlement ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_approved_spec_keeps_its_declared_kind(chain, threads, thread, creator, outsiders, kind):
    """Approval makes the spec part of the thread without a second MessagePosted: its SpecSubmitted (with the
    declared kind) stays the one record of the message; the thread's next message follows it."""
    staker = outsiders[0]
    spec_id = threads.submit(thread, staker, text="an approved spec", kind=kind)
    thread.vote(spec_id, True, sender=creator)
    receipt = thread.settle(spec_id, sender=staker)
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == APPROVED
    assert receipt.decode_logs(thread.MessagePosted) == []
    assert thread.getSpec(spec_id).status == APPROVED
    # the approved author is a co-author now and posts with a kind of its own choosing, after the spec
    other = AI if kind != AI else HUMAN
    posted = thread.post(content("after approval"), [], other, sender=staker).decode_logs(thread.MessagePosted)[0]
    assert (posted.index, posted.authorKind) == (spec_id + 1, other)
    assert thread.messageCount() == spec_id + 2
    # one record per message, each with its declared kind: the root, the approved spec, the post
    assert message_kinds(chain, thread) == {0: [HUMAN], spec_id: [kind], spec_id + 1: [other]}


def test_a_denied_spec_emits_no_message_either(chain, threads, thread, creator, outsiders):
    spec_id = threads.submit(thread, outsiders[0], text="a denied spec", kind=AI)
    thread.vote(spec_id, False, sender=creator)
    receipt = thread.settle(spec_id, sender=creator)
    assert receipt.decode_logs(thread.SpecSettled)[0].outcome == DENIED
    assert receipt.decode_logs(thread.MessagePosted) == []
    assert message_kinds(chain, thread) == {0: [HUMAN], spec_id: [AI]}
