"""The export's records as plain dicts, built from the indexer's database and the content store.

A thread at a time (threads in batches of `THREAD_BATCH`, a few queries per batch), so memory stays bounded by the
largest batch however long the chain is. Nothing here writes anything; `export.py` drives it.

Which messages make records: the root (the creator's first post), every co-author post, and every *settled* spec
(approved, denied, split or expired); pending specs are left out, their outcome unknown. A message whose body
was never stored in the content store is never invented: it gets no record, it is skipped in other messages'
contexts (listed in their `context_missing`), and it is reported in `missing_bodies.json` and the card.

The context of a message is what its author saw: the thread's messages *accepted* before it was submitted
(root and posts when posted, specs when their approval settled), oldest first, truncated to `context_limit`
characters of body by dropping the oldest (whole messages only).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from choir_chain import content_store
from choir_chain.indexer.models import (
    SCHEMA_VERSION,
    Citation,
    Cursor,
    Message,
    MessageReward,
    NoveltyScore,
    Settlement,
    Spec,
)
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.protocol.units import CHOIR

DEFAULT_CONTEXT_LIMIT = 4_000
"""Characters of context body kept per record (the most recent messages)."""
THREAD_BATCH = 200
"""Threads whose rows are loaded together."""
BODY_CHUNK = 500
"""Content hashes per `IN (...)` lookup (well below SQLite's bound-parameter limit)."""
SETTLED = ("approved", "denied", "split", "expired")


class DatasetError(RuntimeError):
    """The export cannot run: a database without the indexer's tables, bad options, an unwritable folder."""


@dataclass(frozen=True)
class Source:
    """What the database follows (its `cursor` row): the export's provenance in the card."""

    chain_id: int
    hub: str
    deploy_block: int
    last_block: int
    last_block_hash: str | None
    schema_version: int


@dataclass
class Item:
    """One message of a thread with everything a record needs."""

    thread_id: int
    index: int
    global_id: int
    kind: str
    author: str
    author_kind: str
    content_hash: str
    block: int
    log_index: int
    timestamp: int
    outcome: str
    """`posted` (root and posts), a spec's status (`pending`, `approved`, `denied`, `split`, `expired`)."""
    accepted_at: tuple[int, int] | None
    """(block, log index) from which the message is part of the thread: when posted, or when its approval
    settled; None for a spec not (yet) approved."""
    stake: int | None = None
    price: int | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    citations: list[int] = field(default_factory=list)
    max_similarity: float | None = None
    """On the reward curve's scale: calibrated by the scorer (`novelty_calibration`) from its model's raw score."""
    novelty_model: str | None = None
    novelty_calibration: int | None = None
    reward: int | None = None
    body: str | None = None

    @property
    def is_record(self) -> bool:
        return self.outcome == "posted" or self.outcome in SETTLED


@dataclass
class ThreadItems:
    thread_id: int
    items: list[Item]
    """By message index."""


@dataclass(frozen=True)
class Context:
    messages: list[dict[str, Any]]
    """{message_index, author, body}, oldest first."""
    omitted: int
    """Accepted earlier messages dropped by the character limit."""
    missing: list[int]
    """Message indexes of accepted earlier messages whose body was never stored."""


def read_source(engine: Engine) -> Source:
    """The cursor row; `DatasetError` when the database holds no index of this schema version."""
    try:
        tables = set(inspect(engine).get_table_names())
        needed = {"cursor", "threads", "messages", "specs", "settlements", "citations", "novelty_scores"}
        if not needed <= tables:
            raise DatasetError(
                f"the database has no indexer schema (missing tables: {', '.join(sorted(needed - tables))}); "
                "run `choir index` into it first"
            )
        with Session(engine) as session:
            cursor = session.get(Cursor, 1)
    except SQLAlchemyError as err:
        raise DatasetError(f"cannot read the indexer database: {str(err).splitlines()[0]}") from err
    if cursor is None:
        raise DatasetError("the indexer database is empty (no cursor row); run `choir index` into it first")
    if cursor.schema_version != SCHEMA_VERSION:
        raise DatasetError(
            f"the database was indexed with schema version {cursor.schema_version}, this export reads "
            f"{SCHEMA_VERSION}: re-index it (`choir index --reset`)"
        )
    return Source(
        chain_id=cursor.chain_id,
        hub=cursor.hub,
        deploy_block=cursor.deploy_block,
        last_block=cursor.last_block,
        last_block_hash=cursor.last_block_hash,
        schema_version=cursor.schema_version,
    )


def check_content_store(engine: Engine) -> None:
    """`DatasetError` unless `engine` holds the content store's table."""
    try:
        present = content_store.content_bodies.name in inspect(engine).get_table_names()
    except SQLAlchemyError as err:
        raise DatasetError(f"cannot read the content store: {str(err).splitlines()[0]}") from err
    if not present:
        raise DatasetError(
            "the content database has no content_bodies table (bodies are stored by the gateway's POST /content); "
            "pass --content-db if they live elsewhere"
        )


def thread_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(Message.thread_id).distinct().order_by(Message.thread_id)))


