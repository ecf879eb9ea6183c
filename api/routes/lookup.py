"""What the read routes share: the thread id path parameter, the address pattern, a thread's row or 404, the
citations of messages, and a page's fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import MAX_INT, Pagination
from api.errors import ApiError
from choir_chain.indexer.models import Citation, Thread

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"

ThreadId = Annotated[int, PathParam(ge=0, le=MAX_INT, description="Thread id (decimal).", examples=[1])]


def thread_or_404(session: Session, thread_id: int) -> Thread:
    row = session.get(Thread, thread_id)
    if row is None:
        raise ApiError(404, "unknown_thread", f"no thread {thread_id}", "thread_id")
    return row


def page_of(items: list[Any], total: int, page: Pagination) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


def citations_of(session: Session, thread_id: int, indexes: Iterable[int]) -> dict[int, list[str]]:
    """message index -> cited global ids, in the order given."""
    wanted = list(indexes)
    if not wanted:
        return {}
    rows = session.scalars(
        select(Citation)
        .where(Citation.thread_id == thread_id, Citation.message_index.in_(wanted))
        .order_by(Citation.message_index, Citation.position)
    )
    out: dict[int, list[str]] = defaultdict(list)
    for c in rows:
        out[c.message_index].append(str(c.cited_global_id))
    return out
