"""Shared by the indexer tests (and the indexer benchmark): a deployed devnet, a scripted workload touching
every event, the comparison of the database with the chain's own views, a table dump, and a throw-away
PostgreSQL server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, DAY, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.indexer.follower import IndexFollower
from choir_chain.indexer.indexer import Indexer
from choir_chain.indexer.models import (
    Base,
    Coauthor,
    CuratorClaim,
    Cursor,
    HubParameter,
    Message,
    PriceRound,
    RoleMember,
    Settlement,
    Spec,
    Thread,
    Vote,
)
from choir_chain.manifest import Manifest
from choir_chain.protocol import message_id
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.scenario.signed import SignedCommunity

STATUS = {1: "pending", 2: "approved", 3: "denied", 4: "split", 5: "expired"}
BALLOT_APPROVE, BALLOT_DENY, BALLOT_DENY_CLAIMED = 1, 2, 3


def content(text: str) -> bytes:
    return keccak(text=text)


gid = message_id
"""Global message id (short name for the tables below)."""


@contextlib.contextmanager
def indexing(rpc_url: str, manifest: Manifest, db: str | Engine, confirmations: int = 0) -> Iterator[Indexer]:
    """The indexer following the chain into `db` in a thread, as `choir up` and `choir pricer` run it beside the
    pricer (which only reads the index)."""
    indexer = Indexer(rpc_url, manifest, db, confirmations=confirmations, poll_interval=0.02)
    with IndexFollower(indexer):
        yield indexer


def time_travel(rpc_url: str, seconds: int) -> None:
    """Move the devnet's clock forward and mine a block at the new time."""
    rpc_call(rpc_url, "evm_increaseTime", [seconds])
    rpc_call(rpc_url, "evm_mine", [])


def head(rpc_url: str) -> int:
    return int(str(rpc_call(rpc_url, "eth_blockNumber")), 16)


@dataclass
class Actors:
    admin: LocalAccount
    pricer: LocalAccount
    alice: LocalAccount
    bob: LocalAccount
    carol: LocalAccount
    dave: LocalAccount
    erin: LocalAccount
    frank: LocalAccount
    grace: LocalAccount
    heidi: LocalAccount

    @classmethod
    def load(cls) -> Actors:
        return cls(*dev_accounts(DEV_MNEMONIC, 10))


@dataclass
class Workload:
    """What the scripted workload did, for spot checks beyond the chain's views."""

    spec_outcomes: dict[tuple[int, int], str] = field(default_factory=dict)
    citations: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    author_kinds: dict[tuple[int, int], AuthorKind] = field(default_factory=dict)
    """(thread id, message index) -> the author kind declared for every message and spec (a mix of all three)."""
    exit_payout: int = 0
    donation: int = 0
    reward: int = 0
    """What the epoch allocation paid carol's approved spec (thread 1 spec 2; 10% of it to thread 2, cited)."""
    reward_epoch: int = 0
    """The epoch in which that approval became certain."""
    governance_transfer: int = 0
    blocks: dict[str, int] = field(default_factory=dict)
    """name -> block of a notable transaction."""


@dataclass
class ChainRun:
    """A devnet with the protocol deployed and the workload applied."""

    devnet: Devnet
    deployment: Deployment
    actors: Actors
    workload: Workload

    @property
    def rpc_url(self) -> str:
        return self.devnet.rpc_url

    @property
    def chain(self) -> Chain:
        return self.deployment.chain


@contextlib.contextmanager
def deployed_devnet(run_dir: Path) -> Iterator[tuple[Devnet, Deployment, Actors]]:
    with Devnet(run_dir) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        actors = Actors.load()
        deployment = deploy(chain, actors.admin, pricer=actors.pricer.address)
        yield devnet, deployment, actors


