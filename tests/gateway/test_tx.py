"""`POST /tx/{action}` and `POST /tx/relay` against the devnet with the indexer tests' workload.

Every action is built by the gateway, signed here with the actor's key, relayed through the gateway and checked on
chain; refusals name the contract's custom error; refused relays change nothing.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.world import content, gid, time_travel
from pydantic import SecretStr
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from api import deployment as dep
from api.app import create_app
from choir_chain import artifacts
from choir_chain.chain import revert
from choir_chain.deploy import CHOIR
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import Indexer
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World

GWEI = 10**9
APPROVED, SPEC_PENDING = 2, 1
BALLOT_APPROVE = 1


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def w3_of(world: World) -> Web3:
    return world.run.chain.w3


def thread(world: World, thread_id: int) -> Contract:
    return world.run.deployment.thread(thread_id)


def governor(world: World, thread_id: int) -> Contract:
    address = world.run.deployment.hub.functions.governorOf(thread_id).call()
    return world.run.chain.contract(artifacts.load("ThreadGovernor"), address)


def sign(world: World, account: LocalAccount, tx: dict[str, Any], **overrides: Any) -> str:
    """`tx` (a gateway answer) signed by `account` as an EIP-1559 transaction with the next nonce."""
    w3 = w3_of(world)
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])  # type: ignore[typeddict-item]
    fields: dict[str, Any] = {
        "to": tx["to"],
        "data": tx["data"],
        "value": int(tx["value"]),
        "gas": tx["gas"],
        "chainId": tx["chainId"],
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "maxFeePerGas": 2 * base_fee + GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    fields.update(overrides)
    return "0x" + bytes(account.sign_transaction(fields).raw_transaction).hex()


def build(client: TestClient, account: LocalAccount, action: str, **fields: Any) -> dict[str, Any]:
    answer = client.post(f"/tx/{action}", json={"from": account.address, **fields})
    assert answer.status_code == 200, answer.json()
    tx: dict[str, Any] = answer.json()
    assert set(tx) == {"from", "to", "data", "value", "chainId", "gas"}
    assert tx["from"] == account.address and tx["value"] == "0" and tx["gas"] > 21_000
    return tx


def relay(client: TestClient, world: World, raw: str) -> Any:
    answer = client.post("/tx/relay", json={"raw": raw})
    assert answer.status_code == 202, answer.json()
    tx_hash = answer.json()["tx_hash"]
    receipt = w3_of(world).eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)
    assert receipt["status"] == 1
    return receipt


def act(client: TestClient, world: World, account: LocalAccount, action: str, **fields: Any) -> Any:
    """Build `action` through the gateway, sign it as `account`, relay it; the receipt."""
    tx = build(client, account, action, **fields)
    return relay(client, world, sign(world, account, tx))


def refused(client: TestClient, account: LocalAccount, action: str, status: int = 409, **fields: Any) -> dict:
    answer = client.post(f"/tx/{action}", json={"from": account.address, **fields})
    assert answer.status_code == status, answer.json()
    error: dict[str, Any] = answer.json()["error"]
    assert set(error) == {"code", "message", "field"}
    return error


def price(world: World, thread_id: int) -> int:
    return int(world.run.deployment.hub.functions.price(thread_id).call())


def submit_directly(world: World, account: LocalAccount, thread_id: int, text: str) -> int:
    """A spec by `account` on `thread_id` at the current price, sent without the gateway; its id."""
    chain, t = world.run.chain, thread(world, thread_id)
    stake = price(world, thread_id)
    chain.transact(world.run.deployment.token.functions.approve(t.address, stake), account)
    spec_id = int(t.functions.messageCount().call())
    chain.transact(t.functions.submitSpec(content(text), [], stake, AuthorKind.HUMAN), account)
    return spec_id


def chain_fingerprint(world: World, *accounts: str) -> tuple[int, tuple[int, ...]]:
    """The head and the accounts' nonces: what a refused relay must leave as they were."""
    w3 = w3_of(world)
    return w3.eth.block_number, tuple(w3.eth.get_transaction_count(a, "pending") for a in accounts)


