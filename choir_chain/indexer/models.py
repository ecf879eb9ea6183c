"""The indexer's tables (SQLAlchemy 2 declarative ORM).

Every primary key comes from chain data (thread id, message index, block and log index, round...), never from
insertion order or the wall clock, so indexing the same chain twice yields identical rows. Foreign keys are
checked at commit (`DEFERRABLE INITIALLY DEFERRED`): a block range is applied in one transaction, and within
it the order in which rows of different tables are written does not matter.

Addresses are EIP-55 checksummed strings, hashes lowercase `0x` hex, times block timestamps (seconds), amounts
and shares `Uint256` (exact beyond 64 bits). Thread ids, message indexes, blocks and timestamps fit 63 bits.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from choir_chain.indexer.uint import Uint256
from choir_chain.protocol.approval import UNANIMOUS_BPS

SCHEMA_VERSION = 8
"""Bumped whenever a table changes; a database of another version must be re-indexed (`--reset`).

4: `author_kind` on messages and specs; `novelty_scores` and `approval_rewards` from the rewards distributor.
5: (r2) per-epoch rewards: `message_rewards` (`MessageRewarded`) replaces `approval_rewards`, `epoch_allocations`
(`EpochAllocated`); `novelty_scores` records the scorer's `model_id` and `calibration_version`.
6: `counted_citations` (the hub's `CitationRecorded`): the one source of which citations count.
7: the gateway's read model: `threads.last_activity` kept by the handlers, and an index behind every filter and
sort of the read routes and every `block` column.
8: `threads.approval_threshold` (the thread's `ApprovalThresholdSet`; unanimity, 10,000, until governance sets one)."""

ADDRESS = String(42)
HASH = String(66)
AUTHOR_KIND = String(12)
"""`human`, `ai` or `ai_prompted` (`choir_chain.protocol.author_kind.AuthorKind.label`)."""


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, deferrable=True, initially="DEFERRED")


def _fks(columns: list[str], targets: list[str]) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(columns, targets, deferrable=True, initially="DEFERRED")


class Base(DeclarativeBase):
    type_annotation_map = {int: BigInteger}  # noqa: RUF012 (SQLAlchemy's declared class attribute)


CURSOR_ID = 1
"""The cursor table's one row."""


class Cursor(Base):
    """One row: which chain and hub this database follows, and the last block fully applied."""

    __tablename__ = "cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    schema_version: Mapped[int] = mapped_column(Integer)
    chain_id: Mapped[int]
    hub: Mapped[str] = mapped_column(ADDRESS)
    deploy_block: Mapped[int]
    last_block: Mapped[int]
    last_block_hash: Mapped[str | None] = mapped_column(HASH)


class Thread(Base):
    """A thread, with running totals kept up to date from its events."""

    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_created", "created_block", "thread_id"),  # the pricer's threads_up_to
        Index("ix_threads_creator", "creator"),
        Index("ix_threads_last_activity", "last_activity"),
        Index("ix_threads_last_price", "last_price"),
    )

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    address: Mapped[str] = mapped_column(ADDRESS, unique=True)
    creator: Mapped[str] = mapped_column(ADDRESS)
    content_hash: Mapped[str] = mapped_column(HASH)
    created_block: Mapped[int]
    created_tx_hash: Mapped[str] = mapped_column(HASH)
    created_timestamp: Mapped[int]
    message_count: Mapped[int]
    coauthor_count: Mapped[int]
    total_shares: Mapped[int] = mapped_column(Uint256)
    treasury: Mapped[int] = mapped_column(Uint256)
    """ThreadDAO.treasury(): stakes gained by settlement and absorbed donations, less exit payouts."""
    locked: Mapped[int] = mapped_column(Uint256)
    """ThreadDAO.lockedBalance(): escrowed stakes plus deniers' unclaimed shares."""
    last_price: Mapped[int | None] = mapped_column(Uint256)
    last_price_round: Mapped[int | None] = mapped_column(Uint256)
    last_price_timestamp: Mapped[int | None]
    citations_received: Mapped[int] = mapped_column(default=0)
    """ChoirHub.citationsReceived(): citations by other threads' posts and approved specs."""
    governor: Mapped[str | None] = mapped_column(ADDRESS, default=None)
    """The thread's governor, once `createGovernor` ran."""
    approval_window: Mapped[int | None] = mapped_column(default=None)
    """Set only when governance changed it from the hub default the thread was created with."""
    approval_threshold: Mapped[int] = mapped_column(default=UNANIMOUS_BPS)
    """ThreadDAO.approvalThreshold(), basis points of the votes cast: unanimity (10,000) from creation until
    governance sets another (`ApprovalThresholdSet`)."""
    last_activity: Mapped[int] = mapped_column(default=0)
    """Timestamp of the latest message, vote or settlement (the creation before any): the read model's sort key."""


