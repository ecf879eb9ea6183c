"""The read routes against the chain's own views, after the indexer tests' workload (see `conftest.py`).

Every value a route answers is compared with what the contracts say now (treasuries, prices, shares, specs,
proposals, balances), not with the database the route reads, so a route that mis-reads a row fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.world import STATUS, gid
from sqlalchemy.orm import Session
from web3 import Web3
from web3.contract import Contract

from api.app import create_app
from api.errors import ErrorBody
from api.settings import GatewaySettings
from choir_chain import artifacts
from choir_chain.deploy import CHOIR
from choir_chain.devnet import free_port, rpc_call
from choir_chain.indexer import Indexer
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.models import Cursor
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World

ZERO = "0x" + "00" * 20


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """`response` is `status` with the one error body, this `code` and (if given) this `field`."""
    assert response.status_code == status, response.text
    body = response.json()
    ErrorBody.model_validate(body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    return dict(body["error"])


def plain(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the block it reflects and the next page's cursor (checked by their own tests)."""
    return {k: v for k, v in answer.items() if k not in ("meta", "next_cursor")}


def thread_ids(page: dict[str, Any]) -> list[int]:
    return [t["thread_id"] for t in page["items"]]


def block_time(world: World, block: int) -> int:
    return int(world.run.chain.w3.eth.get_block(block)["timestamp"])


# ------------------------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------------------------


def test_thread_summaries_equal_the_chain(world: World, client: TestClient) -> None:
    deployment = world.run.deployment
    hub = deployment.hub
    page = client.get("/threads").json()
    assert page["total"] == hub.functions.threadCount().call() == 2
    assert (page["limit"], page["offset"]) == (20, 0)
    for t in page["items"]:
        n = t["thread_id"]
        dao = deployment.thread(n)
        _price, _updated, round_ = hub.functions.pricePoint(n).call()
        governor = hub.functions.governorOf(n).call()
        assert t["address"] == dao.address == hub.functions.threadAddress(n).call()
        assert t["treasury"] == str(dao.functions.treasury().call())
        assert t["locked"] == str(dao.functions.lockedBalance().call())
        assert t["total_shares"] == str(dao.functions.totalShares().call())
        assert t["message_count"] == dao.functions.messageCount().call()
        assert t["coauthor_count"] == dao.functions.coauthorCount().call()
        assert t["price"] == str(hub.functions.price(n).call())
        assert t["last_price_round"] == round_
        assert t["citations_received"] == hub.functions.citationsReceived(n).call()
        assert t["governor"] == (None if governor == ZERO else governor)
        assert t["content_hash"] == "0x" + keccak(text=f"root {n}").hex()
    one, two = page["items"]
    actors = world.run.actors
    assert (one["creator"], two["creator"]) == (actors.alice.address, actors.bob.address)
    assert one["governor"] is not None and two["governor"] is None
    # amounts are decimal strings; the treasury holds odd wei (split stake, donation) exactly
    assert two["treasury"].endswith("3") and isinstance(two["treasury"], str)


def _last_activity_on_chain(world: World, thread_id: int) -> int:
    """Latest block timestamp of the thread's messages, specs, votes and settlements, from its logs."""
    dao = world.run.deployment.thread(thread_id)
    blocks = [
        entry["blockNumber"]
        for event in (dao.events.MessagePosted, dao.events.SpecSubmitted, dao.events.VoteCast, dao.events.SpecSettled)
        for entry in event().get_logs(from_block=0, to_block="latest")
    ]
    return block_time(world, max(blocks))


def test_last_activity_is_the_latest_message_vote_or_settlement(world: World, client: TestClient) -> None:
    items = {t["thread_id"]: t for t in client.get("/threads").json()["items"]}
    assert items[1]["last_activity"] == _last_activity_on_chain(world, 1)
    assert items[1]["last_activity"] == block_time(world, world.run.workload.blocks["last"])
    assert items[2]["last_activity"] == _last_activity_on_chain(world, 2)
    for t in items.values():
        assert t["created_timestamp"] <= t["last_activity"]
    assert items[1]["created_timestamp"] == block_time(world, world.run.workload.blocks["thread1"])


