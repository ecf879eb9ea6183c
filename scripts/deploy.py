"""Deploy the Choir protocol to a persistent chain (a testnet, or mainnet), resumably. See docs/deploy.md.

    ape run deploy --network ethereum:sepolia:node --account deployer \\
        --admin 0xMULTISIG --pricer 0xPRICER [--timelock-delay SECONDS] [--dry-run]

Deploys the token, the hub (which deploys the thread implementation), the ThreadGovernor implementation
(+ hub.setGovernance) and the RewardsDistributor; gives the token's MINTER_ROLE to the distributor only, the hub's
PRICER_ROLE and the distributor's ORACLE_ROLE to --pricer; deploys a ProtocolTimelock (OpenZeppelin
TimelockController, minimum delay --timelock-delay) whose proposer and executor is --admin, gives it
DEFAULT_ADMIN_ROLE of all three, then renounces the deployer's admin roles: every admin change is scheduled by
--admin and takes effect only after the delay. Every role and parameter is
read back; the manifest `deployments/<chainId>.json` is written last (the format `choir pricer`, the indexer and
the gateway read). Each step is recorded in `deployments/<chainId>.progress.json` as it goes, so a run that
stopped anywhere resumes: a re-run deploys only what is missing. `--dry-run` runs the missing steps on a local
anvil fork of the chain instead and prints the plan with the gas each step takes: nothing is sent and no key is
unlocked.

The deployer is an Ape account (`ape accounts generate deployer` or `ape accounts import deployer`); without a
terminal its passphrase comes from `APE_ACCOUNTS_<alias>_PASSPHRASE`. Accounts of the public development mnemonic
(test test ... junk), and Ape's test accounts, are refused on every chain but the devnet (31337), as deployer,
admin, pricer or genesis recipient.

Test hook: `CHOIR_DEPLOY_FAIL_AFTER=<step>` (or `<step>:unrecorded`) stops the run after that step (exit code 3);
see `choir_chain.rollout`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.api.accounts import AccountAPI, TestAccountAPI
from ape.api.providers import ProviderAPI
from ape.cli import ConnectedProviderCommand, account_option, network_option
from ape.exceptions import AccountsError, ApeException
from ape_ethereum.provider import Web3Provider
from eth_utils import is_address, to_checksum_address

from choir_chain.devnet import DEVNET_CHAIN_ID
from choir_chain.dry_run import dry_run
from choir_chain.keys import SignerError, is_dev_address, passphrase_variable, refuse_dev_address
from choir_chain.manifest import Manifest
from choir_chain.paths import PROJECT_ROOT
from choir_chain.rollout import (
    DeployConfig,
    DeployError,
    Outcome,
    Progress,
    Rollout,
    Sent,
    SimulatedFailure,
    load_progress,
    parameters_from,
)
from choir_chain.timelock import DEFAULT_DELAY, MAX_DELAY, MIN_DELAY

SIMULATED_FAILURE_EXIT = 3


class ApeSender:
    """Sends the deployment's transactions from an Ape account (signing, fees, nonces and receipts the Ape way)."""

    def __init__(self, account: AccountAPI) -> None:
        self.account = account

    def deploy(self, contract: str, args: Sequence[Any]) -> Sent:
        instance = self.account.deploy(project.get_contract(contract), *args)
        assert instance.txn_hash is not None
        return self._sent(instance.provider.get_receipt(instance.txn_hash))

    def transact(self, contract: str, address: str, function: str, args: Sequence[Any]) -> Sent:
        instance = project.get_contract(contract).at(address)
        return self._sent(getattr(instance, function)(*args, sender=self.account))

    @staticmethod
    def _sent(receipt: Any) -> Sent:
        return Sent(
            tx_hash=str(receipt.txn_hash),
            block=int(receipt.block_number),
            gas_used=int(receipt.gas_used),
            address=receipt.contract_address or None,
        )


def _address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an address")
    return to_checksum_address(value)