def run_workload(rpc_url: str, deployment: Deployment, actors: Actors) -> Workload:
    """Create threads, posts with citations, specs approved / denied / split / expired / pending, curator
    claims, price rounds, rewards (with a citation split), an exit after the cooldown, a donation, a governance
    transfer out of a treasury, a parameter change and a role grant and revoke.

    The protocol's steps are the scenario helper's (`SignedCommunity`); the steps no community takes (the
    oracle's novelty scores and allocation, the admin's parameter and role changes) are sent as calls."""
    c = SignedCommunity(deployment)
    hub, send = deployment.hub, c.send
    a = actors
    w = Workload()

    for user in (a.alice, a.bob, a.carol, a.dave, a.erin, a.frank, a.grace, a.heidi):
        c.transfer(a.admin, user.address, 10_000 * CHOIR)

    distributor = deployment.distributor
    assert distributor is not None
    w.reward = 10 * CHOIR

    human, ai, ai_prompted = AuthorKind.HUMAN, AuthorKind.AI, AuthorKind.AI_PROMPTED
    _, w.blocks["thread1"] = c.create_thread(a.alice, content("root 1"), human)
    c.create_thread(a.bob, content("root 2"), ai)
    w.author_kinds[(1, 0)], w.author_kinds[(2, 0)] = human, ai
    t1, t2 = c.thread(1), c.thread(2)
    c.advance(2)  # co-authors need shares one second before a spec's submission to vote on it

    def submit(
        thread_id: int, user: LocalAccount, text: str, stake: int, citations: list[int], kind: AuthorKind
    ) -> None:
        spec_id, _ = c.submit_spec(thread_id, user, content(text), citations, stake, kind)
        w.author_kinds[(thread_id, spec_id)] = kind

    c.post(1, a.alice, content("alice post"), [gid(2, 0), gid(1, 0)], ai_prompted)
    w.citations[(1, 1)] = [gid(2, 0), gid(1, 0)]
    w.author_kinds[(1, 1)] = ai_prompted

    # thread 1, spec 2: approved, carol joins; thread 1 is rewarded, 10% of it goes to thread 2 (cited)
    submit(1, a.carol, "carol spec", 30 * CHOIR, [gid(1, 1), gid(2, 0)], ai)
    w.citations[(1, 2)] = [gid(1, 1), gid(2, 0)]
    c.vote(1, a.alice, 2, True)
    w.reward_epoch = distributor.functions.currentEpoch().call()  # the approval is certain at alice's vote
    c.settle(1, a.bob, 2)
    w.spec_outcomes[(1, 2)] = "approved"

    # thread 2, specs 1 and 2: denied by bob, who claims both shares in one transaction
    submit(2, a.dave, "dave spec", 35 * CHOIR, [], human)
    submit(2, a.grace, "grace spec", 31 * CHOIR, [gid(1, 0)], ai_prompted)
    c.vote(2, a.bob, 1, False)
    c.vote(2, a.bob, 2, False)
    c.settle(2, a.dave, 1)
    c.settle(2, a.dave, 2)
    w.spec_outcomes[(2, 1)] = w.spec_outcomes[(2, 2)] = "denied"
    c.claim(2, a.bob, [1, 2])

    # thread 1, spec 3: alice approves, carol denies: split; carol claims
    c.advance(2)
    submit(1, a.erin, "erin spec", 41 * CHOIR + 7, [], human)
    c.vote(1, a.alice, 3, True)
    c.vote(1, a.carol, 3, False)
    c.settle(1, a.erin, 3)
    w.spec_outcomes[(1, 3)] = "split"
    c.claim(1, a.carol, [3])

    # thread 2, spec 3: nobody votes; expires after the window
    submit(2, a.frank, "frank spec", 30 * CHOIR, [], ai)
    w.blocks["round1"] = c.update_prices(a.pricer, [1, 2], [40 * CHOIR, 20 * CHOIR], 1)
    c.advance(8 * DAY)
    c.settle(2, a.heidi, 3)
    w.spec_outcomes[(2, 3)] = "expired"

    # the approvals' epoch has closed: the oracle scores carol's spec and pays it from the epoch's budget
    send(distributor.functions.setNoveltyScores(1, "all-MiniLM-L6-v2", 0, [gid(1, 2)], [0]), a.pricer)
    w.blocks["allocation"] = send(distributor.functions.allocate(w.reward_epoch, [gid(1, 2)], [w.reward]), a.pricer)

    # carol leaves thread 1 after the cooldown
    treasury, held, total = (
        t1.functions.treasury().call(),
        t1.functions.sharesOf(a.carol.address).call(),
        t1.functions.totalShares().call(),
    )
    w.exit_payout = treasury * held // total
    w.blocks["exit"] = c.exit(1, a.carol)

    c.update_prices(a.pricer, [1], [50 * CHOIR], 2)
    w.donation = 5 * CHOIR + 3
    c.transfer(a.admin, t2.address, w.donation)
    w.blocks["donation"] = send(t2.functions.absorbDonations(), a.heidi)
    c.post(1, a.alice, content("alice cites a denied spec"), [gid(2, 2)], human)
    w.citations[(1, 4)] = [gid(2, 2)]
    w.author_kinds[(1, 4)] = human

    send(hub.functions.setMaxDeviationBps(4_000), a.admin)
    pricer_role = hub.functions.PRICER_ROLE().call()
    send(hub.functions.grantRole(pricer_role, a.heidi.address), a.admin)
    send(hub.functions.revokeRole(pricer_role, a.heidi.address), a.admin)

    # thread 1's governance (alice alone after carol left) sends part of the treasury to heidi
    alice = a.alice
    governor = c.create_governor(1, alice)
    w.governance_transfer = 3 * CHOIR
    proposal = c.treasury_transfer(1, a.heidi.address, w.governance_transfer, "pay heidi")
    c.advance(2)
    proposal_id = c.propose(governor, alice, proposal)
    c.advance(deployment.manifest.parameters["governance.voting_delay"] + 1)
    c.cast_vote(governor, alice, proposal_id)
    c.advance(deployment.manifest.parameters["governance.voting_period"] + 1)
    c.queue(governor, alice, proposal)
    c.advance(deployment.manifest.parameters["governance.execution_delay"] + 1)
    w.blocks["governance"] = c.execute(governor, alice, proposal)

    # thread 1, spec 5: still pending at the end (its stake stays locked)
    c.advance(2)
    submit(1, a.heidi, "heidi spec", 50 * CHOIR, [gid(1, 4)], ai_prompted)
    w.citations[(1, 5)] = [gid(1, 4)]
    w.spec_outcomes[(1, 5)] = "pending"
    w.blocks["last"] = head(rpc_url)
    return w