@pytest.fixture
def chain(fresh_chain: World) -> Iterator[World]:
    yield fresh_chain


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


def test_create_governor(client: TestClient, chain: World) -> None:
    bob, hub = chain.run.actors.bob, chain.run.deployment.hub
    assert int(hub.functions.governorOf(2).call(), 16) == 0
    error = refused(client, bob, "propose", 404, thread_id=2, approval_window=7200, description="too early")
    assert (error["code"], error["field"]) == ("no_governor", "thread_id")
    dave = chain.run.actors.dave  # not a co-author of thread 2: only a co-author creates its governor
    assert not thread(chain, 2).functions.isCoauthor(dave.address).call()
    error = refused(client, dave, "createGovernor", thread_id=2)
    assert (error["code"], error["field"]) == ("OnlyCoauthor", "from")
    tx = build(client, bob, "createGovernor", thread_id=2)
    assert tx["to"] == hub.address
    relay(client, chain, sign(chain, bob, tx))
    created = hub.functions.governorOf(2).call()
    assert int(created, 16) != 0 and thread(chain, 2).functions.governor().call() == created
    error = refused(client, bob, "createGovernor", thread_id=2)
    assert error["code"] == "GovernorExists" and created in error["message"]


def test_governance_flow(client: TestClient, chain: World, tmp_path: Path) -> None:
    """propose -> castVote -> queue -> execute, each through the gateway, with the refusals on the way. The proposal
    also changes the approval window and threshold; the index (a copy of the test's own) and the thread view show
    the new threshold."""
    a, params, token = chain.run.actors, chain.run.deployment.manifest.parameters, chain.run.deployment.token
    t1 = thread(chain, 1)
    gov = governor(chain, 1)
    amount = 2 * CHOIR + 1
    proposal = {
        "thread_id": 1,
        "transfers": [{"to": a.dave.address.lower(), "amount": str(amount)}],
        "approval_window": 2 * 86_400,
        "approval_threshold": 6_666,
        "description": "pay dave; shorter window; two thirds",
    }
    receipt = act(client, chain, a.alice, "propose", **proposal)
    (created,) = gov.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    proposal_id = created["args"]["proposalId"]
    assert created["args"]["targets"] == [t1.address, t1.address, t1.address]
    assert gov.functions.state(proposal_id).call() == 0  # Pending

    error = refused(client, a.alice, "propose", **proposal)  # the same proposal again
    assert error["code"] == "GovernorUnexpectedProposalState" and "already exists" in error["message"]
    error = refused(client, a.alice, "castVote", thread_id=1, proposal_id=str(proposal_id), support=1)
    assert error["code"] == "GovernorUnexpectedProposalState" and "current=Pending" in error["message"]
    assert error["field"] == "proposal_id"

    time_travel(chain.run.rpc_url, params["governance.voting_delay"] + 1)
    act(client, chain, a.alice, "castVote", thread_id=1, proposal_id=str(proposal_id), support=1)
    assert gov.functions.hasVoted(proposal_id, a.alice.address).call()
    error = refused(client, a.alice, "castVote", thread_id=1, proposal_id=str(proposal_id), support=1)
    assert (error["code"], error["field"]) == ("GovernorAlreadyCastVote", "from")
    error = refused(client, a.bob, "castVote", thread_id=1, proposal_id=str(proposal_id), support=3, status=422)
    assert error["field"] == "support"

    error = refused(client, a.alice, "queue", thread_id=1, proposal_id=str(proposal_id))
    assert error["code"] == "GovernorUnexpectedProposalState" and "current=Active" in error["message"]
    time_travel(chain.run.rpc_url, params["governance.voting_period"] + 1)
    act(client, chain, a.heidi, "queue", thread_id=1, proposal_id=str(proposal_id))  # anyone may queue
    assert gov.functions.state(proposal_id).call() == 5  # Queued

    error = refused(client, a.alice, "execute", thread_id=1, proposal_id=str(proposal_id))
    assert error["code"] == "ExecutionTooEarly"
    time_travel(chain.run.rpc_url, params["governance.execution_delay"] + 1)
    balance = token.functions.balanceOf(a.dave.address).call()
    act(client, chain, a.heidi, "execute", thread_id=1, proposal_id=str(proposal_id))
    assert gov.functions.state(proposal_id).call() == 7  # Executed
    assert token.functions.balanceOf(a.dave.address).call() == balance + amount
    assert t1.functions.approvalWindow().call() == 2 * 86_400
    assert t1.functions.approvalThreshold().call() == 6_666
    error = refused(client, a.heidi, "execute", thread_id=1, proposal_id=str(proposal_id))
    assert error["code"] == "GovernorUnexpectedProposalState" and "current=Executed" in error["message"]

    database = tmp_path / "own.db"
    shutil.copyfile(chain.database_url.removeprefix("sqlite:///"), database)
    settings = chain.settings.model_copy(update={"database_url": f"sqlite:///{database}"})
    with Indexer(chain.run.rpc_url, chain.run.deployment.manifest, settings.database_url) as indexer:
        indexer.sync()
    with TestClient(create_app(settings)) as own:
        detail = own.get("/threads/1").json()
        assert (detail["approval_window"], detail["approval_threshold"]) == (2 * 86_400, 6_666)
        assert own.get("/threads/2").json()["approval_threshold"] == 10_000


