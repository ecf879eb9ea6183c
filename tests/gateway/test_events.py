"""`GET /events`: the deployment's events as Server-Sent Events, read with httpx from a real uvicorn server (the
TestClient buffers a whole response, so it cannot follow an endless stream)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from helpers.world import content, gid, time_travel

from api import eventstream
from api.app import create_app
from choir_chain import artifacts
from choir_chain.devnet import free_port
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """The gateway under uvicorn on a free port, in a thread of this process."""
    port = free_port()
    config = uvicorn.Config(
        create_app(world.settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3
    )
    uvicorn_server = uvicorn.Server(config)
    runner = threading.Thread(target=uvicorn_server.run, name="gateway-under-test", daemon=True)
    runner.start()
    deadline = time.monotonic() + 15
    while not uvicorn_server.started:
        assert runner.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    runner.join(timeout=10)


@dataclass
class Received:
    events: list[dict[str, Any]] = field(default_factory=list)
    """(id, event name, data) of each event, as dicts {"id", "event", "data"}."""
    comments: list[str] = field(default_factory=list)


class Reader:
    """The lines of one SSE response (httpx lets a response be iterated once)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()


def read(reader: Reader, until: Callable[[Received], bool], timeout: float = 10.0) -> Received:
    """Parse the SSE stream until `until(received)` holds (or fail after `timeout` seconds)."""
    got = Received()
    deadline = time.monotonic() + timeout
    block: dict[str, str] = {}
    for line in reader.lines:
        if line.startswith(":"):
            got.comments.append(line[1:].strip())
        elif line:
            name, _, value = line.partition(":")
            block[name] = value[1:] if value.startswith(" ") else value
        elif "data" in block:
            got.events.append({"id": block.get("id"), "event": block.get("event"), "data": json.loads(block["data"])})
            block = {}
        else:
            block = {}
        if until(got):
            return got
        assert time.monotonic() < deadline, f"stream ended the wait with {len(got.events)} events"
    raise AssertionError("the stream closed")


@contextlib.contextmanager
def open_stream(base: str, **params: Any) -> Iterator[Reader]:
    headers = params.pop("headers", {})
    with httpx.stream("GET", f"{base}/events", params=params, headers=headers, timeout=10.0) as response:
        yield Reader(response)


def deployment_logs(world: World, first: int, last: int) -> list[tuple[int, int]]:
    """(block, log index) of every log of the deployment's contracts in `[first, last]`, straight from the node."""
    d = world.run.deployment
    hub, count = d.hub, d.hub.functions.threadCount().call()
    addresses = {d.hub.address, d.token.address}
    if d.distributor is not None:
        addresses.add(d.distributor.address)
    for thread_id in range(1, count + 1):
        addresses.add(hub.functions.threadAddress(thread_id).call())
        governor = hub.functions.governorOf(thread_id).call()
        if int(governor, 16):
            addresses.add(governor)
    logs = world.run.chain.w3.eth.get_logs({"fromBlock": first, "toBlock": last})
    return sorted((log["blockNumber"], log["logIndex"]) for log in logs if log["address"] in addresses)


def test_live_vote_is_streamed(server: str, fresh_chain: World) -> None:
    world = fresh_chain
    a, chain, token = world.run.actors, world.run.chain, world.run.deployment.token
    t1 = world.run.deployment.thread(1)
    with open_stream(server) as response:
        assert response.response.status_code == 200
        assert response.response.headers["content-type"].startswith("text/event-stream")
        read(response, lambda got: bool(got.comments))  # the stream is open: the opening comment
        stake = world.run.deployment.hub.functions.price(1).call()
        chain.transact(token.functions.approve(t1.address, stake), a.dave)
        spec_id = t1.functions.messageCount().call()
        chain.transact(t1.functions.submitSpec(content("streamed"), [], stake, AuthorKind.AI), a.dave)
        sent = time.monotonic()
        receipt = chain.transact(t1.functions.vote(spec_id, True), a.alice)
        got = read(response, lambda got: any(e["event"] == "VoteCast" for e in got.events), timeout=5)
        latency = time.monotonic() - sent
    assert latency < 3
    names = [e["event"] for e in got.events]
    assert names[0] == "Approval" and "SpecSubmitted" in names and names[-1] == "VoteCast"
    vote = got.events[-1]
    assert vote["data"] == {
        "event": "VoteCast",
        "address": t1.address,
        "source": "thread",
        "thread_id": 1,
        "block": receipt["blockNumber"],
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "log_index": receipt["logs"][0]["logIndex"],
        "args": {"specId": str(spec_id), "voter": a.alice.address, "approve": True},
    }
    assert vote["id"] == f"{receipt['blockNumber']}-{receipt['logs'][0]['logIndex']}"
    submitted = next(e["data"] for e in got.events if e["event"] == "SpecSubmitted")
    assert submitted["args"]["stake"] == str(stake) and submitted["args"]["citations"] == []
    assert submitted["args"]["authorKind"] == str(int(AuthorKind.AI))  # the enum's value, as integers are


