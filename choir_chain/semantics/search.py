"""Semantic search over the stored message bodies: the query's embedding against every stored body's, exact
cosine similarity, top k (the gateway's `GET /search?q=`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine, select

from choir_chain.semantics.embedder import Embedder
from choir_chain.semantics.index import EmbeddingIndex
from choir_chain.semantics.store import content_embeddings, create_schema, ensure_embeddings, vectors_of

MAX_QUERY_CHARS = 10_000
"""A longer query is refused (the model reads only its first 256 tokens anyway)."""


@dataclass(frozen=True)
class Hit:
    content_hash: str
    score: float
    """Cosine similarity of the body to the query, in [-1, 1]."""


class SemanticSearch:
    """Search over the bodies in `engine`'s `content_bodies`; `refresh` picks up bodies stored since the last
    call (encoding those without an embedding). Thread-safe."""

    def __init__(self, engine: Engine, embedder: Embedder) -> None:
        self.engine = engine
        self.embedder = embedder
        self._index: EmbeddingIndex[str] = EmbeddingIndex()
        self._lock = threading.Lock()
        create_schema(engine)

    def __len__(self) -> int:
        return len(self._index)

    def refresh(self) -> int:
        """Encode newly stored bodies and add them to the index; how many were added to the index."""
        with self._lock:
            ensure_embeddings(self.engine, self.embedder)
            with self.engine.connect() as conn:
                hashes = [str(h) for (h,) in conn.execute(select(content_embeddings.c.content_hash))]
            new = sorted(h for h in hashes if h not in self._index)
            if not new:
                return 0
            vectors = vectors_of(self.engine, new)
            keys = [h for h in new if h in vectors]
            return self._index.add(keys, [vectors[h] for h in keys]) if keys else 0

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The `k` stored bodies most similar to `query`, most similar first. Does not refresh."""
        if not query.strip():
            raise ValueError("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS} are allowed")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vector = self.embedder.encode([query])[0]
        with self._lock:
            return [Hit(content_hash=h, score=s) for h, s in self._index.search(vector, k)]