def test_execute_is_refused_when_the_calls_would_fail(client: TestClient, chain: World) -> None:
    """A failed execution is final, so the gateway does not build one: a passed transfer the treasury cannot cover
    is refused with the thread's error, and the proposal stays Queued for when it can run."""
    a, params, t1 = chain.run.actors, chain.run.deployment.manifest.parameters, thread(chain, 1)
    gov = governor(chain, 1)
    treasury = t1.functions.treasury().call()
    transfers = [{"to": a.dave.address, "amount": str(treasury + 1)}]
    receipt = act(client, chain, a.alice, "propose", thread_id=1, transfers=transfers, description="too much")
    (created,) = gov.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    proposal_id = str(created["args"]["proposalId"])
    time_travel(chain.run.rpc_url, params["governance.voting_delay"] + 1)
    act(client, chain, a.alice, "castVote", thread_id=1, proposal_id=proposal_id, support=1)
    time_travel(chain.run.rpc_url, params["governance.voting_period"] + 1)
    act(client, chain, a.heidi, "queue", thread_id=1, proposal_id=proposal_id)
    time_travel(chain.run.rpc_url, params["governance.execution_delay"] + 1)
    error = refused(client, a.heidi, "execute", thread_id=1, proposal_id=proposal_id)
    assert (error["code"], error["field"]) == ("InsufficientTreasury", "proposal_id")
    assert "fail for good" in error["message"]
    assert gov.functions.state(int(proposal_id)).call() == 5  # Queued
    assert not gov.functions.executionFailed(int(proposal_id)).call()
    # executed anyway (not through the gateway): consumed, nothing moved; the read routes say Failed
    key = (created["args"]["targets"], created["args"]["values"], created["args"]["calldatas"], keccak(text="too much"))
    chain.run.chain.transact(gov.functions.execute(*key), a.heidi)
    assert gov.functions.executionFailed(int(proposal_id)).call() and t1.functions.treasury().call() == treasury
    listed = client.get("/threads/1/proposals").json()["items"]
    assert next(p["state"] for p in listed if p["proposal_id"] == proposal_id) == "Failed"


def test_governance_refusals(client: TestClient, world: World) -> None:
    a = world.run.actors
    error = refused(client, a.alice, "queue", 404, thread_id=1, proposal_id="12345")
    assert (error["code"], error["field"]) == ("unknown_proposal", "proposal_id")
    error = refused(client, a.dave, "propose", thread_id=1, approval_window=7200, description="not a co-author")
    assert error["code"] == "GovernorInsufficientProposerVotes" and error["field"] == "from"
    treasury = thread(world, 1).functions.treasury().call()
    transfers = [{"to": a.alice.address, "amount": str(treasury + 1)}]
    # the governor accepts the proposal; the thread would refuse it only at execution
    build(client, a.alice, "propose", thread_id=1, transfers=transfers, description="too much")
    error = refused(client, a.alice, "propose", 422, thread_id=1, transfers=[], description="nothing")
    assert error["field"] == "transfers"


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
# Refusals: the contract's custom error, decoded
# ----------------------------------------------------------------------------------------------------------------