def test_sort_and_pagination(client: TestClient) -> None:
    assert thread_ids(client.get("/threads?sort=created").json()) == [1, 2]
    assert thread_ids(client.get("/threads?sort=created&order=desc").json()) == [2, 1]
    # thread 1 got the last message (heidi's pending spec); thread 2 was last touched by a settlement
    assert thread_ids(client.get("/threads?sort=activity&order=desc").json()) == [1, 2]
    assert thread_ids(client.get("/threads?sort=activity&order=asc").json()) == [2, 1]
    # both prices are stale now (the workload ran days past the last round): thread 1 keeps its last price (50
    # CHOIR, above the fallback), thread 2 gets the fallback (30 CHOIR, above its last price of 20)
    assert thread_ids(client.get("/threads?sort=price&order=desc").json()) == [1, 2]
    assert thread_ids(client.get("/threads?sort=price&order=asc").json()) == [2, 1]
    first = client.get("/threads?sort=created&order=desc&limit=1").json()
    second = client.get("/threads?sort=created&order=desc&limit=1&offset=1").json()
    past = client.get("/threads?sort=created&order=desc&limit=1&offset=2").json()
    assert (thread_ids(first), thread_ids(second), thread_ids(past)) == ([2], [1], [])
    assert first["total"] == second["total"] == past["total"] == 2
    assert (second["limit"], second["offset"]) == (1, 1)


@pytest.fixture
def repriced(fresh_chain: World, tmp_path: Path) -> Iterator[tuple[World, TestClient]]:
    """The admin raises the fallback price to 35 CHOIR and thread 1 gets a fresh round (50 -> 30 CHOIR, the 40%
    step of its new deviation window) while thread 2's last price (20) stays stale, so the hub serves 30 for
    thread 1 and 35 (the fallback, above its last price) for thread 2: the live order is the reverse of the
    order of the last pushed prices. Indexed into a database of its own."""
    run = fresh_chain.run
    hub = run.deployment.hub
    run.chain.transact(hub.functions.setFallbackPrice(35 * CHOIR), run.actors.admin)
    run.chain.transact(hub.functions.updatePrices([1], [30 * CHOIR], 3), run.actors.pricer)
    url = f"sqlite:///{tmp_path / 'repriced.db'}"
    engine = make_engine(url)
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        indexer.sync()
    engine.dispose()
    settings = fresh_chain.settings.model_copy(update={"database_url": url})
    with TestClient(create_app(settings)) as own:
        yield fresh_chain, own


def test_sort_by_live_price(repriced: tuple[World, TestClient]) -> None:
    world, client = repriced
    hub = world.run.deployment.hub
    assert hub.functions.price(1).call() == 30 * CHOIR
    assert hub.functions.price(2).call() == hub.functions.fallbackPrice().call() == 35 * CHOIR
    desc = client.get("/threads?sort=price&order=desc").json()
    assert thread_ids(desc) == [2, 1]
    assert [t["price"] for t in desc["items"]] == [str(35 * CHOIR), str(30 * CHOIR)]
    assert thread_ids(client.get("/threads?sort=price&order=asc").json()) == [1, 2]
    assert thread_ids(client.get("/threads?sort=price&order=desc&limit=1&offset=1").json()) == [1]
    history = client.get("/threads/1/prices").json()
    assert [(p["round"], p["price"]) for p in history["items"]] == [
        (1, str(40 * CHOIR)),
        (2, str(50 * CHOIR)),
        (3, str(30 * CHOIR)),
    ]


def test_thread_detail(world: World, client: TestClient) -> None:
    deployment, actors = world.run.deployment, world.run.actors
    dao = deployment.thread(1)
    detail = client.get("/threads/1").json()
    summary = client.get("/threads").json()["items"][0]
    extra = ("approval_window", "approval_threshold", "coauthors", "meta")
    assert {k: v for k, v in detail.items() if k not in extra} == summary
    assert detail["approval_window"] == dao.functions.approvalWindow().call()
    assert detail["approval_threshold"] == dao.functions.approvalThreshold().call() == 10_000
    # carol joined by her approved spec and left: alice is the only co-author
    assert detail["coauthors"] == [
        {
            "account": actors.alice.address,
            "shares": str(dao.functions.sharesOf(actors.alice.address).call()),
            "joined_timestamp": dao.functions.joinedAt(actors.alice.address).call(),
        }
    ]
    assert client.get("/threads/2").json()["coauthors"][0]["account"] == actors.bob.address


# ------------------------------------------------------------------------------------------------------------
# Messages, specs, prices, proposals
# ------------------------------------------------------------------------------------------------------------


def _citations_on_chain(dao: Contract) -> dict[int, list[int]]:
    """message index -> cited global ids, from the thread's MessagePosted and SpecSubmitted logs."""
    out: dict[int, list[int]] = {}
    for entry in dao.events.SpecSubmitted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["specId"]] = list(entry["args"]["citations"])
    for entry in dao.events.MessagePosted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["index"]] = list(entry["args"]["citations"])
    return out


