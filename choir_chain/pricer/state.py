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

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from choir_chain.indexer.models import CountedCitation, EquityEvent, Settlement, Spec
from choir_chain.pricing import DEFAULT_WINDOW, refusal_ratio, refusal_weight

UNVOTED = ("expired", "refunded")
"""Outcomes with no vote: not counted in the refusal ratio."""
WEEK = 7 * 24 * 3600
"""The activity window of `a`, in seconds."""


@dataclass(frozen=True, slots=True)
class ThreadState:
    """The observable state of one thread as of a block: the inputs of `choir_chain.pricing.thread_prices`."""

    thread_id: int
    approved_recent: int
    refusal: float
    citations: int
    coauthors: int


def thread_states(
    session: Session, thread_ids: Collection[int], block: int, timestamp: int, window: int = DEFAULT_WINDOW
) -> dict[int, ThreadState]:
    """The state of each thread in `thread_ids` as of block `block`, whose timestamp is `timestamp`."""
    ids = sorted(set(thread_ids))
    if not ids:
        return {}
    approved = _approved_recent(session, ids, block, timestamp)
    refusals = _refusal_ratios(session, ids, block, window)
    citations = _citations_received(session, ids, block)
    coauthors = _coauthors(session, ids, block)
    return {
        t: ThreadState(
            thread_id=t,
            approved_recent=approved.get(t, 0),
            refusal=refusals.get(t, 0.0),
            citations=citations.get(t, 0),
            coauthors=coauthors.get(t, 0),
        )
        for t in ids
    }


def _approved_recent(session: Session, ids: list[int], block: int, timestamp: int) -> dict[int, int]:
    rows = session.execute(
        select(Spec.thread_id, func.count())
        .where(
            Spec.thread_id.in_(ids),
            Spec.status == "approved",
            Spec.settled_block <= block,
            Spec.settled_timestamp > timestamp - WEEK,
        )
        .group_by(Spec.thread_id)
    ).all()
    return {int(t): int(n) for t, n in rows}


def _refusal_ratios(session: Session, ids: list[int], block: int, window: int) -> dict[int, float]:
    ranked = (
        select(
            Settlement.thread_id,
            Settlement.approvals,
            Settlement.denials,
            Settlement.block,
            Settlement.log_index,
            func.row_number()
            .over(
                partition_by=Settlement.thread_id,
                order_by=(Settlement.block.desc(), Settlement.log_index.desc()),
            )
            .label("recency"),
        )
        .where(Settlement.thread_id.in_(ids), Settlement.block <= block, Settlement.outcome.not_in(UNVOTED))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.thread_id, ranked.c.approvals, ranked.c.denials)
        .where(ranked.c.recency <= window)
        .order_by(ranked.c.thread_id, ranked.c.block, ranked.c.log_index)  # oldest first
    ).all()
    weights: dict[int, list[float]] = {}
    for thread_id, approvals, denials in rows:
        weights.setdefault(int(thread_id), []).append(refusal_weight(int(approvals), int(denials)))
    return {t: refusal_ratio(w, window) for t, w in weights.items()}


def _citations_received(session: Session, ids: list[int], block: int) -> dict[int, int]:
    """Distinct other threads whose counted citations (the hub's `CitationRecorded`) reach each thread by `block`."""
    rows = session.execute(
        select(CountedCitation.cited_thread_id, func.count(CountedCitation.citing_thread_id.distinct()))
        .where(CountedCitation.cited_thread_id.in_(ids), CountedCitation.block <= block)
        .group_by(CountedCitation.cited_thread_id)
    ).all()
    return {int(t): int(n) for t, n in rows}


def _coauthors(session: Session, ids: list[int], block: int) -> dict[int, int]:
    latest = (
        select(
            EquityEvent.thread_id,
            EquityEvent.kind,
            func.row_number()
            .over(
                partition_by=(EquityEvent.thread_id, EquityEvent.account),
                order_by=(EquityEvent.block.desc(), EquityEvent.log_index.desc()),
            )
            .label("recency"),
        )
        .where(EquityEvent.thread_id.in_(ids), EquityEvent.block <= block)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.thread_id, func.count())
        .where(latest.c.recency == 1, latest.c.kind == "join")
        .group_by(latest.c.thread_id)
    ).all()
    return {int(t): int(n) for t, n in rows}