def test_stake_below_price(client: TestClient, world: World) -> None:
    current = price(world, 1)
    error = refused(
        client,
        world.run.actors.dave,
        "submitSpec",
        thread_id=1,
        content_hash="0x" + content("cheap").hex(),
        stake=str(current - 1),
    )
    assert (error["code"], error["field"]) == ("StakeBelowPrice", "stake")
    assert f"stake={current - 1}" in error["message"] and f"price={current}" in error["message"]


def test_vote_twice(client: TestClient, chain: World) -> None:
    a = chain.run.actors
    spec_id = submit_directly(chain, a.dave, 1, "vote twice")
    act(client, chain, a.alice, "vote", thread_id=1, spec_id=spec_id, approve=False)
    error = refused(client, a.alice, "vote", thread_id=1, spec_id=spec_id, approve=True)
    assert (error["code"], error["field"]) == ("AlreadyVoted", "from")
    assert f"specId={spec_id}" in error["message"] and a.alice.address in error["message"]


def test_vote_by_non_coauthor(client: TestClient, world: World) -> None:
    dave = world.run.actors.dave
    error = refused(client, dave, "vote", thread_id=1, spec_id=5, approve=True)
    assert error["code"] == "NotCoauthor" and dave.address in error["message"]
    assert "co-author" in error["message"]  # the error's NatSpec notice


def test_settle_too_early(client: TestClient, world: World) -> None:
    deadline = thread(world, 1).functions.getSpec(5).call()[4]
    error = refused(client, world.run.actors.erin, "settle", thread_id=1, spec_id=5)
    assert (error["code"], error["field"]) == ("SettleTooEarly", "spec_id")
    assert f"deadline={deadline}" in error["message"]


def test_submit_spec_without_allowance(client: TestClient, world: World) -> None:
    dave, t1 = world.run.actors.dave, thread(world, 1)
    assert world.run.deployment.token.functions.allowance(dave.address, t1.address).call() == 0
    stake = price(world, 1)
    error = refused(client, dave, "submitSpec", thread_id=1, content_hash="0x" + content("x").hex(), stake=str(stake))
    assert error["code"] == "ERC20InsufficientAllowance"  # the token's error, bubbled up through the thread
    assert f"spender={t1.address}" in error["message"] and f"needed={stake}" in error["message"]


def test_other_refusals(client: TestClient, world: World) -> None:
    a = world.run.actors
    assert refused(client, a.dave, "exit", thread_id=1)["code"] == "NotCoauthor"
    hash_ = "0x" + "22" * 32
    error = refused(client, a.dave, "submitSpec", thread_id=1, content_hash=hash_, stake=str(10**24), max_price="1")
    assert (error["code"], error["field"]) == ("PriceAboveMax", "max_price")  # a price above the author's bound
    assert (
        refused(client, a.alice, "submitSpec", thread_id=1, content_hash="0x" + "11" * 32, stake="1")["code"]
        == "AlreadyCoauthor"
    )
    error = refused(client, a.alice, "post", thread_id=1, content_hash="0x" + "00" * 32)
    assert (error["code"], error["field"]) == ("EmptyContent", "content_hash")
    error = refused(client, a.alice, "post", thread_id=1, content_hash="0x" + "11" * 32, citations=[gid(2, 99)])
    assert (error["code"], error["field"]) == ("UnknownMessage", "citations")
    error = refused(client, a.alice, "vote", thread_id=1, spec_id=2, approve=True)
    assert (error["code"], error["field"]) == ("SpecNotPending", "spec_id")


def test_unknown_thread(client: TestClient, world: World) -> None:
    for action, fields in (("vote", {"spec_id": 1, "approve": True}), ("createGovernor", {}), ("exit", {})):
        error = refused(client, world.run.actors.alice, action, 404, thread_id=999, **fields)
        assert (error["code"], error["field"]) == ("unknown_thread", "thread_id")


