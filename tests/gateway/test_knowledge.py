"""The knowledge network routes: the citation graph (`GET /graph`, `GET /threads/{id}/graph`), novelty on
messages and specs, and semantic search (`GET /search`) with the real embedding model.

On top of the indexer tests' workload (see `conftest.py`; this module has its own devnet), the `network` fixture
adds a third thread whose post cites threads 1 and 2 at once and whose spec citing thread 1 counts only once
approved, scores two messages' novelty through the rewards distributor's oracle role (the pricer account), and
posts three bodies on distinct topics for the search. Expected values come from the chain's logs and views,
not from the database the routes read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from helpers.world import content, gid, time_travel
from web3.contract import Contract

from api.app import create_app
from api.errors import ErrorBody
from choir_chain.deploy import CHOIR, DAY
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.protocol import split_message_id
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World

    from choir_chain.semantics.embedder import Embedder

WAD = 10**18
TOPICS = {
    "bread": "Feed the sourdough starter twice a day with rye flour and warm water before baking the loaf.",
    "chain": "Validators that sign two conflicting blocks lose part of their stake to slashing.",
    "birds": "Migratory birds find their way across oceans by sensing the earth's magnetic field.",
}
"""Bodies of three posts in thread 1, one topic each; a query about one topic must find its body first."""


@dataclass
class Network:
    thread_id: int
    """The thread the fixture created (3)."""
    post_index: int
    spec_index: int
    scores: dict[int, float]
    """global id -> the max similarity the oracle set."""
    topic_ids: dict[str, int]
    """topic -> global id of its post."""


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    ErrorBody.model_validate(body)
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body


def counted_links_on_chain(world: World) -> dict[tuple[int, int], int]:
    """(citing thread, cited thread) -> citations the hub counted, from its `CitationRecorded` logs."""
    hub = world.run.deployment.hub
    out: dict[tuple[int, int], int] = defaultdict(int)
    for entry in hub.events.CitationRecorded().get_logs(from_block=0, to_block="latest"):
        out[(split_message_id(entry["args"]["citingMessageId"])[0], entry["args"]["citedThreadId"])] += 1
    return dict(out)


def citation_rewards_on_chain(world: World) -> dict[tuple[int, int], int]:
    """(citing thread, cited thread) -> CHOIR credited to the cited thread for the citing thread's messages."""
    hub, deployment = world.run.deployment.hub, world.run.deployment
    out: dict[tuple[int, int], int] = defaultdict(int)
    for thread_id in range(1, hub.functions.threadCount().call() + 1):
        dao: Contract = deployment.thread(thread_id)
        for entry in dao.events.RewardCredited().get_logs(from_block=0, to_block="latest"):
            citing = split_message_id(entry["args"]["messageId"])[0]
            if citing != thread_id:
                out[(citing, thread_id)] += entry["args"]["amount"]
    return dict(out)


@pytest.fixture(scope="module")
def network(world: World) -> Network:
    run = world.run
    a, chain, hub, token = run.actors, run.chain, run.deployment.hub, run.deployment.token
    distributor = run.deployment.distributor
    assert distributor is not None

    chain.transact(hub.functions.createThread(content("thread three"), AuthorKind.AI), a.grace)
    thread_id = hub.functions.threadCount().call()
    t3 = run.deployment.thread(thread_id)
    time_travel(run.rpc_url, 2)
    post_index = t3.functions.messageCount().call()
    chain.transact(t3.functions.post(content("grace cites"), [gid(1, 0), gid(2, 0)], AuthorKind.HUMAN), a.grace)
    spec_index = t3.functions.messageCount().call()
    stake = hub.functions.price(thread_id).call()
    chain.transact(token.functions.approve(t3.address, stake), a.dave)
    spec = t3.functions.submitSpec(content("dave cites thread 1"), [gid(1, 1), gid(1, 2)], stake, AuthorKind.AI)
    chain.transact(spec, a.dave)

    # the oracle scores the spec (its weight in its epoch's allocation once approved) and thread 1's post; a
    # later round re-scores the spec (the workload's round 1 scored carol's spec)
    scores = {gid(thread_id, spec_index): 0.8, gid(1, 1): 0.9}
    ids = list(scores)
    first = distributor.functions.lastNoveltyRound().call() + 1
    score = distributor.functions.setNoveltyScores
    chain.transact(score(first, "all-MiniLM-L6-v2", 0, ids, [int(0.5 * WAD), int(0.9 * WAD)]), a.pricer)
    chain.transact(score(first + 1, "all-MiniLM-L6-v2", 0, [ids[0]], [int(0.8 * WAD)]), a.pricer)

    topic_ids = {}
    t1 = run.deployment.thread(1)
    for topic, body in TOPICS.items():
        topic_ids[topic] = gid(1, t1.functions.messageCount().call())
        chain.transact(t1.functions.post(content(body), [], AuthorKind.AI_PROMPTED), a.alice)
    world.index()
    return Network(thread_id, post_index, spec_index, scores, topic_ids)