def _author_kinds_on_chain(dao: Contract) -> dict[int, str]:
    """message index -> the author kind's name, from the thread's MessagePosted and SpecSubmitted logs."""
    out: dict[int, str] = {}
    for entry in dao.events.SpecSubmitted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["specId"]] = AuthorKind(entry["args"]["authorKind"]).label
    for entry in dao.events.MessagePosted().get_logs(from_block=0, to_block="latest"):
        out[entry["args"]["index"]] = AuthorKind(entry["args"]["authorKind"]).label
    return out


def test_messages(world: World, client: TestClient) -> None:
    deployment, workload = world.run.deployment, world.run.workload
    for thread_id in (1, 2):
        dao = deployment.thread(thread_id)
        page = client.get(f"/threads/{thread_id}/messages").json()
        count = dao.functions.messageCount().call()
        assert page["total"] == count == len(page["items"])
        cited = _citations_on_chain(dao)
        kinds = _author_kinds_on_chain(dao)
        assert len(kinds) == count
        for m in page["items"]:
            i = m["index"]
            assert m["author_kind"] == kinds[i] == workload.author_kinds[(thread_id, i)].label
            if (thread_id, i) == (1, 2):  # carol's spec: scored at 0 (weight 100), paid by its epoch's allocation
                assert (m["max_similarity"], m["novelty"], m["novelty_weight"]) == (0.0, 1.0, 100.0)
                assert (m["reward"], m["reward_epoch"]) == (str(workload.reward), workload.reward_epoch)
            else:  # nothing else is scored, or paid
                assert (m["max_similarity"], m["novelty"], m["novelty_weight"]) == (None, None, None)
                assert (m["reward"], m["reward_epoch"]) == (None, None)
            assert m["global_id"] == str(dao.functions.messageId(i).call()) == str(gid(thread_id, i))
            assert m["citations"] == [str(c) for c in cited.get(i, [])]
            if (thread_id, i) in workload.citations:
                assert m["citations"] == [str(c) for c in workload.citations[(thread_id, i)]]
            assert m["body"] is None
            expected_kind = "root" if i == 0 else "spec" if (thread_id, i) in workload.spec_outcomes else "post"
            assert m["kind"] == expected_kind
    thread1 = client.get("/threads/1/messages").json()["items"]
    assert thread1[1]["content_hash"] == "0x" + keccak(text="alice post").hex()
    assert thread1[1]["author"] == world.run.actors.alice.address
    tail = client.get("/threads/1/messages?limit=4&offset=4").json()
    assert [m["index"] for m in tail["items"]] == [4, 5] and tail["total"] == 6


def test_specs(world: World, client: TestClient) -> None:
    deployment, workload = world.run.deployment, world.run.workload
    for thread_id in (1, 2):
        dao = deployment.thread(thread_id)
        specs = client.get(f"/threads/{thread_id}/specs").json()["items"]
        assert {(thread_id, s["spec_id"]): s["status"] for s in specs} == {
            key: outcome for key, outcome in workload.spec_outcomes.items() if key[0] == thread_id
        }
        for s in specs:
            author, stake, price, _snapshot, deadline, eligible, approvals, denials, status = dao.functions.getSpec(
                s["spec_id"]
            ).call()
            assert (s["author"], s["stake"], s["price"], s["deadline"]) == (author, str(stake), str(price), deadline)
            assert (s["eligible"], s["approvals"], s["denials"], s["status"]) == (
                eligible,
                approvals,
                denials,
                STATUS[status],
            )
            stored = [str(c) for c in dao.functions.specCitations(s["spec_id"]).call()]
            if s["status"] in ("pending", "approved"):
                assert s["citations"] == stored
            else:  # deleted from storage at settlement (r2); the gateway keeps them from `SpecSubmitted`
                assert stored == []
            assert len(s["votes"]) == approvals + denials
            assert s["author_kind"] == workload.author_kinds[(thread_id, s["spec_id"])].label
            paid = (thread_id, s["spec_id"]) == (1, 2)  # carol's spec, scored and paid by its epoch's allocation
            assert s["novelty"] == (1.0 if paid else None)
            assert s["reward"] == (str(workload.reward) if paid else None)
    actors = world.run.actors
    split = client.get("/threads/1/specs?status=split").json()
    assert split["total"] == 1
    assert split["items"][0]["votes"] == [
        {"voter": actors.alice.address, "approve": True},
        {"voter": actors.carol.address, "approve": False},
    ]
    assert split["items"][0]["stake"] == str(41 * CHOIR + 7)
    grace = client.get("/threads/2/specs?status=denied&limit=1&offset=1").json()["items"][0]
    assert (grace["spec_id"], grace["citations"], grace["author_kind"]) == (2, [str(gid(1, 0))], "ai_prompted")
    pending = client.get("/threads/1/specs?status=pending").json()["items"]
    assert [(s["spec_id"], s["author"]) for s in pending] == [(5, actors.heidi.address)]
    assert plain(client.get("/threads/2/specs?status=approved").json()) == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }
    assert [s["spec_id"] for s in client.get("/threads/2/specs?limit=2&offset=1").json()["items"]] == [2, 3]
    assert_error(client.get("/threads/1/specs?status=maybe"), 422, "invalid_request", "status")