def message_count(engine: Engine) -> int:
    """Messages indexed (the progress bar's total)."""
    from sqlalchemy import func

    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def iter_threads(engine: Engine, content_engine: Engine, ids: Sequence[int]) -> Iterator[ThreadItems]:
    """Every thread of `ids` (ascending) with its messages, bodies, citations, scores and rewards."""
    for start in range(0, len(ids), THREAD_BATCH):
        batch = list(ids[start : start + THREAD_BATCH])
        yield from _load_batch(engine, content_engine, batch)


def _load_batch(engine: Engine, content_engine: Engine, batch: list[int]) -> list[ThreadItems]:
    low, high = batch[0], batch[-1]
    # Column selects, not ORM objects: building ORM instances took most of the export's time.
    with engine.connect() as conn:
        messages = conn.execute(
            select(
                Message.thread_id,
                Message.message_index,
                Message.global_id,
                Message.kind,
                Message.author,
                Message.author_kind,
                Message.content_hash,
                Message.block,
                Message.log_index,
                Message.timestamp,
            )
            .where(Message.thread_id.between(low, high))
            .order_by(Message.thread_id, Message.message_index)
        ).all()
        specs = {
            (row.thread_id, row.spec_id): row
            for row in conn.execute(
                select(
                    Spec.thread_id, Spec.spec_id, Spec.status, Spec.stake, Spec.price, Spec.approvals, Spec.denials
                ).where(Spec.thread_id.between(low, high))
            )
        }
        settlements = {
            (row.thread_id, row.spec_id): (row.block, row.log_index)
            for row in conn.execute(
                select(Settlement.thread_id, Settlement.spec_id, Settlement.block, Settlement.log_index).where(
                    Settlement.thread_id.between(low, high)
                )
            )
        }
        citations: dict[tuple[int, int], list[int]] = defaultdict(list)
        for row in conn.execute(
            select(Citation.thread_id, Citation.message_index, Citation.cited_global_id)
            .where(Citation.thread_id.between(low, high))
            .order_by(Citation.thread_id, Citation.message_index, Citation.position)
        ):
            citations[(row.thread_id, row.message_index)].append(row.cited_global_id)
        scores = {
            (row.thread_id, row.message_index): (row.max_similarity, row.model_id, row.calibration_version)
            for row in conn.execute(
                select(
                    NoveltyScore.thread_id,
                    NoveltyScore.message_index,
                    NoveltyScore.max_similarity,
                    NoveltyScore.model_id,
                    NoveltyScore.calibration_version,
                ).where(NoveltyScore.thread_id.between(low, high))
            )
        }
        rewards = {
            (row.thread_id, row.message_index): row.amount
            for row in conn.execute(
                select(MessageReward.thread_id, MessageReward.message_index, MessageReward.amount).where(
                    MessageReward.thread_id.between(low, high)
                )
            )
        }
    hashes = sorted({m.content_hash for m in messages})
    bodies: dict[str, str] = {}
    for i in range(0, len(hashes), BODY_CHUNK):
        bodies.update(content_store.bodies_of(content_engine, hashes[i : i + BODY_CHUNK]))

    threads: dict[int, list[Item]] = defaultdict(list)
    for m in messages:
        key = (m.thread_id, m.message_index)
        item = Item(
            thread_id=m.thread_id,
            index=m.message_index,
            global_id=m.global_id,
            kind=m.kind,
            author=m.author,
            author_kind=m.author_kind,
            content_hash=m.content_hash,
            block=m.block,
            log_index=m.log_index,
            timestamp=m.timestamp,
            outcome="posted",
            accepted_at=(m.block, m.log_index),
            citations=citations.get(key, []),
            max_similarity=scores[key][0] if key in scores else None,
            novelty_model=scores[key][1] if key in scores else None,
            novelty_calibration=scores[key][2] if key in scores else None,
            reward=rewards.get(key),
            body=bodies.get(m.content_hash),
        )
        spec = specs.get(key)
        if m.kind == "spec" and spec is not None:
            item.outcome = spec.status
            item.accepted_at = settlements.get(key) if spec.status == "approved" else None
            item.stake, item.price = spec.stake, spec.price
            item.votes_for, item.votes_against = spec.approvals, spec.denials
        threads[m.thread_id].append(item)
    return [ThreadItems(thread_id=t, items=threads[t]) for t in batch if t in threads]


