"""ChoirHub's thread registry (protocol section 2): `createThread` assigns ids from one, each thread is an EIP-1167
clone of the ThreadDAO implementation at its CREATE2 address, the creator is its first co-author, and neither the
implementation nor a clone can be initialised by anyone but the hub.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address
from helpers.contracts import HUMAN, content
from helpers.hub import HOUR, UINT64_MAX, WINDOW, call_as_transaction, create_threads, reverts

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # many expected reverts: see conftest.py


# EIP-1167 minimal proxy: creation prefix, runtime code around the implementation address.
CLONE_INIT_PREFIX = bytes.fromhex("3d602d80600a3d3981f3")
CLONE_RUNTIME_HEAD = bytes.fromhex("363d3d373d3d3d363d73")
CLONE_RUNTIME_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


def predicted_clone(hub, thread_id: int) -> str:
    """CREATE2 address of the clone the hub deploys for `thread_id` (salt = the id)."""
    implementation = bytes.fromhex(hub.threadImplementation()[2:])
    init_code = CLONE_INIT_PREFIX + CLONE_RUNTIME_HEAD + implementation + CLONE_RUNTIME_TAIL
    salt = thread_id.to_bytes(32, "big")
    digest = keccak(b"\xff" + bytes.fromhex(hub.address[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


def test_create_thread_assigns_ids_from_one_and_emits_event(project, hub, creator, outsiders):
    assert hub.threadCount() == 0
    created = []
    for number, author in enumerate([creator, outsiders[0]], start=1):
        hash_ = content(f"root {number}")
        expected_id, expected_address = hub.createThread.call(hash_, HUMAN, sender=author)
        receipt = hub.createThread(hash_, HUMAN, sender=author)
        [log] = receipt.decode_logs(hub.ThreadCreated)
        assert log.threadId == expected_id == number
        assert log.thread == expected_address == hub.threadAddress(number)
        assert log.creator == author.address
        assert log.contentHash == hash_
        assert hub.threadCount() == number
        created.append(log.thread)
    assert created[0] != created[1]
    for number, address in enumerate(created, start=1):
        assert project.ThreadDAO.at(address).threadId() == number


def test_thread_is_an_eip1167_clone_at_its_create2_address(project, chain, hub, creator):
    implementation = hub.threadImplementation()
    [first, second] = create_threads(hub, creator, 2)
    for thread_id in (first, second):
        address = hub.threadAddress(thread_id)
        assert address == predicted_clone(hub, thread_id)
        code = bytes(chain.provider.get_code(address))
        assert code == CLONE_RUNTIME_HEAD + bytes.fromhex(implementation[2:]) + CLONE_RUNTIME_TAIL
        thread = project.ThreadDAO.at(address)
        assert thread.threadId() == thread_id
        assert thread.hub() == hub.address


def test_creator_is_first_coauthor_with_initial_shares(project, hub, token, creator, outsiders):
    receipt = hub.createThread(content("root"), HUMAN, sender=creator)
    thread = project.ThreadDAO.at(hub.threadAddress(1))
    assert thread.sharesOf(creator) == 10**18
    assert thread.totalShares() == 10**18
    assert thread.isCoauthor(creator)
    assert not thread.isCoauthor(outsiders[0])
    assert thread.sharesOf(outsiders[0]) == 0
    assert thread.coauthorCount() == 1
    assert thread.messageCount() == 1
    assert thread.approvalWindow() == WINDOW
    assert thread.token() == token.address
    assert hub.token() == token.address
    [root] = receipt.decode_logs(thread.MessagePosted)
    assert (root.index, root.author, root.contentHash) == (0, creator.address, content("root"))


def test_create_thread_rejects_empty_content(hub, creator):
    with reverts(hub.EmptyContent):
        hub.createThread(b"\x00" * 32, HUMAN, sender=creator)
    assert hub.threadCount() == 0


def test_thread_address_of_unknown_id_reverts(hub, ids, outsiders):
    assert hub.threadAddress(ids[-1]) == predicted_clone(hub, ids[-1])
    for unknown in (0, len(ids) + 1, 2**64):
        with reverts(hub.UnknownThread, threadId=unknown):
            call_as_transaction(hub, "threadAddress", unknown, sender=outsiders[0])


def test_implementation_can_never_be_initialised(project, hub, token, creator, admin):
    implementation = project.ThreadDAO.at(hub.threadImplementation())
    assert implementation.hub() == hub.address
    assert implementation.threadId() == UINT64_MAX  # the sentinel that blocks initialize
    for caller in (creator, admin):
        with reverts(implementation.OnlyHub):
            implementation.initialize(1, caller, content("x"), WINDOW, HUMAN, sender=caller)
    # Only the hub passes the OnlyHub check, and the hub never calls its implementation. A ThreadDAO deployed
    # by an account has that account as its hub: even its hub cannot initialise it.
    standalone = admin.deploy(project.ThreadDAO, token)
    assert standalone.hub() == admin.address
    with reverts(standalone.AlreadyInitialized):
        standalone.initialize(1, admin, content("x"), WINDOW, HUMAN, sender=admin)
    assert standalone.threadId() == UINT64_MAX
    assert standalone.coauthorCount() == 0


def test_clone_initialize_is_hub_only(project, hub, creator, admin, outsiders):
    thread = project.ThreadDAO.at(hub.threadAddress(create_threads(hub, creator, 1)[0]))
    for caller in (creator, admin, outsiders[0]):
        with reverts(thread.OnlyHub):
            thread.initialize(7, caller, content("hijack"), HOUR, HUMAN, sender=caller)
    assert thread.threadId() == 1
    assert not thread.isCoauthor(outsiders[0])
    assert thread.approvalWindow() == WINDOW