@click.command(cls=ConnectedProviderCommand, short_help="Deploy Choir to a persistent chain (resumable)")
@network_option()
@account_option()
@click.option(
    "--admin",
    callback=_address,
    help="Proposer and executor of the timelock that holds DEFAULT_ADMIN_ROLE of the token, hub and distributor: "
    "a multisig. Default: the deployer.",
)
@click.option(
    "--timelock-delay",
    type=int,
    help=f"Seconds between scheduling an admin change on the timelock and executing it ({MIN_DELAY} to "
    f"{MAX_DELAY}). Default: {DEFAULT_DELAY}, or what the deployment started with.",
)
@click.option(
    "--pricer",
    callback=_address,
    help="PRICER_ROLE of the hub, ORACLE_ROLE of the distributor (the `choir pricer` account). "
    "Required for a new deployment.",
)
@click.option("--genesis-recipient", callback=_address, help="Receives the genesis supply. Default: --admin.")
@click.option(
    "--parameters",
    "parameters_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object of initial parameters, named as in the manifest (e.g. min_price, governance.quorum_bps); "
    "others keep their defaults.",
)
@click.option(
    "--deployments",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "deployments",
    show_default=True,
    help="Folder of the manifest <chainId>.json and the progress file <chainId>.progress.json.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and gas on a local fork of the chain; send nothing.")
@click.option(
    "--wait-pending",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds to wait for the deployer's pending transactions (left by a stopped run) before starting.",
)
def cli(
    provider: ProviderAPI,
    account: AccountAPI,
    admin: str | None,
    timelock_delay: int | None,
    pricer: str | None,
    genesis_recipient: str | None,
    parameters_file: Path | None,
    deployments: Path,
    dry_run: bool,
    wait_pending: float,
) -> None:
    """Deploy (or finish deploying) the Choir contracts, wire their roles, verify, write the manifest."""
    chain_id = int(provider.chain_id)
    try:
        progress = _progress(
            chain_id, account, admin, pricer, genesis_recipient, parameters_file, deployments, timelock_delay
        )
    except (SignerError, DeployError) as err:
        raise click.ClickException(str(err)) from None
    config = progress.config()
    click.echo(
        f"chain {chain_id}: deployer {config.deployer}, admin {config.admin}, pricer {config.pricer}, "
        f"genesis recipient {config.genesis_recipient}, timelock delay {config.timelock_delay} s"
    )
    if config.admin == config.deployer and chain_id != DEVNET_CHAIN_ID:
        click.echo("warning: the deployer proposes on the timelock; pass --admin <multisig> to hand over", err=True)
    if dry_run:
        _dry_run(provider, progress)
        return
    if not isinstance(provider, Web3Provider):
        raise click.ClickException(f"provider {provider.name} is not a JSON-RPC (web3) provider")
    _unlock(account)
    rollout = Rollout(provider.web3, progress, ApeSender(account), save=lambda p: p.write(deployments), report=_show)
    try:
        rollout.wait_until_idle(wait_pending)
        manifest = rollout.run()
    except SimulatedFailure as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(SIMULATED_FAILURE_EXIT)
    except (DeployError, ApeException) as err:
        where = Progress.path_for(deployments, chain_id)
        raise click.ClickException(f"{type(err).__name__}: {err}\n(progress so far: {where})") from None
    path = manifest.write(deployments)
    click.echo(f"verified every role and parameter; manifest {path}")