def contexts(items: Sequence[Item], limit: int) -> list[Context]:
    """Each item's context, in one pass over the thread: the messages accepted before it was submitted, oldest
    (lowest index) first, at most `limit` characters of body (the most recent whole messages); messages
    without a stored body are skipped and listed.

    Messages are submitted in index order, so walking the items while adding every acceptance (a post's own
    submission, an approved spec's settlement) that precedes the current submission yields each context; an
    accepted message always has a lower index than any message submitted after its acceptance.
    """
    accepted = sorted((c.accepted_at, c.index, c) for c in items if c.accepted_at is not None)
    stored: list[int] = []  # indexes with a body, ascending
    missing: list[int] = []
    by_index = {c.index: c for c in items}
    out: list[Context] = []
    pointer = 0
    for item in items:
        submitted = (item.block, item.log_index)
        while pointer < len(accepted) and accepted[pointer][0] < submitted:
            c = accepted[pointer][2]
            bisect.insort(stored if c.body is not None else missing, c.index)
            pointer += 1
        kept: list[dict[str, Any]] = []
        total = 0
        for index in reversed(stored):
            c = by_index[index]
            assert c.body is not None
            if total + len(c.body) > limit:
                break
            total += len(c.body)
            kept.append({"message_index": c.index, "author": c.author, "body": c.body})
        kept.reverse()
        out.append(Context(messages=kept, omitted=len(stored) - len(kept), missing=list(missing)))
    return out


def choir(wei: int | None) -> str | None:
    """Exact decimal CHOIR of a wei amount ("30", "41.000000000000000007"); None stays None."""
    if wei is None:
        return None
    whole, frac = divmod(wei, CHOIR)
    return str(whole) if frac == 0 else f"{whole}.{frac:018d}".rstrip("0")


def iso_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def novelty_of(max_similarity: float) -> float:
    """`1 - max_similarity`, computed in decimal so 0.8 gives 0.2 rather than 0.19999999999999996."""
    return float(Decimal(1) - Decimal(repr(max_similarity)))


def novelty_weight(item: Item) -> float | None:
    """The message's novelty weight (protocol 7) from its on-chain score; None when not scored."""
    return None if item.max_similarity is None else novelty_reward(item.max_similarity)


def record_of(item: Item, context: Context) -> dict[str, Any]:
    """The record of one message (its body must be stored); field order is the files' column order."""
    similarity = item.max_similarity
    return {
        "thread_id": item.thread_id,
        "message_index": item.index,
        "message_id": str(item.global_id),
        "kind": item.kind,
        "outcome": item.outcome,
        "author": item.author,
        "author_kind": item.author_kind,
        "content_hash": item.content_hash,
        "body": item.body,
        "context": context.messages,
        "context_omitted": context.omitted,
        "context_missing": context.missing,
        "citations": [str(c) for c in item.citations],
        "stake": choir(item.stake),
        "stake_wei": None if item.stake is None else str(item.stake),
        "price_at_submission": choir(item.price),
        "price_at_submission_wei": None if item.price is None else str(item.price),
        "votes_for": item.votes_for,
        "votes_against": item.votes_against,
        "max_similarity": similarity,
        "novelty": None if similarity is None else novelty_of(similarity),
        "novelty_reward": novelty_weight(item),
        "novelty_model": item.novelty_model,
        "novelty_calibration": item.novelty_calibration,
        "reward": choir(item.reward),
        "reward_wei": None if item.reward is None else str(item.reward),
        "block": item.block,
        "timestamp": item.timestamp,
        "time": iso_time(item.timestamp),
    }


def missing_entry(item: Item) -> dict[str, Any]:
    return {
        "message_id": str(item.global_id),
        "thread_id": item.thread_id,
        "message_index": item.index,
        "kind": item.kind,
        "outcome": item.outcome,
        "content_hash": item.content_hash,
    }
