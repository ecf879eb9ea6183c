"""The indexer's rows on SQLite against a real devnet: they equal the chain's state (author kinds, novelty scores
and approval rewards included), events an ABI lacks are skipped, the fast decoder agrees with web3.py on every log,
and uint256 columns are exact.

`run` (the devnet with the indexer's workload) is the fixture of conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.index_db import index, sqlite_url
from helpers.world import (
    Actors,
    ChainRun,
    assert_matches_chain,
    content,
    cursor_block,
    deployed_devnet,
    dump,
    gid,
    head,
    time_travel,
)
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.chain.events import EventDecoder
from choir_chain.deploy import CHOIR, DAY, Deployment
from choir_chain.devnet import rpc_call
from choir_chain.indexer import Indexer, make_engine
from choir_chain.indexer.models import (
    Citation,
    CountedCitation,
    CuratorClaim,
    Donation,
    EpochAllocation,
    EquityEvent,
    Message,
    MessageReward,
    NoveltyScore,
    Price,
    PriceRound,
    RoleMember,
    Settlement,
    Spec,
    Thread,
    TreasuryMovement,
)
from choir_chain.indexer.uint import MAX_UINT256, Uint256
from choir_chain.protocol.author_kind import AuthorKind


def test_rows_equal_the_chain_state(run: ChainRun, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "choir.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine) as indexer:
        assert indexer.sync() == head(run.rpc_url)
    assert cursor_block(engine) == head(run.rpc_url)
    assert_matches_chain(engine, run.deployment)

    w, a = run.workload, run.actors
    with Session(engine) as session:
        outcomes = {(s.thread_id, s.spec_id): s.status for s in session.scalars(select(Spec))}
        assert {key: outcomes[key] for key in w.spec_outcomes} == w.spec_outcomes
        for (thread_id, index_), cited in w.citations.items():
            rows = session.scalars(
                select(Citation)
                .where(Citation.thread_id == thread_id, Citation.message_index == index_)
                .order_by(Citation.position)
            ).all()
            assert [c.cited_global_id for c in rows] == cited
            assert [(c.cited_thread_id, c.cited_index) for c in rows] == [(g >> 64, g & (2**64 - 1)) for g in cited]

        # Counted citations are exactly the hub's CitationRecorded events, and give its distinct citing threads.
        hub = run.deployment.hub
        recorded = hub.events.CitationRecorded.get_logs(from_block=run.deployment.manifest.deploy_block)
        counted = session.scalars(select(CountedCitation).order_by(CountedCitation.block, CountedCitation.log_index))
        assert [
            (c.block, c.log_index, c.citing_thread_id << 64 | c.citing_index, c.cited_global_id) for c in counted
        ] == [(e.blockNumber, e.logIndex, e.args.citingMessageId, e.args.citedMessageId) for e in recorded]
        assert recorded, "the workload cites across threads"
        for thread in session.scalars(select(Thread)):
            citing = session.scalars(
                select(CountedCitation.citing_thread_id)
                .where(CountedCitation.cited_thread_id == thread.thread_id)
                .distinct()
            ).all()
            assert len(citing) == hub.functions.citationsReceived(thread.thread_id).call()

        t1 = session.get(Thread, 1)
        assert t1 is not None and t1.creator == a.alice.address and t1.content_hash == "0x" + content("root 1").hex()
        assert t1.created_block == w.blocks["thread1"]
        kinds = {m.message_index: m.kind for m in session.scalars(select(Message).where(Message.thread_id == 1))}
        assert kinds[0] == "root" and kinds[1] == "post" and kinds[2] == "spec"
        root = session.get(Message, (1, 0))
        assert root is not None and root.author == a.alice.address and root.global_id == gid(1, 0)

        split = session.get(Settlement, (1, 3))
        assert split is not None and (split.outcome, split.approvals, split.denials) == ("split", 1, 1)
        claims = session.scalars(select(CuratorClaim).order_by(CuratorClaim.thread_id, CuratorClaim.spec_id)).all()
        assert [(c.thread_id, c.spec_id, c.curator) for c in claims] == [
            (1, 3, a.carol.address),
            (2, 1, a.bob.address),
            (2, 2, a.bob.address),
        ]
        assert claims[1].tx_hash == claims[2].tx_hash  # one claim transaction for two specs

        equity = session.scalars(select(EquityEvent).order_by(EquityEvent.block, EquityEvent.log_index)).all()
        assert [(e.thread_id, e.account, e.kind) for e in equity] == [
            (1, a.alice.address, "join"),
            (2, a.bob.address, "join"),
            (1, a.carol.address, "join"),
            (1, a.carol.address, "exit"),
        ]
        assert equity[0].spec_id == 0 and equity[0].shares == 10**18 and equity[2].spec_id == 2
        assert equity[3].payout == w.exit_payout > 0 and equity[3].block == w.blocks["exit"]

        donation = session.scalars(select(Donation)).one()
        assert (donation.thread_id, donation.amount, donation.block) == (2, w.donation, w.blocks["donation"])

        # carol's approval (thread 1, spec 2) was paid from its epoch's budget once the epoch closed (nothing at
        # settlement); 10% went to thread 2, which it cites
        moves = session.scalars(select(TreasuryMovement).order_by(TreasuryMovement.block, TreasuryMovement.log_index))
        cited_share = w.reward * 1_000 // 10_000
        assert [(m.thread_id, m.kind, m.amount, m.message_id, m.recipient) for m in moves] == [
            (1, "reward", w.reward - cited_share, (1 << 64) | 2, None),  # credited inside the allocation
            (2, "reward", cited_share, (1 << 64) | 2, None),
            (1, "governance", w.governance_transfer, None, a.heidi.address),
        ]
        paid = session.scalars(select(MessageReward)).one()
        assert (paid.message_id, paid.epoch, paid.amount, paid.to_thread, paid.score_round) == (
            (1 << 64) | 2,
            w.reward_epoch,
            w.reward,
            w.reward - cited_share,
            1,
        )
        assert paid.block == w.blocks["allocation"]
        allocation = session.scalars(select(EpochAllocation)).one()
        assert (allocation.epoch, allocation.messages, allocation.amount, allocation.allocated) == (
            w.reward_epoch,
            1,
            w.reward,
            w.reward,
        )
        assert allocation.budget > w.reward
        (score,) = session.scalars(select(NoveltyScore)).all()  # the oracle scored carol's spec only
        assert (score.message_id, score.model_id, score.calibration_version, score.round) == (
            (1 << 64) | 2,
            "all-MiniLM-L6-v2",
            0,
            1,
        )
        threads = {t.thread_id: t for t in session.scalars(select(Thread))}
        # thread 2: two posts and one approved spec of thread 1 cite it, one citing thread (protocol 7, r2: distinct
        # citing threads); thread 2's denied spec citing 1 counts nothing
        assert (threads[1].citations_received, threads[2].citations_received) == (0, 1)
        assert threads[1].governor is not None and threads[2].governor is None

        rounds = session.scalars(select(PriceRound).order_by(PriceRound.round)).all()
        assert [(r.round, r.thread_count) for r in rounds] == [(1, 2), (2, 1)]
        assert rounds[0].block == w.blocks["round1"]
        prices = session.scalars(select(Price).order_by(Price.round, Price.thread_id)).all()
        assert [(p.round, p.thread_id, p.price) for p in prices] == [
            (1, 1, 40 * 10**18),
            (1, 2, 20 * 10**18),
            (2, 1, 50 * 10**18),
        ]
        roles = {(r.role_name, r.account): r.active for r in session.scalars(select(RoleMember))}
        assert roles == {
            ("DEFAULT_ADMIN_ROLE", a.admin.address): True,
            ("PRICER_ROLE", a.pricer.address): True,
            ("PRICER_ROLE", a.heidi.address): False,
        }
    engine.dispose()


def test_events_without_a_handler_or_abi_entry_are_skipped(run: ChainRun, tmp_path: Path) -> None:
    """An ABI lacking an event (as an older build would) skips its logs instead of failing."""
    thread_abi = [e for e in artifacts.load("ThreadDAO").abi if e.get("name") != "VoteCast"]
    abis = {
        "hub": artifacts.load("ChoirHub").abi,
        "thread": thread_abi,
        "rewards": artifacts.load("RewardsDistributor").abi,
    }
    engine = make_engine(sqlite_url(tmp_path / "partial.db"))
    with Indexer(run.rpc_url, run.deployment.manifest, engine, abis=abis) as indexer:
        indexer.sync()
    rows = dump(engine)
    full = index(run, sqlite_url(tmp_path / "full.db"))
    assert rows["votes"] == [] and full["votes"]
    assert {t: r for t, r in rows.items() if t not in ("votes", "specs")} == {
        t: r for t, r in full.items() if t not in ("votes", "specs")
    }

    decoder = EventDecoder(abis)
    logs = rpc_call(run.rpc_url, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    assert isinstance(logs, list)
    unknown = {**logs[-1], "topics": ["0x" + "ab" * 32]}
    assert decoder.decode("thread", unknown) is None
    assert decoder.decode("nosuchsource", logs[-1]) is None
    engine.dispose()


def test_fast_decoder_agrees_with_web3_on_the_chains_logs(run: ChainRun) -> None:
    """Every log of the test chain decoded by the fast path and by web3.py's `get_event_data` alike (the
    synthetic logs of every event are in test_event_decoding.py)."""
    sources = {"hub": "ChoirHub", "thread": "ThreadDAO", "rewards": "RewardsDistributor"}
    decoder = EventDecoder({source: artifacts.load(name).abi for source, name in sources.items()})
    types = {(t.source, t.topic0): t for source in sources for t in decoder.event_types(source)}
    logs = rpc_call(run.rpc_url, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    assert isinstance(logs, list)
    seen = set()
    for log in logs:
        for source in sources:
            event_type = types.get((source, log["topics"][0]))
            if event_type is not None:
                assert event_type.fast is not None, event_type.name
                seen.add(event_type.name)
                fast = event_type.decode_args(log["topics"], log["data"])
                assert fast == event_type.decode_args_web3(log["topics"], log["data"]), event_type.name
    assert {
        "ThreadCreated",
        "PricesUpdated",
        "RoleGranted",
        "MessagePosted",
        "SpecSettled",
        "VoteCast",
        "MessageRewarded",
        "EpochAllocated",
        "NoveltyScoresSet",
    } <= seen


def _author_kinds_and_novelty(rpc_url: str, deployment: Deployment, a: Actors) -> dict[str, int]:
    """Messages of all three author kinds, two novelty rounds (the second re-scores a message, with another
    calibration version) and an approval paid from its epoch's budget once the epoch closed; returns the amount
    paid and the epoch."""
    chain, hub, token, distributor = deployment.chain, deployment.hub, deployment.token, deployment.distributor
    assert distributor is not None
    human, ai, prompted = AuthorKind.HUMAN, AuthorKind.AI, AuthorKind.AI_PROMPTED
    chain.transact(token.functions.transfer(a.carol.address, 100 * CHOIR), a.admin)
    chain.transact(hub.functions.createThread(content("human root"), human), a.alice)
    chain.transact(hub.functions.createThread(content("ai root"), ai), a.bob)
    t1 = deployment.thread(1)
    time_travel(rpc_url, 2)
    chain.transact(t1.functions.post(content("prompted post"), [], prompted), a.alice)
    chain.transact(token.functions.approve(t1.address, 30 * CHOIR), a.carol)
    chain.transact(t1.functions.submitSpec(content("ai spec"), [gid(2, 0)], 30 * CHOIR, ai), a.carol)
    wad = 10**18
    oracle = a.pricer  # deploy() grants the distributor's ORACLE_ROLE to the pricer
    score = distributor.functions.setNoveltyScores
    chain.transact(score(1, "model-a", 1, [gid(1, 2), gid(1, 1)], [9 * wad // 10, -wad // 4]), oracle)
    chain.transact(score(2, "model-b", 2, [gid(1, 2)], [4 * wad // 5]), oracle)
    chain.transact(t1.functions.vote(2, True), a.alice)
    epoch = distributor.functions.currentEpoch().call()
    chain.transact(t1.functions.settle(2), a.bob)
    assert distributor.functions.minted().call() == 0  # nothing at settlement
    time_travel(rpc_url, DAY)
    amount = 7 * CHOIR + 3
    chain.transact(distributor.functions.allocate(epoch, [gid(1, 2)], [amount]), oracle)
    return {"amount": amount, "epoch": epoch, "minted": distributor.functions.minted().call()}


def test_author_kinds_novelty_scores_and_approval_rewards(tmp_path: Path) -> None:
    with deployed_devnet(tmp_path / "devnet") as (devnet, deployment, actors):
        seen = _author_kinds_and_novelty(devnet.rpc_url, deployment, actors)
        engine = make_engine(sqlite_url(tmp_path / "kinds.db"))
        with Indexer(devnet.rpc_url, deployment.manifest, engine) as indexer:
            indexer.sync()
        with Session(engine) as session:
            kinds = {(m.thread_id, m.message_index): m.author_kind for m in session.scalars(select(Message))}
            assert kinds == {(1, 0): "human", (2, 0): "ai", (1, 1): "ai_prompted", (1, 2): "ai"}
            assert [(s.spec_id, s.author_kind) for s in session.scalars(select(Spec))] == [(2, "ai")]

            scores = session.scalars(select(NoveltyScore).order_by(NoveltyScore.message_index)).all()
            assert [
                (s.message_id, s.thread_id, s.message_index, s.round, s.max_similarity, s.model_id) for s in scores
            ] == [
                (gid(1, 1), 1, 1, 1, -0.25, "model-a"),
                (gid(1, 2), 1, 2, 2, 0.8, "model-b"),  # round 2 overwrote round 1's 0.9
            ]
            assert [s.calibration_version for s in scores] == [1, 2]
            assert scores[0].block < scores[1].block

            reward = session.scalars(select(MessageReward)).one()
            assert (reward.message_id, reward.thread_id, reward.message_index) == (gid(1, 2), 1, 2)
            assert (reward.epoch, reward.score_round) == (seen["epoch"], 2)
            assert reward.amount == seen["amount"] == seen["minted"]
            cited_share = reward.amount * 1_000 // 10_000  # the spec cites thread 2
            assert reward.to_thread == reward.amount - cited_share
            moves = session.scalars(
                select(TreasuryMovement).order_by(TreasuryMovement.block, TreasuryMovement.log_index)
            )
            assert [(m.thread_id, m.amount) for m in moves] == [(1, reward.to_thread), (2, cited_share)]
        single = make_engine(sqlite_url(tmp_path / "single.db"))
        with Indexer(devnet.rpc_url, deployment.manifest, single, batch_blocks=1) as indexer:
            indexer.sync()
        assert dump(single) == dump(engine)  # re-scoring within or across ranges ends the same
        single.dispose()
        engine.dispose()


def test_uint256_is_exact_and_sorts_numerically(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "uint.db"))
    table = Table("u", MetaData(), Column("id", Integer, primary_key=True), Column("v", Uint256))
    table.create(engine)
    values = [MAX_UINT256, 10**28 + 1, 0, 2**64, 9, 10, 2**128 + 3]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "v": v} for i, v in enumerate(values)])
    with engine.connect() as conn:
        assert conn.scalars(select(table.c.v).order_by(table.c.v)).all() == sorted(values)
        above = select(table.c.v).where(table.c.v > 10).order_by(table.c.v.desc())
        assert conn.scalars(above).all() == sorted((v for v in values if v > 10), reverse=True)
    for bad in (-1, MAX_UINT256 + 1):
        with pytest.raises(StatementError, match="not a uint256"), engine.begin() as conn:
            conn.execute(insert(table), {"id": 99, "v": bad})
    engine.dispose()
