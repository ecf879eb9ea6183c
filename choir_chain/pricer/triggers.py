"""Which blocks change some thread's model inputs, and which threads they change (from the indexer's rows).

A **trigger block** is a block holding at least one of:

- a settlement (`SpecSettled`): the thread's `a`, `r` and `N` move; an approved spec also raises the
  citation count `c` of every other thread it cites;
- a counted citation (`CitationRecorded`: a co-author's post citing another thread): the cited threads' `c` rises;
- a co-author's exit: the thread's `N` falls;
- a thread's creation: the new thread gets its first price.

Time also moves `a`: an approval leaves the 7-day window without any event. Such a thread is added to the
next trigger block at or after the moment its approval left the window (`window_exits`), so the decay is
applied at the next protocol activity, at a point that depends on the chain's history alone.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from choir_chain.indexer.models import CountedCitation, EquityEvent, Settlement, Spec, Thread
from choir_chain.pricer.state import WEEK


def _sources() -> list[Select[int, int]]:
    """(block, timestamp) of every row that makes its block a trigger block."""
    return [
        select(Settlement.block, Settlement.timestamp),
        select(Thread.created_block, Thread.created_timestamp),
        select(EquityEvent.block, EquityEvent.timestamp).where(EquityEvent.kind == "exit"),
        select(CountedCitation.block, CountedCitation.timestamp),
    ]


def trigger_blocks(session: Session, after: int, until: int) -> list[int]:
    """Every trigger block in `(after, until]`, in order."""
    found: set[int] = set()
    for query in _sources():
        block_column = query.subquery().c[0]
        found.update(
            int(b)
            for b in session.scalars(select(block_column).where(block_column > after, block_column <= until).distinct())
        )
    return sorted(found)


def previous_trigger_block(session: Session, before: int) -> int | None:
    """The last trigger block before block `before`, None if there is none."""
    found = []
    for query in _sources():
        block_column = query.subquery().c[0]
        found.append(session.scalar(select(func.max(block_column)).where(block_column < before)))
    blocks = [int(b) for b in found if b is not None]
    return max(blocks) if blocks else None


def block_timestamp(session: Session, block: int) -> int | None:
    """The timestamp of a trigger block, from its rows (None if the database has no row of that block)."""
    for query in _sources():
        sub = query.subquery()
        stamp = session.scalar(select(sub.c[1]).where(sub.c[0] == block).limit(1))
        if stamp is not None:
            return int(stamp)
    return None


def affected_threads(session: Session, block: int) -> set[int]:
    """The threads whose model inputs change in trigger block `block` (empty for any other block)."""
    affected: set[int] = set()
    affected.update(int(t) for t in session.scalars(select(Settlement.thread_id).where(Settlement.block == block)))
    affected.update(int(t) for t in session.scalars(select(Thread.thread_id).where(Thread.created_block == block)))
    affected.update(
        int(t)
        for t in session.scalars(
            select(EquityEvent.thread_id).where(EquityEvent.block == block, EquityEvent.kind == "exit")
        )
    )
    # Threads cited by a counted citation of this block: co-authors' posts, and the citations of the specs
    # approved here (the hub records those in the settling transaction).
    affected.update(
        int(t) for t in session.scalars(select(CountedCitation.cited_thread_id).where(CountedCitation.block == block))
    )
    affected.update(window_exits(session, block))
    return affected


def window_exits(session: Session, block: int) -> set[int]:
    """Threads with an approval that left the 7-day window after the previous trigger block and no later
    than trigger block `block` (an approval at time s counts while `T < s + WEEK`)."""
    now = block_timestamp(session, block)
    previous = previous_trigger_block(session, block)
    if now is None or previous is None:
        return set()
    before = block_timestamp(session, previous)
    if before is None:
        return set()
    rows = session.scalars(
        select(Spec.thread_id)
        .where(
            Spec.status == "approved",
            Spec.settled_block <= block,
            Spec.settled_timestamp > before - WEEK,
            Spec.settled_timestamp <= now - WEEK,
        )
        .distinct()
    )
    return {int(t) for t in rows}


def threads_up_to(session: Session, block: int) -> set[int]:
    """Every thread created at or before block `block` (a Core query: the ORM's result machinery would take a
    third of a second over 100,000 threads)."""
    return set(session.connection().scalars(select(Thread.thread_id).where(Thread.created_block <= block)))
