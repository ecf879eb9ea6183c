"""Deploy the Choir protocol on a devnet: a run of the one deployment engine (`choir_chain.rollout`) with a local
key, no timelock and its progress in memory only. The steps (token, hub with its thread implementation, governor
implementation, `setGovernance`, rewards distributor, role grants) are those of `choir_chain.rollout.plan`."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.manifest import Manifest
from choir_chain.parameters import DAY, HOUR, GovernanceParameters, HubParameters
from choir_chain.protocol.units import CHOIR
from choir_chain.rollout import DeployConfig, KeySender, Progress, Reader, Rollout

__all__ = ["CHOIR", "DAY", "HOUR", "Deployment", "GovernanceParameters", "HubParameters", "deploy"]


@dataclass
class Deployment:
    """The deployed contracts, bound to a chain."""

    chain: Chain
    token: Contract
    hub: Contract
    manifest: Manifest
    distributor: Contract | None = None
    gas: dict[str, int] = field(default_factory=dict)
    """Gas of each contract's deployment, as `deploy.<contract>`."""

    def thread(self, thread_id: int) -> Contract:
        return self.chain.contract(artifacts.load("ThreadDAO"), self.hub.functions.threadAddress(thread_id).call())


def deploy(
    chain: Chain,
    deployer: LocalAccount,
    *,
    admin: str | None = None,
    pricer: str | None = None,
    genesis_recipient: str | None = None,
    parameters: HubParameters | None = None,
    governance: GovernanceParameters | None = None,
    rewards: bool = True,
) -> Deployment:
    """Deploy token, hub, governor implementation and (with `rewards`) the rewards distributor; grant the roles
    (pricer: the hub's PRICER_ROLE and the distributor's ORACLE_ROLE, with which it scores messages and allocates
    each closed epoch's budget; the distributor: the token's MINTER_ROLE); hand the admin roles to `admin` when it
    is not the deployer (at once: no timelock); read everything back and describe it in a manifest. Raises
    `choir_chain.rollout.DeployError` (or `TransactionFailed`) when a step fails."""
    config = DeployConfig(
        deployer=deployer.address,
        admin=admin or deployer.address,
        pricer=pricer,
        genesis_recipient=genesis_recipient or deployer.address,
        hub=parameters or HubParameters(),
        governance=governance or GovernanceParameters(),
        rewards=rewards,
    )
    progress = Progress.start(chain.chain_id, config)
    reader = Reader(chain.w3)
    sender = KeySender(chain, deployer, reader)
    manifest = Rollout(chain.w3, progress, sender, reader=reader, fail_after="", fresh=True).run()
    addresses = {name: entry.address for name, entry in manifest.contracts.items()}
    distributor = addresses.get("RewardsDistributor")
    return Deployment(
        chain=chain,
        token=reader.contract("ChoirToken", addresses["ChoirToken"]),
        hub=reader.contract("ChoirHub", addresses["ChoirHub"]),
        manifest=manifest,
        distributor=reader.contract("RewardsDistributor", distributor) if distributor else None,
        gas={f"deploy.{name}": progress.steps[step].gas_used or 0 for step, name in config.deployed.items()},
    )
