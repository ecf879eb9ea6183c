"""`choir pricer`: push QAHO stake prices on chain after each settlement, until Ctrl-C (or once).

Prints one JSON line per event on stdout (one `round` line per round); start-up and stop messages and errors
go to stderr, errors as one line. The service itself is imported when the command runs, not when `choir`
starts.

The pricer's private key comes from an Ape keystore account (`--account ALIAS`, its passphrase from
`APE_ACCOUNTS_<ALIAS>_PASSPHRASE`) or from an environment variable (`--key-env`, default `CHOIR_PRICER_KEY`),
never from a file in the repository or the command line (both end up in shell histories and process lists); see
`choir_chain.keys`. On the devnet (chain id 31337) it defaults to development account 1, which `choir devnet`
gives the pricer role; anywhere else the development mnemonic's keys are refused.

With `--novelty` the pricer also scores the message bodies stored through the gateway and submits their
novelty (`choir_chain.pricer.novelty`); it loads the embedding model first (about 10 s) and needs ORACLE_ROLE on
the RewardsDistributor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from choir_chain.artifacts import ArtifactError
from choir_chain.chain.rpc import Stopped
from choir_chain.cli_options import (
    Confirmations,
    DatabaseUrl,
    ManifestPath,
    RpcUrl,
    default_confirmations,
    logging_to_stderr,
    one_line,
    read_target,
    stopping_on_signals,
)
from choir_chain.devnet import DEV_MNEMONIC, DEVNET_CHAIN_ID
from choir_chain.indexer.errors import IndexerError
from choir_chain.pricer.errors import PricerError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

console = Console(stderr=True)

DEFAULT_KEY_ENV = "CHOIR_PRICER_KEY"
DEVNET_PRICER_ACCOUNT = 1
"""Index of the development account `choir devnet` makes the pricer."""


def pricer(
    rpc: RpcUrl = None,
    manifest: ManifestPath = None,
    db: DatabaseUrl = None,
    account_alias: Annotated[
        str | None,
        typer.Option(
            "--account",
            envvar="CHOIR_PRICER_ACCOUNT",
            help="Ape keystore account holding the pricer's key (~/.ape/accounts/<alias>.json, or under "
            "$APE_DATA_FOLDER); its passphrase comes from APE_ACCOUNTS_<alias>_PASSPHRASE.",
        ),
    ] = None,
    key_env: Annotated[
        str,
        typer.Option(
            "--key-env",
            help="Environment variable holding the pricer's private key (hex), when no --account is given. On "
            "chain 31337 an unset variable means development account 1.",
        ),
    ] = DEFAULT_KEY_ENV,
    confirmations: Confirmations = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Most threads per round.")] = 100,
    poll_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between looks at the chain when idle.")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Submit every round due now, then exit.")] = False,
    novelty: Annotated[
        bool,
        typer.Option(
            "--novelty/--no-novelty",
            help="Also score stored message bodies and submit their novelty (loads the embedding model, ~10 s; "
            "needs ORACLE_ROLE on the RewardsDistributor).",
        ),
    ] = False,
    novelty_batch_size: Annotated[int, typer.Option(min=1, help="Most messages per novelty round.")] = 64,
    index: Annotated[
        bool,
        typer.Option(
            "--index/--no-index",
            help="Also run the indexer on --db, beside the pricer (the default); --no-index when `choir index` "
            "already follows the chain into that database (the pricer itself only reads it).",
        ),
    ] = True,
    content_db: Annotated[
        str | None,
        typer.Option(
            "--content-db",
            envvar="CHOIR_CONTENT_DB_URL",
            help="Database of the message bodies the gateway stores (default: the --db database).",
        ),
    ] = None,
) -> None:
    """Price every thread after each settlement and push the prices on chain in rounds.

    Resumes from the chain after any stop or crash: never a round twice, never a skipped one.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from choir_chain.semantics.embedder import EmbedderError

    try:
        novelty_options = NoveltyOptions(novelty, novelty_batch_size, content_db)
        options = RunOptions(confirmations, batch_size, poll_interval, once, index)
        with logging_to_stderr("choir_chain.indexer", logging.WARNING):
            _run(rpc, manifest, db, account_alias, key_env, options, novelty_options)
    except (
        PricerError,
        IndexerError,
        ArtifactError,
        OSError,
        ValidationError,
        SQLAlchemyError,
        EmbedderError,
    ) as err:
        console.print(f"[red]error:[/red] {escape(one_line(err))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _run(
    rpc: str | None,
    manifest_path: Path | None,
    db: str | None,
    account_alias: str | None,
    key_env: str,
    options: RunOptions,
    novelty: NoveltyOptions,
) -> None:
    from choir_chain.indexer import Indexer
    from choir_chain.indexer.db import default_url, normalize_url
    from choir_chain.indexer.follower import IndexFollower
    from choir_chain.pricer.service import Pricer, PricerConfig

    rpc, manifest = read_target(rpc, manifest_path, PricerError)
    account = load_account(key_env, manifest.chain_id, alias=account_alias)
    confirmations, once = options.confirmations, options.once
    if confirmations is None:
        confirmations = default_confirmations(manifest.chain_id)
    config = PricerConfig(
        confirmations=confirmations,
        batch_size=options.batch_size,
        poll_interval=options.poll_interval,
        novelty=novelty.enabled,
        novelty_batch_size=novelty.batch_size,
    )
    url = db or default_url()
    stop = threading.Event()
    with contextlib.ExitStack() as running:
        if options.index:
            indexer = Indexer(
                rpc, manifest, url, confirmations=confirmations, poll_interval=options.poll_interval, stop=stop
            )
            indexer.sync()  # the pricer starts from an index at the head
            running.enter_context(IndexFollower(indexer))
        service = running.enter_context(
            Pricer(
                rpc, manifest, account, url, config=config, stop=stop, emit=_print_event, content_db=novelty.content_db
            )
        )
        service.check_role()
        if novelty.enabled:
            from choir_chain.semantics.embedder import load_embedder

            console.print("loading the embedding model for novelty scores", highlight=False)
            load_embedder()
        shown = normalize_url(url).render_as_string(hide_password=True)
        console.print(
            f"pricing hub {service.hub.address} on chain {manifest.chain_id} as {account.address}, "
            f"{'indexing into and reading' if options.index else 'reading'} {shown} ({confirmations} confirmations)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if once:
            service.run(once=True)
        else:
            with stopping_on_signals(stop):
                service.run()
        try:
            (last,) = service.hub.call("lastRound")
        except Stopped:  # stopping while the node does not answer: nothing more to say
            console.print("pricer stopped", highlight=False)
        else:
            console.print(f"pricer stopped at round {last}", highlight=False)


@dataclass(frozen=True)
class RunOptions:
    confirmations: int | None
    batch_size: int
    poll_interval: float
    once: bool
    index: bool


@dataclass(frozen=True)
class NoveltyOptions:
    enabled: bool
    batch_size: int
    content_db: str | None


def load_account(key_env: str, chain_id: int, *, alias: str | None = None) -> LocalAccount:
    """The pricer's account: from the Ape keystore account `alias` if given, else from the private key in
    `$key_env`; on the devnet, development account 1 if neither is given. Off the devnet the development
    mnemonic's keys are refused. The key itself never appears in a message."""
    from choir_chain.chain import dev_accounts
    from choir_chain.keys import SignerError, load_signer

    if not alias and not os.environ.get(key_env, "").strip():
        if chain_id == DEVNET_CHAIN_ID:
            return dev_accounts(DEV_MNEMONIC, DEVNET_PRICER_ACCOUNT + 1)[DEVNET_PRICER_ACCOUNT]
        raise PricerError(
            f"no pricer key: set {key_env} to the pricer's private key (hex), or pass --account with an Ape "
            "keystore account"
        )
    try:
        return load_signer(alias, key_env, chain_id=chain_id)
    except SignerError as err:
        raise PricerError(str(err)) from None


def _print_event(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()
