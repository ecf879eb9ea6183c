"""The gateway transaction tests' building blocks: build an action through `POST /tx/{action}`, sign it as an
actor, relay it through `POST /tx/relay`, read the refusal; and the chain reads those tests check against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.protocol.author_kind import AuthorKind
from helpers.world import content

if TYPE_CHECKING:
    from conftest import World


GWEI = 10**9
APPROVED, SPEC_PENDING = 2, 1
BALLOT_APPROVE = 1


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
