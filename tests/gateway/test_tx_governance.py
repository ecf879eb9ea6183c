"""Governance through `POST /tx/{action}`: a thread's governor created, proposals proposed, voted, queued and
executed with the refusals on the way, and gasless votes (the EIP-712 ballot of `POST /tx/ballot` relayed by
`POST /tx/relayVote`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.gateway_tx import (
    act,
    build,
    chain_fingerprint,
    governor,
    refused,
    relay,
    sign,
    thread,
    w3_of,
)
from helpers.world import time_travel
from pydantic import SecretStr
from web3.logs import DISCARD

from api.app import create_app
from choir_chain.deploy import CHOIR
from choir_chain.indexer import Indexer

if TYPE_CHECKING:
    from conftest import World


# ----------------------------------------------------------------------------------------------------------------
# The governor and its proposals
# ----------------------------------------------------------------------------------------------------------------


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
