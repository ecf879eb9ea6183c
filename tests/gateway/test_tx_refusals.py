"""Refused `POST /tx/{action}` requests: the contract's custom error decoded (code, message, field), invalid
requests, unknown actions, and a rate-limiting node answered with a 503, never a refusal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.gateway_tx import (
    act,
    price,
    refused,
    submit_directly,
    thread,
)
from helpers.world import content, gid

from api.app import create_app
from choir_chain.chain import revert
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc

if TYPE_CHECKING:
    from conftest import World


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
# A rate-limiting node
# ----------------------------------------------------------------------------------------------------------------


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