@pytest.mark.parametrize(
    ("action", "fields", "field"),
    [
        ("vote", {"from": "0x1234", "thread_id": 1, "spec_id": 1, "approve": True}, "from"),
        ("vote", {"from": "alice", "thread_id": 1, "spec_id": 1, "approve": True}, "from"),
        ("vote", {"from": None, "thread_id": 1, "spec_id": 1, "approve": True}, "from"),
        ("vote", {"thread_id": "one", "spec_id": 1, "approve": True}, "thread_id"),
        ("vote", {"thread_id": -1, "spec_id": 1, "approve": True}, "thread_id"),
        ("vote", {"thread_id": 1.5, "spec_id": 1, "approve": True}, "thread_id"),
        ("vote", {"thread_id": True, "spec_id": 1, "approve": True}, "thread_id"),
        ("vote", {"thread_id": 1, "spec_id": "0x05", "approve": True}, "spec_id"),
        ("vote", {"thread_id": 1, "spec_id": 1, "approve": "yes"}, "approve"),
        ("vote", {"thread_id": 1, "spec_id": 1, "approve": True, "weight": 2}, "weight"),
        ("approve", {"thread_id": 1, "amount": str(2**256)}, "amount"),
        ("approve", {"thread_id": 1, "amount": "1e18"}, "amount"),
        ("submitSpec", {"thread_id": 1, "content_hash": "0x12", "stake": "1"}, "content_hash"),
        (
            "submitSpec",
            {"thread_id": 1, "content_hash": "0x" + "11" * 32, "stake": "1", "citations": ["x"]},
            "citations.0",
        ),
        (
            "propose",
            {"thread_id": 1, "transfers": [{"to": "0xdead", "amount": "1"}], "description": "d"},
            "transfers.0.to",
        ),
        ("propose", {"thread_id": 1, "approval_window": 7200, "description": ""}, "description"),
        ("claimCuratorRewards", {"thread_id": 1, "spec_ids": []}, "spec_ids"),
        ("post", {"thread_id": 1, "content_hash": "0x" + "11" * 32, "author_kind": "robot"}, "author_kind"),
        ("post", {"thread_id": 1, "content_hash": "0x" + "11" * 32, "author_kind": 1}, "author_kind"),
        ("post", {"thread_id": 1, "content_hash": "0x" + "11" * 32, "author_kind": "Human"}, "author_kind"),
        (
            "submitSpec",
            {"thread_id": 1, "content_hash": "0x" + "11" * 32, "stake": "1", "author_kind": "aigc"},
            "author_kind",
        ),
        ("createThread", {"content_hash": "0x" + "11" * 32, "author_kind": ["human"]}, "author_kind"),
        ("createThread", {"content_hash": "0x" + "11" * 32, "author_kind": ""}, "author_kind"),
        ("createThread", {"content_hash": "0x11"}, "content_hash"),
        ("createThread", {"content_hash": "0x" + "11" * 32, "thread_id": 1}, "thread_id"),
    ],
)
def test_invalid_requests(client: TestClient, world: World, action: str, fields: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {"from": world.run.actors.alice.address, **fields}.items() if v is not None}
    answer = client.post(f"/tx/{action}", json=body)
    assert answer.status_code == 422, answer.json()
    assert answer.json()["error"]["field"] == field


