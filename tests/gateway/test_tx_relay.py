"""`POST /tx/relay`: a legacy transaction relayed, and every relay the gateway must refuse (malformed, wrong
chain, unknown target, refused by the node, a flood of garbage from many threads) leaves the chain as it was.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from eth_account import Account
from fastapi.testclient import TestClient
from helpers.gateway_tx import (
    GWEI,
    build,
    chain_fingerprint,
    relay,
    sign,
    thread,
    w3_of,
)

from api import deployment as dep

if TYPE_CHECKING:
    from conftest import World


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
