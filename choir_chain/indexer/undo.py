"""Undo records: what each block range near the head changed in the derived tables, so a reorg rolls back in
proportion to its depth instead of replaying the whole raw-log cache.

A range applied within `max_reorg_depth` blocks of the head records, in the same transaction, one row per derived
row it touched: the key of each row it inserted (undone by deleting it) and the before-image of each row it
updated (undone by writing it back). `undo_ranges` lists the ranges recorded. A rollback to block A undoes the
recorded ranges above A, newest first, back to the start of the range holding A + 1 (blocks of that range at or
below A are re-indexed from the node with the rest), if the records reach that far without a gap; otherwise
(after a `--rebuild`, which clears them) it falls back to the full replay (`cache.roll_back`). Records of ranges
more than `max_reorg_depth` blocks behind the cursor are deleted as the cursor moves on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, and_, delete, insert, inspect, select, tuple_, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from choir_chain.indexer.cache import CacheBase
from choir_chain.indexer.models import Base

DELETE_CHUNK = 500
"""Keys per DELETE when undoing inserts."""


class UndoRange(CacheBase):
    """A block range whose changes to the derived tables are recorded in `undo_rows`."""

    __tablename__ = "undo_ranges"

    first: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]


class UndoRow(CacheBase):
    """What a range did to one table: the keys of the rows it inserted (a JSON list, `before` null), or one row it
    updated (its key, and its before-image as JSON)."""

    __tablename__ = "undo_rows"

    first: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)


def _columns(row: Any) -> dict[str, Any]:
    """A mapped row's column values by column name."""
    state = inspect(row)
    return {attr.columns[0].name: getattr(row, attr.key) for attr in state.mapper.column_attrs}


@dataclass
class UndoRecorder:
    """Collects a range's undo records as the `Store` loads, creates and inserts rows."""

    inserted: list[tuple[str, list[Any]]] = field(default_factory=list)
    loaded: dict[tuple[str, tuple[Any, ...]], tuple[Any, dict[str, Any]]] = field(default_factory=dict)

    def on_insert(self, table_name: str, values: dict[str, Any]) -> None:
        table = Base.metadata.tables[table_name]
        self.inserted.append((table_name, [values[c.name] for c in table.primary_key.columns]))

    def on_create(self, table_name: str, key: tuple[Any, ...]) -> None:
        self.inserted.append((table_name, list(key)))

    def on_load(self, table_name: str, key: tuple[Any, ...], row: Any) -> None:
        self.loaded[(table_name, key)] = (row, _columns(row))

    def write(self, session: Session, first: int, last: int) -> None:
        """Record the range (call after the range's rows are written): inserted keys, and the before-images of
        loaded rows that changed."""
        by_table: dict[str, list[list[Any]]] = {}
        for name, inserted_key in self.inserted:
            by_table.setdefault(name, []).append(inserted_key)
        rows = [  # one row per table for the inserted keys: a range near the head may insert thousands
            {"first": first, "seq": seq, "table_name": name, "key": json.dumps(keys), "before": None}
            for seq, (name, keys) in enumerate(sorted(by_table.items()))
        ]
        for (name, key), (row, before) in self.loaded.items():
            if _columns(row) != before:
                rows.append(
                    {
                        "first": first,
                        "seq": len(rows),
                        "table_name": name,
                        "key": json.dumps(list(key)),
                        "before": json.dumps(before),
                    }
                )
        session.execute(insert(UndoRange), [{"first": first, "last": last}])
        if rows:
            session.execute(insert(CacheBase.metadata.tables[UndoRow.__tablename__]), rows)


def prune(session: Session, below: int) -> None:
    """Forget the records of ranges that end before block `below` (deeper than any reorg rolled back)."""
    old = select(UndoRange.first).where(UndoRange.last < below)
    session.execute(delete(UndoRow).where(UndoRow.first.in_(old)))
    session.execute(delete(UndoRange).where(UndoRange.last < below))


def clear(session: Session) -> None:
    """Forget every record (the derived tables were rebuilt, perhaps in another schema)."""
    session.execute(delete(UndoRow))
    session.execute(delete(UndoRange))


def drop_undo_above(session: Session, ancestor: int) -> None:
    """Forget the records of ranges reaching above `ancestor` (rolled back by a replay instead)."""
    above = select(UndoRange.first).where(UndoRange.last > ancestor)
    session.execute(delete(UndoRow).where(UndoRow.first.in_(above)))
    session.execute(delete(UndoRange).where(UndoRange.last > ancestor))


def undo_to(session: Session, ancestor: int, last: int) -> int | None:
    """Undo the recorded ranges above `ancestor` (the cursor at `last`); the block the derived tables then
    reflect (at most `ancestor`), or None (nothing changed) when the records do not cover the way down."""
    ranges = session.execute(
        select(UndoRange.first, UndoRange.last).where(UndoRange.last > ancestor).order_by(UndoRange.first.desc())
    ).all()
    expected = last
    for first, end in ranges:
        if end != expected:
            return None
        expected = first - 1
    if not ranges or expected > ancestor:
        return None if last > ancestor else ancestor
    firsts = [first for first, _ in ranges]
    records = session.execute(
        select(UndoRow.table_name, UndoRow.key, UndoRow.before)
        .where(UndoRow.first.in_(firsts))
        .order_by(UndoRow.first.desc(), UndoRow.seq.desc())
    ).all()
    for table_name, key_json, before_json in records:
        table = Base.metadata.tables[table_name]
        columns = list(table.primary_key.columns)
        if before_json is None:
            keys = [tuple(k) for k in json.loads(key_json)]
            for i in range(0, len(keys), DELETE_CHUNK):
                chunk = keys[i : i + DELETE_CHUNK]
                session.execute(delete(table).where(tuple_(*columns).in_(chunk)))
        else:
            where = and_(*(c == v for c, v in zip(columns, json.loads(key_json), strict=True)))
            session.execute(update(table).where(where).values(**json.loads(before_json)))
    session.execute(delete(UndoRow).where(UndoRow.first.in_(firsts)))
    session.execute(delete(UndoRange).where(UndoRange.first.in_(firsts)))
    return expected