def test_price_history(world: World, client: TestClient) -> None:
    blocks = world.run.workload.blocks
    thread1 = client.get("/threads/1/prices").json()
    assert thread1["total"] == 2
    first, second = thread1["items"]
    assert (first["round"], first["price"], first["block"]) == (1, str(40 * CHOIR), blocks["round1"])
    assert first["timestamp"] == block_time(world, blocks["round1"])
    assert (second["round"], second["price"]) == (2, str(50 * CHOIR))
    _price, updated_at, round_ = world.run.deployment.hub.functions.pricePoint(1).call()
    assert (second["round"], second["timestamp"]) == (round_, updated_at)
    thread2 = client.get("/threads/2/prices").json()
    assert [(p["round"], p["price"]) for p in thread2["items"]] == [(1, str(20 * CHOIR))]
    assert [p["round"] for p in client.get("/threads/1/prices?limit=1&offset=1").json()["items"]] == [2]


def test_proposals_are_read_live_from_the_governor(world: World, client: TestClient) -> None:
    run = world.run
    hub, t1 = run.deployment.hub, run.deployment.thread(1)
    governor: Contract = run.chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(1).call())
    action = t1.functions.transferTreasury(run.actors.heidi.address, run.workload.governance_transfer)
    calldata = action._encode_transaction_data()
    proposal_id = governor.functions.hashProposal([t1.address], [0], [calldata], keccak(text="pay heidi")).call()
    page = client.get("/threads/1/proposals").json()
    assert page["total"] == 1
    (p,) = page["items"]
    against, for_, abstain = governor.functions.proposalVotes(proposal_id).call()
    assert p == {
        "proposal_id": str(proposal_id),
        "proposer": run.actors.alice.address,
        "description": "pay heidi",
        "state": "Executed",
        "votes_for": str(for_),
        "votes_against": str(against),
        "votes_abstain": str(abstain),
        "snapshot": governor.functions.proposalSnapshot(proposal_id).call(),
        "deadline": governor.functions.proposalDeadline(proposal_id).call(),
        "eta": governor.functions.proposalEta(proposal_id).call(),
        "targets": [t1.address],
        "values": ["0"],
        "calldatas": [calldata.lower()],
    }
    assert for_ > 0 and governor.functions.state(proposal_id).call() == 7  # Executed
    assert plain(client.get("/threads/2/proposals").json()) == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert client.get("/threads/1/proposals?offset=1").json()["items"] == []


# ------------------------------------------------------------------------------------------------------------
# Accounts, prices, health, metrics
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


def test_health(world: World, client: TestClient) -> None:
    rpc = world.run.rpc_url
    health = client.get("/health").json()
    engine = make_engine(world.database_url)
    with Session(engine) as session:
        cursor = session.get(Cursor, 1)
        assert cursor is not None
        indexed = cursor.last_block
    engine.dispose()
    head = int(str(rpc_call(rpc, "eth_blockNumber")), 16)
    assert health == {
        "status": "ok",
        "chain_id": 31337,
        "chain_head": head,
        "indexed_block": indexed,
        "indexer_lag": head - indexed,
        "pricer_round": world.run.deployment.hub.functions.lastRound().call(),
    }
    assert health["indexer_lag"] == 0 and health["pricer_round"] == 2


