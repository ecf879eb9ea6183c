"""The demo's messages (`choir_chain.seed`, what `make run` posts) in chain order, without a chain.

`demo_messages()` replays the seed script (`seed.play`) against a recorder that keeps each message and sends
nothing, so the calibration and spam checks (docs/novelty.md) read exactly the bodies the demo posts, in the
order the novelty scorer sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from choir_chain.protocol import AuthorKind
from choir_chain.seed import _Seeder, play


@dataclass(frozen=True)
class DemoMessage:
    thread_id: int
    index: int
    author: str
    kind: str
    """root, post or spec"""
    body: str


class _Recorder(_Seeder):
    """A `_Seeder` that records the script's messages instead of sending transactions."""

    def __init__(self) -> None:  # no deployment, no accounts
        self.recorded: list[DemoMessage] = []
        self.counts: dict[int, int] = {}

    def _add(self, thread_id: int, name: str, kind: str, body: str) -> int:
        index = self.counts.get(thread_id, 0)
        self.counts[thread_id] = index + 1
        self.recorded.append(DemoMessage(thread_id, index, name, kind, body))
        return index

    def create_thread(self, name: str, title: str, body: str, author_kind: AuthorKind = AuthorKind.HUMAN) -> int:
        thread_id = len(self.counts) + 1
        self._add(thread_id, name, "root", body)
        return thread_id

    def post(
        self,
        thread_id: int,
        name: str,
        body: str,
        citations: Sequence[int] = (),
        author_kind: AuthorKind = AuthorKind.HUMAN,
    ) -> int:
        return self._add(thread_id, name, "post", body)

    def spec(
        self,
        thread_id: int,
        name: str,
        body: str,
        citations: Sequence[int] = (),
        stake_times: int = 1,
        author_kind: AuthorKind = AuthorKind.HUMAN,
    ) -> int:
        return self._add(thread_id, name, "spec", body)

    def vote(self, thread_id: int, spec_id: int, votes: dict[str, bool]) -> None:
        pass

    def settle(self, thread_id: int, spec_id: int, by: str) -> str:
        return ""

    def note_epoch(self, thread_id: int, spec_id: int) -> None:
        pass

    def advance(self, seconds: int) -> None:
        pass

    def approval_window(self, thread_id: int) -> int:
        return 0

    def claim(self, thread_id: int, spec_ids: list[int], name: str) -> None:
        pass

    def propose_transfer(self, thread_id: int, proposer: str, to: str, amount: int, description: str) -> None:
        pass


def demo_messages() -> list[DemoMessage]:
    """Every message the demo posts, in the order it reaches the chain."""
    recorder = _Recorder()
    play(recorder)
    return recorder.recorded
