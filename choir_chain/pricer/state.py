"""A thread's QAHO model inputs as of a block, read from the indexer's database (protocol sections 3, 4, 7).

Everything is "as of block B": rows of later blocks are ignored, so the state of a block never changes once
indexed, whenever it is computed. That is what makes the pricer deterministic (see `service.py`).

- `a`: specs approved (settled) in the trailing 7 days, i.e. with a settlement time in `(T_B - 7 days, T_B]`;
- `r`: mean refusal weight of the thread's last `W` settled specs (denied 1, split D/V, approved 0, expired
  and refunded not counted), in settlement order (block, log index);
- `c`: the distinct OTHER threads whose messages cite the thread: co-authors' posts when posted, specs when
  approved (protocol 7: an approved spec's citations count; a pending, denied or split one's do not; r2: a thread
  citing another many times counts once). Which citations count is the hub's rule, read from its
  `CitationRecorded` rows (`CountedCitation`), never rebuilt here;
- `N`: its co-authors at the end of block B.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from itertools import groupby
from math import fsum
from operator import itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Connection, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from choir_chain.indexer.models import CountedCitation, EquityEvent, Settlement, Spec
from choir_chain.pricing import DEFAULT_WINDOW, refusal_weight

UNVOTED = ("expired", "refunded")
"""Outcomes with no vote: not counted in the refusal ratio."""
WEEK = 7 * 24 * 3600
"""The activity window of `a`, in seconds."""


class ThreadState(NamedTuple):
    """The observable state of one thread as of a block: the inputs of `choir_chain.pricing.thread_prices`.

    A named tuple rather than a frozen dataclass: just as immutable, and a full reprice builds 100,000 of them
    (a frozen dataclass's `__init__` took a fifth of a second of that)."""

    thread_id: int
    approved_recent: int
    refusal: float
    citations: int
    coauthors: int


def thread_states(
    session: Session, thread_ids: Collection[int], block: int, timestamp: int, window: int = DEFAULT_WINDOW
) -> dict[int, ThreadState]:
    """The state of each thread in `thread_ids` as of block `block`, whose timestamp is `timestamp`.

    Set-based: one grouped query per input across all the threads, whatever their number (five queries for a
    full reprice of 100,000 threads; `choir_chain/bench/reprice.py`). Up to `IN_LIMIT` threads are named in the
    queries; more are selected by their id range (no bound-parameter limit to hit: PostgreSQL's is 65,535) and
    the rows of threads in the range but not asked for are dropped here. Each query reads a covering index
    (`choir_chain/indexer/models.py`).
    """
    ids = sorted(set(thread_ids))
    if not ids:
        return {}
    scope = _Scope(ids)
    connection = session.connection()  # the session's transaction: one snapshot for the four queries
    with gc_paused():
        approved = _approved_recent(connection, scope, block, timestamp)
        refusals = _refusal_ratios(connection, scope, block, window)
        citations = _citations_received(connection, scope, block)
        coauthors = _coauthors(connection, scope, block)
        return {
            t: ThreadState(t, approved.get(t, 0), refusals.get(t, 0.0), citations.get(t, 0), coauthors.get(t, 0))
            for t in ids
        }


def _rows(connection: Connection, statement: ClauseElement) -> Iterator[Any]:
    """The rows of `statement` as the driver's own tuples, in the connection's transaction.

    The queries here return integers and strings, which need no type processing; skipping SQLAlchemy's row objects
    saves about a tenth of a full reprice (hundreds of thousands of rows)."""
    compiled = cast(
        SQLCompiler, statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    )
    params = compiled.construct_params()
    args = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    finally:
        cursor.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for bulk work whose many new objects (rows, states, steps) hold no
    reference cycles, so reference counting frees them all. A collection in the middle would only traverse the
    whole heap to find nothing; in a full reprice they cost a fifth of the time. The switch is process-wide: a
    thread working alongside (the indexer) only goes without collections for that second."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


IN_LIMIT = 500
"""Most threads named in a query's `IN (...)`; more are selected by their id range."""
FETCH_ROWS = 10_000
"""Rows fetched from the driver at a time."""


class _Scope:
    """Which threads a query reads: named (few), or every thread in the range of the ids (many)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def where(self, column: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
        if len(self.ids) <= IN_LIMIT:
            return column.in_(self.ids)
        return column.between(self.ids[0], self.ids[-1])


def _approved_recent(connection: Connection, scope: _Scope, block: int, timestamp: int) -> dict[int, int]:
    rows = _rows(
        connection,
        select(Spec.thread_id, func.count())
        .where(
            Spec.status == "approved",
            Spec.settled_timestamp > timestamp - WEEK,
            Spec.settled_block <= block,
            scope.where(Spec.thread_id),
        )
        .group_by(Spec.thread_id),
    )
    return dict(rows)  # (thread, count) pairs, ints from the driver


def _refusal_ratios(connection: Connection, scope: _Scope, block: int, window: int) -> dict[int, float]:
    """The mean refusal weight of each thread's last `window` voted settlements (`refusal_ratio`).

    The settlements come in settlement order from one ordered scan of a covering index; the last `window` of each
    thread are kept here. The weights and the sum are those of `refusal_weight` and `refusal_ratio` (a correctly
    rounded `fsum` divided by the count), so each ratio is the same float as theirs."""
    rows = _rows(
        connection,
        select(Settlement.thread_id, Settlement.approvals, Settlement.denials)
        .where(scope.where(Settlement.thread_id), Settlement.block <= block, Settlement.outcome.not_in(UNVOTED))
        .order_by(Settlement.thread_id, Settlement.block, Settlement.log_index),  # oldest first
    )
    ratios: dict[int, float] = {}
    for thread_id, group in groupby(rows, key=itemgetter(0)):
        recent = list(group)[-window:]
        weights = [d / (a + d) if a + d else refusal_weight(a, d) for _, a, d in recent]  # refusal_weight raises
        ratios[int(thread_id)] = fsum(weights) / len(weights)
    return ratios


def _citations_received(connection: Connection, scope: _Scope, block: int) -> dict[int, int]:
    """Distinct other threads whose counted citations (the hub's `CitationRecorded`) reach each thread by `block`."""
    rows = _rows(
        connection,
        select(CountedCitation.cited_thread_id, func.count(CountedCitation.citing_thread_id.distinct()))
        .where(scope.where(CountedCitation.cited_thread_id), CountedCitation.block <= block)
        .group_by(CountedCitation.cited_thread_id),
    )
    return dict(rows)  # (thread, count) pairs, ints from the driver


def _coauthors(connection: Connection, scope: _Scope, block: int) -> dict[int, int]:
    """Accounts whose last equity event by `block` is a join, per thread: the accounts with any event, less those
    whose last event is an exit. Only the accounts that exited need their events (in order); the rest is one
    grouped count."""
    known = EquityEvent.block <= block
    accounts = _rows(
        connection,
        select(EquityEvent.thread_id, func.count(EquityEvent.account.distinct()))
        .where(scope.where(EquityEvent.thread_id), known)
        .group_by(EquityEvent.thread_id),
    )
    counts: dict[int, int] = dict(accounts)
    exits = (
        select(EquityEvent.thread_id, EquityEvent.account)
        .where(EquityEvent.kind == "exit", known, scope.where(EquityEvent.thread_id))
        .distinct()
        .subquery()
    )
    events = _rows(
        connection,
        select(EquityEvent.thread_id, EquityEvent.account, EquityEvent.kind)
        .join(exits, (EquityEvent.thread_id == exits.c.thread_id) & (EquityEvent.account == exits.c.account))
        .where(known)
        .order_by(EquityEvent.thread_id, EquityEvent.account, EquityEvent.block, EquityEvent.log_index),
    )
    for (thread_id, _account), history in groupby(events, key=itemgetter(0, 1)):
        *_, (_, _, kind) = history
        if kind != "join":
            counts[int(thread_id)] -= 1
    return {t: n for t, n in counts.items() if n}