def test_lowercase_address_and_unknown_action(client: TestClient, world: World) -> None:
    alice = world.run.actors.alice
    answer = client.post("/tx/approve", json={"from": alice.address.lower(), "thread_id": "1", "amount": 5})
    assert answer.status_code == 200 and answer.json()["from"] == alice.address
    answer = client.post("/tx/transferEverything", json={"from": alice.address})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_action"
    answer = client.post("/tx/vote", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_json"


def test_revert_decoder() -> None:
    assert revert.decode(None).code == revert.EXECUTION_REVERTED
    panic = revert.decode("0x4e487b71" + (0x11).to_bytes(32, "big").hex())
    assert panic.code == "Panic" and "overflow" in panic.message
    reason = bytes.fromhex("08c379a0") + bytes(31) + b"\x20" + bytes(31) + b"\x03" + b"abc".ljust(32, b"\x00")
    assert revert.decode(reason).message.endswith("abc")
    assert revert.decode("0x12345678").code == revert.EXECUTION_REVERTED
    truncated = revert.decode("0x" + keccak(text="StakeBelowPrice(uint256,uint256)")[:4].hex() + "00" * 10)
    assert truncated.code == revert.EXECUTION_REVERTED  # malformed arguments are not guessed at


# ----------------------------------------------------------------------------------------------------------------
# The relay
# ----------------------------------------------------------------------------------------------------------------


def test_thread_addresses_follow_from_ids(world: World, client: TestClient) -> None:
    hub = world.run.deployment.hub
    manifest = world.run.deployment.manifest
    d = dep.Deployment(manifest)
    for thread_id in range(1, hub.functions.threadCount().call() + 1):
        assert d.thread_address(thread_id) == hub.functions.threadAddress(thread_id).call()


def test_relay_legacy_transaction(client: TestClient, chain: World) -> None:
    erin, token = chain.run.actors.erin, chain.run.deployment.token
    tx = build(client, erin, "approve", thread_id=2, amount="77")
    fields = {
        "to": tx["to"],
        "data": tx["data"],
        "value": 0,
        "gas": tx["gas"],
        "chainId": tx["chainId"],
        "nonce": w3_of(chain).eth.get_transaction_count(erin.address),
        "gasPrice": 3 * GWEI,
    }
    raw = "0x" + bytes(erin.sign_transaction(fields).raw_transaction).hex()
    relay(client, chain, raw)
    assert token.functions.allowance(erin.address, thread(chain, 2).address).call() == 77


def _refused_relays(world: World) -> list[tuple[str, str, int, str]]:
    """(name, raw, status, code) of relays the gateway must refuse without touching the chain."""
    a, deployment = world.run.actors, world.run.deployment
    erin = a.erin
    w3 = w3_of(world)
    approve = deployment.token.functions.approve(thread(world, 1).address, 1)._encode_transaction_data()
    good: dict[str, Any] = {
        "to": deployment.token.address,
        "data": approve,
        "value": 0,
        "gas": 100_000,
        "chainId": world.run.chain.chain_id,
        "nonce": w3.eth.get_transaction_count(erin.address),
        "maxFeePerGas": 10 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }

    def signed(**changes: Any) -> str:
        fields = {k: v for k, v in {**good, **changes}.items() if v is not None}
        return "0x" + bytes(erin.sign_transaction(fields).raw_transaction).hex()

    valid = signed()
    pre155 = dict(good, gasPrice=GWEI)
    for key in ("maxFeePerGas", "maxPriorityFeePerGas", "chainId"):
        pre155.pop(key)
    unprotected = "0x" + bytes(erin.sign_transaction(pre155).raw_transaction).hex()
    manifest = deployment.manifest
    next_thread = dep.Deployment(manifest).thread_address(deployment.hub.functions.threadCount().call() + 1)
    return [
        ("garbage", "0xdeadbeef", 400, "malformed_transaction"),
        ("truncated", valid[:-10], 400, "malformed_transaction"),
        ("trailing bytes", valid + "00", 400, "malformed_transaction"),
        ("bad envelope", "0x" + "ff" * 40, 400, "malformed_transaction"),
        ("blob type", "0x03" + valid[4:], 422, "unsupported_transaction_type"),
        ("wrong chain", signed(chainId=1), 422, "wrong_chain"),
        ("no chain id", unprotected, 422, "wrong_chain"),
        ("to an account", signed(to=a.bob.address), 422, "unknown_target"),
        ("to the thread implementation", signed(to=manifest.contracts["ThreadDAO"].address), 422, "unknown_target"),
        (
            "to the governor implementation",
            signed(to=manifest.contracts["ThreadGovernor"].address),
            422,
            "unknown_target",
        ),
        ("to a thread not created yet", signed(to=next_thread), 422, "unknown_target"),
        ("contract creation", signed(to=None, data="0x6000"), 422, "unknown_target"),
    ]


def test_relay_refusals_change_nothing(client: TestClient, world: World) -> None:
    before = chain_fingerprint(world, world.run.actors.erin.address)
    for name, raw, status, code in _refused_relays(world):
        answer = client.post("/tx/relay", json={"raw": raw})
        assert answer.status_code == status, (name, answer.json())
        assert answer.json()["error"]["code"] == code, name
        assert answer.json()["error"]["field"] == "raw", name
    for body in ({"raw": "hello"}, {"raw": "0x123"}, {"raw": ""}, {"raw": 5}, {}, {"raw": "0x00", "to": "x"}):
        answer = client.post("/tx/relay", json=body)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request", body
    assert chain_fingerprint(world, world.run.actors.erin.address) == before


def test_relay_node_refusals(client: TestClient, world: World) -> None:
    alice, hub = world.run.actors.alice, world.run.deployment.hub
    tx = build(client, alice, "approve", thread_id=1, amount="1")
    pauper = Account.create()
    before = chain_fingerprint(world, alice.address, pauper.address)
    answer = client.post("/tx/relay", json={"raw": sign(world, alice, tx, nonce=0)})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "nonce_too_low", answer.json()
    assert "nonce" in answer.json()["error"]["message"].lower()
    poor = dict(tx, **{"from": pauper.address, "to": hub.address})
    answer = client.post("/tx/relay", json={"raw": sign(world, pauper, poor)})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "insufficient_funds", answer.json()
    assert chain_fingerprint(world, alice.address, pauper.address) == before


def test_concurrent_garbage_relays_change_nothing(client: TestClient, world: World) -> None:
    """~200 refused relays at once, from 32 threads: every one refused with a 4xx, the chain untouched."""
    refusals = _refused_relays(world)
    rng = random.Random(7)
    bodies: list[dict[str, Any]] = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            bodies.append({"raw": "0x" + rng.randbytes(rng.randint(1, 300)).hex()})
        elif kind == 1:
            bodies.append({"raw": rng.choice(["", "0x", "zz", "0x0", "0xgg"]) + rng.randbytes(3).hex()})
        else:
            bodies.append({"raw": refusals[i % len(refusals)][1]})
    before = chain_fingerprint(world, world.run.actors.erin.address)

    def post(body: dict[str, Any]) -> int:
        answer = client.post("/tx/relay", json=body)
        assert "error" in answer.json()
        return answer.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(post, bodies))
    assert len(statuses) == 200 and all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    assert chain_fingerprint(world, world.run.actors.erin.address) == before