def test_chain_down_is_degraded_health_and_503_in_the_error_model(world: World) -> None:
    settings = world.settings.model_copy(update={"rpc_url": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_app(settings)) as down:
        health = down.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["chain_head"] is None and health.json()["indexed_block"] is not None
        assert_error(down.get("/threads/1"), 503, "chain_unavailable")
        assert_error(down.get("/threads"), 503, "chain_unavailable")
        # what needs no chain still answers
        assert down.get("/threads/1/prices").status_code == 200
        assert_error(down.get("/threads/7/prices"), 404, "unknown_thread", "thread_id")


def test_metrics(world: World, client: TestClient) -> None:
    client.get("/threads/1")
    client.get("/threads/999")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    head = int(str(rpc_call(world.run.rpc_url, "eth_blockNumber")), 16)
    assert f"choir_chain_head_block {float(head)}" in text
    assert "choir_indexer_lag_blocks 0.0" in text
    assert "choir_pricer_round 2.0" in text
    assert "choir_threads 2.0" in text
    assert "choir_gateway_healthy 1.0" in text
    assert 'choir_gateway_requests_total{method="GET",route="/threads/{thread_id}",status="200"}' in text
    assert 'choir_gateway_requests_total{method="GET",route="/threads/{thread_id}",status="404"}' in text
    assert "choir_gateway_request_duration_seconds_bucket" in text
    # each app has its own registry: a new app has counted nothing yet
    with TestClient(create_app(world.settings)) as other:
        fresh = other.get("/metrics").text
        assert 'route="/threads/{thread_id}"' not in fresh


def test_ping(client: TestClient) -> None:
    assert client.get("/ping").json() == {"ok": True}


# ------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/messages", "/specs", "/prices", "/proposals"])
def test_unknown_thread_is_404(client: TestClient, suffix: str) -> None:
    for thread_id in (0, 3, 2**63 - 1):
        error = assert_error(client.get(f"/threads/{thread_id}{suffix}"), 404, "unknown_thread", "thread_id")
        assert str(thread_id) in error["message"]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", str(2**63), str(2**256)])
def test_bad_thread_id_is_422(client: TestClient, bad: str) -> None:
    assert_error(client.get(f"/threads/{bad}"), 422, "invalid_request", "thread_id")


def test_bad_pagination_and_sort(client: TestClient) -> None:
    error = assert_error(client.get("/threads?limit=101"), 422, "invalid_request", "limit")
    assert "100" in error["message"]
    assert client.get("/threads?limit=100").status_code == 200
    assert_error(client.get("/threads/1/messages?limit=1000"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?limit=0"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?limit=x"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?offset=-1"), 422, "invalid_request", "offset")
    assert_error(client.get(f"/threads?offset={2**64}"), 422, "invalid_request", "offset")
    assert_error(client.get("/threads?sort=size"), 422, "invalid_request", "sort")
    assert_error(client.get("/threads?order=up"), 422, "invalid_request", "order")
    assert_error(client.get("/no/such/route"), 404, "not_found")


def test_page_size_limit_is_a_setting(world: World) -> None:
    settings = world.settings.model_copy(update={"page_size_limit": 1})
    with TestClient(create_app(settings)) as small:
        assert thread_ids(small.get("/threads?limit=1").json()) == [1]
        assert_error(small.get("/threads?limit=2"), 422, "invalid_request", "limit")
        assert small.get("/threads").json()["limit"] == 1  # the default page shrinks to the limit


def test_settings_from_env(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "CHOIR_GATEWAY_DATABASE_URL": world.database_url,
        "CHOIR_GATEWAY_RPC_URL": world.run.rpc_url,
        "CHOIR_GATEWAY_MANIFEST_PATH": str(world.manifest_path),
        "CHOIR_GATEWAY_PAGE_SIZE_LIMIT": "7",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()  # type: ignore[call-arg]  # the required fields come from the environment
    assert settings.page_size_limit == 7 and settings.manifest_path == world.manifest_path
    assert settings.max_content_bytes == 64 * 1024


def test_title_is_the_opening_words_of_the_root_body(world: World, tmp_path: Path) -> None:
    """A thread's title is null until its root body is stored, then its first line's opening words, in the list and
    the detail alike."""
    database = tmp_path / "own.db"
    database.write_bytes(Path(world.database_url.removeprefix("sqlite:///")).read_bytes())
    settings = world.settings.model_copy(update={"database_url": f"sqlite:///{database}"})
    with TestClient(create_app(settings)) as own:
        assert [t["title"] for t in own.get("/threads").json()["items"]] == [None, None]
        assert own.post("/content", json={"body": "root 1"}).status_code == 201
        assert [t["title"] for t in own.get("/threads").json()["items"]] == ["root 1", None]
        assert own.get("/threads/1").json()["title"] == "root 1"


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (None, None),
        ("", None),
        ("\n\n  A title  \nthe rest", "A title"),
        ("x" * 80, "x" * 80),
        ("word " * 30, ("word " * 15).strip() + "…"),
        ("y" * 100, "y" * 79 + "…"),
    ],
)
def test_title_of(body: str | None, title: str | None) -> None:
    from api.titles import TITLE_CHARS, title_of

    got = title_of(body)
    assert got == title
    assert got is None or len(got) <= TITLE_CHARS
