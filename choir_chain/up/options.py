"""`choir up`'s configuration: what the command line chose, the fixed settings, and its one error type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
DEVNET_PRICER_ACCOUNT = 1
DEVNET_POLL_INTERVAL = 0.5
"""Seconds between the services' looks at a devnet when idle."""
EXISTING_CHAIN_POLL_INTERVAL = 1.0
GRACEFUL_SHUTDOWN_SECONDS = 3
"""Open connections (e.g. a dashboard's event stream) get this long to finish once Ctrl-C is pressed."""
SERVICE_STOP_TIMEOUT = 15.0


class UpError(RuntimeError):
    """`choir up` cannot start or a service failed; the message is one line."""


@dataclass(frozen=True)
class UpOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: bool = True
    rpc_url: str | None = None
    manifest: Path | None = None
    run_dir: Path | None = None
    pricer: bool = True
    pricer_account: str | None = None
    """Ape keystore alias of the pricer on an existing chain (else `CHOIR_PRICER_KEY`)."""
    novelty: bool = True
    """The pricer scores stored message bodies and submits their novelty (loads the embedding model)."""
    reset: bool = False
    """Re-index an existing chain's database from scratch."""

    @property
    def existing_chain(self) -> bool:
        return self.rpc_url is not None

    @property
    def poll_interval(self) -> float:
        return EXISTING_CHAIN_POLL_INTERVAL if self.existing_chain else DEVNET_POLL_INTERVAL


def known_errors() -> tuple[type[BaseException], ...]:
    """Failures reported as one line instead of a traceback (imported late: SQLAlchemy is heavy)."""
    from pydantic import ValidationError
    from requests import RequestException
    from sqlalchemy.exc import SQLAlchemyError

    from choir_chain.artifacts import ArtifactError
    from choir_chain.chain import TransactionFailed
    from choir_chain.devnet import DevnetError
    from choir_chain.indexer.errors import IndexerError
    from choir_chain.keys import SignerError
    from choir_chain.pricer.errors import PricerError
    from choir_chain.seed import SeedError

    return (
        UpError,
        DevnetError,
        ArtifactError,
        TransactionFailed,
        SeedError,
        IndexerError,
        PricerError,
        SignerError,
        ValidationError,
        SQLAlchemyError,
        RequestException,
        OSError,
    )
