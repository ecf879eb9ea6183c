"""Embeddings of stored message bodies (`content_embeddings`), kept beside `content_bodies` in the content
database, in their own SQLAlchemy metadata, so a restarted scorer or gateway never encodes a body twice.

A row holds the body's content hash, the model's name and the vector as `DIMENSIONS` little-endian float32s.
Rows are written with insert-or-ignore, so `ensure_embeddings` is idempotent and safe to run from two
processes at once (the second one's rows for the same bodies are dropped; both computed the same vectors).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from sqlalchemy import Column, Engine, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Executable

from choir_chain import content_store
from choir_chain.semantics.embedder import DIMENSIONS, Embedder

metadata = MetaData()

content_embeddings = Table(
    "content_embeddings",
    metadata,
    Column("content_hash", String(66), primary_key=True, comment="the body's content hash (content_bodies)"),
    Column("model", String(64), nullable=False, comment="the sentence-embedding model that made the vector"),
    Column("vector", LargeBinary, nullable=False, comment="DIMENSIONS little-endian float32, unit norm"),
)

CHUNK = 256
"""Bodies encoded and written per transaction by `ensure_embeddings`."""
_DTYPE = np.dtype("<f4")


def create_schema(engine: Engine) -> None:
    """Create `content_embeddings` (and `content_bodies`, which it sits beside) if missing."""
    content_store.create_schema(engine)
    metadata.create_all(engine, tables=[content_embeddings])


def _pack(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype=_DTYPE).tobytes()


def _unpack(data: bytes) -> npt.NDArray[np.float32]:
    vector = np.frombuffer(data, dtype=_DTYPE)
    if vector.shape != (DIMENSIONS,):
        raise ValueError(f"a stored embedding has {vector.size} floats, not {DIMENSIONS}")
    return vector.astype(np.float32)


def missing_hashes(engine: Engine, limit: int | None = None) -> list[str]:
    """Content hashes of stored bodies that have no embedding yet (sorted)."""
    bodies, vectors = content_store.content_bodies.c, content_embeddings.c
    query = (
        select(bodies.content_hash)
        .outerjoin(content_embeddings, vectors.content_hash == bodies.content_hash)
        .where(vectors.content_hash.is_(None))
        .order_by(bodies.content_hash)
    )
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [str(h) for (h,) in conn.execute(query)]


def ensure_embeddings(engine: Engine, embedder: Embedder) -> int:
    """Encode every stored body that has no embedding yet and store the vectors; how many were added. Creates
    the table if missing. Each chunk of `CHUNK` bodies is written in one transaction."""
    create_schema(engine)
    added = 0
    while True:
        hashes = missing_hashes(engine, CHUNK)
        if not hashes:
            return added
        bodies = content_store.bodies_of(engine, hashes)
        ordered = [h for h in hashes if h in bodies]
        vectors = embedder.encode([bodies[h] for h in ordered])
        with engine.begin() as conn:
            for content_hash, vector in zip(ordered, vectors, strict=True):
                added += _insert_ignore(
                    conn, {"content_hash": content_hash, "model": embedder.name, "vector": _pack(vector)}
                )
        if len(hashes) < CHUNK:
            return added


def _insert_ignore(conn: Connection, values: dict[str, object]) -> int:
    stmt: Executable
    if conn.dialect.name == "sqlite":
        stmt = sqlite.insert(content_embeddings).values(values).on_conflict_do_nothing(index_elements=["content_hash"])
    elif conn.dialect.name == "postgresql":
        stmt = (
            postgresql.insert(content_embeddings).values(values).on_conflict_do_nothing(index_elements=["content_hash"])
        )
    else:
        found = conn.execute(
            select(content_embeddings.c.content_hash).where(content_embeddings.c.content_hash == values["content_hash"])
        )
        if found.first() is not None:
            return 0
        stmt = insert(content_embeddings).values(values)
    return int(conn.execute(stmt).rowcount == 1)


def load_vectors(engine: Engine) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Every stored embedding: content hashes (sorted) and an `(n, DIMENSIONS)` float32 matrix in that order."""
    table = content_embeddings.c
    with engine.connect() as conn:
        rows = conn.execute(select(table.content_hash, table.vector).order_by(table.content_hash)).all()
    if not rows:
        return [], np.zeros((0, DIMENSIONS), dtype=np.float32)
    return [str(h) for h, _ in rows], np.stack([_unpack(v) for _, v in rows])


def vectors_of(engine: Engine, content_hashes: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
    """The stored embeddings among `content_hashes`."""
    wanted = sorted(set(content_hashes))
    found: dict[str, npt.NDArray[np.float32]] = {}
    table = content_embeddings.c
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(select(table.content_hash, table.vector).where(table.content_hash.in_(chunk)))
            found.update((str(h), _unpack(v)) for h, v in rows)
    return found
