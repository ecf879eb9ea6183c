"""The calibration of MiniLM's similarity onto the novelty curve's scale (`semantics.calibration`) and the spam
policy (`semantics.spam`), with the real model, on the calibration corpus and the demo's messages (docs/novelty.md).
"""

from __future__ import annotations

import random
import statistics

import numpy as np
import pytest

from choir_chain.pricing.novelty import MAX_NOVELTY_REWARD, novelty_reward
from choir_chain.protocol.units import WAD
from choir_chain.semantics import Embedder, earlier_max_similarities
from choir_chain.semantics.calibration import (
    CALIBRATION_VERSION,
    INTERCEPT_WAD,
    SLOPE_WAD,
    calibrate,
    calibrate_wad,
    fit,
)
from choir_chain.semantics.corpus import CLASSES, PARAPHRASES, SAME_TOPIC
from choir_chain.semantics.demo import demo_messages
from choir_chain.semantics.spam import COPY_CHARS, copy_of, spam_reason


def pair_similarities(embedder: Embedder, pairs: tuple[tuple[str, str], ...]) -> list[float]:
    first = embedder.encode([a for a, _ in pairs])
    second = embedder.encode([b for _, b in pairs])
    return [float(x) for x in (first * second).sum(axis=1)]


def weight(raw: float) -> float:
    return novelty_reward(calibrate(raw) / WAD)


@pytest.fixture(scope="module")
def demo(embedder: Embedder) -> tuple[list[str], list[float]]:
    bodies = [m.body for m in demo_messages()]
    return bodies, [float(s) for s in earlier_max_similarities(embedder.encode(bodies))]


# ----------------------------------------------------------------------------------------------------------


def test_the_map_is_integer_affine_clamped_and_monotone() -> None:
    assert CALIBRATION_VERSION == 1
    assert calibrate_wad(0) == INTERCEPT_WAD
    assert calibrate_wad(WAD) == INTERCEPT_WAD + SLOPE_WAD
    assert calibrate_wad(5 * WAD) == calibrate_wad(WAD)  # raw input clamped first
    assert calibrate_wad(-WAD) == INTERCEPT_WAD - SLOPE_WAD
    assert calibrate_wad(123_456_789_123_456_789) == INTERCEPT_WAD + SLOPE_WAD * 123_456_789_123_456_789 // WAD
    values = [calibrate_wad(r) for r in range(-WAD, WAD + 1, WAD // 1000)]
    assert values == sorted(values)
    assert novelty_reward(calibrate(1.0) / WAD) == 0.0  # a copy earns nothing
    assert calibrate(0.5) == calibrate_wad(500_000_000_000_000_000)


def test_the_constants_are_the_least_squares_fit_of_the_corpus(embedder: Embedder) -> None:
    raw: list[float] = []
    targets: list[float] = []
    for _name, pairs, target in CLASSES:
        raw += pair_similarities(embedder, pairs)
        targets += [target] * len(pairs)
    result = fit(raw, targets)
    slope, intercept = result.rounded()
    assert abs(slope - SLOPE_WAD) <= WAD // 10**4 and abs(intercept - INTERCEPT_WAD) <= WAD // 10**4
    assert result.rms < 0.035  # docs/novelty.md gives the figure
    for name, pairs, target in CLASSES:  # each class lands on its target on average
        mean = statistics.fmean(calibrate(s) / WAD for s in pair_similarities(embedder, pairs))
        assert abs(mean - target) < 0.02, name


def test_paraphrases_weigh_near_zero_and_same_topic_well_below_the_cap(embedder: Embedder) -> None:
    assert max(weight(s) for s in pair_similarities(embedder, PARAPHRASES)) < 0.1
    same_topic = [weight(s) for s in pair_similarities(embedder, SAME_TOPIC)]
    assert statistics.median(same_topic) < 5 and max(same_topic) < MAX_NOVELTY_REWARD


def test_the_demo_is_no_longer_all_at_the_cap(demo: tuple[list[str], list[float]]) -> None:
    bodies, raw = demo
    assert len(bodies) == 17
    weights = [weight(s) for s in raw]
    assert [novelty_reward(min(s, 1.0)) for s in raw].count(MAX_NOVELTY_REWARD) == 16  # raw: what r1 paid
    capped = weights.count(MAX_NOVELTY_REWARD)
    assert capped <= len(weights) // 4 and weights[0] == MAX_NOVELTY_REWARD  # the first message: nothing before
    assert statistics.median(weights) < 5  # typical on-topic contributions, well below the cap
    near_duplicate = bodies.index(bodies[-2])
    assert weights[near_duplicate] == 0.0 and raw[near_duplicate] > 0.95


# ----------------------------------------------------------------------------------------------------------


def noisy(text: str, rate: float, rng: random.Random) -> str:
    """`text` with a share `rate` of its characters dropped, replaced or doubled with a random letter."""
    out = []
    for char in text:
        x = rng.random()
        if x < rate / 3:
            continue
        if x < 2 * rate / 3:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif x < rate:
            out += [char, rng.choice("abcdefghijklmnopqrstuvwxyz")]
        else:
            out.append(char)
    return "".join(out)


def test_random_strings_are_spam() -> None:
    rng = random.Random(7)
    for _ in range(20):
        words = [
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10))) for _ in range(12)
        ]
        assert spam_reason(" ".join(words)) == "gibberish"
    symbols = "".join(rng.choice("0123456789!@#$%^&*()") for _ in range(40))
    assert spam_reason(symbols) == "gibberish"


@pytest.mark.parametrize(
    "body", ["a" * 40, "!!!!!!!!!!!!!!!!!!!!!!!!", "buy now! " * 12, "Great post. " * 20, "ab " * 30]
)
def test_repeated_characters_and_phrases_are_spam(body: str) -> None:
    assert spam_reason(body) == "repetition"


def test_copies_with_noise_are_spam_paraphrases_are_not(demo: tuple[list[str], list[float]]) -> None:
    rng = random.Random(3)
    bodies, _ = demo
    for body in bodies:
        for rate in (0.02, 0.05, 0.1):
            assert spam_reason(noisy(body, rate, rng), body) in ("copy", "gibberish")
    for first, second in PARAPHRASES:
        assert spam_reason(second, first) is None


def test_no_false_positive_on_the_demo_or_the_corpus(embedder: Embedder) -> None:
    bodies = [m.body for m in demo_messages()]
    vectors = embedder.encode(bodies)
    flagged = {}
    for i, body in enumerate(bodies):
        nearest = int(np.argmax(vectors[:i] @ vectors[i])) if i else None
        reason = spam_reason(body, None if nearest is None else bodies[nearest])
        if reason:
            flagged[i] = reason
    # only the planted near-duplicate (a copy of Frank's note with one word added) is caught, as a copy
    assert flagged == {len(bodies) - 2: "copy"}
    for _name, pairs, _target in CLASSES:
        for first, second in pairs:
            assert spam_reason(first) is None and spam_reason(second, first) is None


def test_the_copy_check_reads_the_first_copy_chars_of_each_body() -> None:
    rng = random.Random(11)
    words = ["garden", "budget", "summary", "thread", "vote", "quorum", "treasury", "compost", "seed", "water"]
    head = " ".join(rng.choice(words) for _ in range(COPY_CHARS // 4))
    body = head + " " + " ".join(rng.choice(words) for _ in range(20_000))
    other = head + " " + " ".join(rng.choice(words) for _ in range(20_000))
    assert copy_of(body, other)  # the same first COPY_CHARS characters: a copy, however long the rest
    assert not copy_of(body, " ".join(rng.choice(words) for _ in range(20_000)))
