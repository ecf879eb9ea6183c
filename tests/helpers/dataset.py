"""A small community on a devnet for the dataset export's tests: approved, denied, split and expired specs, posts
with citations, all three author kinds, novelty scores in two rounds, and one approved spec whose body is never
stored. The bodies of all other messages go through `choir_chain.content_store`, as the gateway stores them.
The protocol's steps are the scenario helper's (`choir_chain.scenario.SignedCommunity`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine

from choir_chain import content_store
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, DAY, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.indexer import Indexer
from choir_chain.protocol import message_id
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.scenario.signed import SignedCommunity

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


def run_community(rpc_url: str, deployment: Deployment) -> Community:
    distributor = deployment.distributor
    assert distributor is not None
    admin, pricer, alice, bob, carol, dave, erin, frank, grace, heidi = dev_accounts(DEV_MNEMONIC, 10)
    c = Community(deployment=deployment, rpc_url=rpc_url)
    steps = SignedCommunity(deployment)
    send = steps.send

    for user in (alice, bob, carol, dave, erin, frank, grace, heidi):
        steps.transfer(admin, user.address, 1_000 * CHOIR)

    def note(key: tuple[int, int], body: str, kind: AuthorKind, cites: list[int], outcome: str) -> bytes:
        c.bodies[key], c.author_kinds[key], c.citations[key], c.outcomes[key] = body, kind.label, cites, outcome
        return keccak(text=body)

    def create(user: LocalAccount, thread_id: int, body: str, kind: AuthorKind) -> None:
        steps.create_thread(user, note((thread_id, 0), body, kind, [], "posted"), kind)

    def post(
        thread: int, key: tuple[int, int], user: LocalAccount, body: str, kind: AuthorKind, cites: list[int]
    ) -> None:
        steps.post(thread, user, note(key, body, kind, cites, "posted"), cites, kind)

    def submit(
        thread: int,
        key: tuple[int, int],
        user: LocalAccount,
        body: str,
        kind: AuthorKind,
        cites: list[int],
        outcome: str,
    ) -> None:
        stake = 30 * CHOIR + key[1]
        steps.submit_spec(thread, user, note(key, body, kind, cites, outcome), cites, stake, kind)

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
    t1, t2 = 1, 2
    steps.advance(2)

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
    steps.vote(t1, alice, 2, True)
    epoch = distributor.functions.currentEpoch().call()  # carol's approval is certain at alice's vote
    steps.settle(t1, bob, 2)

    steps.advance(2)  # carol's shares must predate the next submissions for her to vote
    submit(t1, (1, 3), dave, "Funding should go to whoever posts first.", AI, [], "denied")
    steps.vote(t1, alice, 3, False)
    steps.vote(t1, carol, 3, False)
    steps.settle(t1, dave, 3)

    submit(
        t1, (1, 4), erin, "Lotteries among qualified proposals cut the cost of review.", PROMPTED, [gid(1, 2)], "split"
    )
    steps.vote(t1, alice, 4, True)
    steps.vote(t1, carol, 4, False)
    steps.settle(t1, erin, 4)

    submit(t1, (1, 5), frank, "Milestone escrow with community sign-off at each step.", HUMAN, [], "approved")
    steps.vote(t1, alice, 5, True)
    steps.vote(t1, carol, 5, True)
    steps.settle(t1, frank, 5)

    steps.advance(2)
    submit(t1, (1, 6), grace, "Just trust the loudest voice in the room.", HUMAN, [gid(2, 0)], "denied")
    for voter in (alice, carol, frank):
        steps.vote(t1, voter, 6, False)
    steps.settle(t1, grace, 6)
    post(
        t1,
        (1, 7),
        alice,
        "Summary so far: retroactive rewards and escrow, not first-come funding.",
        HUMAN,
        [gid(1, 2), gid(1, 5)],
    )

    submit(t2, (2, 1), dave, "Moderation never fails if the model is large enough.", AI, [], "denied")
    steps.vote(t2, bob, 1, False)
    steps.settle(t2, dave, 1)
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
    steps.advance(8 * DAY)
    steps.settle(t2, heidi, 3)
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
