"""`choir_chain.semantics` with the real embedding model (all-MiniLM-L6-v2): the vectors, the novelty rule in
Python, the exact indexes, the embedding cache and semantic search. The on-chain side of the novelty curve is
tested in tests/contracts/test_rewards_curves.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from eth_utils import keccak
from sqlalchemy import Engine, create_engine, func, select

from choir_chain import content_store
from choir_chain.pricer.novelty import to_wad
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.semantics import (
    DIMENSIONS,
    ChainIndex,
    Embedder,
    EmbeddingIndex,
    SemanticSearch,
    earlier_max_similarities,
    ensure_embeddings,
    load_vectors,
    position_key,
    vectors_of,
)
from choir_chain.semantics import store as embedding_store

CAT = "The cat sat quietly on the warm mat by the window."
CAT_PARAPHRASE = "A cat was sitting calmly on the heated rug next to the window."
UNRELATED = [
    "Quarterly revenue grew by ten percent thanks to strong exports.",
    "The referee showed a red card in the final minute of the match.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
]


def content_hash(body: str) -> str:
    return "0x" + keccak(text=body).hex()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'content.db'}")
    content_store.create_schema(engine)
    return engine


def store_bodies(engine: Engine, bodies: list[str]) -> list[str]:
    hashes = []
    for body in bodies:
        hashes.append(content_hash(body))
        content_store.store(engine, hashes[-1], body, len(body.encode()))
    return hashes


# ----------------------------------------------------------------------------------------------------------
# The novelty rule (Python side)
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("similarity", "reward"),
    [(0.95, 0.01), (0.90, 0.1), (0.85, 1.0), (0.80, 10.0), (0.75, 100.0), (0.5, 100.0), (0.0, 100.0), (-1.0, 100.0)],
)
def test_novelty_reward_values_of_the_rule(similarity: float, reward: float) -> None:
    assert novelty_reward(similarity) == pytest.approx(reward, rel=1e-9)


@pytest.mark.parametrize("similarity", [0.9500001, 0.96, 0.99, 1.0])
def test_no_novelty_reward_above_the_threshold(similarity: float) -> None:
    assert novelty_reward(similarity) == 0.0


@pytest.mark.parametrize("bad", [1.0000001, -1.5, math.nan])
def test_novelty_reward_refuses_a_similarity_outside_minus_one_to_one(bad: float) -> None:
    with pytest.raises(ValueError, match="max_similarity must lie in"):
        novelty_reward(bad)


def test_similarities_go_on_chain_as_clamped_wads() -> None:
    assert to_wad(0.85) == 850_000_000_000_000_000
    assert to_wad(1.0000001) == 10**18 and to_wad(-1.2) == -(10**18)  # float noise never leaves [-1, 1]


# ----------------------------------------------------------------------------------------------------------
# The embedder
# ----------------------------------------------------------------------------------------------------------


def test_embeddings_are_384_dimensional_unit_vectors(embedder: Embedder) -> None:
    vectors = embedder.encode([CAT, *UNRELATED, ""])
    assert vectors.shape == (5, DIMENSIONS) == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.encode(CAT)  # type: ignore[arg-type]


def test_encoding_is_deterministic_and_batch_independent(embedder: Embedder) -> None:
    alone = embedder.encode([CAT])[0]
    batched = embedder.encode([UNRELATED[0], CAT, UNRELATED[1]])[1]
    assert np.allclose(alone, batched, atol=1e-5)


def test_paraphrases_score_higher_than_unrelated_sentences(embedder: Embedder) -> None:
    cat, paraphrase, *others = embedder.encode([CAT, CAT_PARAPHRASE, *UNRELATED])
    similar = float(cat @ paraphrase)
    assert similar > 0.6
    for other in others:
        assert float(cat @ other) < 0.3 < similar


# ----------------------------------------------------------------------------------------------------------
# Indexes
# ----------------------------------------------------------------------------------------------------------


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIMENSIONS, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def test_index_search_orders_by_similarity() -> None:
    index: EmbeddingIndex[str] = EmbeddingIndex()
    assert index.search(unit(1), 3) == [] and index.max_similarity(unit(1)) == 0.0
    assert index.add(["x", "xy", "y", "minus x"], [unit(1), unit(1, 1), unit(0, 1), unit(-1)]) == 4
    assert index.add(["x"], [unit(0, 1)]) == 0  # a key keeps its first vector
    hits = index.search(unit(1, 0.1), 4)
    assert [k for k, _ in hits] == ["x", "xy", "y", "minus x"]
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert hits[-1][1] == pytest.approx(-0.995, abs=1e-3)
    assert [k for k, _ in index.search(unit(1, 0.1), 2)] == ["x", "xy"]
    assert index.max_similarity(unit(1), exclude=["x"]) == pytest.approx(math.sqrt(0.5), abs=1e-6)
    assert len(index) == 4 and "xy" in index
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.search(unit(1), 0)
    with pytest.raises(ValueError, match="384 columns"):
        index.add(["short"], np.ones((1, 3)))


def test_chain_index_compares_only_with_earlier_positions() -> None:
    index = ChainIndex()
    # added out of chain order: the message at position 30 first
    index.add([3], [position_key(3, 0)], [unit(0, 1)])
    index.add([1, 2], [position_key(1, 5), position_key(2, 0)], [unit(1), unit(1, 1)])
    queries = [unit(1), unit(1), unit(0, 1), unit(0, 1)]
    positions = [position_key(1, 5), position_key(1, 6), position_key(3, 0), position_key(9, 0)]
    got = index.max_similarities(np.stack(queries), positions)
    assert got[0] == 0.0  # nothing before the first message
    assert got[1] == pytest.approx(1.0)  # the message at (1, 5) comes before (1, 6)
    assert got[2] == pytest.approx(math.sqrt(0.5), abs=1e-6)  # itself (3, 0) is not earlier
    assert got[3] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no chain position"):
        position_key(1, 1 << 24)


def test_a_copy_scores_exactly_one_whatever_the_float32_rounding() -> None:
    """A unit vector's float32 dot product with itself lands a few ulps off 1 depending on the BLAS kernel; a vector
    one ulp away from an earlier one is a copy too. Both must score exactly 1 on every machine (the score goes on
    chain as a WAD)."""
    rng = np.random.default_rng(12)
    vector = rng.normal(size=DIMENSIONS).astype(np.float32)
    vector /= np.linalg.norm(vector)
    nudged = vector.copy()
    nudged[0] = np.nextafter(nudged[0], np.float32(0))
    raw = float(np.float32(vector) @ np.float32(nudged))
    index = ChainIndex()
    index.add([1], [position_key(1, 0)], [vector])
    got = index.max_similarities(np.stack([vector, nudged]), [position_key(2, 0), position_key(2, 1)])
    assert got.tolist() == [1.0, 1.0], f"raw float32 dot products around {raw!r}"
    opposite = index.max_similarities(np.stack([-vector]), [position_key(4, 0)])[0]
    assert opposite == pytest.approx(-1.0, abs=1e-6)  # only the top of the scale is snapped


def test_identical_bodies_give_the_later_message_similarity_one(embedder: Embedder) -> None:
    vectors = embedder.encode([CAT, UNRELATED[0], CAT, CAT_PARAPHRASE])
    first, unrelated, copy, paraphrase = earlier_max_similarities(vectors)
    assert first == 0.0  # no earlier message: documented as 0.0
    assert unrelated < 0.3
    assert copy == 1.0  # exactly, whatever the machine's float32 kernel summed to
    assert 0.6 < paraphrase < copy
    assert novelty_reward(copy) == 0.0 and novelty_reward(first) == 100.0


# ----------------------------------------------------------------------------------------------------------
# The embedding cache and search
# ----------------------------------------------------------------------------------------------------------


class CountingEmbedder(Embedder):
    """The real model, counting the texts it encodes."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real._model, real.name)
        self.encoded = 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        return super().encode(texts)


