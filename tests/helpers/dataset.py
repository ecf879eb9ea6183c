"""A small community on a devnet for the dataset export's tests: approved, denied, split and expired specs, posts
with citations, all three author kinds, novelty scores in two rounds, and one approved spec whose body is never
stored. The bodies of all other messages go through `choir_chain.content_store`, as the gateway stores them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine
from web3.contract import Contract

from choir_chain import content_store
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, DAY, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.indexer import Indexer
from choir_chain.protocol import message_id
from choir_chain.protocol.author_kind import AuthorKind

WAD = 10**18
HUMAN, AI, PROMPTED = AuthorKind.HUMAN, AuthorKind.AI, AuthorKind.AI_PROMPTED


gid = message_id
"""Global message id (short name for the tables below)."""


def content_hash(body: str) -> str:
    return "0x" + keccak(text=body).hex()


@dataclass
class Community:
    """What the workload did, keyed by (thread id, message index)."""

    deployment: Deployment
    rpc_url: str
    bodies: dict[tuple[int, int], str] = field(default_factory=dict)
    author_kinds: dict[tuple[int, int], str] = field(default_factory=dict)
    citations: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    outcomes: dict[tuple[int, int], str] = field(default_factory=dict)
    never_stored: tuple[int, int] = (1, 5)
    scores: dict[int, int] = field(default_factory=dict)
    scorers: dict[int, tuple[str, int]] = field(default_factory=dict)
    """Message id -> (model, calibration version) of the round that set its score."""
    """Global id -> the latest WAD similarity pushed on chain."""
    approval_rewards: dict[tuple[int, int], int] = field(default_factory=dict)
    """Wei the closed epoch's allocation paid per approval (the scored ones: an unscored approval earns nothing)."""


def _time_travel(rpc_url: str, seconds: int) -> None:
    rpc_call(rpc_url, "evm_increaseTime", [seconds])
    rpc_call(rpc_url, "evm_mine", [])