@pytest.fixture(scope="module")
def app_client(world: World, network: Network) -> Iterator[TestClient]:
    """The module's `client`, once `network` is applied and indexed."""
    with TestClient(create_app(world.settings)) as client:
        yield client


SPEC_REWARD = 20 * CHOIR + 3
"""What the closed epoch's allocation pays thread 3's spec once approved (10% of it to thread 1, cited)."""


def approve_the_spec(world: World, network: Network) -> None:
    """Approve and settle thread 3's spec (nothing minted), close its epoch, and let the oracle pay it."""
    run = world.run
    t3 = run.deployment.thread(network.thread_id)
    distributor = run.deployment.distributor
    assert distributor is not None
    run.chain.transact(t3.functions.vote(network.spec_index, True), run.actors.grace)
    run.chain.transact(t3.functions.settle(network.spec_index), run.actors.heidi)
    certain = t3.functions.approvalCertainAt(network.spec_index).call()
    epoch = (certain - distributor.functions.launchTime().call()) // DAY
    time_travel(run.rpc_url, DAY)
    message_id = gid(network.thread_id, network.spec_index)
    run.chain.transact(distributor.functions.allocate(epoch, [message_id], [SPEC_REWARD]), run.actors.pricer)
    world.index()


# ------------------------------------------------------------------------------------------------------------
# The citation graph
# ------------------------------------------------------------------------------------------------------------


def check_network(world: World, graph: dict[str, Any]) -> None:
    """Nodes are every thread; edges and their weights are the hub's counted citations and the citation
    rewards, as the chain's logs have them; the threads citing a thread number `hub.citationsReceived`."""
    hub = world.run.deployment.hub
    count = hub.functions.threadCount().call()
    assert [n["thread_id"] for n in graph["nodes"]] == list(range(1, count + 1))
    links, rewards = counted_links_on_chain(world), citation_rewards_on_chain(world)
    edges = {(e["source"], e["target"]): e for e in graph["edges"]}
    assert {pair: e["citations"] for pair, e in edges.items()} == links
    assert {pair: int(e["choir"]) for pair, e in edges.items() if int(e["choir"])} == rewards
    assert [(e["source"], e["target"]) for e in graph["edges"]] == sorted(edges)
    for node in graph["nodes"]:
        n = node["thread_id"]
        received = hub.functions.citationsReceived(n).call()
        # protocol 7 (r2): the hub counts distinct citing threads, each edge into n with a citation being one
        citing = {e["source"] for e in graph["edges"] if e["target"] == n and e["citations"]}
        assert node["citations_received"] == received == len(citing)
        assert node["citations_made"] == sum(e["citations"] for e in graph["edges"] if e["source"] == n)
        assert node["address"] == hub.functions.threadAddress(n).call()


