"""Message bodies: `POST /content` stores a body only if its keccak256 is an indexed message's content hash,
refuses everything else with the error model and writes nothing then, and is idempotent under concurrency.

Each test gets a content database of its own (`settings.content_url`), so counts start at zero; the indexer's
database is checked to be left exactly as it was.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from fastapi.testclient import TestClient
from helpers.world import dump, gid
from sqlalchemy import Engine, inspect, select

from api.app import create_app
from api.errors import ErrorBody
from choir_chain import artifacts, content_store
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import Indexer
from choir_chain.indexer.db import make_engine
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World
    from helpers.world import ChainRun

LIMIT = 64 * 1024


@dataclass
class Content:
    client: TestClient
    engine: Engine
    """The content database."""

    def stored(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(content_store.content_bodies.c.content_hash, content_store.content_bodies.c.body)
            )
            return {str(h): str(b) for h, b in rows}


@pytest.fixture
def content(world: World, tmp_path: Path) -> Iterator[Content]:
    url = f"sqlite:///{tmp_path / 'content.db'}"
    settings = world.settings.model_copy(update={"content_url": url})
    engine = make_engine(url)
    with TestClient(create_app(settings)) as client:
        yield Content(client, engine)
    engine.dispose()


def digest(text: str) -> str:
    return "0x" + keccak(text=text).hex()


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    ErrorBody.model_validate(body)
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body


def post_raw(client: TestClient, raw: bytes, content_type: str = "application/json") -> Any:
    return client.post("/content", content=raw, headers={"content-type": content_type})


def test_store_and_read_a_body(content: Content) -> None:
    client = content.client
    answer = client.post("/content", json={"body": "alice post"})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"content_hash": digest("alice post"), "messages": [str(gid(1, 1))]}
    got = client.get(f"/content/{digest('alice post')}")
    assert got.json() == {"content_hash": digest("alice post"), "body": "alice post"}
    assert client.get(f"/content/{digest('alice post').upper().replace('0X', '0x')}").status_code == 200
    messages = client.get("/threads/1/messages").json()["items"]
    assert [m["body"] for m in messages] == [None, "alice post", None, None, None, None]
    # a spec's body (denied specs included) and a thread root are accepted too
    assert client.post("/content", json={"body": "dave spec"}).json()["messages"] == [str(gid(2, 1))]
    assert client.post("/content", json={"body": "root 2"}).json()["messages"] == [str(gid(2, 0))]
    assert client.get("/threads/2/messages?limit=2").json()["items"][1]["body"] == "dave spec"
    assert content.stored() == {digest(t): t for t in ("alice post", "dave spec", "root 2")}


def test_idempotent(content: Content) -> None:
    first = content.client.post("/content", json={"body": "root 1"})
    again = content.client.post("/content", json={"body": "root 1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert content.stored() == {digest("root 1"): "root 1"}


def test_unicode_body(world: World, content: Content, fresh_chain: World) -> None:
    """A non-ASCII body posted on chain in this test (chain reverted after; the shared database is not
    touched: the post is indexed into the content test's own copy)."""
    text = "Ünïcödé — 合唱 🎶\nline two"
    run = fresh_chain.run
    post = run.deployment.thread(1).functions.post(keccak(text=text), [], AuthorKind.HUMAN)
    run.chain.transact(post, run.actors.alice)
    engine = make_engine(f"sqlite:///{Path(str(content.engine.url.database)).parent / 'own-index.db'}")
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        indexer.sync()
    settings = world.settings.model_copy(
        update={"database_url": str(engine.url), "content_url": str(content.engine.url)}
    )
    with TestClient(create_app(settings)) as client:
        answer = client.post("/content", json={"body": text})
        assert answer.status_code == 201, answer.text
        assert answer.json()["messages"] == [str(gid(1, 6))]
        assert client.get(f"/content/{digest(text)}").json()["body"] == text
        assert client.get("/threads/1/messages?offset=6").json()["items"][0]["body"] == text
    engine.dispose()


def test_refusals_write_nothing(world: World, content: Content) -> None:
    client = content.client
    before = dump(make_engine(world.database_url))
    # no message has this hash
    assert_error(client.post("/content", json={"body": "not on chain"}), 404, "unknown_content", "body")
    assert_error(client.post("/content", json={"body": "alice post "}), 404, "unknown_content", "body")
    assert_error(client.post("/content", json={"body": ""}), 404, "unknown_content")
    # too large: the body's UTF-8 bytes, and a raw request too large to hold any allowed body
    assert_error(client.post("/content", json={"body": "x" * (LIMIT + 1)}), 413, "too_large", "body")
    assert_error(client.post("/content", json={"body": "é" * (LIMIT // 2 + 1)}), 413, "too_large", "body")
    assert_error(post_raw(client, b'{"body": "' + b" " * (7 * LIMIT) + b'"}'), 413, "too_large", "body")
    # not UTF-8: raw bytes, and a JSON string with a lone surrogate (valid JSON grammar, not Unicode text)
    assert_error(post_raw(client, b'{"body": "\xff\xfe caf\xe9"}'), 400, "invalid_utf8", "body")
    assert_error(post_raw(client, b'{"body": "\\ud800"}'), 422, "invalid_json", "body")  # lone surrogate
    # not JSON, or JSON of the wrong shape
    for raw in (b"", b"{", b'{"body": "x"', b"body=x", b"[" * 100_000 + b"]" * 100_000, b"NaN"):
        response = post_raw(client, raw)
        assert response.status_code == 422, (raw[:20], response.text)
        assert response.json()["error"]["code"] in ("invalid_json", "invalid_request")
    assert_error(post_raw(client, b"{"), 422, "invalid_json", "body")
    assert_error(client.post("/content", json={"text": "alice post"}), 422, "invalid_request")
    assert_error(client.post("/content", json={"body": 5}), 422, "invalid_request", "body")
    assert_error(client.post("/content", json={"body": None}), 422, "invalid_request", "body")
    assert_error(client.post("/content", json=["alice post"]), 422, "invalid_request")
    assert_error(client.post("/content", json={"body": "alice post", "extra": 1}), 422, "invalid_request", "extra")
    # not JSON at all
    assert_error(post_raw(client, b'{"body": "alice post"}', "text/plain"), 415, "unsupported_media_type")
    assert_error(client.post("/content", data={"body": "alice post"}), 415, "unsupported_media_type")
    assert content.stored() == {}
    assert dump(make_engine(world.database_url)) == before
    # the same body, sent properly (with a JSON media type variant), lands
    assert post_raw(client, b'{"body": "alice post"}', "application/json; charset=utf-8").status_code == 201
    assert content.stored() == {digest("alice post"): "alice post"}


def test_a_body_at_the_limit_is_checked_not_refused(content: Content) -> None:
    """Exactly `max_content_bytes` passes the size check (and fails only on the hash); escaped JSON of it too."""
    assert_error(content.client.post("/content", json={"body": "x" * LIMIT}), 404, "unknown_content")
    escaped = b'{"body": "' + b"\\u0001" * LIMIT + b'"}'
    assert_error(post_raw(content.client, escaped), 404, "unknown_content")


def test_get_content_refusals(content: Content) -> None:
    client = content.client
    assert_error(client.get(f"/content/{digest('alice post')}"), 404, "unknown_content", "content_hash")
    for bad in ("0x12", "ab" * 32, "0x" + "g" * 64, "0x" + "ab" * 33):
        assert_error(client.get(f"/content/{bad}"), 422, "invalid_request", "content_hash")


def test_content_table_is_separate(world: World, content: Content) -> None:
    """The content table lives in the content database only; the indexer's database gets no new table."""
    assert "content_bodies" in inspect(content.engine).get_table_names()
    indexer = make_engine(world.database_url)
    try:
        assert "content_bodies" not in inspect(indexer).get_table_names()
    finally:
        indexer.dispose()


def test_concurrent_posts(world: World, content: Content) -> None:
    """~200 concurrent requests, mostly garbage: the garbage writes nothing, each valid body lands once."""
    valid = ["root 1", "root 2", "alice post", "carol spec", "erin spec", "heidi spec"]
    rng = random.Random(7)
    garbage: list[tuple[bytes, str]] = [(b'{"body": "not on chain %d"}' % n, "application/json") for n in range(40)]
    garbage += [(b'{"body": "\xff%d"}' % n, "application/json") for n in range(30)]
    garbage += [(b'{"body": "' + b"y" * (LIMIT + n + 1) + b'"}', "application/json") for n in range(20)]
    garbage += [(b'{"body": ' + str(n).encode(), "application/json") for n in range(30)]
    garbage += [(b'{"body": "alice post"}', "text/plain") for _ in range(20)]
    requests: list[tuple[bytes, str]] = garbage + [
        (b'{"body": "%s"}' % text.encode(), "application/json") for text in valid for _ in range(10)
    ]
    rng.shuffle(requests)
    assert len(requests) == 200
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda r: post_raw(content.client, r[0], r[1]).status_code, requests))
    ok = [s for s, (raw, kind) in zip(statuses, requests, strict=True) if s == 201]
    assert len(ok) == 10 * len(valid)
    assert all(400 <= s < 500 for s in statuses if s != 201)
    assert content.stored() == {digest(t): t for t in valid}
    assert content_store.count(content.engine) == len(valid)


def test_a_mined_but_unindexed_message_is_stored_with_its_transaction(
    world: World, content: Content, fresh_chain: World
) -> None:
    """The wallet's race: the receipt is in, the indexer has not seen the block yet. Without `tx_hash` that is a
    404; with it the gateway checks the receipt on chain and stores the body at once (the index is untouched)."""
    run, client = fresh_chain.run, content.client
    text = "posted a moment ago"
    thread = run.deployment.thread(2)
    receipt = run.chain.transact(thread.functions.post(keccak(text=text), [], AuthorKind.HUMAN), run.actors.bob)
    index_ = thread.functions.messageCount().call() - 1
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    before = dump(make_engine(world.database_url))
    assert_error(client.post("/content", json={"body": text}), 404, "unknown_content", "body")
    answer = client.post("/content", json={"body": text, "tx_hash": tx_hash.upper().replace("0X", "0x")})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"content_hash": digest(text), "messages": [str(gid(2, index_))]}
    assert content.stored() == {digest(text): text}
    assert client.get(f"/content/{digest(text)}").json()["body"] == text
    assert dump(make_engine(world.database_url)) == before  # the gateway never writes the index
    # an indexed body with any (even a wrong) transaction hash is stored as before: the index already proves it
    again = client.post("/content", json={"body": "alice post", "tx_hash": tx_hash})
    assert again.status_code == 201, again.text


def test_a_transaction_that_does_not_carry_the_body_is_refused(
    world: World, content: Content, fresh_chain: World
) -> None:
    """A forged hash, a transaction of another body, one that created no message, one of a contract outside the
    deployment: each a 4xx in the error model, and nothing is stored."""
    run, client = fresh_chain.run, content.client
    thread = run.deployment.thread(1)
    posted = run.chain.transact(
        thread.functions.post(keccak(text="the real one"), [], AuthorKind.HUMAN), run.actors.alice
    )
    other_tx = "0x" + bytes(posted["transactionHash"]).hex()
    token = run.deployment.token
    transfer = run.chain.transact(token.functions.transfer(run.actors.bob.address, 1), run.actors.alice)
    transfer_tx = "0x" + bytes(transfer["transactionHash"]).hex()
    before = dump(make_engine(world.database_url))

    forged = "0x" + keccak(text="no such transaction").hex()
    assert_error(
        client.post("/content", json={"body": "sneaky", "tx_hash": forged}), 404, "unknown_transaction", "tx_hash"
    )
    for tx_hash in (other_tx, transfer_tx):
        answer = client.post("/content", json={"body": "sneaky", "tx_hash": tx_hash})
        assert_error(answer, 422, "content_not_in_transaction", "tx_hash")
        assert digest("sneaky") in answer.json()["error"]["message"]
    for bad in ("0x1234", "not a hash", 5, "0x" + "g" * 64):
        assert_error(
            client.post("/content", json={"body": "sneaky", "tx_hash": bad}), 422, "invalid_request", "tx_hash"
        )
    assert content.stored() == {}
    assert dump(make_engine(world.database_url)) == before


def test_a_look_alike_event_of_another_contract_proves_nothing(content: Content, fresh_chain: World) -> None:
    """A contract outside the deployment emitting `MessagePosted` with the body's hash (a thread implementation's
    event signature copied): the log decodes, but its address is not one of the hub's threads."""
    run, client = fresh_chain.run, content.client
    text = "look-alike"
    receipt = impostor_post(run, keccak(text=text))
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    assert_error(client.post("/content", json={"body": text, "tx_hash": tx_hash}), 422, "content_not_in_transaction")
    assert content.stored() == {}


def impostor_post(run: ChainRun, content_hash: bytes) -> Any:
    """Create a contract whose constructor emits `MessagePosted(7, sender, content_hash, [], HUMAN)`: the
    thread's event, byte for byte, from an address that is no thread of the hub. Returns the receipt."""
    abi = next(e for e in artifacts.load("ThreadDAO").abi if e.get("type") == "event" and e["name"] == "MessagePosted")
    signature = f"MessagePosted({','.join(i['type'] for i in abi['inputs'])})"
    topics = [keccak(text=signature), (7).to_bytes(32, "big"), bytes(12) + bytes.fromhex(run.actors.alice.address[2:])]
    data = abi_encode(["bytes32", "uint256[]", "uint8"], [content_hash, [], int(AuthorKind.HUMAN)])
    # memory[0:len] = data (appended after the code); LOG3(0, len, topic0, topic1, topic2); STOP
    head_len = 3 + 3 + 2 + 1 + 3 * 33 + 3 + 2 + 1 + 1
    code = (
        b"\x61" + len(data).to_bytes(2, "big") + b"\x61" + head_len.to_bytes(2, "big") + b"\x60\x00" + b"\x39"
        + b"".join(b"\x7f" + t for t in reversed(topics))
        + b"\x61" + len(data).to_bytes(2, "big") + b"\x60\x00" + b"\xa3" + b"\x00"
    )  # fmt: skip
    assert len(code) == head_len
    w3, sender = run.chain.w3, run.actors.alice
    tx: dict[str, Any] = {
        "data": code + data,
        "nonce": w3.eth.get_transaction_count(sender.address),
        "gas": 200_000,
        "gasPrice": 2 * w3.eth.gas_price,
        "chainId": w3.eth.chain_id,
    }
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1 and len(receipt["logs"]) == 1
    assert bytes(receipt["logs"][0]["topics"][0]) == topics[0]
    return receipt


def test_a_rate_limited_node_is_a_clear_503_and_stores_nothing(world: World, tmp_path: Path) -> None:
    """The chain's provider answers 429 to everything: checking a transaction is a 503 `node_unavailable` in the
    error model (never a guess, never a 500), and nothing is stored."""
    url = f"sqlite:///{tmp_path / 'content.db'}"
    with FaultyRpc(world.run.rpc_url, Faults(max_span=None)) as proxy:
        settings = world.settings.model_copy(update={"content_url": url, "rpc_url": proxy.url})
        with TestClient(create_app(settings)) as client:
            proxy.faults = Faults(max_span=None, rate_limited=1.0, retry_after=0)
            tx_hash = "0x" + keccak(text="any").hex()
            answer = client.post("/content", json={"body": "sneaky", "tx_hash": tx_hash})
            assert_error(answer, 503, "node_unavailable")
            assert "HTTP 429" in answer.json()["error"]["message"]
            # an indexed body needs no node: stored as ever
            assert client.post("/content", json={"body": "alice post"}).status_code == 201
    assert proxy.counts["rate_limited"] > 0
    engine = make_engine(url)
    assert [h for (h,) in engine.connect().execute(select(content_store.content_bodies.c.content_hash))] == [
        digest("alice post")
    ]
    engine.dispose()
