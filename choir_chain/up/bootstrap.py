"""Bringing up the chain side of `choir up`: a devnet with the contracts deployed and a demo community seeded, or
an existing chain's deployment manifest and pricer key."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from choir_chain.cli_options import one_line
from choir_chain.devnet import DEV_MNEMONIC, DEVNET_CHAIN_ID
from choir_chain.up.console import UpConsole, seed_summary, shown_path
from choir_chain.up.options import DEVNET_PRICER_ACCOUNT, UpError, UpOptions
from choir_chain.up.run_folder import RunFolder

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from choir_chain.manifest import Manifest
    from choir_chain.seed import SeedResult


@dataclass
class ChainSide:
    """The chain the services follow, as far as it is known."""

    rpc_url: str = ""
    manifest: Manifest | None = None
    manifest_path: Path | None = None
    anvil_pid: int | None = None
    seeded: SeedResult | None = None
    pricer_account: LocalAccount | None = None

    @property
    def chain_id(self) -> int:
        assert self.manifest is not None
        return self.manifest.chain_id


def start_devnet(
    chain: ChainSide,
    folder: RunFolder,
    out: UpConsole,
    resources: contextlib.ExitStack,
    seed: bool,
    on_start: Callable[[], None],
) -> None:
    """anvil in the run folder, the contracts deployed by the development admin (account 0, the pricer is account 1),
    and with `seed` the demo community and its message bodies. `on_start()` runs once anvil answers (to record
    its process id before the slower steps)."""
    from choir_chain.chain import Chain, dev_accounts
    from choir_chain.deploy import deploy
    from choir_chain.devnet import Devnet

    started = time.monotonic()
    node = Devnet(folder.path)
    resources.callback(node.stop)  # registered first: an interrupt while anvil starts still stops it
    node.start()
    process = node._process
    chain.anvil_pid = process.pid if process is not None else None
    chain.rpc_url = node.rpc_url
    on_start()
    out.step("devnet", f"anvil on {node.rpc_url}, chain {node.chain_id}, pid {chain.anvil_pid}", started)

    started = time.monotonic()
    accounts = dev_accounts(DEV_MNEMONIC, 10)
    deployment = deploy(Chain.connect(node.rpc_url), accounts[0], pricer=accounts[DEVNET_PRICER_ACCOUNT].address)
    chain.manifest = deployment.manifest
    chain.manifest_path = deployment.manifest.write(folder.path / "deployments")
    chain.pricer_account = accounts[DEVNET_PRICER_ACCOUNT]
    out.step("deploy", f"{', '.join(chain.manifest.contracts)} -> {shown_path(chain.manifest_path)}", started)

    if seed:
        from choir_chain.seed import seed as seed_community

        started = time.monotonic()
        chain.seeded = seed_community(deployment, accounts)
        (folder.path / "seed.json").write_text(chain.seeded.as_json())
        store_bodies(folder.database_url, chain.seeded.bodies())
        out.step("seed", seed_summary(chain.seeded), started)


def store_bodies(database_url: str, bodies: dict[str, str]) -> None:
    """The seeded messages' bodies into the gateway's content store (its table in the same database)."""
    from choir_chain import content_store
    from choir_chain.indexer.db import make_engine

    engine = make_engine(database_url)
    try:
        content_store.create_schema(engine)
        for content_hash, body in sorted(bodies.items()):
            content_store.store(engine, content_hash, body, len(body.encode("utf-8")))
    finally:
        engine.dispose()


def read_manifest(chain: ChainSide, options: UpOptions) -> None:
    """The existing chain's deployment (read before the run folder is chosen: its default name has the chain id)."""
    from pydantic import ValidationError

    from choir_chain.manifest import Manifest

    assert options.rpc_url is not None and options.manifest is not None
    path = options.manifest.resolve()
    try:
        chain.manifest = Manifest.read(path)
    except OSError as err:
        raise UpError(f"cannot read the manifest {path}: {err.strerror}") from None
    except ValidationError as err:
        raise UpError(f"{path} is not a deployment manifest: {one_line(err)}") from None
    chain.manifest_path = path
    chain.rpc_url = options.rpc_url


def load_pricer_account(chain: ChainSide, options: UpOptions) -> None:
    """The pricer's key on an existing chain (checked before anything starts); a devnet's is account 1."""
    from choir_chain.pricer.cli import DEFAULT_KEY_ENV, load_account

    if not options.pricer or chain.pricer_account is not None:
        return
    chain_id = chain.chain_id
    alias = options.pricer_account
    if chain_id != DEVNET_CHAIN_ID and not alias and not os.environ.get(DEFAULT_KEY_ENV, "").strip():
        raise UpError(
            f"no pricer key for chain {chain_id}: set {DEFAULT_KEY_ENV} to its private key (hex), pass "
            "--pricer-account ALIAS (an Ape keystore account), or run without the pricer (--no-pricer)"
        )
    chain.pricer_account = load_account(DEFAULT_KEY_ENV, chain_id, alias=alias)
