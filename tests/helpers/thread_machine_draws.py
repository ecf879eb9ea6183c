"""The stateful thread test's draws of a fixed shape (`pick`: an index modulo the model's current list), since
the model's lists follow block timestamps, which differ from run to run, and Hypothesis needs the same choices
to draw the same way; and the author kinds a message declares."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from helpers.contracts import AI, AI_PROMPTED, HUMAN

# IThreadDAO.AuthorKind: declared kinds (mostly human), and values the contracts refuse with UnknownAuthorKind
AUTHOR_KINDS = st.sampled_from([HUMAN, HUMAN, AI, AI_PROMPTED])
BAD_AUTHOR_KINDS = st.sampled_from([AI_PROMPTED + 1, 255])


def pick(data: st.DataObject, items: list, label: str) -> Any:
    """One of `items` (not empty), shrinking towards the first. Every draw has the same shape whatever the
    items are, so Hypothesis sees consistent data generation although the model follows block timestamps."""
    return items[data.draw(st.integers(0, 255), label=label) % len(items)]


def pick_many(data: st.DataObject, items: list, max_size: int, label: str, min_size: int = 0) -> list:
    """Up to `max_size` distinct `items` (none if there are none), drawn with a fixed shape like `pick`."""
    indices = data.draw(st.lists(st.integers(0, 255), min_size=min_size, max_size=max_size), label=label)
    return list(dict.fromkeys(items[i % len(items)] for i in indices)) if items else []


def pick_mostly(data: st.DataObject, good: list, everyone: list, label: str) -> Any:
    """Mostly one of `good` (valid callers, pending specs), now and then any of `everyone` (errors)."""
    stray = data.draw(st.integers(0, 7), label=f"{label}: stray") == 7
    return pick(data, everyone if stray or not good else good, label)