def test_graph_counts_citations_as_the_hub_does(world: World, network: Network, app_client: TestClient) -> None:
    t = network.thread_id
    graph = app_client.get("/graph").json()
    check_network(world, graph)
    # the workload: thread 1 cites thread 2 by a post, an approved spec and a post citing a denied spec; its
    # self-citations and thread 2's denied spec citing thread 1 do not count. Thread 3's post counts at once, its
    # pending spec not yet.
    weights = {(e["source"], e["target"]): e["citations"] for e in graph["edges"]}
    assert weights == {(1, 2): 3, (t, 1): 1, (t, 2): 1}
    choir = {(e["source"], e["target"]): int(e["choir"]) for e in graph["edges"]}
    assert choir[(1, 2)] > 0 and choir[(t, 1)] == choir[(t, 2)] == 0
    assert all(n["title"] is None for n in graph["nodes"])  # no root body stored yet

    one = app_client.get("/threads/1/graph").json()
    assert [n["thread_id"] for n in one["nodes"]] == [1, 2, t]
    assert {(e["source"], e["target"]) for e in one["edges"]} == {(1, 2), (t, 1)}
    assert (one["thread_id"], one["citations_out"], one["citations_in"]) == (1, 3, 1)
    assert (one["choir_out"], one["choir_in"]) == (str(choir[(1, 2)]), "0")
    assert next(n for n in one["nodes"] if n["thread_id"] == 1)["citations_made"] == 3
    assert next(n for n in one["nodes"] if n["thread_id"] == t)["citations_made"] == 2  # both of its edges

    root = app_client.post("/content", json={"body": "thread three"})
    assert root.status_code == 201, root.text
    three = app_client.get(f"/threads/{t}/graph").json()
    assert [n["thread_id"] for n in three["nodes"]] == [1, 2, t]
    assert next(n for n in three["nodes"] if n["thread_id"] == t)["title"] == "thread three"
    assert (three["citations_out"], three["citations_in"], three["choir_out"]) == (2, 0, "0")


def test_approval_adds_the_specs_citations_and_rewards(world: World, network: Network, app_client: TestClient) -> None:
    """Runs after the test above (same module state): approving thread 3's spec counts its two citations of
    thread 1 and, once its epoch closed, the allocation credits thread 1 its citation share of the spec's reward."""
    t = network.thread_id
    approve_the_spec(world, network)
    graph = app_client.get("/graph").json()
    check_network(world, graph)
    edge = next(e for e in graph["edges"] if (e["source"], e["target"]) == (t, 1))
    assert edge["citations"] == 3 and int(edge["choir"]) == SPEC_REWARD // 10
    three = app_client.get(f"/threads/{t}/graph").json()
    assert (three["citations_out"], three["choir_out"]) == (4, edge["choir"])
    assert app_client.get("/threads/1/graph").json()["choir_in"] == edge["choir"]
    # the gateway shows the minted reward on the message and on the spec
    messages = {m["index"]: m for m in app_client.get(f"/threads/{t}/messages").json()["items"]}
    paid = messages[network.spec_index]
    assert paid["reward"] == str(SPEC_REWARD) and isinstance(paid["reward_epoch"], int)
    (spec,) = [s for s in app_client.get(f"/threads/{t}/specs").json()["items"] if s["spec_id"] == network.spec_index]
    assert (spec["reward"], spec["reward_epoch"]) == (paid["reward"], paid["reward_epoch"])
    assert messages[network.post_index]["reward"] is None


def test_graph_refusals(app_client: TestClient) -> None:
    assert_error(app_client.get("/threads/999/graph"), 404, "unknown_thread", "thread_id")
    assert_error(app_client.get("/threads/0/graph"), 404, "unknown_thread", "thread_id")
    assert_error(app_client.get("/threads/-1/graph"), 422, "invalid_request", "thread_id")
    assert_error(app_client.get("/threads/x/graph"), 422, "invalid_request", "thread_id")


# ------------------------------------------------------------------------------------------------------------
# Author kind and novelty on messages and specs
# ------------------------------------------------------------------------------------------------------------