def test_replay_is_every_event_of_the_deployment(server: str, world: World) -> None:
    """From the deploy block, the stream is exactly the node's logs of the hub, token, distributor, threads and
    governors, in chain order, each decoded."""
    first, last = world.run.deployment.manifest.deploy_block, world.run.chain.w3.eth.block_number
    expected = deployment_logs(world, first, last)
    with open_stream(server, from_block=0) as response:
        got = read(response, lambda got: len(got.events) >= len(expected), timeout=20)
    assert [(e["data"]["block"], e["data"]["log_index"]) for e in got.events] == expected
    assert {e["data"]["source"] for e in got.events} == {"hub", "token", "distributor", "thread", "governor"}
    names = {e["event"] for e in got.events}
    for name in (
        "ThreadCreated",
        "SpecSettled",
        "CuratorRewardClaimed",
        "CoauthorExited",
        "PricesUpdated",
        "ApprovalCertain",
        "MessageRewarded",
        "EpochAllocated",
        "Transfer",
        "ProposalCreated",
        "ProposalQueued",
        "ProposalExecuted",
    ):
        assert name in names, name
    created = next(e["data"] for e in got.events if e["event"] == "ProposalCreated")
    assert created["source"] == "governor" and created["thread_id"] == 1
    assert created["args"]["description"] == "pay heidi" and created["args"]["calldatas"][0].startswith("0x")
    assert all(e["event"] == e["data"]["event"] for e in got.events)

    # a client that reconnects with the last id it saw gets what follows it, nothing twice
    middle = got.events[len(got.events) // 2]
    with open_stream(server, headers={"Last-Event-ID": middle["id"]}) as response:
        resumed = read(response, lambda r: len(r.events) >= 3)
    position = len(got.events) // 2 + 1
    assert [e["id"] for e in resumed.events[:3]] == [e["id"] for e in got.events[position : position + 3]]


def test_new_thread_and_governor_are_followed(server: str, fresh_chain: World) -> None:
    """A thread created while the stream runs (its first logs precede the hub's ThreadCreated in the same
    transaction) and its new governor are streamed from their first event on."""
    world = fresh_chain
    a, chain, hub = world.run.actors, world.run.chain, world.run.deployment.hub
    with open_stream(server) as response:
        read(response, lambda got: bool(got.comments))
        chain.transact(hub.functions.createThread(content("thread three"), AuthorKind.HUMAN), a.grace)
        thread_id = hub.functions.threadCount().call()
        t3 = world.run.deployment.thread(thread_id)
        chain.transact(hub.functions.createGovernor(thread_id), a.grace)
        governor = chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(thread_id).call())
        time_travel(world.run.rpc_url, 2)
        call = t3.functions.setApprovalWindow(7200)._encode_transaction_data()
        chain.transact(governor.functions.propose([t3.address], [0], [call], "window"), a.grace)
        chain.transact(t3.functions.post(content("grace posts"), [gid(1, 0)], AuthorKind.AI_PROMPTED), a.grace)
        got = read(
            response,
            lambda got: any(e["event"] == "CitationRecorded" for e in got.events),
        )
    by_name = {}
    for e in got.events:
        by_name.setdefault(e["event"], e["data"])
    assert by_name["CoauthorJoined"]["address"] == t3.address and by_name["CoauthorJoined"]["thread_id"] == thread_id
    assert by_name["MessagePosted"]["args"]["index"] == "0"  # the root message, logged by the new clone
    assert by_name["ThreadCreated"]["source"] == "hub"
    assert by_name["GovernorCreated"]["args"]["governor"] == governor.address
    assert by_name["GovernorSet"]["source"] == "thread"
    assert by_name["ProposalCreated"]["source"] == "governor" and by_name["ProposalCreated"]["thread_id"] == thread_id
    assert by_name["CitationRecorded"]["args"]["citedMessageId"] == str(gid(1, 0))  # beyond 2^53: a string


def test_heartbeat_and_disconnect(server: str, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventstream, "HEARTBEAT_SECONDS", 0.3)
    before = eventstream.open_streams()
    with open_stream(server) as response:
        got = read(response, lambda got: "heartbeat" in got.comments, timeout=5)
        assert eventstream.open_streams() == before + 1
    assert got.events == []
    deadline = time.monotonic() + 5
    while eventstream.open_streams() != before:  # the server notices the client left and ends the stream
        assert time.monotonic() < deadline, "the stream outlived its client"
        time.sleep(0.05)


def test_bad_parameters(client: TestClient) -> None:
    answer = client.get("/events", params={"from_block": -1})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "from_block"
    answer = client.get("/events", params={"from_block": "latest"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "from_block"
    answer = client.get("/events", headers={"Last-Event-ID": "yesterday"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "Last-Event-ID"
