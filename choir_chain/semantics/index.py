"""Exact cosine-similarity indexes in NumPy (vectors are unit rows, so cosine = dot product).

`EmbeddingIndex` answers "which stored vectors are nearest to this one" (semantic search); `ChainIndex` answers
the novelty question "how similar is this message to the most similar message *before* it in chain order".

Both scan every stored vector per query (one matrix product), which is exact and, measured by
`choir_chain.bench.novelty`, fast enough at the sizes Choir has (see docs/novelty.md for the figures and the
comparison with faiss).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from choir_chain.protocol.ids import split_message_id
from choir_chain.semantics.embedder import DIMENSIONS

K = TypeVar("K", bound=Hashable)
Vectors = npt.NDArray[np.float32]
QUERY_CHUNK = 256
"""Queries per matrix product in `ChainIndex.max_similarities` (bounds the memory of one product)."""
LOG_INDEX_BITS = 24


COPY_SIMILARITY = 1.0 - 2.0**-20
"""At or above this a body scores exactly 1 (a copy). The float32 dot product of a unit vector with itself lands
within a few float32 ulps of 1 (e.g. 0.99999994 or 1.0000001) depending on how the BLAS kernel of the machine sums,
so a copy must be recognised with room; the reward curve is 0 from 0.95 on, so no reward changes."""


def position_key(block: int, log_index: int) -> int:
    """One integer ordering events like the chain does: by block, then by log index within the block."""
    if block < 0 or not 0 <= log_index < 1 << LOG_INDEX_BITS:
        raise ValueError(f"no chain position for block {block}, log index {log_index}")
    return block << LOG_INDEX_BITS | log_index


def _as_matrix(vectors: npt.ArrayLike) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != DIMENSIONS:
        raise ValueError(f"vectors must have {DIMENSIONS} columns, got shape {matrix.shape}")
    return matrix


class _Rows:
    """A growable float32 matrix (capacity doubles), so adding one vector at a time stays amortised O(1)."""

    def __init__(self) -> None:
        self._data = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self.size = 0

    def append(self, rows: Vectors) -> None:
        needed = self.size + len(rows)
        if needed > len(self._data):
            grown = np.zeros((max(needed, 2 * len(self._data), 64), DIMENSIONS), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = rows
        self.size = needed

    @property
    def view(self) -> Vectors:
        return self._data[: self.size]


class EmbeddingIndex(Generic[K]):
    """Vectors by key; exact top-k search by cosine similarity. A key added again keeps its first vector."""

    def __init__(self) -> None:
        self._rows = _Rows()
        self._keys: list[K] = []
        self._positions: dict[K, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._positions

    def add(self, keys: Sequence[K], vectors: npt.ArrayLike) -> int:
        """Add `vectors[i]` under `keys[i]` (keys already present are skipped); how many were added."""
        matrix = _as_matrix(vectors) if len(keys) else np.zeros((0, DIMENSIONS), dtype=np.float32)
        if len(keys) != len(matrix):
            raise ValueError(f"{len(keys)} keys for {len(matrix)} vectors")
        fresh = []
        for i, key in enumerate(keys):
            if key not in self._positions:
                self._positions[key] = len(self._keys)
                self._keys.append(key)
                fresh.append(i)
        self._rows.append(matrix[fresh])
        return len(fresh)

    def search(self, vector: npt.ArrayLike, k: int) -> list[tuple[K, float]]:
        """The `k` most similar keys with their cosine similarity, most similar first (ties: first added)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if not self._keys:
            return []
        scores = self._rows.view @ _as_matrix(vector)[0]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        order = top[np.lexsort((top, -scores[top]))]
        return [(self._keys[i], float(scores[i])) for i in order]

    def max_similarity(self, vector: npt.ArrayLike, exclude: Iterable[K] = ()) -> float:
        """The highest cosine similarity of `vector` to a stored vector whose key is not in `exclude`; 0.0 when
        there is none."""
        if not self._keys:
            return 0.0
        scores = self._rows.view @ _as_matrix(vector)[0]
        for key in exclude:
            position = self._positions.get(key)
            if position is not None:
                scores[position] = -np.inf
        best = float(scores.max())
        return 0.0 if best == -np.inf else min(max(best, -1.0), 1.0)


