"""Deploy the Choir protocol with web3.py: token, hub (which deploys the thread implementation), roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.types import TxReceipt

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.manifest import DeployedContract, Manifest

CHOIR = 10**18
DAY = 24 * 3600


@dataclass(frozen=True)
class HubParameters:
    """Initial hub parameters; defaults follow SPEC section 6 (fallback price = S0 * 3, S0 = 10 CHOIR)."""

    min_price: int = 1 * CHOIR
    max_price: int = 1_000_000 * CHOIR
    fallback_price: int = 30 * CHOIR
    max_deviation_bps: int = 5_000
    heartbeat: int = DAY
    approval_window: int = 7 * DAY

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass
class Deployment:
    """The deployed contracts, bound to a chain."""

    chain: Chain
    token: Contract
    hub: Contract
    manifest: Manifest
    gas: dict[str, int] = field(default_factory=dict)

    def thread(self, thread_id: int) -> Contract:
        return self.chain.contract(
            artifacts.load("ThreadDAO"), self.hub.functions.threadAddress(thread_id).call()
        )


def deploy(
    chain: Chain,
    deployer: LocalAccount,
    *,
    admin: str | None = None,
    pricer: str | None = None,
    genesis_recipient: str | None = None,
    parameters: HubParameters | None = None,
) -> Deployment:
    """Deploy token and hub, grant the pricer role, and describe it all in a manifest."""
    parameters = parameters or HubParameters()
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
        parameters.approval_window,
    )
    hub, hub_receipt = chain.deploy(hub_artifact, deployer, token.address, hub_config)
    gas = {"deploy.ChoirToken": token_receipt["gasUsed"], "deploy.ChoirHub": hub_receipt["gasUsed"]}
    if pricer:
        chain.transact(hub.functions.grantRole(hub.functions.PRICER_ROLE().call(), pricer), deployer)
    if admin != deployer.address:
        for contract in (token, hub):
            admin_role = contract.functions.DEFAULT_ADMIN_ROLE().call()
            chain.transact(contract.functions.grantRole(admin_role, admin), deployer)
            chain.transact(contract.functions.renounceRole(admin_role, deployer.address), deployer)

    implementation = hub.functions.threadImplementation().call()
    manifest = Manifest(
        chain_id=chain.chain_id,
        deploy_block=token_receipt["blockNumber"],
        deployer=deployer.address,
        contracts={
            "ChoirToken": _entry(token_artifact, token.address, token_receipt),
            "ChoirHub": _entry(hub_artifact, hub.address, hub_receipt),
            "ThreadDAO": DeployedContract(
                address=implementation,
                abi_hash=artifacts.load("ThreadDAO").abi_hash,
                block=hub_receipt["blockNumber"],
            ),
        },
        roles={"admin": admin, **({"pricer": pricer} if pricer else {})},
        parameters=parameters.as_dict(),
    )
    return Deployment(chain=chain, token=token, hub=hub, manifest=manifest, gas=gas)


def _entry(artifact: artifacts.Artifact, address: str, receipt: TxReceipt) -> DeployedContract:
    return DeployedContract(
        address=address,
        abi_hash=artifact.abi_hash,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block=receipt["blockNumber"],
    )
