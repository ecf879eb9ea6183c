"""The novelty scorer in the pricer, on a devnet with the real embedding model: stored bodies get scored on chain
in round-numbered batches, in chain order, each against the messages before it; an approved spec's minted reward
is its novelty reward; messages without a stored body are never scored; a round in flight at a crash is waited
for, never sent twice; a missing ORACLE_ROLE stops the start with a clear message.

The expected similarities are computed here independently (one dot product per pair of messages, in a plain
loop), not with the scorer's index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from choir_chain import content_store
from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.rpc import RetryPolicy
from choir_chain.deploy import CHOIR, DAY, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.indexer import Indexer, make_engine
from choir_chain.indexer.follower import IndexFollower
from choir_chain.indexer.models import NoveltyScore
from choir_chain.pricer import Pricer, PricerConfig, PricerError
from choir_chain.pricer.novelty import WAD
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.semantics import Embedder
from choir_chain.semantics.calibration import CALIBRATION_VERSION, INTERCEPT_WAD, calibrate
from choir_chain.semantics.relevance import RELEVANCE_FLOOR, max_relevant_weight
from choir_chain.semantics.store import load_vectors

STAKE = 200 * CHOIR
HUMAN, AI, AI_PROMPTED = 0, 1, 2

BODIES = {
    "root1": "How should a small town fund the repair of its old stone bridge?",
    "root2": "Share your favourite recipes for sourdough bread and how you keep the starter alive.",
    "post1": "The town could fund the bridge repairs through a local bond issue approved by the voters.",
    "post2": "Share your favourite recipes for sourdough bread and how you keep the starter alive.",  # = root2
    "spec_novel": "Before raising any money, have a structural engineer survey the arches: the repair may cost "
    "far less than feared.",
    "spec_off_topic": "Volcanic eruptions on Io are driven by tidal heating from Jupiter's gravity.",  # not the bridge
    "spec_copy": "How should a small town fund the repair of its old stone bridge?",  # = root1
    "spec_paraphrase": "What is the best way for a little village to pay for fixing its ancient stone bridge?",
}
NEVER_STORED = "A message whose body nobody ever sends to the gateway."


def content_hash(body: str) -> str:
    return "0x" + keccak(text=body).hex()


@dataclass
class Community:
    devnet: Devnet
    deployment: Deployment
    accounts: list[LocalAccount]
    messages: dict[str, int] = field(default_factory=dict)
    """name -> global message id, in chain order."""
    specs: dict[str, tuple[int, int]] = field(default_factory=dict)
    """name -> (thread id, spec id) of the pending specs."""
    snapshot: str = ""

    @property
    def rpc_url(self) -> str:
        return self.devnet.rpc_url

    @property
    def chain(self) -> Chain:
        return self.deployment.chain

    @property
    def distributor(self) -> Contract:
        assert self.deployment.distributor is not None
        return self.deployment.distributor

    def send(self, call: ContractFunction, sender: LocalAccount) -> None:
        receipt = self.chain.transact(call, sender)
        assert receipt["status"] == 1

    def revert(self) -> None:
        assert rpc_call(self.rpc_url, "evm_revert", [self.snapshot]) is True
        self.snapshot = str(rpc_call(self.rpc_url, "evm_snapshot"))


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Community]:
    with Devnet(tmp_path_factory.mktemp("devnet")) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        accounts = dev_accounts(DEV_MNEMONIC, 10)
        deployment = deploy(chain, accounts[0], pricer=accounts[1].address)
        c = Community(devnet, deployment, accounts)
        admin, alice, bob = accounts[0], accounts[2], accounts[3]
        hub, token = deployment.hub, deployment.token
        c.send(hub.functions.createThread(keccak(text=BODIES["root1"]), HUMAN), alice)
        c.messages["root1"] = 1 << 64
        c.send(hub.functions.createThread(keccak(text=BODIES["root2"]), AI), bob)
        c.messages["root2"] = 2 << 64
        t1, t2 = deployment.thread(1), deployment.thread(2)
        c.send(t1.functions.post(keccak(text=BODIES["post1"]), [], AI_PROMPTED), alice)
        c.messages["post1"] = 1 << 64 | 1
        c.send(t2.functions.post(keccak(text=BODIES["post2"]), [], HUMAN), bob)
        c.messages["post2"] = 2 << 64 | 1
        c.send(t1.functions.post(keccak(text=NEVER_STORED), [], HUMAN), alice)
        c.messages["never"] = 1 << 64 | 2
        rpc_call(devnet.rpc_url, "evm_increaseTime", [2])  # specs need co-authors from an earlier second
        rpc_call(devnet.rpc_url, "evm_mine")
        for i, name in enumerate(("spec_novel", "spec_off_topic", "spec_copy", "spec_paraphrase")):
            user = accounts[4 + i]
            c.send(token.functions.transfer(user.address, 1_000 * CHOIR), admin)
            c.send(token.functions.approve(t1.address, STAKE), user)
            c.send(t1.functions.submitSpec(keccak(text=BODIES[name]), [], STAKE, HUMAN), user)
            spec_id = int(t1.functions.messageCount().call()) - 1
            c.messages[name] = 1 << 64 | spec_id
            c.specs[name] = (1, spec_id)
        c.snapshot = str(rpc_call(devnet.rpc_url, "evm_snapshot"))
        yield c


@pytest.fixture
def fresh(community: Community) -> Iterator[Community]:
    yield community
    community.revert()


def database(tmp_path: Path, bodies: dict[str, str] = BODIES) -> tuple[str, Engine]:
    """A fresh database with `bodies` in its content store (as the gateway's POST /content leaves them)."""
    url = f"sqlite:///{tmp_path / 'choir.db'}"
    engine = make_engine(url)
    content_store.create_schema(engine)
    for body in bodies.values():
        content_store.store(engine, content_hash(body), body, len(body.encode()))
    return url, engine


def config(batch: int = 3, receipt_timeout: float = 120.0) -> PricerConfig:
    return PricerConfig(
        retry=RetryPolicy(initial=0.001, maximum=0.01),
        poll_interval=0.01,
        novelty=True,
        novelty_batch_size=batch,
        receipt_timeout=receipt_timeout,
    )


FOLLOWERS: dict[str, IndexFollower] = {}
"""The indexer following each test database (the pricer only reads it), stopped when the test ends."""


@pytest.fixture(autouse=True)
def _stop_indexers() -> Iterator[None]:
    yield
    while FOLLOWERS:
        FOLLOWERS.popitem()[1].__exit__(None, None, None)


def pricer(c: Community, url: str, embedder: Embedder, events: list[dict[str, Any]], **kwargs: Any) -> Pricer:
    """A pricer over `url`, with an indexer following the chain into it (one per database and test)."""
    if url not in FOLLOWERS:
        indexer = Indexer(c.rpc_url, c.deployment.manifest, url, poll_interval=0.02)
        FOLLOWERS[url] = IndexFollower(indexer).__enter__()
    return Pricer(
        c.rpc_url,
        c.deployment.manifest,
        c.accounts[1],
        url,
        config=kwargs.pop("config", config()),
        emit=events.append,
        embedder=lambda: embedder,
        **kwargs,
    )


def rounds_on_chain(c: Community) -> dict[int, dict[int, int]]:
    """round -> {message id: WAD similarity}, from the distributor's NoveltyScoresSet events."""
    logs = c.distributor.events.NoveltyScoresSet().get_logs(from_block=0)
    rounds = {
        int(x["args"]["round"]): dict(zip(x["args"]["messageIds"], x["args"]["maxSimilarities"], strict=True))
        for x in logs
    }
    assert len(rounds) == len(logs), "a round was accepted twice"
    return rounds


def expected_similarities(embedder: Embedder, names: list[str]) -> dict[str, float]:
    """Each message's highest similarity to the messages before it among `names` (given in chain order)."""
    vectors = embedder.encode([BODIES[n] for n in names])
    out = {}
    for i, name in enumerate(names):
        earlier = [float(np.dot(vectors[i], vectors[j])) for j in range(i)]
        out[name] = max(earlier) if earlier else 0.0
    return out


ORDER = ["root1", "root2", "post1", "post2", "spec_novel", "spec_off_topic", "spec_copy", "spec_paraphrase"]


# ----------------------------------------------------------------------------------------------------------


def test_stored_bodies_are_scored_in_rounds_and_weigh_the_epochs_allocation(
    fresh: Community, embedder: Embedder, tmp_path: Path
) -> None:
    c = fresh
    url, engine = database(tmp_path)
    events: list[dict[str, Any]] = []
    with pricer(c, url, embedder, events) as service:
        service.run(once=True)

    rounds = rounds_on_chain(c)
    assert sorted(rounds) == [1, 2, 3]  # 8 stored bodies, 3 per round
    scored: dict[int, int] = {}
    for number in sorted(rounds):
        assert not set(rounds[number]) & set(scored)  # no message in two rounds
        scored.update(rounds[number])
    ids = [c.messages[n] for n in ORDER]
    assert list(scored) == ids  # chain order, and never the message without a stored body
    assert not c.distributor.functions.isScored(c.messages["never"]).call()
    assert c.distributor.functions.lastNoveltyRound().call() == 3

    expected = expected_similarities(embedder, ORDER)
    for name in ORDER:
        if name not in ("post2", "spec_copy", "spec_off_topic"):
            assert scored[c.messages[name]] == pytest.approx(calibrate(expected[name]), abs=WAD // 10**5), name
    assert scored[c.messages["root1"]] == INTERCEPT_WAD  # nothing before it: raw 0, calibrated
    assert scored[c.messages["post2"]] == WAD == scored[c.messages["spec_copy"]]  # copies: withheld (spam)
    assert 0.6 * WAD < scored[c.messages["spec_paraphrase"]] < WAD
    # on the bridge, and new: a weight well above the paraphrase's, below the relevance rule's bound
    assert scored[c.messages["spec_novel"]] < scored[c.messages["spec_paraphrase"]]
    assert 0 < novelty_reward(scored[c.messages["spec_novel"]] / WAD) <= max_relevant_weight()
    # the most novel text of all (raw ~0.01: the capped weight on its own), but about Io in a thread on a bridge
    assert (
        expected["spec_off_topic"] < RELEVANCE_FLOOR
        and novelty_reward(calibrate(expected["spec_off_topic"]) / WAD) == 100
    )
    assert scored[c.messages["spec_off_topic"]] == WAD  # withheld: off-topic

    lines = [e for e in events if e["event"] == "novelty"]
    assert [e["round"] for e in lines] == [1, 2, 3] and [e["remaining"] for e in lines] == [5, 2, 0]
    assert [int(m) for e in lines for m in e["messages"]] == ids
    for e in lines:
        on_chain = [scored[int(m)] / WAD for m in e["messages"]]
        assert e["max_similarities"] == pytest.approx(on_chain, abs=1e-6)
        assert e["weights"] == pytest.approx([novelty_reward(x) for x in on_chain], abs=1e-6)
        assert (e["model"], e["calibration"]) == ("all-MiniLM-L6-v2", CALIBRATION_VERSION)
        assert all(
            calibrate(r) / WAD == pytest.approx(s, abs=1e-6)
            for r, s in zip(e["raw_similarities"], e["max_similarities"], strict=True)
            if s < 1
        )
    assert {m: r for e in lines for m, r in e["withheld"].items()} == {
        str(c.messages["post2"]): "copy",
        str(c.messages["spec_copy"]): "copy",
        str(c.messages["spec_off_topic"]): "off-topic",
    }
    relevance = dict(
        zip((m for e in lines for m in e["messages"]), (r for e in lines for r in e["relevance"]), strict=True)
    )
    assert relevance[str(c.messages["root1"])] is None and relevance[str(c.messages["root2"])] is None
    assert relevance[str(c.messages["spec_off_topic"])] < RELEVANCE_FLOOR <= relevance[str(c.messages["spec_novel"])]

    # The indexer has the scores too (the pricer indexes before each step)
    with Session(engine) as session:
        rows = session.execute(select(NoveltyScore.message_id, NoveltyScore.round)).all()
    assert sorted(int(m) for m, _ in rows) == sorted(ids)
    assert {int(m): int(r) for m, r in rows} == {m: r for r in rounds for m in rounds[r]}

    # Approval mints nothing; once the approvals' epoch closed, the pricer pays it by novelty weight: the novel spec
    # (the only approved spec with a weight) takes the whole budget, the copy (above 0.95: no weight) nothing
    thread = c.deployment.thread(1)
    alice = c.accounts[2]
    supply = c.deployment.token.functions.totalSupply().call()
    certain = []
    for name in ("spec_novel", "spec_copy"):
        spec_id = c.specs[name][1]
        c.send(thread.functions.vote(spec_id, True), alice)
        c.send(thread.functions.settle(spec_id), alice)
        certain.append(thread.functions.approvalCertainAt(spec_id).call())
    assert c.deployment.token.functions.totalSupply().call() == supply
    launch = c.distributor.functions.launchTime().call()
    epoch = (certain[0] - launch) // DAY
    assert (certain[1] - launch) // DAY == epoch
    rpc_call(c.rpc_url, "evm_increaseTime", [DAY])
    rpc_call(c.rpc_url, "evm_mine", [])
    paid: list[dict[str, Any]] = []
    with pricer(c, url, embedder, paid) as service:
        service.run(once=True)
    (allocation,) = [e for e in paid if e["event"] == "allocation"]
    budget = c.distributor.functions.epochBudget(epoch).call()
    assert allocation["epoch"] == epoch and allocation["messages"] == [str(c.messages["spec_novel"])]
    assert allocation["amounts"] == [str(budget)] and allocation["budget"] == str(budget)
    assert c.deployment.token.functions.totalSupply().call() == supply + budget
    assert not c.distributor.functions.isPaid(c.messages["spec_copy"]).call()

    # A second run finds nothing left to do
    more: list[dict[str, Any]] = []
    with pricer(c, url, embedder, more) as service:
        service.run(once=True)
    assert sorted(rounds_on_chain(c)) == [1, 2, 3] and not [e for e in more if e["event"] == "novelty"]
    engine.dispose()


def test_bodies_stored_later_are_scored_later_against_earlier_messages(
    fresh: Community, embedder: Embedder, tmp_path: Path
) -> None:
    c = fresh
    first = {n: BODIES[n] for n in ("root1", "spec_copy")}
    url, engine = database(tmp_path, first)
    with pricer(c, url, embedder, [], config=config(batch=64)) as service:
        service.run(once=True)
        assert rounds_on_chain(c) == {1: {c.messages["root1"]: INTERCEPT_WAD, c.messages["spec_copy"]: WAD}}
        for name in ("post1", "spec_paraphrase"):
            content_store.store(engine, content_hash(BODIES[name]), BODIES[name], len(BODIES[name]))
        service.run(once=True)  # the same process picks up the new bodies
    second = rounds_on_chain(c)[2]
    assert list(second) == [c.messages["post1"], c.messages["spec_paraphrase"]]
    expected = expected_similarities(embedder, ["root1", "post1", "spec_copy", "spec_paraphrase"])
    assert second[c.messages["post1"]] == pytest.approx(calibrate(expected["post1"]), abs=WAD // 10**5)
    # the copy scored before post1's body arrived keeps its score; the paraphrase sees every earlier body
    assert second[c.messages["spec_paraphrase"]] == pytest.approx(
        calibrate(expected["spec_paraphrase"]), abs=WAD // 10**5
    )
    assert len(load_vectors(engine)[0]) == 3  # root1 and spec_copy share one body: one embedding
    engine.dispose()


def test_a_round_in_flight_at_a_crash_is_waited_for_not_repeated(
    fresh: Community, embedder: Embedder, tmp_path: Path
) -> None:
    c = fresh
    url, engine = database(tmp_path)
    with pricer(c, url, embedder, [], config=PricerConfig(poll_interval=0.01)) as service:
        service.run(once=True)  # prices and the epoch's reward first, without novelty
    events: list[dict[str, Any]] = []
    rpc_call(c.rpc_url, "evm_setAutomine", [False])
    try:
        crashed = pricer(c, url, embedder, events, config=config(batch=4, receipt_timeout=0.05))
        assert crashed.step() is True  # round 1 sent, its receipt not seen: the process "dies" here
        crashed.close()
        assert not [e for e in events if e["event"] == "novelty"]
        assert rounds_on_chain(c) == {}

        restarted = pricer(c, url, embedder, events, config=config(batch=4))
        assert restarted.step() is True
        assert events[-1]["event"] == "waiting"  # the transaction in flight, not a second round 1
        rpc_call(c.rpc_url, "evm_mine")
    finally:
        rpc_call(c.rpc_url, "evm_setAutomine", [True])
    restarted.run(once=True)
    restarted.close()
    rounds = rounds_on_chain(c)
    assert sorted(rounds) == [1, 2]
    assert list(rounds[1]) == [c.messages[n] for n in ORDER[:4]]
    assert list(rounds[2]) == [c.messages[n] for n in ORDER[4:]]  # the in-flight four were not sent again
    assert [e["round"] for e in events if e["event"] == "novelty"] == [2]
    engine.dispose()


def test_a_pricer_without_the_oracle_role_refuses_to_start(
    fresh: Community, embedder: Embedder, tmp_path: Path
) -> None:
    c = fresh
    distributor = c.distributor
    role = distributor.functions.ORACLE_ROLE().call()
    c.send(distributor.functions.revokeRole(role, c.accounts[1].address), c.accounts[0])
    url, engine = database(tmp_path)
    with pricer(c, url, embedder, []) as service, pytest.raises(PricerError, match="lacks ORACLE_ROLE"):
        service.check_role()
    events: list[dict[str, Any]] = []
    with pricer(c, url, embedder, events, config=PricerConfig()) as service:
        service.check_role()  # without novelty scoring the role is not needed: this pricer allocates nothing
    assert [e["event"] for e in events] == ["rewards_disabled"] and "lacks ORACLE_ROLE" in events[0]["reason"]
    engine.dispose()


def test_novelty_rounds_a_reorg_dropped_are_sent_again(fresh: Community, embedder: Embedder, tmp_path: Path) -> None:
    """Every message is scored, then a reorg replaces the blocks of those rounds: the same pricer process reads the
    messages again and scores each once more on the new chain, under rounds 1 and 2 again (`lastNoveltyRound() + 1`
    of the chain that won); none is scored twice there."""
    c = fresh
    url, engine = database(tmp_path)
    events: list[dict[str, Any]] = []
    with pricer(c, url, embedder, events, config=config(batch=4)) as service:
        snapshot = rpc_call(c.rpc_url, "evm_snapshot")
        service.run(once=True)
        assert sorted(rounds_on_chain(c)) == [1, 2]
        replaced = int(str(rpc_call(c.rpc_url, "eth_blockNumber")), 16)
        assert rpc_call(c.rpc_url, "evm_revert", [snapshot]) is True
        assert rounds_on_chain(c) == {}
        base = int(str(rpc_call(c.rpc_url, "eth_blockNumber")), 16)
        rpc_call(c.rpc_url, "anvil_mine", [hex(replaced - base + 1)])
        service.sync()
        del events[:]
        service.run(once=True)
    assert [e["event"] for e in events if e["event"] == "reorg"] == ["reorg"]
    rounds = rounds_on_chain(c)
    assert sorted(rounds) == [1, 2]
    scored = [m for r in sorted(rounds) for m in rounds[r]]
    assert sorted(scored) == sorted(c.messages[n] for n in ORDER)  # each stored body once, in two rounds
    engine.dispose()
