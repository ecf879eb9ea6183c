"""Novelty scoring throughput at 1,000 and 100,000 stored messages (`python -m choir_chain.bench.novelty`).

Scoring a new message = encoding its body with the real model (all-MiniLM-L6-v2, CPU) + finding its highest
cosine similarity to every earlier message (`semantics.ChainIndex`, exact, NumPy). Measured one message at a
time and in batches of `BATCH`, for `NEW` new synthetic bodies (one pass each: the machine is shared, so take
the figures as an order of magnitude), against indexes of 1,000 and 100,000 stored
messages.

**The 100,000 stored vectors are synthetic, and most are derived, not encoded**: encoding 100,000 bodies would
take 7 minutes or more here, so `BASE` synthetic bodies are encoded with the real model and the rest are small
random perturbations of those vectors (Gaussian noise of norm about `NOISE`, re-normalised: each derived
vector has cosine ~0.9 to its base). The search costs the same for any unit vectors of the same size, which is
what the figures measure; the output says how many vectors were encoded and how many derived.

The search alone (per query, best of `REPEATS` passes over `SEARCH_QUERIES` queries) is compared across
NumPy exact (`ChainIndex` as the scorer uses it, one query per call and all in one call, and a bare
matrix-vector product), faiss `IndexFlatIP` (exact) and faiss `IndexHNSWFlat`
(approximate; its build time and recall@1 against the exact answer are reported), so the choice of NumPy is
measured rather than assumed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from choir_chain.semantics.embedder import DIMENSIONS, MODEL_NAME, Embedder, load_embedder
from choir_chain.semantics.index import ChainIndex

SIZES = (1_000, 100_000)
BASE = 1_000
"""Synthetic bodies encoded with the model; the rest of a large index is derived from their vectors."""
NEW = 64
"""New messages scored per throughput measurement (one batch); `SINGLE` of them are also scored one by one."""
SINGLE = 32
SEARCH_QUERIES = 50
"""Queries per search-only measurement."""
BATCH = 64
"""Messages per batch in the batched measurement (the scorer's default round size)."""
NOISE = 0.5
REPEATS = 2
HNSW_M = 32
HNSW_EF_SEARCH = 64
SEED = 8

Vectors = npt.NDArray[np.float32]

SUBJECTS = [
    "the town council", "our thread", "a small bakery", "the research group", "the football club", "a new startup",
    "the library", "an open-source project", "the school board", "a local farmer", "the orchestra", "the hospital",
    "a cycling team", "the museum", "the city planners", "a chess club", "the newspaper", "a climbing gym",
]  # fmt: skip
VERBS = [
    "should fund", "plans to rebuild", "voted against", "is debating", "wants to publish", "could automate",
    "refused to change", "will review", "is measuring", "proposed to share", "decided to delay", "tested",
]  # fmt: skip
OBJECTS = [
    "the old stone bridge", "a sourdough recipe", "its energy budget", "the training schedule", "a bird song data set",
    "the winter timetable", "a solar roof", "the library's rare maps", "a reward for novel ideas", "the river cleanup",
    "a new voting rule", "the night bus route", "the annual report", "a tool for translating poems",
]  # fmt: skip
REASONS = [
    "because the costs keep rising", "after a long argument last week", "to attract younger members",
    "since the last attempt failed", "so that everyone can take part", "although nobody agrees on the details",
    "before the summer starts", "to cut the waiting time in half", "because the old data was wrong",
]  # fmt: skip


def synthetic_bodies(count: int, rng: np.random.Generator) -> list[str]:
    """Short forum-like sentences from word lists (cheap, varied, seeded)."""
    parts = [SUBJECTS, VERBS, OBJECTS, REASONS]
    picks = [rng.integers(0, len(p), size=count) for p in parts]
    numbers = rng.integers(2, 500, size=count)
    return [
        f"{SUBJECTS[a].capitalize()} {VERBS[b]} {OBJECTS[c]} {REASONS[d]}; item {n}."
        for a, b, c, d, n in zip(*picks, numbers, strict=True)
    ]


def derived(base: Vectors, count: int, rng: np.random.Generator) -> Vectors:
    """`count` unit vectors, each a random base vector plus Gaussian noise of norm ~`NOISE`, re-normalised."""
    rows = base[rng.integers(0, len(base), size=count)]
    noise = rng.standard_normal((count, DIMENSIONS)).astype(np.float32) * (NOISE / np.sqrt(DIMENSIONS))
    out = rows + noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def score_throughput(embedder: Embedder, stored: Vectors, bodies: list[str]) -> dict[str, float]:
    """Messages/s of encode + `ChainIndex` search, one at a time and in batches of `BATCH`."""
    index = ChainIndex()
    index.add(list(range(len(stored))), list(range(len(stored))), stored)
    position = len(stored)

    def one_at_a_time() -> None:
        for body in bodies[:SINGLE]:
            index.max_similarities(embedder.encode([body]), [position])

    def batched() -> None:
        for start in range(0, len(bodies), BATCH):
            chunk = bodies[start : start + BATCH]
            index.max_similarities(embedder.encode(chunk), [position] * len(chunk))

    single = best_of(1, one_at_a_time)
    batch = best_of(1, batched)
    encode_only = best_of(1, lambda: embedder.encode(bodies))
    return {
        "single_msgs_per_s": round(min(SINGLE, len(bodies)) / single, 1),
        "batched_msgs_per_s": round(len(bodies) / batch, 1),
        "encode_only_msgs_per_s": round(len(bodies) / encode_only, 1),
    }


def search_times(stored: Vectors, queries: Vectors, repeats: int) -> dict[str, Any]:
    """Search-only microseconds per query for each engine, and HNSW's build time and recall@1."""
    import faiss

    index = ChainIndex()
    index.add(list(range(len(stored))), list(range(len(stored))), stored)
    positions = [len(stored)]
    exact = np.argmax(queries @ stored.T, axis=1)
    per_query = 1e6 / len(queries)

    def chain_index() -> None:
        for q in queries:
            index.max_similarities(q[None, :], positions)

    def chain_index_batched() -> None:
        index.max_similarities(queries, positions * len(queries))

    def numpy_bare() -> None:
        for q in queries:
            float((stored @ q).max())

    flat = faiss.IndexFlatIP(DIMENSIONS)
    flat.add(stored)

    def faiss_flat() -> None:
        for q in queries:
            flat.search(q[None, :], 1)

    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIMENSIONS, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(stored)
    hnsw_build = time.perf_counter() - started
    hnsw.hnsw.efSearch = HNSW_EF_SEARCH

    def faiss_hnsw() -> None:
        for q in queries:
            hnsw.search(q[None, :], 1)

    _, found = hnsw.search(queries, 1)
    return {
        "search_us_per_query": {
            "numpy_chain_index": round(best_of(repeats, chain_index) * per_query, 1),
            "numpy_chain_index_batched": round(best_of(repeats, chain_index_batched) * per_query, 1),
            "numpy_matvec": round(best_of(repeats, numpy_bare) * per_query, 1),
            "faiss_flat_ip": round(best_of(repeats, faiss_flat) * per_query, 1),
            "faiss_hnsw": round(best_of(repeats, faiss_hnsw) * per_query, 1),
        },
        "faiss_hnsw_build_s": round(hnsw_build, 2),
        "faiss_hnsw_recall_at_1": round(float(np.mean(found[:, 0] == exact)), 3),
        "faiss_threads": faiss.omp_get_max_threads(),
    }


def run(sizes: tuple[int, ...] = SIZES, new: int = NEW, base: int = BASE, seed: int = SEED) -> list[dict[str, Any]]:
    """One JSON-able line per index size."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    embedder = load_embedder()
    load_seconds = time.perf_counter() - started
    encoded_count = min(base, max(sizes))
    started = time.perf_counter()
    encoded = embedder.encode(synthetic_bodies(encoded_count, rng))
    encode_seconds = time.perf_counter() - started
    bodies = synthetic_bodies(new, rng)
    queries = embedder.encode(bodies)
    lines = []
    for size in sizes:
        real = min(size, encoded_count)
        stored = np.concatenate([encoded[:real], derived(encoded, size - real, rng)]) if size > real else encoded[:size]
        lines.append(
            {
                "bench": "novelty.scoring",
                "stored": size,
                "stored_encoded": real,
                "stored_derived": size - real,
                "derivation": f"base vector + Gaussian noise of norm ~{NOISE}, re-normalised" if size > real else None,
                "new_messages": new,
                "batch": BATCH,
                **score_throughput(embedder, stored, bodies),
                **search_times(stored, queries[:SEARCH_QUERIES], REPEATS),
                "model": MODEL_NAME,
                "model_load_s": round(load_seconds, 1),
                "base_encode_msgs_per_s": round(encoded_count / encode_seconds, 1),
            }
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="novelty scoring throughput at 1,000 and 100,000 stored messages")
    parser.add_argument("--new", type=int, default=NEW, help="new messages scored per measurement")
    parser.add_argument("--base", type=int, default=BASE, help="synthetic bodies encoded with the model")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    for line in run(tuple(args.sizes), args.new, args.base):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