class ChainIndex:
    """Vectors of messages with their chain position (`position_key`); answers each query's highest similarity
    to the messages strictly *before* a given position.

    Messages may be added in any order (a body can be stored long after later messages' bodies); the answer for a
    position only depends on which messages before it are in the index when asked.
    """

    def __init__(self) -> None:
        self._rows = _Rows()
        self._positions: list[int] = []
        self._ids: dict[int, int] = {}
        self._message_ids: list[int] = []
        self._position_array = np.zeros(0, dtype=np.int64)
        self._thread_array = np.zeros(0, dtype=np.uint64)
        """Each stored message's thread: its global id `thread << 64 | index` shifted right by 64."""

    def __len__(self) -> int:
        return len(self._positions)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def add(self, message_ids: Sequence[int], positions: Sequence[int], vectors: npt.ArrayLike) -> int:
        """Add messages (ids already present are skipped); how many were added."""
        matrix = _as_matrix(vectors) if len(message_ids) else np.zeros((0, DIMENSIONS), dtype=np.float32)
        if not len(message_ids) == len(positions) == len(matrix):
            raise ValueError(f"{len(message_ids)} ids, {len(positions)} positions and {len(matrix)} vectors")
        fresh = []
        for i, message_id in enumerate(message_ids):
            if message_id not in self._ids:
                self._ids[message_id] = len(self._positions)
                self._message_ids.append(message_id)
                self._positions.append(int(positions[i]))
                fresh.append(i)
        if fresh:
            self._rows.append(matrix[fresh])
            self._position_array = np.asarray(self._positions, dtype=np.int64)
            self._thread_array = np.asarray([split_message_id(m)[0] for m in self._message_ids], dtype=np.uint64)
        return len(fresh)

    def max_similarities(self, vectors: npt.ArrayLike, positions: Sequence[int]) -> npt.NDArray[np.float64]:
        """For each query vector, its highest cosine similarity to a stored message at an earlier position, in
        [-1, 1]; 0.0 when no stored message is earlier."""
        return self.nearest(vectors, positions)[0]

    def nearest(
        self, vectors: npt.ArrayLike, positions: Sequence[int]
    ) -> tuple[npt.NDArray[np.float64], list[int | None]]:
        """`max_similarities`, and for each query the id of that most similar earlier message (None when no stored
        message is earlier; ties: the first added)."""
        return self._best(vectors, positions, None)

    def thread_similarities(
        self, vectors: npt.ArrayLike, positions: Sequence[int], threads: Sequence[int]
    ) -> list[float | None]:
        """For each query, its highest cosine similarity to a stored message of thread `threads[i]` at an earlier
        position (how much it relates to its own thread: the relevance rule, `semantics.relevance`); None when no
        stored message of that thread is earlier."""
        if len(threads) != len(positions):
            raise ValueError(f"{len(threads)} threads for {len(positions)} positions")
        best, ids = self._best(vectors, positions, np.asarray(threads, dtype=np.uint64))
        return [None if found is None else float(value) for value, found in zip(best, ids, strict=True)]

    def _best(
        self, vectors: npt.ArrayLike, positions: Sequence[int], threads: npt.NDArray[np.uint64] | None
    ) -> tuple[npt.NDArray[np.float64], list[int | None]]:
        """Each query's highest similarity to a stored message at an earlier position (of its own thread when
        `threads` is given) and that message's id; 0.0 and None when there is none."""
        queries = _as_matrix(vectors) if len(positions) else np.zeros((0, DIMENSIONS), dtype=np.float32)
        if len(queries) != len(positions):
            raise ValueError(f"{len(queries)} vectors for {len(positions)} positions")
        out = np.zeros(len(queries), dtype=np.float64)
        ids: list[int | None] = [None] * len(queries)
        if not self._positions or not len(queries):
            return out, ids
        stored = self._rows.view
        last_stored = int(self._position_array.max())
        for start in range(0, len(queries), QUERY_CHUNK):
            chunk = slice(start, start + QUERY_CHUNK)
            scores = queries[chunk] @ stored.T
            wanted = np.asarray(positions[chunk], dtype=np.int64)
            if int(wanted.min()) <= last_stored:  # some stored message is not earlier: mask it (else all are)
                scores[self._position_array[None, :] >= wanted[:, None]] = -np.inf
            if threads is not None:
                scores[self._thread_array[None, :] != threads[chunk][:, None]] = -np.inf
            top = scores.argmax(axis=1)
            best = scores[np.arange(len(top)), top].astype(np.float64)
            for offset, row in enumerate(top):
                if np.isfinite(best[offset]):
                    ids[start + offset] = self._message_ids[int(row)]
            best = np.where(best >= COPY_SIMILARITY, 1.0, best)
            out[chunk] = np.where(np.isfinite(best), np.clip(best, -1.0, 1.0), 0.0)
        return out, ids


def earlier_max_similarities(vectors: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """For vectors given in chain order, each one's highest cosine similarity to the vectors before it (0.0 for
    the first)."""
    matrix = _as_matrix(vectors) if len(np.asarray(vectors)) else np.zeros((0, DIMENSIONS), dtype=np.float32)
    index = ChainIndex()
    index.add(list(range(len(matrix))), list(range(len(matrix))), matrix)
    return index.max_similarities(matrix, list(range(len(matrix))))