def _progress(
    chain_id: int,
    account: AccountAPI,
    admin: str | None,
    pricer: str | None,
    genesis_recipient: str | None,
    parameters_file: Path | None,
    deployments: Path,
    timelock_delay: int | None = None,
) -> Progress:
    """This chain's deployment so far (progress file or manifest) or a new one; the options must agree with it."""
    if chain_id != DEVNET_CHAIN_ID and (isinstance(account, TestAccountAPI) or is_dev_address(account.address)):
        raise SignerError(
            f"deployer {account.address} is a test account or an account of the public development mnemonic: "
            f"refused on chain {chain_id}; use an Ape keystore account (`ape accounts generate <alias>`)"
        )
    existing = load_progress(deployments, chain_id)
    if pricer is None:
        if existing is None:
            raise DeployError("--pricer is required for a new deployment")
        pricer = existing.pricer
    admin = admin or (existing.admin if existing else account.address)
    genesis_recipient = genesis_recipient or (existing.genesis_recipient if existing else admin)
    if parameters_file is not None:
        values = json.loads(parameters_file.read_text())
        if not isinstance(values, dict):
            raise DeployError(f"{parameters_file}: expected a JSON object of parameters")
        hub, governance = parameters_from(values)
    else:
        hub, governance = parameters_from(existing.parameters if existing else {})
    if timelock_delay is None:  # a deployment started without a timelock (e.g. a devnet manifest) goes on without
        timelock_delay = existing.timelock_delay if existing else DEFAULT_DELAY
    config = DeployConfig(account.address, admin, pricer, genesis_recipient, hub, governance, timelock_delay)
    for what in ("admin", "pricer", "genesis_recipient"):
        refuse_dev_address(getattr(config, what), chain_id, what.replace("_", " "))
    if existing is None:
        return Progress.start(chain_id, config)
    if differences := existing.differences(config):
        raise DeployError(
            f"the deployment on chain {chain_id} in {deployments} was started with other options:\n  "
            + "\n  ".join(differences)
            + "\nrun with the same options (or none: they default to the recorded ones), or move its files away "
            "to start a new deployment"
        )
    return existing


def _unlock(account: AccountAPI) -> None:
    """Let a keystore account sign without a prompt: passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE, or asked
    once on a terminal."""
    from ape_accounts import KeyfileAccount

    if not isinstance(account, KeyfileAccount):
        return
    variable = passphrase_variable(account.alias)
    passphrase = os.environ.get(variable)
    if passphrase is None and not sys.stdin.isatty():
        raise click.ClickException(f"no passphrase for Ape account {account.alias!r}: set {variable}")
    try:
        account.set_autosign(True, passphrase=passphrase)
    except AccountsError as err:
        raise click.ClickException(f"cannot unlock Ape account {account.alias!r}: {err}") from None


def _show(outcome: Outcome, *, dry: bool = False) -> None:
    record, step = outcome.record, outcome.step
    status = "to do" if dry and outcome.status == "sent" else outcome.status
    gas = f"  gas {record.gas_used:,}" if outcome.status == "sent" and record.gas_used else ""
    where = f"  at {record.address}" if record.address and step.deploys else ""
    click.echo(f"  {status:<11} {step.name:<25} {step.summary}{where}{gas}")


def _dry_run(provider: ProviderAPI, progress: Progress) -> None:
    uri = getattr(provider, "uri", None)
    if not isinstance(uri, str) or not uri.startswith("http"):
        raise click.ClickException(f"a dry run forks the chain over HTTP(S); provider {provider.name} has no such URI")
    click.echo("dry run (on a local fork of the chain; nothing is sent):")
    try:
        result = dry_run(uri, progress, report=lambda outcome: _show(outcome, dry=True))
    except DeployError as err:
        raise click.ClickException(f"the deployment would fail: {err}") from None
    except Exception as err:  # the fork itself: anvil missing, node unreachable
        raise click.ClickException(f"dry run failed: {type(err).__name__}: {err}") from None
    cost = result.gas * result.gas_price
    click.echo(
        f"total gas {result.gas:,} (on a fork at block {result.fork_block}); at the current gas price "
        f"{result.gas_price / 1e9:.3f} gwei about {cost / 1e18:.6f} ETH; "
        f"deployer balance {result.balance / 1e18:.6f} ETH"
    )
    if cost > result.balance:
        click.echo("warning: the deployer's balance does not cover that at the current gas price", err=True)
    manifest_path = Manifest.path_for(Path(), progress.chain_id)
    click.echo(f"nothing was sent; a real run would write deployments/{manifest_path.name}")