# ----------------------------------------------------------------------------------------------------------------
# Gasless governance votes: the EIP-712 ballot and its relay
# ----------------------------------------------------------------------------------------------------------------


def relaying_client(world: World, relayer: LocalAccount | None) -> TestClient:
    key = None if relayer is None else SecretStr("0x" + bytes(relayer.key).hex())
    return TestClient(create_app(world.settings.model_copy(update={"relayer_key": key})))


def active_proposal(client: TestClient, world: World, description: str) -> int:
    """A proposal of thread 1's governor (alice, its only co-author), open for votes; its id."""
    a, params = world.run.actors, world.run.deployment.manifest.parameters
    fields = {"thread_id": 1, "transfers": [{"to": a.dave.address, "amount": "1"}], "description": description}
    receipt = act(client, world, a.alice, "propose", **fields)
    (created,) = governor(world, 1).events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    time_travel(world.run.rpc_url, params["governance.voting_delay"] + 1)
    return int(created["args"]["proposalId"])


def test_signed_vote_is_relayed_and_the_voter_pays_no_gas(client: TestClient, chain: World) -> None:
    a = chain.run.actors
    proposal_id = active_proposal(client, chain, "a signed vote")
    gov, w3 = governor(chain, 1), w3_of(chain)
    fields = {"from": a.alice.address, "thread_id": 1, "proposal_id": str(proposal_id), "support": 1}
    typed = client.post("/tx/ballot", json=fields).json()
    assert typed["primaryType"] == "Ballot" and typed["domain"]["verifyingContract"] == gov.address
    assert typed["message"]["nonce"] == str(gov.functions.nonces(a.alice.address).call())
    signature = "0x" + bytes(a.alice.sign_typed_data(full_message=typed).signature).hex()
    eth_before = w3.eth.get_balance(a.alice.address)
    with relaying_client(chain, a.heidi) as relaying:
        answer = relaying.post("/tx/relayVote", json={**fields, "signature": signature})
        assert answer.status_code == 202, answer.json()
        receipt = w3.eth.wait_for_transaction_receipt(answer.json()["tx_hash"], timeout=10, poll_latency=0.01)
        assert receipt["status"] == 1 and receipt["from"] == a.heidi.address
        assert gov.functions.hasVoted(proposal_id, a.alice.address).call()
        assert w3.eth.get_balance(a.alice.address) == eth_before  # the relayer paid
        # the same signature again: the nonce moved on, so it is no longer the voter's ballot
        again = relaying.post("/tx/relayVote", json={**fields, "signature": signature})
        assert again.status_code == 422 and again.json()["error"]["code"] == "bad_signature", again.json()