def run_community(rpc_url: str, deployment: Deployment) -> Community:
    chain, hub, token, distributor = deployment.chain, deployment.hub, deployment.token, deployment.distributor
    assert distributor is not None
    admin, pricer, alice, bob, carol, dave, erin, frank, grace, heidi = dev_accounts(DEV_MNEMONIC, 10)
    c = Community(deployment=deployment, rpc_url=rpc_url)

    def send(call: object, sender: LocalAccount) -> None:
        chain.transact(call, sender)  # type: ignore[arg-type]

    for user in (alice, bob, carol, dave, erin, frank, grace, heidi):
        send(token.functions.transfer(user.address, 1_000 * CHOIR), admin)

    def note(key: tuple[int, int], body: str, kind: AuthorKind, cites: list[int], outcome: str) -> bytes:
        c.bodies[key], c.author_kinds[key], c.citations[key], c.outcomes[key] = body, kind.label, cites, outcome
        return keccak(text=body)

    def create(user: LocalAccount, thread_id: int, body: str, kind: AuthorKind) -> None:
        send(hub.functions.createThread(note((thread_id, 0), body, kind, [], "posted"), kind), user)

    def post(
        thread: Contract, key: tuple[int, int], user: LocalAccount, body: str, kind: AuthorKind, cites: list[int]
    ) -> None:
        send(thread.functions.post(note(key, body, kind, cites, "posted"), cites, kind), user)

    def submit(
        thread: Contract,
        key: tuple[int, int],
        user: LocalAccount,
        body: str,
        kind: AuthorKind,
        cites: list[int],
        outcome: str,
    ) -> None:
        stake = 30 * CHOIR + key[1]
        send(token.functions.approve(thread.address, stake), user)
        send(thread.functions.submitSpec(note(key, body, kind, cites, outcome), cites, stake, kind), user)

    def score(round_: int, scores: dict[int, int]) -> None:
        # round 1 by calibration 0, round 2 by calibration 1: a re-score changes the scorer a record names
        calibration = round_ - 1
        send(
            distributor.functions.setNoveltyScores(round_, "model", calibration, list(scores), list(scores.values())),
            pricer,
        )
        c.scores.update(scores)
        c.scorers.update(dict.fromkeys(scores, ("model", calibration)))

    create(alice, 1, "How should a small community fund open research without a central grant committee?", HUMAN)
    create(bob, 2, "A catalogue of failure modes in automated content moderation.", AI)
    t1, t2 = deployment.thread(1), deployment.thread(2)
    _time_travel(rpc_url, 2)

    post(
        t1,
        (1, 1),
        alice,
        "Start from quadratic funding and ask what breaks when donors collude.",
        PROMPTED,
        [gid(2, 0)],
    )
    submit(
        t1,
        (1, 2),
        carol,
        "Retroactive funding pays for results that already exist, so it resists promises that never ship.",
        HUMAN,
        [gid(1, 1)],
        "approved",
    )
    score(1, {gid(1, 1): WAD // 2, gid(1, 2): 17 * WAD // 20})
    send(t1.functions.vote(2, True), alice)
    epoch = distributor.functions.currentEpoch().call()  # carol's approval is certain at alice's vote
    send(t1.functions.settle(2), bob)

    _time_travel(rpc_url, 2)  # carol's shares must predate the next submissions for her to vote
    submit(t1, (1, 3), dave, "Funding should go to whoever posts first.", AI, [], "denied")
    send(t1.functions.vote(3, False), alice)
    send(t1.functions.vote(3, False), carol)
    send(t1.functions.settle(3), dave)

    submit(
        t1, (1, 4), erin, "Lotteries among qualified proposals cut the cost of review.", PROMPTED, [gid(1, 2)], "split"
    )
    send(t1.functions.vote(4, True), alice)
    send(t1.functions.vote(4, False), carol)
    send(t1.functions.settle(4), erin)

    submit(t1, (1, 5), frank, "Milestone escrow with community sign-off at each step.", HUMAN, [], "approved")
    send(t1.functions.vote(5, True), alice)
    send(t1.functions.vote(5, True), carol)
    send(t1.functions.settle(5), frank)

    _time_travel(rpc_url, 2)
    submit(t1, (1, 6), grace, "Just trust the loudest voice in the room.", HUMAN, [gid(2, 0)], "denied")
    for voter in (alice, carol, frank):
        send(t1.functions.vote(6, False), voter)
    send(t1.functions.settle(6), grace)
    post(
        t1,
        (1, 7),
        alice,
        "Summary so far: retroactive rewards and escrow, not first-come funding.",
        HUMAN,
        [gid(1, 2), gid(1, 5)],
    )

    submit(t2, (2, 1), dave, "Moderation never fails if the model is large enough.", AI, [], "denied")
    send(t2.functions.vote(1, False), bob)
    send(t2.functions.settle(1), dave)
    post(
        t2,
        (2, 2),
        bob,
        "Failure mode one: context collapse when quotes are judged without their thread.",
        HUMAN,
        [gid(1, 7)],
    )
    submit(
        t2,
        (2, 3),
        heidi,
        "Failure mode two: adversarial spelling that evades keyword filters.",
        PROMPTED,
        [],
        "expired",
    )
    score(2, {gid(1, 4): 97 * WAD // 100, gid(2, 1): -WAD // 10, gid(1, 2): 4 * WAD // 5})
    _time_travel(rpc_url, 8 * DAY)
    send(t2.functions.settle(3), heidi)
    # the approvals' epoch closed: the oracle pays carol's scored spec (frank's has no score, so no weight)
    c.approval_rewards[(1, 2)] = 10 * CHOIR + 1
    send(distributor.functions.allocate(epoch, [gid(1, 2)], [c.approval_rewards[(1, 2)]]), pricer)
    submit(t2, (2, 4), grace, "Failure mode three: appeals that nobody reads.", AI, [], "pending")
    return c


def store_bodies(engine: Engine, community: Community) -> None:
    """Every body but the one never stored, through the content store."""
    content_store.create_schema(engine)
    for key, body in sorted(community.bodies.items()):
        if key != community.never_stored:
            content_store.store(engine, content_hash(body), body, len(body.encode()))


@contextlib.contextmanager
def indexed_community(run_dir: Path, db_url: str) -> Iterator[Community]:
    """A devnet with the community, indexed into `db_url` with its bodies stored; the devnet stays up."""
    with Devnet(run_dir) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        accounts = dev_accounts(DEV_MNEMONIC, 2)
        deployment = deploy(chain, accounts[0], pricer=accounts[1].address)
        community = run_community(devnet.rpc_url, deployment)
        with Indexer(devnet.rpc_url, deployment.manifest, db_url) as indexer:
            indexer.sync()
            store_bodies(indexer.engine, community)
        yield community
