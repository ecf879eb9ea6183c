"""The relevance rule of the novelty scorer (protocol 7; docs/novelty.md, "Withholding a score").

Novelty rewards text unlike anything before it, so without a rule the easiest way to the capped weight is text
unrelated to the thread it is posted in: fluent, on no one's topic, and maximally "novel" (the review's
off-topic self-dealing took 79-96% of each epoch's budget with two or three keys, docs/economics.md). The rule:

- a message that is not its thread's root is scored only once the root's body is in the scorer's index (until then
  it waits: its relevance cannot be judged, and a score is final);
- its **relevance** is its highest raw cosine similarity to the earlier messages of its own thread
  (`ChainIndex.thread_similarities`); under `RELEVANCE_FLOOR` the message is off-topic and its score is withheld
  (similarity 1.0 on chain: weight 0), reason `off-topic` in the scorer's output.

**What it bounds.** A spec's novelty is measured against every earlier message, its thread's included, so a spec
that passes the floor has a raw maximum similarity of at least `RELEVANCE_FLOOR`, hence a weight of at most
`max_relevant_weight()` (about 13, against the cap of 100 and a typical on-topic weight near 1). Text made to sit
just above the floor is the best a farmer can do: the bound, not the floor itself, is the protection.

**Why 0.25.** The lowest relevance of a demo message (a post of thread 4, 0.27; the lowest spec, 0.28) stays above
it (no false positive, pinned by tests/choir_chain/test_relevance.py), while unrelated text sits near 0-0.2
(the calibration corpus's unrelated pairs, `semantics.corpus`). A higher floor would bound the farm more tightly
but withhold honest replies that take a thread somewhere new; the figure is a policy choice, versioned by
`RELEVANCE_RULE_VERSION`.
"""

from __future__ import annotations

from choir_chain.pricing.novelty import novelty_reward
from choir_chain.protocol.units import WAD
from choir_chain.semantics.calibration import calibrate

RELEVANCE_RULE_VERSION = 1
RELEVANCE_FLOOR = 0.25
"""The least raw similarity (all-MiniLM-L6-v2 cosine) of a non-root message to an earlier message of its thread."""
OFF_TOPIC = "off-topic"
"""The reason the scorer gives for a score withheld by this rule."""


def off_topic(is_root: bool, relevance: float | None) -> bool:
    """Whether a message's score is withheld as off-topic: a non-root message whose relevance to its thread is under
    the floor. `relevance` None (no earlier message of its thread is known) never reaches here for a non-root
    message: the scorer waits for the root's body first."""
    if is_root:
        return False
    if relevance is None:
        raise ValueError("a non-root message's relevance needs an earlier message of its thread")
    return relevance < RELEVANCE_FLOOR


def max_relevant_weight() -> float:
    """The highest novelty weight a message that passes the floor can have (its maximum similarity is at least
    the floor, and the weight falls as similarity rises)."""
    return novelty_reward(calibrate(RELEVANCE_FLOOR) / WAD)
