"""The rows touched while one block range is applied, over one database session.

Two kinds of rows, written two ways:

- append-only rows (messages, citations, votes, settlements, ...) are never read back while a range is
  applied: `insert` queues them as plain values, and `write` inserts each table's queue in one `executemany`
  (several times faster than building ORM objects, which matters at tens of thousands of events a second);
- mutable rows (threads, specs, co-authors, ...) are ORM objects that later events update. The store keeps
  each one it loaded or created in a dict, so handlers always see the range's own pending changes without
  flushing between events (the session runs with autoflush off).

Foreign keys are checked at commit (see `models.py`), so the order of the writes does not matter.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import Session

from choir_chain.indexer.errors import InconsistentEvent
from choir_chain.indexer.models import Base

if TYPE_CHECKING:
    from choir_chain.indexer.undo import UndoRecorder

Row = TypeVar("Row", bound=Base)


class Store:
    """Cached access to the rows of one transaction; `undo` (ranges near the head) records what it changes."""

    def __init__(self, session: Session, undo: UndoRecorder | None = None) -> None:
        self.session = session
        self.undo = undo
        self._rows: dict[tuple[type[Base], tuple[Any, ...]], Base | None] = {}
        self._inserts: dict[type[Base], list[dict[str, Any]]] = defaultdict(list)

    def insert(self, model: type[Base], **values: Any) -> None:
        """Queue an append-only row (never read back within the range)."""
        self._inserts[model].append(values)
        if self.undo is not None:
            self.undo.on_insert(model.__tablename__, values)

    def create(self, row: Row, *key: Any) -> Row:
        """Add a row that later events of the range may read or update; `key` is its primary key."""
        self.session.add(row)
        self._rows[(type(row), key)] = row
        if self.undo is not None:
            self.undo.on_create(type(row).__tablename__, key)
        return row

    def get(self, model: type[Row], *key: Any) -> Row | None:
        """The row with primary key `key`, from this range's changes or the database; None if absent."""
        cache_key = (model, key)
        if cache_key in self._rows:
            return self._rows[cache_key]  # type: ignore[return-value]
        row = self.session.get(model, key)
        self._rows[cache_key] = row
        if row is not None and self.undo is not None:
            self.undo.on_load(model.__tablename__, key, row)
        return row

    def require(self, model: type[Row], *key: Any) -> Row:
        """Like `get`, for rows an event implies exist; their absence means the index lost something."""
        row = self.get(model, *key)
        if row is None:
            raise InconsistentEvent(f"no {model.__tablename__} row {key}: re-index this database (--reset)")
        return row

    def write(self) -> None:
        """Send every queued insert and ORM change to the database (the caller commits)."""
        self.session.flush()
        for model, rows in self._inserts.items():
            table = Base.metadata.tables[model.__tablename__]
            self.session.execute(insert(table), rows)  # Core executemany, no ORM bookkeeping
        self._inserts.clear()