@contextlib.contextmanager
def chain_run(run_dir: Path) -> Iterator[ChainRun]:
    with deployed_devnet(run_dir) as (devnet, deployment, actors):
        workload = run_workload(devnet.rpc_url, deployment, actors)
        yield ChainRun(devnet=devnet, deployment=deployment, actors=actors, workload=workload)


# ------------------------------------------------------------------------------------------------------------
# Comparing the database with the chain
# ------------------------------------------------------------------------------------------------------------


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every indexer table as a sorted list of row tuples (values as Python sees them)."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def assert_matches_chain(engine: Engine, deployment: Deployment) -> None:
    """Every row that mirrors contract state equals what the contracts' views return now."""
    hub = deployment.hub
    with Session(engine) as session:
        threads = session.scalars(select(Thread).order_by(Thread.thread_id)).all()
        assert [t.thread_id for t in threads] == list(range(1, hub.functions.threadCount().call() + 1))
        for t in threads:
            dao = deployment.thread(t.thread_id)
            assert t.address == dao.address
            assert t.treasury == dao.functions.treasury().call(), f"thread {t.thread_id} treasury"
            assert t.locked == dao.functions.lockedBalance().call(), f"thread {t.thread_id} locked"
            assert t.message_count == dao.functions.messageCount().call()
            assert t.coauthor_count == dao.functions.coauthorCount().call()
            assert t.total_shares == dao.functions.totalShares().call()
            price, updated_at, round_ = hub.functions.pricePoint(t.thread_id).call()
            if round_ == 0:
                assert (t.last_price, t.last_price_round, t.last_price_timestamp) == (None, None, None)
            else:
                assert (t.last_price, t.last_price_round, t.last_price_timestamp) == (
                    price,
                    round_,
                    updated_at,
                )
            balance = deployment.token.functions.balanceOf(dao.address).call()
            assert t.treasury + t.locked == balance
            assert t.citations_received == hub.functions.citationsReceived(t.thread_id).call()
            governor = hub.functions.governorOf(t.thread_id).call()
            assert t.governor == (None if int(governor, 16) == 0 else governor)
            assert t.approval_window in (None, dao.functions.approvalWindow().call())
            assert t.approval_threshold == dao.functions.approvalThreshold().call()

        messages = session.scalars(select(Message)).all()
        assert len(messages) == sum(t.message_count for t in threads)
        for m in messages:
            assert m.global_id == deployment.thread(m.thread_id).functions.messageId(m.message_index).call()

        specs = session.scalars(select(Spec)).all()
        assert {(s.thread_id, s.spec_id) for s in specs} == {
            (m.thread_id, m.message_index) for m in messages if m.kind == "spec"
        }
        for s in specs:
            onchain = deployment.thread(s.thread_id).functions.getSpec(s.spec_id).call()
            author, stake, price, _snapshot, deadline, _eligible, approvals, denials, status = onchain
            assert (s.author, s.stake, s.price, s.deadline) == (author, stake, price, deadline)
            assert (s.approvals, s.denials, s.status) == (approvals, denials, STATUS[status])
            assert (s.settled_block is None) == (s.status == "pending")

        claims = {(c.thread_id, c.spec_id, c.curator): c for c in session.scalars(select(CuratorClaim))}
        settlements = {(x.thread_id, x.spec_id): x for x in session.scalars(select(Settlement))}
        assert set(settlements) == {(s.thread_id, s.spec_id) for s in specs if s.status != "pending"}
        stakes = {(s.thread_id, s.spec_id): s.stake for s in specs}
        for key, x in settlements.items():
            assert x.treasury_gain + x.payout_per_denier * x.denials == stakes[key], "value conserved"
        for v in session.scalars(select(Vote)):
            ballot = deployment.thread(v.thread_id).functions.ballotOf(v.spec_id, v.voter).call()
            if v.approve:
                assert ballot == BALLOT_APPROVE
            else:
                claimed = (v.thread_id, v.spec_id, v.voter) in claims
                assert ballot == (BALLOT_DENY_CLAIMED if claimed else BALLOT_DENY)
        for (thread_id, spec_id, _curator), c in claims.items():
            assert c.amount == settlements[(thread_id, spec_id)].payout_per_denier

        for member in session.scalars(select(Coauthor)):
            dao = deployment.thread(member.thread_id)
            assert member.shares == dao.functions.sharesOf(member.account).call()
            assert member.active == dao.functions.isCoauthor(member.account).call()
            if member.active:
                assert member.joined_timestamp == dao.functions.joinedAt(member.account).call()

        rounds = session.scalars(select(PriceRound.round)).all()
        assert max(rounds, default=0) == hub.functions.lastRound().call()

        parameters = {p.name: p.value for p in session.scalars(select(HubParameter))}
        assert parameters == {
            "min_price": hub.functions.minPrice().call(),
            "max_price": hub.functions.maxPrice().call(),
            "fallback_price": hub.functions.fallbackPrice().call(),
            "max_deviation_bps": hub.functions.maxDeviationBps().call(),
            "heartbeat": hub.functions.heartbeat().call(),
            "deviation_window": hub.functions.deviationWindow().call(),
            "default_approval_window": hub.functions.defaultApprovalWindow().call(),
        }
        for grant in session.scalars(select(RoleMember)):
            assert grant.active == hub.functions.hasRole(bytes.fromhex(grant.role[2:]), grant.account).call()


def cursor_block(engine: Engine) -> int:
    with Session(engine) as session:
        cursor = session.get(Cursor, 1)
        assert cursor is not None
        return cursor.last_block
