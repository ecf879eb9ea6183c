"""The relevance rule of the novelty scorer (`semantics.relevance`, docs/novelty.md): a non-root message that relates
to no earlier message of its thread is off-topic and its score is withheld, which bounds what a spec can weigh.
With the real model on the demo and the calibration corpus; the index's per-thread search on plain vectors."""

from __future__ import annotations

import numpy as np
import pytest

from choir_chain.pricing.novelty import MAX_NOVELTY_REWARD, novelty_reward
from choir_chain.protocol import message_id
from choir_chain.protocol.units import WAD
from choir_chain.semantics import ChainIndex, Embedder
from choir_chain.semantics.calibration import calibrate
from choir_chain.semantics.corpus import SAME_TOPIC, UNRELATED
from choir_chain.semantics.demo import demo_messages
from choir_chain.semantics.embedder import DIMENSIONS
from choir_chain.semantics.relevance import RELEVANCE_FLOOR, max_relevant_weight, off_topic


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIMENSIONS).astype(np.float32)
    return v / np.linalg.norm(v)


def test_thread_similarities_look_only_at_earlier_messages_of_the_same_thread() -> None:
    a, b = unit(1), unit(2)
    index = ChainIndex()
    # thread 1: its root is `a`; thread 2: its root is `b`, stored later
    index.add([message_id(1, 0), message_id(2, 0)], [10, 20], np.stack([a, b]))
    queries = np.stack([b, b, a, a])
    got = index.thread_similarities(queries, [30, 30, 5, 30], [1, 2, 1, 3])
    assert got[0] == pytest.approx(float(a @ b), abs=1e-6)  # b in thread 1: compared with a, not with itself
    assert got[1] == pytest.approx(1.0)  # b in thread 2: its own root
    assert got[2] is None  # before thread 1's root
    assert got[3] is None  # thread 3 has no stored message
    # the global search still sees every thread
    assert index.max_similarities(queries[:1], [30])[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="threads for"):
        index.thread_similarities(queries, [30, 30, 5, 30], [1, 2])


def test_the_rule_withholds_only_non_root_messages_under_the_floor() -> None:
    assert off_topic(True, None) is False and off_topic(True, 0.0) is False
    assert off_topic(False, RELEVANCE_FLOOR - 1e-9) is True
    assert off_topic(False, RELEVANCE_FLOOR) is False
    with pytest.raises(ValueError, match="non-root"):
        off_topic(False, None)


def test_a_message_that_passes_the_floor_weighs_at_most_the_bound() -> None:
    bound = max_relevant_weight()
    assert 10 < bound < 15  # about 13: an eighth of the cap, an order of magnitude above typical on-topic text
    assert bound < MAX_NOVELTY_REWARD
    for raw in np.linspace(RELEVANCE_FLOOR, 1.0, 200):
        assert novelty_reward(calibrate(float(raw)) / WAD) <= bound
    assert novelty_reward(calibrate(RELEVANCE_FLOOR - 0.05) / WAD) > bound  # the floor is what bounds it


def test_no_demo_message_is_off_topic_and_unrelated_text_is(embedder: Embedder) -> None:
    messages = demo_messages()
    vectors = embedder.encode([m.body for m in messages])
    relevance = {}
    for i, m in enumerate(messages):
        if m.kind == "root":
            continue
        same = [j for j in range(i) if messages[j].thread_id == m.thread_id]
        relevance[i] = max(float(vectors[i] @ vectors[j]) for j in same)
    assert relevance and min(relevance.values()) >= RELEVANCE_FLOOR  # no false positive on the demo
    first = embedder.encode([a for a, _ in UNRELATED])
    second = embedder.encode([b for _, b in UNRELATED])
    unrelated = (first * second).sum(axis=1)
    assert float(np.mean(unrelated < RELEVANCE_FLOOR)) >= 0.9  # unrelated statements: off-topic replies
    first = embedder.encode([a for a, _ in SAME_TOPIC])
    second = embedder.encode([b for _, b in SAME_TOPIC])
    assert float(np.median((first * second).sum(axis=1))) > RELEVANCE_FLOOR  # a typical same-topic reply passes
