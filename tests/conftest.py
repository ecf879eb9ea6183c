"""Test-suite set-up shared by every test: the devnet, and the embedding model for the tests that need it.

Contract tests run on anvil by default. Ape connects to its network after collection, so `pytest_configure`
starts anvil through the project's own launcher (the one `choir devnet` uses) and points Ape's foundry provider
at it with ``APE_FOUNDRY_HOST``. With ``--network ethereum:local:test`` (Ape's in-process eth-tester chain) no
anvil is started.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from choir_chain.devnet import Devnet
from choir_chain.paths import run_root

if TYPE_CHECKING:
    from choir_chain.semantics.embedder import Embedder

_devnet: Devnet | None = None


def _wants_anvil(config: pytest.Config) -> bool:
    try:
        choice = config.getoption("network")
    except ValueError:  # Ape's plugin not loaded: a plain pytest run with no chain
        return False
    return choice is None or "foundry" in str(choice) or ":" not in str(choice)


def pytest_configure(config: pytest.Config) -> None:
    global _devnet
    if not _wants_anvil(config) or "APE_FOUNDRY_HOST" in os.environ:
        return
    run_root().mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="test-anvil-", dir=run_root()))
    _devnet = Devnet(run_dir).start()
    os.environ["APE_FOUNDRY_HOST"] = _devnet.rpc_url


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    global _devnet
    if _devnet is not None:
        _devnet.stop()
        os.environ.pop("APE_FOUNDRY_HOST", None)
        _devnet = None


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real sentence-embedding model (all-MiniLM-L6-v2, offline, CPU), loaded once per test session (~10 s)."""
    from choir_chain.semantics.embedder import load_embedder

    return load_embedder()