class Message(Base):
    """Every message index of a thread: its root (0), co-authors' posts, and specs (whatever their
    outcome)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_author", "author"),
        Index("ix_messages_content_hash", "content_hash"),
        Index("ix_messages_block", "block"),
        Index("ix_messages_thread_kind", "thread_id", "author_kind"),
    )

    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"), primary_key=True, autoincrement=False)
    message_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    global_id: Mapped[int] = mapped_column(Uint256, unique=True)
    author: Mapped[str] = mapped_column(ADDRESS)
    content_hash: Mapped[str] = mapped_column(HASH)
    kind: Mapped[str] = mapped_column(String(8))
    """`root`, `post` or `spec`."""
    author_kind: Mapped[str] = mapped_column(AUTHOR_KIND)
    """What the submitter declared on chain: `human`, `ai` or `ai_prompted`."""
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]


class Citation(Base):
    """A message's citation of an earlier message (of any thread), in the order it was given."""

    __tablename__ = "citations"
    __table_args__ = (
        _fks(["thread_id", "message_index"], ["messages.thread_id", "messages.message_index"]),
        Index("ix_citations_cited", "cited_thread_id", "cited_index"),
    )

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cited_global_id: Mapped[int] = mapped_column(Uint256)
    cited_thread_id: Mapped[int]
    cited_index: Mapped[int]


class CountedCitation(Base):
    """A citation the hub counted toward another thread (`CitationRecorded`, protocol section 7): a co-author's
    post's when posted, a spec's when it was approved, never a thread's citation of itself. The citation rule is
    the hub's; every reader (the pricer's `c`, its trigger blocks, the gateway's graph) counts these rows."""

    __tablename__ = "counted_citations"
    __table_args__ = (
        Index("ix_counted_citations_cited", "cited_thread_id", "block"),
        # The pricer's `c` (distinct citing threads per cited thread), covering: pricer/state.py
        Index("ix_counted_citations_pair", "cited_thread_id", "citing_thread_id", "block"),
    )

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    citing_thread_id: Mapped[int]
    citing_index: Mapped[int]
    cited_thread_id: Mapped[int]
    cited_global_id: Mapped[int] = mapped_column(Uint256)
    timestamp: Mapped[int]


class Spec(Base):
    """A staked submission; its message row carries the same index (`spec_id`)."""

    __tablename__ = "specs"
    __table_args__ = (
        _fks(["thread_id", "spec_id"], ["messages.thread_id", "messages.message_index"]),
        Index("ix_specs_status", "status"),
        Index("ix_specs_author", "author"),
        Index("ix_specs_thread_status", "thread_id", "status"),
        Index("ix_specs_submitted_block", "submitted_block"),
        # The pricer's `a` (approvals in the trailing 7 days), covering: pricer/state.py
        Index("ix_specs_settled", "status", "settled_timestamp", "settled_block", "thread_id"),
    )

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    spec_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    author: Mapped[str] = mapped_column(ADDRESS)
    content_hash: Mapped[str] = mapped_column(HASH)
    author_kind: Mapped[str] = mapped_column(AUTHOR_KIND)
    """As on its message row: `human`, `ai` or `ai_prompted`."""
    stake: Mapped[int] = mapped_column(Uint256)
    price: Mapped[int] = mapped_column(Uint256)
    deadline: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))
    """`pending`, `approved`, `denied`, `split`, `expired` or `refunded`."""
    approvals: Mapped[int]
    denials: Mapped[int]
    submitted_block: Mapped[int]
    submitted_timestamp: Mapped[int]
    settled_block: Mapped[int | None]
    settled_timestamp: Mapped[int | None]


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        _fks(["thread_id", "spec_id"], ["specs.thread_id", "specs.spec_id"]),
        Index("ix_votes_voter", "voter"),
        Index("ix_votes_block", "block"),
    )

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    spec_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    voter: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    approve: Mapped[bool]
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]