def test_relay_vote_refusals_send_nothing(client: TestClient, chain: World) -> None:
    a = chain.run.actors
    proposal_id = active_proposal(client, chain, "refused signed votes")
    fields = {"from": a.alice.address, "thread_id": 1, "proposal_id": str(proposal_id), "support": 1}
    typed = client.post("/tx/ballot", json=fields).json()
    by_bob = "0x" + bytes(a.bob.sign_typed_data(full_message=typed).signature).hex()
    by_alice = "0x" + bytes(a.alice.sign_typed_data(full_message=typed).signature).hex()
    before = chain_fingerprint(chain, a.heidi.address, a.alice.address)
    with relaying_client(chain, a.heidi) as relaying:
        wrong = relaying.post("/tx/relayVote", json={**fields, "signature": by_bob})
        assert wrong.status_code == 422, wrong.json()
        assert wrong.json()["error"]["code"] == "bad_signature" and wrong.json()["error"]["field"] == "signature"
        garbage = relaying.post("/tx/relayVote", json={**fields, "signature": "0x" + "00" * 65})
        assert garbage.status_code == 422 and garbage.json()["error"]["code"] == "bad_signature"
        # a vote on thread 2, which has no governor
        missing = relaying.post("/tx/relayVote", json={**fields, "thread_id": 2, "signature": by_alice})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_governor"
    with relaying_client(chain, None) as disabled:
        off = disabled.post("/tx/relayVote", json={**fields, "signature": by_alice})
        assert off.status_code == 503 and off.json()["error"]["code"] == "relay_disabled"
    assert chain_fingerprint(chain, a.heidi.address, a.alice.address) == before
    assert not governor(chain, 1).functions.hasVoted(proposal_id, a.alice.address).call()


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


@pytest.mark.parametrize("in_body", [False, True], ids=["http-429", "json-rpc-error"])
def test_a_rate_limiting_node_is_a_503_not_a_refusal(world: World, in_body: bool) -> None:
    """Building a transaction while the provider rate-limits (HTTP 429, or Infura's JSON-RPC error): 503
    `node_unavailable` saying so, never a 409 that would tell the user the action fails on chain, nor a 500."""
    with FaultyRpc(world.run.rpc_url, Faults(max_span=None)) as proxy:
        settings = world.settings.model_copy(update={"rpc_url": proxy.url})
        with TestClient(create_app(settings)) as client:
            proxy.faults = Faults(max_span=None, rate_limited=1.0, retry_after=0, rate_limit_in_body=in_body)
            fields = {"from": world.run.actors.alice.address, "thread_id": 1, "content_hash": "0x" + "ab" * 32}
            answer = client.post("/tx/post", json=fields)
            proposals = client.get("/threads/1/proposals")  # logs and live reads: a 503 too, not a wrong list
    assert proposals.status_code == 503, proposals.text
    assert proposals.json()["error"]["code"] in ("node_unavailable", "chain_unavailable")
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "node_unavailable"
    assert "rate" in error["message"].lower() or "429" in error["message"]
