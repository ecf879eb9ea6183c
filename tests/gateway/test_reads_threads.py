"""`GET /threads` and `GET /threads/{id}` against the chain's own views, after the indexer tests' workload (see
`conftest.py`): summaries, last activity, sorting (by the live price too), pagination, the detail, titles.

Every value a route answers is compared with what the contracts say now, not with the database the route reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.gateway_reads import block_time, thread_ids

from api.app import create_app
from choir_chain.deploy import CHOIR
from choir_chain.indexer import Indexer
from choir_chain.indexer.db import make_engine

if TYPE_CHECKING:
    from conftest import World


ZERO = "0x" + "00" * 20


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
# Titles
# ------------------------------------------------------------------------------------------------------------


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
