"""The indexer following a chain in a thread of its own, for commands that also read the index (`choir pricer`,
tests): one writer, beside its readers."""

from __future__ import annotations

import threading
from types import TracebackType

from choir_chain.indexer.indexer import Indexer

STOP_TIMEOUT = 30.0


class IndexFollower:
    """`with IndexFollower(indexer):` runs `indexer.follow()` in a daemon thread until the block ends; an error
    of the indexer is raised at the end of the block (or by `check()`)."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._follow, name="indexer", daemon=True)

    def _follow(self) -> None:
        try:
            self.indexer.follow()
        except BaseException as err:
            self.error = err

    def check(self) -> None:
        """Raise the indexer's error, if it stopped with one."""
        if self.error is not None:
            raise self.error

    def __enter__(self) -> IndexFollower:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.indexer.stop.set()
        self._thread.join(timeout=STOP_TIMEOUT)
        stuck = self._thread.is_alive()
        if not stuck:
            self.indexer.close()
        if kind is None:
            self.check()
            if stuck:
                raise RuntimeError(f"the indexer did not stop within {STOP_TIMEOUT:.0f} s")
