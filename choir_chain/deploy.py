"""Deploy the Choir protocol with web3.py: token, hub (which deploys the thread implementation), the thread
governor implementation, the rewards distributor, and the roles that wire them together."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.manifest import DeployedContract, Manifest
from choir_chain.protocol.units import CHOIR

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class HubParameters:
    """Initial hub parameters; defaults follow protocol section 6 (fallback price = S0 * 3, S0 = 10 CHOIR)."""

    min_price: int = 1 * CHOIR
    max_price: int = 1_000_000 * CHOIR
    fallback_price: int = 30 * CHOIR
    max_deviation_bps: int = 5_000
    heartbeat: int = DAY
    deviation_window: int = HOUR  # maxDeviationBps bounds the move within each such window (protocol section 6, r2)
    approval_window: int = 7 * DAY

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class GovernanceParameters:
    """Settings every new thread governor gets (protocol section 8); see docs/governance.md."""

    voting_delay: int = 3600  # an hour from proposal to snapshot: time to notice a proposal
    voting_period: int = 3 * DAY
    quorum_bps: int = 5_000  # half of all shares must vote for or abstain
    execution_delay: int = DAY  # a passed proposal waits a day in the queue: time to exit if one disagrees

    def as_dict(self) -> dict[str, int]:
        return {f"governance.{k}": int(v) for k, v in self.__dict__.items()}


@dataclass
class Deployment:
    """The deployed contracts, bound to a chain."""

    chain: Chain
    token: Contract
    hub: Contract
    manifest: Manifest
    distributor: Contract | None = None
    gas: dict[str, int] = field(default_factory=dict)

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
    each closed epoch's budget; the distributor: the token's MINTER_ROLE); and describe it all in a manifest."""
    parameters = parameters or HubParameters()
    governance = governance or GovernanceParameters()
    admin = admin or deployer.address
    genesis_recipient = genesis_recipient or deployer.address
    token_artifact, hub_artifact = artifacts.load("ChoirToken"), artifacts.load("ChoirHub")

    # The deployer is the first admin so it can wire roles; a different admin receives the role at the end.
    token, token_receipt = chain.deploy(token_artifact, deployer, deployer.address, genesis_recipient)
    hub_config = (
        deployer.address,
        parameters.min_price,
        parameters.max_price,
        parameters.fallback_price,
        parameters.max_deviation_bps,
        parameters.heartbeat,
        parameters.deviation_window,
        parameters.approval_window,
    )
    hub, hub_receipt = chain.deploy(hub_artifact, deployer, token.address, hub_config)
    governor_artifact = artifacts.load("ThreadGovernor")
    governor_impl, governor_receipt = chain.deploy(governor_artifact, deployer)
    settings = (
        governor_impl.address,
        governance.voting_delay,
        governance.voting_period,
        governance.quorum_bps,
        governance.execution_delay,
    )
    chain.transact(hub.functions.setGovernance(settings), deployer)
    gas = {
        "deploy.ChoirToken": token_receipt["gasUsed"],
        "deploy.ChoirHub": hub_receipt["gasUsed"],
        "deploy.ThreadGovernor": governor_receipt["gasUsed"],
    }
    if pricer:
        chain.transact(hub.functions.grantRole(hub.functions.PRICER_ROLE().call(), pricer), deployer)
    admined: list[Contract] = [token, hub]
    contracts = {
        "ChoirToken": _entry(token_artifact, token.address, token_receipt),
        "ChoirHub": _entry(hub_artifact, hub.address, hub_receipt),
        "ThreadDAO": DeployedContract(
            address=hub.functions.threadImplementation().call(),
            abi_hash=artifacts.load("ThreadDAO").abi_hash,
            block=hub_receipt["blockNumber"],
        ),
        "ThreadGovernor": _entry(governor_artifact, governor_impl.address, governor_receipt),
    }
    roles = {"admin": admin, **({"pricer": pricer} if pricer else {})}
    distributor = None
    if rewards:
        distributor_artifact = artifacts.load("RewardsDistributor")
        distributor, distributor_receipt = chain.deploy(
            distributor_artifact, deployer, token.address, hub.address, deployer.address, 0
        )
        gas["deploy.RewardsDistributor"] = distributor_receipt["gasUsed"]
        # The minter role first: the hub accepts only a distributor that can mint.
        chain.transact(token.functions.grantRole(token.functions.MINTER_ROLE().call(), distributor.address), deployer)
        chain.transact(hub.functions.setRewardsDistributor(distributor.address), deployer)
        if pricer:
            role_id = distributor.functions.ORACLE_ROLE().call()
            chain.transact(distributor.functions.grantRole(role_id, pricer), deployer)
        admined.append(distributor)
        contracts["RewardsDistributor"] = _entry(distributor_artifact, distributor.address, distributor_receipt)
        roles["minter"] = distributor.address
    if admin != deployer.address:
        for contract in admined:
            admin_role = contract.functions.DEFAULT_ADMIN_ROLE().call()
            chain.transact(contract.functions.grantRole(admin_role, admin), deployer)
            chain.transact(contract.functions.renounceRole(admin_role, deployer.address), deployer)

    manifest = Manifest(
        chain_id=chain.chain_id,
        deploy_block=token_receipt["blockNumber"],
        deployer=deployer.address,
        contracts=contracts,
        roles=roles,
        parameters={**parameters.as_dict(), **governance.as_dict()},
    )
    return Deployment(chain=chain, token=token, hub=hub, manifest=manifest, gas=gas, distributor=distributor)


def _entry(artifact: artifacts.Artifact, address: str, receipt: TxReceipt) -> DeployedContract:
    return DeployedContract(
        address=address,
        abi_hash=artifact.abi_hash,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block=receipt["blockNumber"],
    )
