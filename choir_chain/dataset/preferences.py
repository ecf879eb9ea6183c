"""(context, chosen, rejected) pairs for reward-model training, from the curators' verdicts within one thread.

How pairs are formed (deterministic, bounded per thread):

1. Candidates are the thread's *approved* specs (chosen) and *denied* specs (rejected) whose bodies are stored.
   Split and expired specs carry no clear verdict and posts were never voted on, so none of them pair.
2. Each denied spec, in message-index order, is paired with the approved spec nearest to it by message index
   (on a tie, the earlier one): the closest competing submission the same community accepted.
3. The pair's context is the context of the earlier of the two (the thread as it stood before either was
   submitted, built and truncated exactly as the records' `context`), so both answers extend the same prompt.
4. At most `max_pairs_per_thread` pairs per thread: those of the first denied specs by index.

An approved spec may therefore be the chosen side of several pairs; a denied spec is in at most one.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from choir_chain.dataset.records import Context, Item, novelty_weight

DEFAULT_MAX_PAIRS_PER_THREAD = 64


def pairs_of(items: Sequence[Item], contexts: Sequence[Context], max_pairs: int) -> list[dict[str, Any]]:
    """The preference pairs of one thread; `contexts[i]` is the context of `items[i]`."""
    position = {item.index: i for i, item in enumerate(items)}
    approved = [item for item in items if item.outcome == "approved" and item.body is not None]
    denied = [item for item in items if item.outcome == "denied" and item.body is not None]
    if not approved:
        return []
    keys = [a.index for a in approved]
    pairs: list[dict[str, Any]] = []
    for rejected in denied[:max_pairs]:
        chosen = _nearest(approved, keys, rejected.index)
        earlier = chosen if chosen.index < rejected.index else rejected
        context = contexts[position[earlier.index]]
        pairs.append(
            {
                "thread_id": rejected.thread_id,
                "context": context.messages,
                "context_omitted": context.omitted,
                "context_missing": context.missing,
                "chosen": chosen.body,
                "rejected": rejected.body,
                "chosen_message_id": str(chosen.global_id),
                "rejected_message_id": str(rejected.global_id),
                "chosen_message_index": chosen.index,
                "rejected_message_index": rejected.index,
                "chosen_author_kind": chosen.author_kind,
                "rejected_author_kind": rejected.author_kind,
                "chosen_votes_for": chosen.votes_for,
                "chosen_votes_against": chosen.votes_against,
                "rejected_votes_for": rejected.votes_for,
                "rejected_votes_against": rejected.votes_against,
                "chosen_novelty_weight": novelty_weight(chosen),
                "rejected_novelty_weight": novelty_weight(rejected),
                "chosen_novelty_model": chosen.novelty_model,
                "rejected_novelty_model": rejected.novelty_model,
                "chosen_novelty_calibration": chosen.novelty_calibration,
                "rejected_novelty_calibration": rejected.novelty_calibration,
            }
        )
    return pairs


def _nearest(approved: list[Item], keys: list[int], index: int) -> Item:
    """The approved spec closest to message `index` (the earlier one on a tie)."""
    at = bisect.bisect_left(keys, index)
    if at == 0:
        return approved[0]
    if at == len(keys):
        return approved[-1]
    before, after = approved[at - 1], approved[at]
    return before if index - before.index <= after.index - index else after


def prompt_text(context: Context) -> str:
    """A context as one prompt string: each message as `author: body`, oldest first, separated by blank lines."""
    return "\n\n".join(f"{m['author']}: {m['body']}" for m in context.messages)


def unpaired_of(items: Sequence[Item], contexts: Sequence[Context]) -> list[dict[str, Any]]:
    """The thread's examples in TRL's unpaired preference format (`prompt`, `completion`, `label`): every
    approved (label true) and denied (label false) spec with a stored body, in message-index order; the prompt
    is the spec's own context (the thread as accepted before it was submitted)."""
    rows: list[dict[str, Any]] = []
    for item, context in zip(items, contexts, strict=True):
        if item.outcome not in ("approved", "denied") or item.body is None:
            continue
        rows.append(
            {
                "prompt": prompt_text(context),
                "completion": item.body,
                "label": item.outcome == "approved",
                "thread_id": item.thread_id,
                "message_id": str(item.global_id),
                "message_index": item.index,
                "author_kind": item.author_kind,
                "votes_for": item.votes_for,
                "votes_against": item.votes_against,
                "novelty_weight": novelty_weight(item),
                "novelty_model": item.novelty_model,
                "novelty_calibration": item.novelty_calibration,
            }
        )
    return rows
