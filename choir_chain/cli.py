"""The `choir` command line. Errors print one line (no traceback) and exit 1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from choir_chain.artifacts import ArtifactError
from choir_chain.chain import Chain, TransactionFailed, dev_accounts
from choir_chain.dataset.cli import dataset as dataset_app
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, DevnetError
from choir_chain.indexer.cli import index as index_command
from choir_chain.manifest import Manifest
from choir_chain.paths import run_root
from choir_chain.pricer.cli import pricer as pricer_command
from choir_chain.seed import SeedError
from choir_chain.simulation.cli import simulate as simulate_command
from choir_chain.up import DEFAULT_HOST, DEFAULT_PORT, UpError

app = typer.Typer(help="Choir chain: devnet, deployment and services.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

KNOWN_ERRORS = (DevnetError, ArtifactError, TransactionFailed, SeedError, UpError, OSError)

app.command("index")(index_command)
app.command("pricer")(pricer_command)
app.command("simulate")(simulate_command)
app.add_typer(dataset_app, name="dataset")


@app.callback()
def _root() -> None:
    """Choir chain command line."""


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def devnet(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Loopback port for anvil (default: a free one).")] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for anvil's state, logs and the manifest (default .run/devnet)."),
    ] = None,
    no_deploy: Annotated[bool, typer.Option("--no-deploy", help="Start the chain only.")] = False,
) -> None:
    """Start a local devnet (anvil), deploy the contracts and write the manifest.

    With a command after `--` (e.g. `choir devnet -- ape test`), run it against the devnet with APE_FOUNDRY_HOST,
    CHOIR_RPC_URL and CHOIR_MANIFEST set, then stop; otherwise serve until Ctrl-C.
    """
    folder = (run_dir or run_root() / "devnet").resolve()
    if folder.exists():
        shutil.rmtree(folder)  # each devnet starts fresh; its previous chain is gone with its process
    node = Devnet(folder, port=port)
    with node:
        env = {"APE_FOUNDRY_HOST": node.rpc_url, "CHOIR_RPC_URL": node.rpc_url}
        manifest_path = None
        if not no_deploy:
            chain = Chain.connect(node.rpc_url)
            admin, pricer = dev_accounts(DEV_MNEMONIC, 2)
            deployment = deploy(chain, admin, pricer=pricer.address)
            manifest_path = deployment.manifest.write(folder / "deployments")
            env["CHOIR_MANIFEST"] = str(manifest_path)
        if ctx.args:
            result = subprocess.run(ctx.args, env={**os.environ, **env}, check=False)
            raise typer.Exit(result.returncode)
        _print_devnet(node, manifest_path)
        _wait_for_interrupt()
    console.print(f"devnet stopped; its files are in {folder}")


@app.command()
def up(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the gateway (dashboard and API).")
    ] = DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="Address the gateway listens on.")] = DEFAULT_HOST,
    no_seed: Annotated[
        bool, typer.Option("--no-seed", help="Deploy only: no demo threads, specs or proposal.")
    ] = False,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc",
            help="Serve an existing chain at this JSON-RPC URL (with --manifest): no devnet, no deployment, no seed.",
        ),
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option("--manifest", help="The existing chain's deployment manifest (with --rpc).")
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for everything the run writes (default .run/up, wiped at each devnet start; "
            ".run/up-<chain id> with --rpc, kept so indexing resumes)."
        ),
    ] = None,
    no_pricer: Annotated[bool, typer.Option("--no-pricer", help="Run the indexer and the gateway only.")] = False,
    pricer_account: Annotated[
        str | None,
        typer.Option(
            "--pricer-account",
            envvar="CHOIR_PRICER_ACCOUNT",
            help="With --rpc: Ape keystore account of the pricer (else the key in CHOIR_PRICER_KEY; on chain 31337 "
            "development account 1).",
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="With --rpc: drop the run folder's index and re-index from scratch.")
    ] = False,
) -> None:
    """Start everything: a devnet, the contracts, a demo community, the indexer, the pricer and the gateway.

    Prints the dashboard and API URLs; Ctrl-C (or SIGTERM) stops it all and leaves nothing running. With --rpc and
    --manifest, runs the indexer, the pricer and the gateway over an existing chain instead.
    """
    from choir_chain.up import UpOptions
    from choir_chain.up import up as run_up

    options = UpOptions(
        host=host,
        port=port,
        seed=not no_seed,
        rpc_url=rpc,
        manifest=manifest,
        run_dir=run_dir,
        pricer=not no_pricer,
        pricer_account=pricer_account,
        reset=reset,
    )
    try:
        code = run_up(options, console)
    except UpError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _print_devnet(node: Devnet, manifest_path: Path | None) -> None:
    table = Table(title="Choir devnet", show_header=False, title_justify="left")
    table.add_row("RPC", node.rpc_url)
    table.add_row("chain id", str(node.chain_id))
    table.add_row("anvil log", str(node.log_path))
    if manifest_path is not None:
        manifest = Manifest.read(manifest_path)
        table.add_row("manifest", str(manifest_path))
        for name, entry in manifest.contracts.items():
            table.add_row(name, entry.address)
        for role, holder in manifest.roles.items():
            table.add_row(f"role {role}", holder)
    table.add_row("accounts", f"{node.accounts} funded from the development mnemonic ({DEV_MNEMONIC!r})")
    console.print(table)
    console.print("Ctrl-C stops the devnet.")


def _wait_for_interrupt() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = False

    def _handler(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not stop:
        time.sleep(0.2)


def main() -> None:
    """Entry point of the `choir` script: known failures print one line, not a traceback."""
    try:
        app()
    except KNOWN_ERRORS as err:
        console.print(
            f"[red]error:[/red] {escape(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)}",
            soft_wrap=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