def test_novelty_and_author_kind(world: World, network: Network, app_client: TestClient) -> None:
    t = network.thread_id
    messages = {m["index"]: m for m in app_client.get(f"/threads/{t}/messages").json()["items"]}
    assert [messages[i]["author_kind"] for i in sorted(messages)] == ["ai", "human", "ai"]
    spec_message = messages[network.spec_index]
    assert spec_message["max_similarity"] == pytest.approx(0.8)  # round 2 overwrote round 1's 0.5
    assert spec_message["novelty"] == pytest.approx(0.2)
    assert spec_message["novelty_weight"] == pytest.approx(10.0)
    assert spec_message["novelty_weight"] == pytest.approx(novelty_reward(spec_message["max_similarity"]))
    distributor = world.run.deployment.distributor
    assert distributor is not None
    on_chain = distributor.functions.noveltyWeight(int(0.8 * WAD)).call()
    assert spec_message["novelty_weight"] == pytest.approx(on_chain / WAD, rel=1e-6)
    unscored = messages[network.post_index]
    assert (unscored["max_similarity"], unscored["novelty"], unscored["novelty_weight"]) == (None, None, None)
    assert (unscored["reward"], unscored["reward_epoch"]) == (None, None)

    (spec,) = [s for s in app_client.get(f"/threads/{t}/specs").json()["items"] if s["spec_id"] == network.spec_index]
    assert spec["author_kind"] == "ai"
    assert spec["max_similarity"] == spec_message["max_similarity"]
    assert spec["novelty_weight"] == spec_message["novelty_weight"]
    assert spec["reward"] == spec_message["reward"]
    alice_post = app_client.get("/threads/1/messages?offset=1&limit=1").json()["items"][0]
    assert alice_post["author_kind"] == "ai_prompted"
    assert alice_post["max_similarity"] == pytest.approx(0.9)
    assert alice_post["novelty_weight"] == pytest.approx(0.1)
    assert alice_post["reward"] is None  # a post is never paid


# ------------------------------------------------------------------------------------------------------------
# Semantic search
# ------------------------------------------------------------------------------------------------------------


def test_search_finds_by_meaning(embedder: Embedder, world: World, network: Network, app_client: TestClient) -> None:
    """Each topic's body comes first for a query about that topic worded differently; bodies stored after a
    search are found by the next one."""
    client = app_client
    for topic in ("bread", "chain"):
        assert client.post("/content", json={"body": TOPICS[topic]}).status_code == 201
    answer = client.get("/search", params={"q": "how do I bake bread at home", "k": 2})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["query"], result["k"]) == ("how do I bake bread at home", 2)
    assert result["searched"] >= 2 and len(result["items"]) == 2
    first = result["items"][0]
    assert first["body"] == TOPICS["bread"] and first["content_hash"] == "0x" + content(TOPICS["bread"]).hex()
    assert first["messages"] == [
        {
            "thread_id": 1,
            "index": split_message_id(network.topic_ids["bread"])[1],
            "global_id": str(network.topic_ids["bread"]),
            "kind": "post",
            "author": world.run.actors.alice.address,
            "author_kind": "ai_prompted",
        }
    ]
    scores = [hit["score"] for hit in result["items"]]
    assert scores == sorted(scores, reverse=True) and -1 <= scores[-1] <= scores[0] <= 1

    # the birds body is not stored yet: it cannot be found; once stored, the next search finds it first
    query: dict[str, str | int] = {"q": "animal navigation during seasonal migration", "k": 50}
    before = client.get("/search", params=query).json()
    assert TOPICS["birds"] not in [hit["body"] for hit in before["items"]]
    assert client.post("/content", json={"body": TOPICS["birds"]}).status_code == 201
    after = client.get("/search", params=query).json()
    assert after["items"][0]["body"] == TOPICS["birds"]
    assert after["searched"] == before["searched"] + 1
    assert len(after["items"]) == after["searched"]  # k above the number of bodies: every body once

    chain_hit = client.get("/search", params={"q": "punishment for misbehaving proof-of-stake validators"}).json()
    assert chain_hit["items"][0]["body"] == TOPICS["chain"] and chain_hit["k"] == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   \n"}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "bread", "k": 0}, "k"),
        ({"q": "bread", "k": 51}, "k"),
        ({"q": "bread", "k": "ten"}, "k"),
    ],
)
def test_search_refusals(app_client: TestClient, params: dict[str, Any], field: str) -> None:
    assert_error(app_client.get("/search", params=params), 422, "invalid_request", field)


def test_search_can_be_switched_off(world: World) -> None:
    settings = world.settings.model_copy(update={"search_enabled": False})
    with TestClient(create_app(settings)) as client:
        assert_error(client.get("/search", params={"q": "bread"}), 503, "search_disabled")
        assert_error(client.get("/search", params={"q": ""}), 422, "invalid_request", "q")  # still validated first