class Settlement(Base):
    """How a spec's stake was divided: `treasury_gain + payout_per_denier * denials == stake`."""

    __tablename__ = "settlements"
    __table_args__ = (
        _fks(["thread_id", "spec_id"], ["specs.thread_id", "specs.spec_id"]),
        Index("ix_settlements_block", "block"),
        # The pricer's `r` (each thread's settlements in settlement order), covering: pricer/state.py
        Index("ix_settlements_thread", "thread_id", "block", "log_index", "outcome", "approvals", "denials"),
    )

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    spec_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(String(8))
    treasury_gain: Mapped[int] = mapped_column(Uint256)
    payout_per_denier: Mapped[int] = mapped_column(Uint256)
    approvals: Mapped[int]
    denials: Mapped[int]
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]


class CuratorClaim(Base):
    """A denier took its share of a denied or split spec's stake (once per spec and denier)."""

    __tablename__ = "curator_claims"
    __table_args__ = (_fks(["thread_id", "spec_id"], ["specs.thread_id", "specs.spec_id"]),)

    thread_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    spec_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    curator: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    amount: Mapped[int] = mapped_column(Uint256)
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]


class Coauthor(Base):
    """An account that holds or held equity in a thread."""

    __tablename__ = "coauthors"
    __table_args__ = (Index("ix_coauthors_account", "account", "active"),)

    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"), primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    shares: Mapped[int] = mapped_column(Uint256)
    active: Mapped[bool]
    joined_timestamp: Mapped[int]
    """When its shares last grew: ThreadDAO.joinedAt while it is a co-author; the exit cooldown runs from
    it."""
    exited_timestamp: Mapped[int | None]


class EquityEvent(Base):
    """Every change of equity: `join` (shares added, `spec_id` 0 for the creator) or `exit` (shares
    burned)."""

    __tablename__ = "equity_events"
    __table_args__ = (
        Index("ix_equity_events_thread", "thread_id", "account"),
        # The pricer's `N` (each account's last equity event), covering: pricer/state.py
        Index("ix_equity_events_latest", "thread_id", "account", "block", "log_index", "kind"),
        Index("ix_equity_events_kind", "kind", "block", "thread_id", "account"),  # the accounts that exited
    )

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"))
    account: Mapped[str] = mapped_column(ADDRESS)
    kind: Mapped[str] = mapped_column(String(8))
    spec_id: Mapped[int | None]
    shares: Mapped[int] = mapped_column(Uint256)
    total_shares_after: Mapped[int] = mapped_column(Uint256)
    payout: Mapped[int] = mapped_column(Uint256)
    tx_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int]


class Donation(Base):
    """Tokens sent to a thread outside the protocol, added to its treasury by `absorbDonations`."""

    __tablename__ = "donations"

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"))
    amount: Mapped[int] = mapped_column(Uint256)
    tx_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int]


class TreasuryMovement(Base):
    """CHOIR entering or leaving a treasury outside staking: rewards minted by the rewards distributor (the
    thread's own approved message or a citation of it: `message_id`), and transfers by the thread's governance."""

    __tablename__ = "treasury_movements"

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"))
    kind: Mapped[str] = mapped_column(String(12))
    """`reward` (into the treasury) or `governance` (out of it, to `recipient`)."""
    amount: Mapped[int] = mapped_column(Uint256)
    message_id: Mapped[int | None] = mapped_column(Uint256)
    recipient: Mapped[str | None] = mapped_column(ADDRESS)
    tx_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int]


