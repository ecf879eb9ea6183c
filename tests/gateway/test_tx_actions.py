"""`POST /tx/{action}` for every thread and token action, against the devnet with the indexer tests' workload.

Every action is built by the gateway, signed here with the actor's key, relayed through the gateway and checked on
chain; an account's position (`GET /threads/{id}/positions/{account}`) before and after a denied spec.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from helpers.gateway_tx import (
    APPROVED,
    BALLOT_APPROVE,
    SPEC_PENDING,
    act,
    build,
    price,
    refused,
    relay,
    sign,
    submit_directly,
    thread,
)
from helpers.world import content, gid
from web3.logs import DISCARD

from api.app import create_app
from choir_chain.deploy import CHOIR
from choir_chain.indexer import Indexer
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World


# ----------------------------------------------------------------------------------------------------------------
# Every action: built, signed, relayed, and its effect on chain
# ----------------------------------------------------------------------------------------------------------------


def test_approve(client: TestClient, chain: World) -> None:
    dave, token = chain.run.actors.dave, chain.run.deployment.token
    tx = build(client, dave, "approve", thread_id=1, amount=str(123 * CHOIR))
    assert tx["to"] == token.address and tx["chainId"] == chain.run.chain.chain_id
    relay(client, chain, sign(chain, dave, tx))
    assert token.functions.allowance(dave.address, thread(chain, 1).address).call() == 123 * CHOIR


def test_submit_spec(client: TestClient, chain: World) -> None:
    dave, token, t1 = chain.run.actors.dave, chain.run.deployment.token, thread(chain, 1)
    stake, count = price(chain, 1) + 7, t1.functions.messageCount().call()
    balance = token.functions.balanceOf(dave.address).call()
    act(client, chain, dave, "approve", thread_id=1, amount=str(stake))
    citations = [str(gid(2, 0)), gid(1, 1)]  # decimal strings and JSON integers alike
    receipt = act(
        client,
        chain,
        dave,
        "submitSpec",
        thread_id=1,
        content_hash="0x" + content("dave").hex(),
        citations=citations,
        stake=str(stake),
        author_kind="ai",
    )
    assert t1.functions.messageCount().call() == count + 1
    author, held, *_, status = t1.functions.getSpec(count).call()
    assert (author, held, status) == (dave.address, stake, SPEC_PENDING)
    assert t1.functions.specCitations(count).call() == [gid(2, 0), gid(1, 1)]
    assert token.functions.balanceOf(dave.address).call() == balance - stake
    (submitted,) = t1.events.SpecSubmitted().process_receipt(receipt, errors=DISCARD)
    assert submitted["args"]["authorKind"] == AuthorKind.AI


def test_post_with_citations(client: TestClient, chain: World) -> None:
    alice, hub, t1 = chain.run.actors.alice, chain.run.deployment.hub, thread(chain, 1)
    count, cited = t1.functions.messageCount().call(), hub.functions.citationsReceived(2).call()
    receipt = act(
        client, chain, alice, "post", thread_id=1, content_hash="0x" + content("hi").hex(), citations=[str(gid(2, 1))]
    )
    assert t1.functions.messageCount().call() == count + 1
    (recorded,) = hub.events.CitationRecorded().process_receipt(receipt, errors=DISCARD)
    assert (recorded["args"]["citedThreadId"], recorded["args"]["citedMessageId"]) == (2, gid(2, 1))
    # r2: citationsReceived counts distinct citing threads; it rises only if thread 1 never cited thread 2 before
    first = hub.events.CitingThreadCounted().process_receipt(receipt, errors=DISCARD)
    assert hub.functions.citationsReceived(2).call() == cited + len(first)
    assert [e["args"]["citingThreads"] for e in first] == ([cited + 1] if first else [])
    (posted,) = t1.events.MessagePosted().process_receipt(receipt, errors=DISCARD)
    assert posted["args"]["contentHash"] == content("hi") and posted["args"]["author"] == alice.address
    assert posted["args"]["authorKind"] == AuthorKind.HUMAN  # the default
    receipt = act(
        client, chain, alice, "post", thread_id=1, content_hash="0x" + content("hey").hex(), author_kind="ai_prompted"
    )
    (posted,) = t1.events.MessagePosted().process_receipt(receipt, errors=DISCARD)
    assert posted["args"]["authorKind"] == AuthorKind.AI_PROMPTED and posted["args"]["citations"] == []


def test_create_thread(client: TestClient, chain: World) -> None:
    erin, hub = chain.run.actors.erin, chain.run.deployment.hub
    count = hub.functions.threadCount().call()
    tx = build(client, erin, "createThread", content_hash="0x" + content("erin's thread").hex(), author_kind="ai")
    assert tx["to"] == hub.address
    receipt = relay(client, chain, sign(chain, erin, tx))
    assert hub.functions.threadCount().call() == count + 1
    t = thread(chain, count + 1)
    assert t.functions.isCoauthor(erin.address).call()
    (root,) = t.events.MessagePosted().process_receipt(receipt, errors=DISCARD)
    assert (root["args"]["index"], root["args"]["author"]) == (0, erin.address)
    assert (root["args"]["contentHash"], root["args"]["authorKind"]) == (content("erin's thread"), AuthorKind.AI)
    error = refused(client, erin, "createThread", content_hash="0x" + "00" * 32)
    assert (error["code"], error["field"]) == ("EmptyContent", "content_hash")


def test_vote_then_settle(client: TestClient, chain: World) -> None:
    a = chain.run.actors
    t1 = thread(chain, 1)
    spec_id = submit_directly(chain, a.dave, 1, "dave's spec to approve")
    act(client, chain, a.alice, "vote", thread_id=1, spec_id=spec_id, approve=True)
    assert t1.functions.ballotOf(spec_id, a.alice.address).call() == BALLOT_APPROVE
    treasury = t1.functions.treasury().call()
    act(client, chain, a.erin, "settle", thread_id=1, spec_id=str(spec_id))  # anyone may settle
    assert t1.functions.getSpec(spec_id).call()[-1] == APPROVED
    assert t1.functions.isCoauthor(a.dave.address).call()
    assert t1.functions.treasury().call() > treasury


def test_exit(client: TestClient, chain: World) -> None:
    bob, token, t2 = chain.run.actors.bob, chain.run.deployment.token, thread(chain, 2)
    treasury, balance = t2.functions.treasury().call(), token.functions.balanceOf(bob.address).call()
    assert treasury > 0 and t2.functions.pendingSpecs().call() == 0
    act(client, chain, bob, "exit", thread_id=2)
    assert not t2.functions.isCoauthor(bob.address).call()
    assert token.functions.balanceOf(bob.address).call() == balance + treasury  # the last co-author takes all


def test_claim_curator_rewards(client: TestClient, chain: World) -> None:
    a, token, t2 = chain.run.actors, chain.run.deployment.token, thread(chain, 2)
    spec_id = submit_directly(chain, a.dave, 2, "noise")
    stake = t2.functions.getSpec(spec_id).call()[1]
    error = refused(client, a.bob, "claimCuratorRewards", thread_id=2, spec_ids=[spec_id])
    assert (error["code"], error["field"]) == ("NoCuratorReward", "spec_ids")
    act(client, chain, a.bob, "vote", thread_id=2, spec_id=spec_id, approve=False)
    act(client, chain, a.dave, "settle", thread_id=2, spec_id=spec_id)
    balance = token.functions.balanceOf(a.bob.address).call()
    act(client, chain, a.bob, "claimCuratorRewards", thread_id=2, spec_ids=[str(spec_id)])
    assert token.functions.balanceOf(a.bob.address).call() == balance + stake  # the only denier takes it all
    error = refused(client, a.bob, "claimCuratorRewards", thread_id=2, spec_ids=[spec_id])
    assert error["code"] == "NoCuratorReward"


# ----------------------------------------------------------------------------------------------------------------
# An account's position: equity, exit payout and window, claimable curator shares
# ----------------------------------------------------------------------------------------------------------------


def test_position_before_and_after_a_denied_spec(client: TestClient, chain: World, tmp_path: Path) -> None:
    """Bob (thread 2's only co-author) denies Dave's spec: the position shows its share as claimable until Bob
    claims it; the exit payout is the contract's (the payout `exit` then pays)."""
    a, token = chain.run.actors, chain.run.deployment.token
    t2 = thread(chain, 2)
    spec_id = submit_directly(chain, a.dave, 2, "dave's spec bob denies")
    act(client, chain, a.bob, "vote", thread_id=2, spec_id=spec_id, approve=False)
    act(client, chain, a.bob, "settle", thread_id=2, spec_id=spec_id)
    share = t2.functions.curatorRewardOf(spec_id, a.bob.address).call()
    assert share > 0
    database = tmp_path / "own.db"
    shutil.copyfile(chain.database_url.removeprefix("sqlite:///"), database)
    settings = chain.settings.model_copy(update={"database_url": f"sqlite:///{database}"})
    with Indexer(chain.run.rpc_url, chain.run.deployment.manifest, settings.database_url) as indexer:
        indexer.sync()
    with TestClient(create_app(settings)) as own:
        position = own.get(f"/threads/2/positions/{a.bob.address.lower()}").json()
        assert position["claimable"] == [{"spec_id": spec_id, "amount": str(share)}]
        assert position["shares"] == position["total_shares"] == str(t2.functions.totalShares().call())
        assert position["exit_payout"] == position["treasury"] == str(t2.functions.treasury().call())
        joined = t2.functions.joinedAt(a.bob.address).call()
        assert position["joined_at"] == joined and position["exit_available_at"] == joined + 86_400
        outsider = own.get(f"/threads/2/positions/{a.grace.address}").json()
        assert (outsider["shares"], outsider["exit_payout"], outsider["exit_available_at"]) == ("0", "0", None)
        act(client, chain, a.bob, "claimCuratorRewards", thread_id=2, spec_ids=[spec_id])
        with Indexer(chain.run.rpc_url, chain.run.deployment.manifest, settings.database_url) as indexer:
            indexer.sync()
        assert own.get(f"/threads/2/positions/{a.bob.address}").json()["claimable"] == []
        balance = token.functions.balanceOf(a.bob.address).call()
        act(client, chain, a.bob, "exit", thread_id=2)
        assert token.functions.balanceOf(a.bob.address).call() == balance + int(position["exit_payout"])
        assert own.get(f"/threads/9/positions/{a.bob.address}").json()["error"]["code"] == "unknown_thread"
