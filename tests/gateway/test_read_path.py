"""The read path (issue 18): answers consistent per indexed block with ETags, keyset cursors, filters, and the
same answers with the cache off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from choir_chain.deploy import CHOIR
from choir_chain.devnet import rpc_call
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.models import Cursor

if TYPE_CHECKING:
    from conftest import World

READS = [
    "/threads",
    "/threads?sort=price&order=desc",
    "/threads/1",
    "/threads/1/messages",
    "/threads/1/specs",
    "/threads/1/prices",
    "/threads/1/proposals",
]


def cursor_of(database_url: str) -> tuple[int, str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            cursor = session.get(Cursor, 1)
            assert cursor is not None and cursor.last_block_hash is not None
            return cursor.last_block, cursor.last_block_hash
    finally:
        engine.dispose()


def walk(client: TestClient, url: str, limit: int) -> list[Any]:
    """Every item of a list route, following `next_cursor`."""
    sep = "&" if "?" in url else "?"
    items: list[Any] = []
    page = client.get(f"{url}{sep}limit={limit}").json()
    while True:
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        page = client.get(f"{url}{sep}limit={limit}&cursor={page['next_cursor']}").json()


def test_every_read_says_its_block_and_revalidates_with_its_etag(world: World, client: TestClient) -> None:
    number, block_hash = cursor_of(world.database_url)
    for url in READS:
        first = client.get(url)
        assert first.status_code == 200, url
        assert first.headers["X-Choir-Block"] == str(number)
        assert first.headers["X-Choir-Block-Hash"] == block_hash
        assert first.json()["meta"] == {"block": {"number": number, "hash": block_hash}}
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
        other = client.get(url, headers={"If-None-Match": '"not-it"'})
        assert other.status_code == 200 and other.content == first.content


def test_the_cache_off_gives_the_same_answers(world: World, client: TestClient) -> None:
    with TestClient(create_app(world.settings.model_copy(update={"read_cache_size": 0}))) as cold:
        for url in [*READS, "/threads/1/specs?status=pending", f"/accounts/{world.run.actors.alice.address}"]:
            hot = client.get(url)
            assert cold.get(url).content == hot.content, url
            assert cold.get(url).headers["ETag"] == hot.headers["ETag"]


@pytest.fixture
def grown(fresh_chain: World, tmp_path: Path) -> Iterator[tuple[World, TestClient, str]]:
    """A database of its own indexed to the head, its client, and its URL: the test adds blocks."""
    url = f"sqlite:///{tmp_path / 'grown.db'}"
    fresh_chain.database_url, saved = url, fresh_chain.database_url
    fresh_chain.index()
    settings = fresh_chain.settings.model_copy(update={"database_url": url})
    try:
        with TestClient(create_app(settings)) as own:
            yield fresh_chain, own, url
    finally:
        fresh_chain.database_url = saved


def _new_thread(world: World, tag: str) -> None:
    run = world.run
    run.chain.transact(run.deployment.hub.functions.createThread(keccak(text=tag), 0), run.actors.carol)


def test_a_new_block_changes_the_answer_and_chain_values_come_from_that_block(
    grown: tuple[World, TestClient, str],
) -> None:
    world, client, url = grown
    run = world.run
    hub = run.deployment.hub
    before = client.get("/threads")
    _new_thread(world, "a thread after the first answer")
    world.index()
    after = client.get("/threads")
    number, _hash = cursor_of(url)
    assert after.headers["X-Choir-Block"] == str(number) and after.headers["ETag"] != before.headers["ETag"]
    assert client.get("/threads", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    assert after.json()["total"] == before.json()["total"] + 1
    # A block the indexer has not reached raises the fallback price, which stale threads' prices follow. An
    # answer (computed with the cache off) still gives the prices of the indexed block: nothing of the newer
    # block leaks in, though the hub's parameters are read from the chain.
    run.chain.transact(hub.functions.setFallbackPrice(45 * CHOIR), run.actors.admin)
    settings = world.settings.model_copy(update={"database_url": url, "read_cache_size": 0})
    with TestClient(create_app(settings)) as cold:
        answer = cold.get("/threads")
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
    indexed = {t["thread_id"]: str(hub.functions.price(t["thread_id"]).call(block_identifier=number)) for t in items}
    latest = {t["thread_id"]: str(hub.functions.price(t["thread_id"]).call()) for t in items}
    assert {t["thread_id"]: t["price"] for t in items} == indexed != latest


def test_cursor_pages_are_stable_when_threads_are_added(grown: tuple[World, TestClient, str]) -> None:
    world, client, _url = grown
    for sort in ("created", "price", "activity"):
        for order in ("asc", "desc"):
            listed = client.get(f"/threads?sort={sort}&order={order}").json()["items"]
            assert walk(client, f"/threads?sort={sort}&order={order}", 1) == listed
    first = client.get("/threads?sort=created&order=desc&limit=1").json()
    assert [t["thread_id"] for t in first["items"]] == [2]
    _new_thread(world, "inserted in front of the reader")
    world.index()
    # An offset shifts by the new thread; the cursor continues where the reader was.
    by_offset = client.get("/threads?sort=created&order=desc&limit=1&offset=1").json()["items"]
    by_cursor = client.get(f"/threads?sort=created&order=desc&limit=1&cursor={first['next_cursor']}").json()
    assert [t["thread_id"] for t in by_offset] == [2]
    assert [t["thread_id"] for t in by_cursor["items"]] == [1] and by_cursor["next_cursor"] is None


def test_list_cursors_walk_messages_specs_and_prices(client: TestClient) -> None:
    for url in ("/threads/1/messages", "/threads/1/specs", "/threads/1/prices", "/threads/2/messages"):
        assert walk(client, url, 1) == client.get(url).json()["items"], url


def test_thread_filters(world: World, client: TestClient) -> None:
    actors = world.run.actors
    everything = client.get("/threads").json()["items"]

    def ids(query: str) -> list[int]:
        page = client.get(f"/threads?{query}").json()
        assert page["total"] == len(page["items"])
        return [t["thread_id"] for t in page["items"]]

    assert ids(f"creator={actors.alice.address.lower()}") == [1]
    assert ids(f"creator={actors.bob.address}") == [2]
    alice_threads = [e["thread_id"] for e in client.get(f"/accounts/{actors.alice.address}").json()["equity"]]
    assert ids(f"coauthor={actors.alice.address}") == alice_threads and alice_threads
    assert ids(f"coauthor={actors.heidi.address}") == []
    prices = {t["thread_id"]: int(t["price"]) for t in everything}
    low = min(prices.values())
    assert ids(f"min_price={low + 1}") == [t for t, p in prices.items() if p > low]
    assert ids(f"max_price={low}") == [t for t, p in prices.items() if p == low]
    latest = max(t["last_activity"] for t in everything)
    assert ids(f"active_since={latest}") == [t["thread_id"] for t in everything if t["last_activity"] == latest]
    assert ids(f"active_since={latest + 1}") == []
    assert prices[1] > 0 and 30 * CHOIR in prices.values()


def test_spec_and_message_filters(world: World, client: TestClient) -> None:
    specs = client.get("/threads/1/specs").json()["items"]
    for status in {s["status"] for s in specs}:
        got = client.get(f"/threads/1/specs?status={status}").json()["items"]
        assert got == [s for s in specs if s["status"] == status]
    for author in {s["author"] for s in specs}:
        got = client.get(f"/threads/1/specs?author={author.lower()}").json()["items"]
        assert got == [s for s in specs if s["author"] == author] and got
    messages = client.get("/threads/1/messages").json()["items"]
    kinds = {m["author_kind"] for m in messages}
    assert len(kinds) > 1  # the workload declares several kinds, so the filter has something to drop
    for kind in kinds:
        assert client.get(f"/threads/1/messages?author_kind={kind}").json()["items"] == [
            m for m in messages if m["author_kind"] == kind
        ]
        assert client.get(f"/threads/1/specs?author_kind={kind}").json()["items"] == [
            s for s in specs if s["author_kind"] == kind
        ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJrIjoibWVzc2FnZXMiLCJ2IjpbMV19", "cursor"),  # a messages cursor on the thread list
        ("cursor=eyJrIjoidGhyZWFkczpjcmVhdGVkOmFzYyIsInYiOlsxLDJdfQ&offset=1", "offset"),
        ("min_price=-1", "min_price"),
        ("creator=0x12", "creator"),
        ("active_since=x", "active_since"),
    ],
)
def test_bad_list_queries_are_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/threads?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_health_is_shared_for_its_ttl(fresh_chain: World) -> None:
    """One status serves every request for `health_ttl` seconds; with 0, each request reads the chain."""
    rpc = fresh_chain.run.rpc_url
    for ttl, moves in ((3600.0, False), (0.0, True)):
        with TestClient(create_app(fresh_chain.settings.model_copy(update={"health_ttl": ttl}))) as own:
            before = own.get("/health").json()["chain_head"]
            rpc_call(rpc, "anvil_mine", ["0x1"])
            after = own.get("/health").json()["chain_head"]
            assert (after == before + 1) is moves and after >= before
