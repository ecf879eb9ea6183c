"""`choir up` (`make run`) end to end: devnet, deployment, seed, indexer, pricer and gateway start; the gateway
serves the seeded community; Ctrl-C / SIGTERM stop everything and leave no process behind; a busy port is a
one-line error; `--rpc`/`--manifest` serve an existing chain without touching it, through a faulty provider too. A
service that dies is restarted with a message; one that keeps dying stops the stack with the reason."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from helpers.up import CHOIR, ENV, STOP_TIMEOUT, Up, alive, choir_up, port_open, processes_using, wait_for
from rich.console import Console
from web3 import Web3

from choir_chain import artifacts
from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.rpc import RetryPolicy
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.pricing.novelty import NOVELTY_THRESHOLD, novelty_reward
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.seed import NEAR_DUPLICATE, NEAR_DUPLICATE_OF, seed
from choir_chain.semantics.demo import demo_messages
from choir_chain.up.bootstrap import ChainSide
from choir_chain.up.console import UpConsole
from choir_chain.up.options import UpOptions
from choir_chain.up.supervise import RestartPolicy, Services, ServiceThread

if TYPE_CHECKING:
    from choir_chain.semantics.embedder import Embedder


def hub_of(up: Up) -> Any:
    state = up.state()
    manifest = json.loads(Path(state["manifest"]).read_text())
    w3 = Web3(Web3.HTTPProvider(state["rpc_url"]))
    return w3.eth.contract(address=manifest["contracts"]["ChoirHub"]["address"], abi=artifacts.load("ChoirHub").abi)


def distributor_of(up: Up) -> Any:
    state = up.state()
    manifest = json.loads(Path(state["manifest"]).read_text())
    w3 = Web3(Web3.HTTPProvider(state["rpc_url"]))
    address = manifest["contracts"]["RewardsDistributor"]["address"]
    return w3.eth.contract(address=address, abi=artifacts.load("RewardsDistributor").abi)


def assert_stopped_cleanly(up: Up, code: int, took: float, anvil_pid: int | None) -> None:
    out = up.output()
    assert code == 0, out
    assert took < STOP_TIMEOUT, f"took {took:.1f} s"
    assert "Traceback" not in out
    assert "stopped: gateway" in out
    if anvil_pid is not None:
        assert not alive(anvil_pid), "anvil survived"
    assert processes_using(up.run_dir) == []
    assert not port_open(up.port)
    assert up.state()["status"] == "stopped"


def test_up_serves_the_seeded_community_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    home_foundry = Path.home() / ".foundry"
    foundry_before = sorted(home_foundry.rglob("*")) if home_foundry.exists() else []
    started = time.monotonic()
    with choir_up(tmp_path) as up:
        health = wait_for("GET /health", lambda: up.get("/health"), up)
        startup = time.monotonic() - started
        assert health["chain_id"] == 31337
        state = up.state()
        assert state["status"] == "running" and state["dashboard"] == f"{up.url}/"
        anvil_pid = state["anvil_pid"]
        assert alive(anvil_pid)
        out = up.output()
        for line in (f"dashboard  {up.url}/", f"API docs   {up.url}/docs", "RPC", "manifest", "database"):
            assert line in out, out
        seeded = json.loads((up.run_dir / "seed.json").read_text())

        # The gateway serves the seeded threads, specs in every state, the proposal and the message bodies.
        threads = up.get("/threads")
        assert threads["total"] == len(seeded["threads"]) == 4
        assert [t["thread_id"] for t in threads["items"]] == [1, 2, 3, 4]
        assert all(t["citations_received"] > 0 for t in threads["items"])
        assert sum(t["coauthor_count"] for t in threads["items"]) == 8  # 4 creators + 4 approved specs
        statuses = set()
        for thread_id in (1, 2, 3, 4):
            statuses |= {s["status"] for s in up.get(f"/threads/{thread_id}/specs?limit=100")["items"]}
        assert statuses == {"pending", "approved", "denied", "split", "expired"}
        proposals = up.get("/threads/1/proposals")["items"]
        assert len(proposals) == 1
        assert proposals[0]["state"] == "Active"
        assert int(proposals[0]["votes_for"]) > 0
        assert proposals[0]["proposal_id"] == seeded["proposal"]["proposal_id"]
        messages = [m for t in (1, 2, 3, 4) for m in up.get(f"/threads/{t}/messages?limit=100")["items"]]
        assert len(messages) == len(seeded["messages"]) == 17  # 4 roots, 4 posts, 9 specs
        bodies = {m["content_hash"]: m["body"] for m in seeded["messages"]}
        assert all(m["body"] == bodies[m["content_hash"]] for m in messages)
        # every message's author kind, as the seed declared it on chain, indexed and served
        kinds = {m["content_hash"]: m["author_kind"] for m in seeded["messages"]}
        assert [m["author_kind"] for m in messages] == [kinds[m["content_hash"]] for m in messages]
        root = seeded["messages"][0]
        assert up.get(f"/content/{root['content_hash']}")["body"] == root["body"]

        # The pricer pushes prices after the seeded settlements; the indexer follows them to the head.
        hub = hub_of(up)
        wait_for("a price round", lambda: hub.functions.lastRound().call() > 0, up, timeout=120)

        def caught_up() -> bool:
            h = up.get("/health")
            return h["indexer_lag"] == 0 and h["pricer_round"] == hub.functions.lastRound().call() > 0

        wait_for("the indexer to catch up", caught_up, up, timeout=120)
        assert up.get("/health")["status"] == "ok"
        assert "pricer   round 1" in up.output()

        # The seeded approvals' epoch has closed: once the pricer scored them, it mints that epoch's allocation,
        # its budget shared by novelty weight, and the gateway shows each approved spec's reward.
        ((epoch, approved_ids),) = seeded["rewards"].items()
        assert len(approved_ids) == 4

        def rewards() -> dict[str, Any] | None:
            by_id = {m["global_id"]: m for t in (1, 2, 3, 4) for m in up.get(f"/threads/{t}/messages")["items"]}
            paid = {i: by_id[i]["reward"] for i in approved_ids}
            return paid if all(paid.values()) and by_id[approved_ids[-1]]["reward_epoch"] == int(epoch) else None

        paid = wait_for("the closed epoch's allocation", rewards, up, timeout=180)
        distributor = distributor_of(up)
        assert sum(int(a) for a in paid.values()) <= distributor.functions.epochBudget(int(epoch)).call()
        assert distributor.functions.allocated(int(epoch)).call() == sum(int(a) for a in paid.values())
        assert f"pricer   epoch {epoch} closed" in up.output()

        code, took = up.stop(signal.SIGINT)
    assert_stopped_cleanly(up, code, took, anvil_pid)
    assert (sorted(home_foundry.rglob("*")) if home_foundry.exists() else []) == foundry_before
    for name in ("anvil.log", "choir.db", "gateway.log", "indexer.log", "pricer.log", "seed.json", "up.json"):
        assert (up.run_dir / name).is_file(), name
    print(f"\nstart-up {startup:.1f} s, stop {took:.1f} s")


def test_up_no_seed_deploys_only_and_stops_on_sigterm(tmp_path: Path) -> None:
    with choir_up(tmp_path, "--no-seed") as up:
        wait_for("GET /health", lambda: up.get("/health"), up)
        anvil_pid = up.state()["anvil_pid"]
        assert up.get("/threads")["total"] == 0
        assert not (up.run_dir / "seed.json").exists()
        manifest = json.loads(Path(up.state()["manifest"]).read_text())
        assert set(manifest["contracts"]) >= {"ChoirHub", "ChoirToken", "RewardsDistributor"}
        code, took = up.stop(signal.SIGTERM)
    assert_stopped_cleanly(up, code, took, anvil_pid)


def test_up_reports_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*CHOIR, "up", "--port", str(port), "--run-dir", str(tmp_path / "run")],
            capture_output=True, text=True, timeout=120, check=False, env=ENV,
        )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert not (tmp_path / "run").exists(), "nothing starts when the port is taken"


def test_up_serves_an_existing_chain_and_leaves_it_running(tmp_path: Path) -> None:
    with Devnet(tmp_path / "chain") as node:
        admin, pricer = dev_accounts(DEV_MNEMONIC, 2)
        deployment = deploy(Chain.connect(node.rpc_url), admin, pricer=pricer.address)
        manifest = deployment.manifest.write(tmp_path / "deployments")
        with choir_up(tmp_path, "--rpc", node.rpc_url, "--manifest", str(manifest)) as up:
            health = wait_for("GET /health", lambda: up.get("/health"), up)
            assert health["chain_id"] == 31337
            state = up.state()
            assert state["anvil_pid"] is None and state["rpc_url"] == node.rpc_url
            assert up.get("/threads")["total"] == 0  # no seed on an existing chain
            hub = deployment.hub
            wait_for("the indexer", lambda: up.get("/health")["indexer_lag"] == 0, up, timeout=120)
            code, took = up.stop(signal.SIGINT)
        assert_stopped_cleanly(up, code, took, None)
        assert node.running, "choir up stopped a chain it did not start"
        assert hub.functions.threadCount().call() == 0


def test_seed_declares_author_kinds_and_one_near_duplicate(tmp_path: Path, embedder: Embedder) -> None:
    """The demo community (`choir_chain.seed`): mostly human messages, some by an AI on a member's prompt, some by
    an AI alone, each declared on chain; varied bodies, all far from every earlier message (a full novelty
    reward) but for one deliberate near-duplicate of an earlier message, which earns none."""
    with Devnet(tmp_path / "chain") as node:
        accounts = dev_accounts(DEV_MNEMONIC, 10)
        deployment = deploy(Chain.connect(node.rpc_url), accounts[0], pricer=accounts[1].address)
        seeded = seed(deployment, accounts)
        # the four approvals became certain in one epoch, now closed; settling them minted nothing (r2)
        ((epoch, approved),) = seeded.rewards.items()
        assert sorted(approved) == sorted(str(m.global_id) for m in seeded.specs("approved"))
        assert deployment.distributor is not None
        assert deployment.distributor.functions.currentEpoch().call() > epoch
        token = deployment.token
        assert token.functions.totalSupply().call() == token.functions.GENESIS_SUPPLY().call()
        logs = [
            (int(log["blockNumber"]), int(log["args"]["index"]), int(log["args"]["authorKind"]), log["address"])
            for thread in (deployment.thread(t) for t in range(1, 5))
            for log in thread.events.MessagePosted().get_logs(from_block=0)
        ] + [
            (int(log["blockNumber"]), int(log["args"]["specId"]), int(log["args"]["authorKind"]), log["address"])
            for thread in (deployment.thread(t) for t in range(1, 5))
            for log in thread.events.SpecSubmitted().get_logs(from_block=0)
        ]
    assert seeded.author_kinds() == {"human": 11, "ai": 3, "ai_prompted": 3}
    assert len(seeded.specs()) == 9
    assert {s: len(seeded.specs(s)) for s in ("approved", "denied", "split", "expired", "pending")} == {
        "approved": 4,
        "denied": 1,
        "split": 1,
        "expired": 1,
        "pending": 2,
    }
    # the chain carries each message's declared kind (one event per message: approval emits no MessagePosted)
    addresses = {t.thread_id: t.address for t in seeded.threads}
    on_chain = {(addr, index): (block, AuthorKind(kind).label) for block, index, kind, addr in logs}
    assert len(on_chain) == len(logs) == len(seeded.messages)
    assert on_chain == {(addresses[m.thread_id], m.index): (m.block, m.author_kind) for m in seeded.messages}

    # novelty: each message against every earlier one, in chain order
    ordered = sorted(seeded.messages, key=lambda m: (m.block, m.global_id))
    vectors = embedder.encode([m.body for m in ordered])
    similarity = vectors @ vectors.T
    nearest = {
        ordered[i].body: (float(similarity[i, :i].max()), ordered[int(similarity[i, :i].argmax())].body)
        for i in range(1, len(ordered))
    }
    duplicate_similarity, original = nearest.pop(NEAR_DUPLICATE)
    assert original == NEAR_DUPLICATE_OF
    assert duplicate_similarity > NOVELTY_THRESHOLD + 0.01 and novelty_reward(duplicate_similarity) == 0
    [duplicate] = [m for m in seeded.messages if m.body == NEAR_DUPLICATE]
    assert (duplicate.kind, duplicate.status, duplicate.author_kind) == ("spec", "pending", "ai")
    assert max(s for s, _ in nearest.values()) < 0.75  # raw MiniLM: everything else is far from a repeat
    assert [m.body for m in demo_messages()] == [m.body for m in ordered]  # the off-chain replay of the demo
    assert len(set(seeded.bodies())) == len(seeded.messages)  # no two bodies share a content hash


# ------------------------------------------------------------------------------------------------------------
# Supervision: a service that dies is restarted; one that keeps dying stops the stack with the reason
# ------------------------------------------------------------------------------------------------------------


class FakeService:
    """An indexer or pricer that dies while `failures` is positive (counting it down), else runs until stopped."""

    def __init__(self, services: Services, name: str, failures: list[int]) -> None:
        self.stop = services.stop
        self.name = name
        self.failures = failures
        self.running = threading.Event()
        self.closed = False
        self.last_block = 0

    def follow(self) -> None:
        if self.failures[0] > 0:
            self.failures[0] -= 1
            raise RuntimeError(f"{self.name} lost its node\nsecond line")
        self.running.set()
        self.stop.wait()

    run = follow

    def close(self) -> None:
        self.closed = True


class FakeServices(Services):
    """`Services` whose indexer and pricer are `FakeService`s: `built` lists every one constructed."""

    indexer_failures: list[int]
    built: list[FakeService]

    def new_indexer(self, reset: bool = False) -> Any:
        self.built.append(FakeService(self, "indexer", self.indexer_failures))
        return self.built[-1]

    def new_pricer(self) -> Any:
        self.built.append(FakeService(self, "pricer", [0]))
        return self.built[-1]


def supervised(indexer_failures: int, limit: int = 3) -> tuple[FakeServices, io.StringIO, list[str]]:
    printed, stopped_gateway = io.StringIO(), []
    services = FakeServices(
        UpOptions(),
        ChainSide(),
        "sqlite://",
        UpConsole(Console(file=printed, width=200)),
        lambda: stopped_gateway.append("gateway stopped"),
        restart=RestartPolicy(backoff=RetryPolicy(initial=0.001, maximum=0.001), limit=limit),
    )
    services.indexer_failures, services.built = [indexer_failures], []
    services.indexer, services.pricer = services.new_indexer(), services.new_pricer()
    return services, printed, stopped_gateway


def test_a_service_that_dies_is_restarted_and_the_stack_stays_up() -> None:
    services, printed, stopped_gateway = supervised(indexer_failures=2)
    services.start_threads()
    first_indexer, pricer = services.built[0], services.built[1]
    assert pricer.running.wait(30)
    assert wait_until(lambda: len(services.built) == 4 and services.built[-1].running.is_set())
    restarted = services.built[-1]
    assert restarted.name == "indexer" and restarted is not first_indexer
    assert first_indexer.closed  # the dead one's connections are released
    assert [s.name for s in services.built] == ["indexer", "pricer", "indexer", "indexer"]
    assert services.failure is None and not services.stop.is_set() and stopped_gateway == []
    assert all(t.is_alive() for t in services.threads)
    assert services.threads[0].restarts == 2 and services.threads[1].restarts == 0
    out = printed.getvalue()
    assert "indexer  died: indexer lost its node; restarting in 0.0 s (1 of 3)" in out
    assert "(2 of 3)" in out and "second line" not in out
    services.shut_down()
    assert services.failure is None and not any(t.is_alive() for t in services.threads)


def test_a_service_that_keeps_dying_stops_the_stack_with_the_reason() -> None:
    services, printed, stopped_gateway = supervised(indexer_failures=100, limit=3)
    services.start_threads()
    assert services.stop.wait(30)
    services.threads[0].join(30)
    assert services.failure == "indexer stopped: indexer lost its node (it failed 4 times in a row)"
    assert stopped_gateway == ["gateway stopped"]
    assert printed.getvalue().count("indexer  died:") == 3
    services.shut_down()
    assert not any(t.is_alive() for t in services.threads)


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll `check` (a guard against a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_up_through_a_faulty_provider_stays_up_and_catches_up(tmp_path: Path) -> None:
    """`choir up --rpc` through a provider that caps log ranges, rate-limits, delays and drops connections: every
    service stays up (no service dies for it, nothing stops), and the index reaches the chain's head."""
    faults = Faults(max_span=4, rate_limited=0.05, retry_after=0.05, delayed=0.1, max_delay=0.01, dropped=0.03)
    with Devnet(tmp_path / "chain") as node, FaultyRpc(node.rpc_url, faults) as proxy:
        admin, pricer = dev_accounts(DEV_MNEMONIC, 2)
        deployment = deploy(Chain.connect(node.rpc_url), admin, pricer=pricer.address)
        manifest = deployment.manifest.write(tmp_path / "deployments")
        with choir_up(tmp_path, "--rpc", proxy.url, "--manifest", str(manifest)) as up:

            def health() -> dict[str, Any] | None:
                reply = requests.get(up.url + "/health", timeout=10)
                return dict(reply.json()) if reply.status_code == 200 else None  # a 503 while the node refuses

            wait_for("GET /health", health, up)
            wait_for("the indexer", lambda: (h := health()) is not None and h["indexer_lag"] == 0, up, timeout=120)
            code, took = up.stop(signal.SIGINT)
        assert_stopped_cleanly(up, code, took, None)
    assert proxy.counts["range_refused"] + proxy.counts["rate_limited"] + proxy.counts["dropped_before"] > 0
    assert "died" not in up.output()


def test_a_long_healthy_run_starts_the_count_of_failures_again() -> None:
    """Failures in a row count towards the limit; one after a run of `healthy_after` seconds starts at 1."""
    services, printed, stopped_gateway = supervised(indexer_failures=0, limit=2)
    services.restart = RestartPolicy(backoff=RetryPolicy(initial=0.001, maximum=0.004), limit=2, healthy_after=60)
    thread = ServiceThread("indexer", services.run_indexer, services.died)
    thread.error = RuntimeError("lost")
    assert services.died(thread, ran_for=1.0) and services.died(thread, ran_for=1.0)
    assert services.died(thread, ran_for=61.0)  # healthy for a minute: 1 of 2 again, not 3 of 2
    assert thread.failures_in_a_row == 1 and services.failure is None
    assert services.died(thread, ran_for=1.0)  # 2 of 2
    assert not services.died(thread, ran_for=1.0)  # now 3 in a row: the stack stops
    assert services.failure == "indexer stopped: lost (it failed 3 times in a row)"
    assert stopped_gateway == ["gateway stopped"]
    assert [services.restart.wait(n) for n in (1, 2, 3, 4)] == [0.001, 0.002, 0.004, 0.004]
    assert printed.getvalue().count("indexer  died: lost") == 4
