"""The registry of event handlers: `@handles(source, event name)` and the helpers every handler uses."""

from __future__ import annotations

from collections.abc import Callable

from choir_chain.chain.events import Event
from choir_chain.indexer.errors import InconsistentEvent
from choir_chain.indexer.store import Store

HUB = "hub"
THREAD = "thread"
REWARDS = "rewards"
"""The RewardsDistributor (when the manifest has one)."""

Handler = Callable[[Store, Event], None]
HANDLERS: dict[tuple[str, str], Handler] = {}
"""(source, event name) -> handler."""


def handles(source: str, name: str) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of event `name` emitted by `source` (`hub` or `thread`)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[(source, name)] = fn
        return fn

    return register


def handled_events(source: str) -> list[str]:
    return sorted(name for src, name in HANDLERS if src == source)


def event_timestamp(event: Event) -> int:
    if event.timestamp is None:
        raise InconsistentEvent(f"no timestamp for block {event.block}")
    return event.timestamp


def event_thread_id(event: Event) -> int:
    if event.thread_id is None:
        raise InconsistentEvent(f"{event.name} at block {event.block} is not from a known thread")
    return event.thread_id