def test_ensure_embeddings_is_idempotent(engine: Engine, embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    hashes = store_bodies(engine, [CAT, *UNRELATED])
    assert ensure_embeddings(engine, counting) == 4 and counting.encoded == 4
    assert ensure_embeddings(engine, counting) == 0 and counting.encoded == 4  # nothing encoded twice
    store_bodies(engine, [CAT_PARAPHRASE])
    assert ensure_embeddings(engine, counting) == 1 and counting.encoded == 5
    keys, matrix = load_vectors(engine)
    assert sorted(keys) == keys and set(hashes) < set(keys) and matrix.shape == (5, 384)
    found = vectors_of(engine, [hashes[0], "0x" + "00" * 32])
    assert list(found) == [hashes[0]]
    assert np.allclose(found[hashes[0]], embedder.encode([CAT])[0], atol=1e-5)
    with engine.connect() as conn:
        models = conn.execute(select(embedding_store.content_embeddings.c.model, func.count()).group_by("model"))
        assert list(models) == [("all-MiniLM-L6-v2", 5)]


def test_semantic_search_finds_the_right_message(engine: Engine, embedder: Embedder) -> None:
    hashes = store_bodies(engine, [CAT, *UNRELATED])
    search = SemanticSearch(engine, embedder)
    assert search.search("anything", 3) == []  # nothing indexed before the first refresh
    assert search.refresh() == 4 and search.refresh() == 0 and len(search) == 4
    hits = search.search("Where is the kitten resting?", 2)
    assert [h.content_hash for h in hits][:1] == [hashes[0]] and len(hits) == 2
    assert hits[0].score > hits[1].score
    football = search.search("a football game and its referee", 1)
    assert football[0].content_hash == hashes[2]
    store_bodies(engine, ["Bitcoin miners sell their coins when the price rises."])
    assert search.refresh() == 1
    assert search.search("cryptocurrency mining", 1)[0].content_hash == content_hash(
        "Bitcoin miners sell their coins when the price rises."
    )
    for bad, message in (("  ", "the query is empty"), ("x" * 10_001, "at most 10000")):
        with pytest.raises(ValueError, match=message):
            search.search(bad, 3)
