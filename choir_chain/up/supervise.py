"""The services of `choir up` (the indexer and the pricer), each in a thread of its own, and their supervision: a
service that dies is built anew and restarted after a backoff, with a message; one that keeps dying
(`RestartPolicy.limit` failures in a row, none running `RestartPolicy.healthy_after` seconds) stops the whole stack
with its one-line error. The gateway stays up meanwhile (it reads the database and the chain on its own). Stopping
waits for each service to finish its current step.

The indexer is the only writer of the database; the pricer reads the rows and the cursor it writes.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from rich.markup import escape

from choir_chain.chain.rpc import RetryPolicy
from choir_chain.cli_options import one_line
from choir_chain.up.bootstrap import ChainSide
from choir_chain.up.console import UpConsole
from choir_chain.up.options import SERVICE_STOP_TIMEOUT, UpOptions

if TYPE_CHECKING:
    from choir_chain.indexer import Indexer
    from choir_chain.pricer.service import Pricer
    from choir_chain.semantics.embedder import Embedder


@dataclass(frozen=True)
class RestartPolicy:
    """How `choir up` restarts a service that died: after `backoff`'s waits, at most `limit` times in a row (a run
    of `healthy_after` seconds or more starts the count again)."""

    backoff: RetryPolicy = field(default_factory=lambda: RetryPolicy(initial=1.0, maximum=30.0))
    limit: int = 5
    healthy_after: float = 300.0

    def wait(self, failures: int) -> float:
        """Seconds before the restart that follows the `failures`-th failure in a row (the backoff's waits)."""
        return next(itertools.islice(self.backoff.delays(), failures - 1, None), self.backoff.maximum)


class ServiceThread(threading.Thread):
    """Runs `target(restarts)` until it returns; an exception is kept in `error` and reported to `on_failure`,
    which returns whether to run `target` again (with the count of restarts so far)."""

    def __init__(
        self, name: str, target: Callable[[int], None], on_failure: Callable[[ServiceThread, float], bool]
    ) -> None:
        super().__init__(name=name, daemon=True)  # a service stuck in a call must not keep the process alive
        self._target_fn = target
        self._on_failure = on_failure
        self.error: BaseException | None = None
        self.restarts = 0
        """Times the service was started again after dying."""
        self.failures_in_a_row = 0

    def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self._target_fn(self.restarts)
                return
            except BaseException as err:
                self.error = err
                if not self._on_failure(self, time.monotonic() - started):
                    return
                self.restarts += 1


@dataclass
class Services:
    """The indexer and the pricer over one database, and the event that stops them."""

    options: UpOptions
    chain: ChainSide
    database_url: str
    out: UpConsole
    on_failure: Callable[[], None]
    """Called once a service failed (after `failure` is set): stops the gateway."""
    stop: threading.Event = field(default_factory=threading.Event)
    indexer: Indexer | None = None
    pricer: Pricer | None = None
    pricer_log: IO[str] | None = None
    model_loader: threading.Thread | None = None
    """Loads the embedding model in the background (`semantics.embedder.warm_up`) when novelty is on."""
    threads: list[ServiceThread] = field(default_factory=list)
    failure: str | None = None
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def confirmations(self) -> int:
        from choir_chain.cli_options import default_confirmations

        return default_confirmations(self.chain.chain_id)

    # --- construction ---------------------------------------------------------------------------------------

    def warm_up_model(self) -> None:
        """Start loading the embedding model in the background, if the pricer will score novelty."""
        if self.options.pricer and self.options.novelty and self.model_loader is None:
            from choir_chain.semantics.embedder import warm_up

            self.model_loader = warm_up()

    def warm_embedder(self) -> Embedder | None:
        """The embedding model once the background load finished (None before); `EmbedderError` if it failed."""
        from choir_chain.semantics.embedder import EmbedderError, loaded_embedder

        embedder = loaded_embedder()
        if embedder is None and self.model_loader is not None and not self.model_loader.is_alive():
            error = getattr(self.model_loader, "error", None)
            raise EmbedderError(f"the embedding model did not load: {error}")
        return embedder

    def new_indexer(self, reset: bool = False) -> Indexer:
        from choir_chain.indexer import Indexer

        assert self.chain.manifest is not None
        return Indexer(
            self.chain.rpc_url,
            self.chain.manifest,
            self.database_url,
            confirmations=self.confirmations,
            poll_interval=self.options.poll_interval,
            stop=self.stop,
            reset=reset,
        )

    def new_pricer(self) -> Pricer:
        from choir_chain.pricer.service import Pricer, PricerConfig

        assert self.chain.manifest is not None and self.chain.pricer_account is not None
        novelty = self.model_loader is not None
        config = PricerConfig(
            confirmations=self.confirmations, poll_interval=self.options.poll_interval, novelty=novelty
        )
        pricer_log = self.pricer_log
        assert pricer_log is not None
        return Pricer(
            self.chain.rpc_url,
            self.chain.manifest,
            self.chain.pricer_account,
            self.database_url,
            config=config,
            stop=self.stop,
            emit=lambda event: self.out.pricer_event(event, pricer_log),
            embedder=self.warm_embedder if novelty else None,
        )

    # --- running --------------------------------------------------------------------------------------------

    def run_indexer(self, restarts: int = 0) -> None:
        """Follow the chain; after a restart, with a new indexer (it reloads its cursor from the database)."""
        if restarts or self.indexer is None:
            old, self.indexer = self.indexer, None
            if old is not None:
                with contextlib.suppress(Exception):
                    old.close()
            self.indexer = self.new_indexer()
        self.indexer.follow()

    def run_pricer(self, restarts: int = 0) -> None:
        """Price; after a restart, with a new pricer (it resumes from the chain's last round and its own nonce)."""
        if restarts or self.pricer is None:
            old, self.pricer = self.pricer, None
            if old is not None:
                with contextlib.suppress(Exception):
                    old.close()
            self.pricer = self.new_pricer()
        self.pricer.run()

    def died(self, service: ServiceThread, ran_for: float) -> bool:
        """A service stopped with an error: restart it after a backoff (True), or, past the limit of failures in
        a row, stop the whole stack with the reason (False)."""
        if self.stop.is_set():
            return False
        error = one_line(service.error or RuntimeError("unknown"))
        policy = self.restart
        if ran_for >= policy.healthy_after:
            service.failures_in_a_row = 0
        service.failures_in_a_row += 1
        if service.failures_in_a_row > policy.limit:
            reason = f"{service.name} stopped: {error} (it failed {service.failures_in_a_row} times in a row)"
            self.fail_stack(reason)
            return False
        wait = policy.wait(service.failures_in_a_row)
        self.out.line(
            f"  [bold yellow]{service.name:<8}[/bold yellow] died: {escape(error)}; restarting in {wait:.1f} s "
            f"({service.failures_in_a_row} of {policy.limit})"
        )
        return not self.stop.wait(wait)

    def fail_stack(self, reason: str) -> None:
        """Stop the services and the gateway, keeping `reason` as the stack's failure."""
        with self._lock:
            if self.failure is None and not self.stop.is_set():
                self.failure = reason
        self.stop.set()
        self.on_failure()

    def start_threads(self) -> None:
        self.threads = [ServiceThread("indexer", self.run_indexer, self.died)]
        if self.pricer is not None:
            self.threads.append(ServiceThread("pricer", self.run_pricer, self.died))
        for thread in self.threads:
            thread.start()

    def shut_down(self) -> list[str]:
        """Stop the services; what stopped (with the pricer's last round and the indexer's last block)."""
        self.stop.set()
        stopped: list[str] = []
        for thread in self.threads:
            thread.join(timeout=SERVICE_STOP_TIMEOUT)
            if thread.is_alive():
                self.failure = self.failure or f"{thread.name} did not stop within {SERVICE_STOP_TIMEOUT:.0f} s"
        if self.pricer is not None:
            with contextlib.suppress(Exception):
                (last_round,) = self.pricer.hub.call("lastRound")
                stopped.append(f"pricer (round {last_round})")
            self.pricer.close()
        if self.indexer is not None:
            stopped.append(f"indexer (block {self.indexer.last_block})")
            self.indexer.close()
        return stopped
