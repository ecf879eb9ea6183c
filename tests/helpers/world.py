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
from web3.contract import Contract

from choir_chain import artifacts
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
    transfer out of a treasury, a parameter change and a role grant and revoke."""
    chain, hub, token = deployment.chain, deployment.hub, deployment.token
    a = actors
    w = Workload()

    def send(call: object, sender: LocalAccount) -> int:
        return int(chain.transact(call, sender)["blockNumber"])  # type: ignore[arg-type]

    for user in (a.alice, a.bob, a.carol, a.dave, a.erin, a.frank, a.grace, a.heidi):
        send(token.functions.transfer(user.address, 10_000 * CHOIR), a.admin)

    distributor = deployment.distributor
    assert distributor is not None
    w.reward = 10 * CHOIR

    human, ai, ai_prompted = AuthorKind.HUMAN, AuthorKind.AI, AuthorKind.AI_PROMPTED
    w.blocks["thread1"] = send(hub.functions.createThread(content("root 1"), human), a.alice)
    send(hub.functions.createThread(content("root 2"), ai), a.bob)
    w.author_kinds[(1, 0)], w.author_kinds[(2, 0)] = human, ai
    t1, t2 = deployment.thread(1), deployment.thread(2)
    time_travel(rpc_url, 2)  # co-authors need shares one second before a spec's submission to vote on it

    def submit(
        thread: Contract, user: LocalAccount, text: str, stake: int, citations: list[int], kind: AuthorKind
    ) -> None:
        send(token.functions.approve(thread.address, stake), user)
        send(thread.functions.submitSpec(content(text), citations, stake, kind), user)
        thread_id = int(thread.functions.threadId().call())
        w.author_kinds[(thread_id, int(thread.functions.messageCount().call()) - 1)] = kind

    send(t1.functions.post(content("alice post"), [gid(2, 0), gid(1, 0)], ai_prompted), a.alice)
    w.citations[(1, 1)] = [gid(2, 0), gid(1, 0)]
    w.author_kinds[(1, 1)] = ai_prompted

    # thread 1, spec 2: approved, carol joins; thread 1 is rewarded, 10% of it goes to thread 2 (cited)
    submit(t1, a.carol, "carol spec", 30 * CHOIR, [gid(1, 1), gid(2, 0)], ai)
    w.citations[(1, 2)] = [gid(1, 1), gid(2, 0)]
    send(t1.functions.vote(2, True), a.alice)
    w.reward_epoch = distributor.functions.currentEpoch().call()  # the approval is certain at alice's vote
    send(t1.functions.settle(2), a.bob)
    w.spec_outcomes[(1, 2)] = "approved"

    # thread 2, specs 1 and 2: denied by bob, who claims both shares in one transaction
    submit(t2, a.dave, "dave spec", 35 * CHOIR, [], human)
    submit(t2, a.grace, "grace spec", 31 * CHOIR, [gid(1, 0)], ai_prompted)
    send(t2.functions.vote(1, False), a.bob)
    send(t2.functions.vote(2, False), a.bob)
    send(t2.functions.settle(1), a.dave)
    send(t2.functions.settle(2), a.dave)
    w.spec_outcomes[(2, 1)] = w.spec_outcomes[(2, 2)] = "denied"
    send(t2.functions.claimCuratorRewards([1, 2]), a.bob)

    # thread 1, spec 3: alice approves, carol denies: split; carol claims
    time_travel(rpc_url, 2)
    submit(t1, a.erin, "erin spec", 41 * CHOIR + 7, [], human)
    send(t1.functions.vote(3, True), a.alice)
    send(t1.functions.vote(3, False), a.carol)
    send(t1.functions.settle(3), a.erin)
    w.spec_outcomes[(1, 3)] = "split"
    send(t1.functions.claimCuratorRewards([3]), a.carol)

    # thread 2, spec 3: nobody votes; expires after the window
    submit(t2, a.frank, "frank spec", 30 * CHOIR, [], ai)
    w.blocks["round1"] = send(hub.functions.updatePrices([1, 2], [40 * CHOIR, 20 * CHOIR], 1), a.pricer)
    time_travel(rpc_url, 8 * DAY)
    send(t2.functions.settle(3), a.heidi)
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
    w.blocks["exit"] = send(t1.functions.exit(), a.carol)

    send(hub.functions.updatePrices([1], [50 * CHOIR], 2), a.pricer)
    w.donation = 5 * CHOIR + 3
    send(token.functions.transfer(t2.address, w.donation), a.admin)
    w.blocks["donation"] = send(t2.functions.absorbDonations(), a.heidi)
    send(t1.functions.post(content("alice cites a denied spec"), [gid(2, 2)], human), a.alice)
    w.citations[(1, 4)] = [gid(2, 2)]
    w.author_kinds[(1, 4)] = human

    send(hub.functions.setMaxDeviationBps(4_000), a.admin)
    pricer_role = hub.functions.PRICER_ROLE().call()
    send(hub.functions.grantRole(pricer_role, a.heidi.address), a.admin)
    send(hub.functions.revokeRole(pricer_role, a.heidi.address), a.admin)

    # thread 1's governance (alice alone after carol left) sends part of the treasury to heidi
    alice = a.alice
    send(hub.functions.createGovernor(1), alice)
    governor = chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(1).call())
    w.governance_transfer = 3 * CHOIR
    action = t1.functions.transferTreasury(a.heidi.address, w.governance_transfer)
    proposal = ([t1.address], [0], [action._encode_transaction_data()], "pay heidi")
    time_travel(rpc_url, 2)
    send(governor.functions.propose(*proposal), alice)
    time_travel(rpc_url, deployment.manifest.parameters["governance.voting_delay"] + 1)
    proposal_id = governor.functions.hashProposal(*proposal[:3], keccak(text=proposal[3])).call()
    send(governor.functions.castVote(proposal_id, 1), alice)
    time_travel(rpc_url, deployment.manifest.parameters["governance.voting_period"] + 1)
    send(governor.functions.queue(*proposal[:3], keccak(text=proposal[3])), alice)
    time_travel(rpc_url, deployment.manifest.parameters["governance.execution_delay"] + 1)
    w.blocks["governance"] = send(governor.functions.execute(*proposal[:3], keccak(text=proposal[3])), alice)

    # thread 1, spec 5: still pending at the end (its stake stays locked)
    time_travel(rpc_url, 2)
    submit(t1, a.heidi, "heidi spec", 50 * CHOIR, [gid(1, 4)], ai_prompted)
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
