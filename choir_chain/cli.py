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
from rich.table import Table

from choir_chain.artifacts import ArtifactError
from choir_chain.chain import Chain, TransactionFailed, dev_accounts
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, DevnetError
from choir_chain.indexer.cli import index as index_command
from choir_chain.manifest import Manifest
from choir_chain.paths import run_root
from choir_chain.pricer.cli import pricer as pricer_command
from choir_chain.simulation.cli import simulate as simulate_command

app = typer.Typer(
    help="Choir chain: devnet, deployment and services.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)

KNOWN_ERRORS = (DevnetError, ArtifactError, TransactionFailed, OSError)

app.command("index")(index_command)
app.command("pricer")(pricer_command)
app.command("simulate")(simulate_command)


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
        console.print(f"[red]error:[/red] {err}")
        sys.exit(1)


if __name__ == "__main__":
    main()
