"""`GET /accounts/{address}` and `GET /prices` against the chain's own views (balances, equity, votes, open
stakes, live prices), after the indexer tests' workload (see `conftest.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from helpers.gateway_reads import assert_error, plain
from web3 import Web3

from choir_chain.deploy import CHOIR

if TYPE_CHECKING:
    from conftest import World


# ------------------------------------------------------------------------------------------------------------
# Accounts, prices
# ------------------------------------------------------------------------------------------------------------


def test_accounts(world: World, client: TestClient) -> None:
    run = world.run
    token, actors = run.deployment.token, run.actors
    alice = client.get(f"/accounts/{actors.alice.address.lower()}").json()
    t1 = run.deployment.thread(1)
    assert alice["address"] == actors.alice.address
    assert alice["balance"] == str(token.functions.balanceOf(actors.alice.address).call())
    assert alice["equity"] == [
        {
            "thread_id": 1,
            "shares": str(t1.functions.sharesOf(actors.alice.address).call()),
            "total_shares": str(t1.functions.totalShares().call()),
        }
    ]
    assert alice["votes"] == [
        {"thread_id": 1, "spec_id": 2, "approve": True},
        {"thread_id": 1, "spec_id": 3, "approve": True},
    ]
    heidi = client.get(f"/accounts/{actors.heidi.address.upper().replace('0X', '0x')}").json()
    assert heidi["open_stakes"] == [{"thread_id": 1, "spec_id": 5, "stake": str(50 * CHOIR)}]
    assert heidi["equity"] == [] and heidi["votes"] == []
    bob = client.get(f"/accounts/{actors.bob.address}").json()
    assert bob["votes"] == [
        {"thread_id": 2, "spec_id": 1, "approve": False},
        {"thread_id": 2, "spec_id": 2, "approve": False},
    ]
    carol = client.get(f"/accounts/{actors.carol.address}").json()
    assert carol["equity"] == []  # she left thread 1
    stranger = Web3.to_checksum_address("0x" + "ab" * 20)
    assert plain(client.get(f"/accounts/{stranger}").json()) == {
        "address": stranger,
        "balance": "0",
        "equity": [],
        "open_stakes": [],
        "votes": [],
    }
    for bad in ("0x12", "0x" + "g" * 40, "ab" * 20, "0x" + "ab" * 21):
        assert_error(client.get(f"/accounts/{bad}"), 422, "invalid_request", "address")


def test_live_prices(world: World, client: TestClient) -> None:
    hub = world.run.deployment.hub
    items = client.get("/prices").json()["items"]
    assert [p["thread_id"] for p in items] == [1, 2]
    for p in items:
        _price, updated_at, round_ = hub.functions.pricePoint(p["thread_id"]).call()
        assert p == {
            "thread_id": p["thread_id"],
            "price": str(hub.functions.price(p["thread_id"]).call()),
            "last_round": round_,
            "updated_at": updated_at,
        }