class PriceRound(Base):
    """One accepted `updatePrices` batch of the pricer."""

    __tablename__ = "price_rounds"
    __table_args__ = (Index("ix_price_rounds_block", "block"),)

    round: Mapped[int] = mapped_column(Uint256, primary_key=True)
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]
    thread_count: Mapped[int]


class Price(Base):
    __tablename__ = "prices"
    __table_args__ = (Index("ix_prices_thread", "thread_id"),)

    round: Mapped[int] = mapped_column(Uint256, _fk("price_rounds.round"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(_fk("threads.thread_id"), primary_key=True, autoincrement=False)
    price: Mapped[int] = mapped_column(Uint256)


class HubParameter(Base):
    """The hub's current parameters (`min_price`, `max_price`, `fallback_price`, `max_deviation_bps`,
    `heartbeat`, `deviation_window`, `default_approval_window`), from the events its constructor and setters
    emit."""

    __tablename__ = "hub_parameters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Uint256)
    block: Mapped[int]
    log_index: Mapped[int]


class RoleMember(Base):
    """An AccessControl role grant of the hub; `active` is false once revoked or renounced."""

    __tablename__ = "roles"

    role: Mapped[str] = mapped_column(HASH, primary_key=True)
    account: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    role_name: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool]
    block: Mapped[int]
    log_index: Mapped[int]


class NoveltyScore(Base):
    """A message's novelty score, from the rewards distributor's `NoveltyScoresSet`: its body's highest cosine
    similarity to any earlier message. A later round scoring the same message overwrites the row (the contract
    keeps only the latest score too). No foreign key: the oracle may score a message id before this database
    holds the message, or one that never existed."""

    __tablename__ = "novelty_scores"
    __table_args__ = (Index("ix_novelty_scores_thread", "thread_id", "message_index"),)

    message_id: Mapped[int] = mapped_column(Uint256, primary_key=True)
    """Global id, `thread_id << 64 | message_index`."""
    thread_id: Mapped[int]
    message_index: Mapped[int]
    max_similarity: Mapped[float] = mapped_column(Float)
    """The on-chain WAD value / 1e18, in [-1, 1]."""
    round: Mapped[int] = mapped_column(Uint256)
    model_id: Mapped[str] = mapped_column(String(64))
    """The scorer's embedding model, as the round named it."""
    calibration_version: Mapped[int]
    """The calibration that mapped the model's raw similarity onto the reward curve's scale."""
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]


class MessageReward(Base):
    """What the rewards distributor paid an approved message from its epoch's budget (`MessageRewarded`):
    `amount` in all, `to_thread` of it to the message's own thread and the rest to the live threads it cites
    (their `treasury_movements` rows of kind `reward`). `score_round` is the novelty round that gave it its
    weight (its `model_id` and `calibration_version` are in that round's `novelty_scores` rows)."""

    __tablename__ = "message_rewards"
    __table_args__ = (Index("ix_message_rewards_epoch", "epoch"),)

    message_id: Mapped[int] = mapped_column(Uint256, primary_key=True)
    thread_id: Mapped[int]
    message_index: Mapped[int]
    epoch: Mapped[int]
    amount: Mapped[int] = mapped_column(Uint256)
    to_thread: Mapped[int] = mapped_column(Uint256)
    score_round: Mapped[int] = mapped_column(Uint256)
    block: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int]
    timestamp: Mapped[int]


class EpochAllocation(Base):
    """One allocation batch of an epoch (`EpochAllocated`): `amount` paid to `messages` messages; `allocated` of
    the epoch's `budget` paid so far, this batch included."""

    __tablename__ = "epoch_allocations"
    __table_args__ = (Index("ix_epoch_allocations_epoch", "epoch"),)

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    epoch: Mapped[int]
    messages: Mapped[int]
    amount: Mapped[int] = mapped_column(Uint256)
    allocated: Mapped[int] = mapped_column(Uint256)
    budget: Mapped[int] = mapped_column(Uint256)
    tx_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int]
