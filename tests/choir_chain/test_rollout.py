"""The staged deployment engine behind `scripts/deploy.py`, in process on a devnet (sending by impersonation, as a
dry run does): the admin roles handed to a timelock (attack 9a) and its delay's bounds; resuming after a call mined
but not recorded, or a deployment recorded but never sent; resuming from a manifest alone; waiting for pending
transactions; option and parameter checks. The Ape script itself is exercised end to end in
test_testnet_deploy.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector as function_selector
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.types import Nonce
from web3.utils.address import get_create_address

from choir_chain import artifacts
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, DAY, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.rollout import (
    DEFAULT_ADMIN_ROLE,
    PRICER_ROLE,
    DeployConfig,
    DeployError,
    ImpersonatingSender,
    Outcome,
    Progress,
    Reader,
    Rollout,
    SimulatedFailure,
    StepRecord,
    check,
    parameters_from,
)
from choir_chain.timelock import MIN_DELAY, PROPOSER_ROLE, TIMELOCK

ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[Devnet]:
    with Devnet(tmp_path / "anvil") as node:
        yield node


def new_rollout(w3: Web3, progress: Progress, folder: Path, outcomes: list[Outcome], fail: str = "") -> Rollout:
    sender = ImpersonatingSender(w3, progress.deployer)
    return Rollout(w3, progress, sender, save=lambda p: p.write(folder), report=outcomes.append, fail_after=fail)


def test_resumes_after_a_call_mined_but_not_recorded(devnet: Devnet, tmp_path: Path) -> None:
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
    admin = Account.create().address
    config = DeployConfig(deployer.address, admin, pricer.address, admin)
    folder, outcomes = tmp_path / "deployments", list[Outcome]()
    with pytest.raises(SimulatedFailure, match="grant-minter:unrecorded"):
        new_rollout(w3, Progress.start(31337, config), folder, outcomes, "grant-minter:unrecorded").run()
    progress = Progress.read(Progress.path_for(folder, 31337))
    assert progress.steps["grant-minter"].status == "sent"
    nonce = w3.eth.get_transaction_count(deployer.address)
    outcomes.clear()
    manifest = new_rollout(w3, progress, folder, outcomes).run()
    status = {o.step.name: o.status for o in outcomes}
    assert [s for s, x in status.items() if x == "done before"] == [
        "deploy-token", "deploy-hub", "deploy-governor", "set-governance", "deploy-distributor",
    ]  # fmt: skip
    assert status["grant-minter"] == "found"  # its effect was on chain: not sent twice
    assert w3.eth.get_transaction_count(deployer.address) == nonce + 9 == nonce + list(status.values()).count("sent")
    distributor = manifest.contracts["RewardsDistributor"].address
    assert manifest.roles == {"admin": admin, "pricer": pricer.address, "minter": distributor, "genesis": admin}


def test_a_deployment_recorded_but_never_sent_is_sent(devnet: Devnet, tmp_path: Path) -> None:
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer = dev_accounts(DEV_MNEMONIC, 1)[0]
    rpc_call(devnet.rpc_url, "eth_sendTransaction", [{"from": deployer.address, "to": deployer.address}])
    nonce = w3.eth.get_transaction_count(deployer.address)
    config = DeployConfig(deployer.address, deployer.address, Account.create().address, deployer.address)
    progress = Progress.start(31337, config)
    # Recorded as about to go out with the nonce just used by another transaction: nothing was deployed there.
    progress.steps["deploy-token"] = StepRecord(status="sent", nonce=nonce - 1, sent_after_block=0)
    outcomes = list[Outcome]()
    with pytest.raises(SimulatedFailure):
        new_rollout(w3, progress, tmp_path, outcomes, "deploy-token").run()
    assert [(o.step.name, o.status) for o in outcomes] == [("deploy-token", "sent")]
    assert outcomes[0].record.address == get_create_address(deployer.address, Nonce(nonce))


def test_resumes_from_a_manifest_alone(devnet: Devnet, tmp_path: Path) -> None:
    """A chain deployed by `choir_chain.deploy` (the devnet deployer) has a manifest and no progress file: a run
    finds every step done and sends nothing."""
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
    deployment = deploy(Chain.connect(devnet.rpc_url), deployer, pricer=pricer.address)
    folder = tmp_path / "deployments"
    deployment.manifest.write(folder)
    progress = Progress.from_manifest(deployment.manifest)
    nonce, outcomes = w3.eth.get_transaction_count(deployer.address), list[Outcome]()
    manifest = new_rollout(w3, progress, folder, outcomes).run()
    assert {o.status for o in outcomes} <= {"done before", "found"}
    assert w3.eth.get_transaction_count(deployer.address) == nonce
    assert {n: c.address for n, c in manifest.contracts.items()} == {
        n: c.address for n, c in deployment.manifest.contracts.items()
    }


def test_the_devnet_deploy_is_a_run_of_the_plan(devnet: Devnet) -> None:
    """`choir_chain.deploy` runs this engine (a local key, progress in memory): its deployment passes the read-back
    `check`; without the distributor or a pricer and with another admin, what is left out leaves nothing behind
    (no minter, no pricer, no distributor wired) and the admin roles are handed over at once."""
    w3, chain = Web3(Web3.HTTPProvider(devnet.rpc_url)), Chain.connect(devnet.rpc_url)
    deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
    deployment = deploy(chain, deployer, pricer=pricer.address)
    manifest = deployment.manifest
    addresses = {name: entry.address for name, entry in manifest.contracts.items()}
    assert check(Progress.from_manifest(manifest).config(), addresses, Reader(w3), final=True) == []
    assert deployment.distributor is not None and deployment.distributor.address == addresses["RewardsDistributor"]
    assert manifest.roles == {
        "admin": deployer.address, "pricer": pricer.address, "minter": addresses["RewardsDistributor"],
        "genesis": deployer.address,
    }  # fmt: skip
    contracts = ("ChoirToken", "ChoirHub", "ThreadGovernor", "RewardsDistributor")
    assert set(deployment.gas) == {f"deploy.{name}" for name in contracts} and min(deployment.gas.values()) > 0

    admin = Account.create().address
    bare = deploy(chain, deployer, admin=admin, rewards=False)
    addresses = {name: entry.address for name, entry in bare.manifest.contracts.items()}
    assert bare.distributor is None and "RewardsDistributor" not in addresses
    assert bare.manifest.roles == {"admin": admin, "genesis": deployer.address}
    assert bare.hub.functions.rewardsDistributor().call() == ZERO_ADDRESS
    config = DeployConfig(deployer.address, admin, None, deployer.address, rewards=False)
    assert check(config, addresses, Reader(w3), final=True) == []  # the admin alone is admin; no one prices
    assert check(DeployConfig(deployer.address, admin, pricer.address, deployer.address, rewards=False), addresses,
                 Reader(w3), final=True) == [
        f"ChoirHub: pricer {pricer.address} lacks PRICER_ROLE",
    ]  # fmt: skip
    with pytest.raises(DeployError, match="with a timelock includes the rewards distributor"):
        DeployConfig(deployer.address, admin, pricer.address, admin, timelock_delay=MIN_DELAY, rewards=False)


def test_waits_for_pending_transactions(devnet: Devnet, tmp_path: Path) -> None:
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer = dev_accounts(DEV_MNEMONIC, 1)[0]
    config = DeployConfig(deployer.address, deployer.address, Account.create().address, deployer.address)
    rollout = new_rollout(w3, Progress.start(31337, config), tmp_path, [])
    rpc_call(devnet.rpc_url, "evm_setAutomine", [False])
    rpc_call(devnet.rpc_url, "eth_sendTransaction", [{"from": deployer.address, "to": deployer.address}])
    with pytest.raises(DeployError, match=r"1 transaction\(s\) of the deployer .* still pending"):
        rollout.wait_until_idle(timeout=0.3, poll=0.05)
    rpc_call(devnet.rpc_url, "evm_mine")
    rollout.wait_until_idle(timeout=0.3, poll=0.05)


def test_options_and_parameters_are_checked() -> None:
    with pytest.raises(DeployError, match="unknown parameter 'min_prize'"):
        parameters_from({"min_prize": 1})
    hub, governance = parameters_from({"min_price": 2 * CHOIR, "governance.quorum_bps": 6_000})
    assert hub.min_price == 2 * CHOIR and governance.quorum_bps == 6_000 and governance.voting_period == 3 * 86_400
    a, b = Account.create().address, Account.create().address
    progress = Progress.start(11155111, DeployConfig(a, b, b, b))
    assert progress.differences(DeployConfig(a, b, b, b)) == []
    assert progress.differences(DeployConfig(b, a, b, b, hub)) == [
        f"deployer: started with {a}, now {b}",
        f"admin: started with {b}, now {a}",
        f"parameter min_price: started with {CHOIR}, now {2 * CHOIR}",
    ]


def test_a_step_that_would_revert_is_named(devnet: Devnet) -> None:
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer, stranger = dev_accounts(DEV_MNEMONIC, 2)
    hub = deploy(Chain.connect(devnet.rpc_url), deployer).hub
    sender = ImpersonatingSender(w3, stranger.address)  # not the hub's admin
    with pytest.raises(DeployError, match=r"ChoirHub\.grantRole would revert"):
        sender.transact("ChoirHub", hub.address, "grantRole", (PRICER_ROLE, stranger.address))


def _custom_error(err: BaseException) -> bytes:
    """The 4-byte selector of the custom error a call reverted with (anvil: `ContractCustomError`)."""
    data = getattr(err, "data", None)
    assert isinstance(data, str) and data.startswith("0x"), f"no custom error data in {err!r}"
    return bytes.fromhex(data[2:10])


def test_admin_changes_wait_for_the_timelock(devnet: Devnet, tmp_path: Path) -> None:
    """Attack 9a (protocol section 8, r2): a persistent deployment leaves no admin that acts at once. The
    deployer ends with no admin role, the timelock holds them all, the admin (its proposer) holds none directly,
    and an admin change (hub.setRewardsDistributor: rewards off) takes effect only through schedule, the delay,
    execute; before the delay `execute` reverts with the timelock's `TimelockUnexpectedOperationState`."""
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url))
    deployer, pricer, admin = dev_accounts(DEV_MNEMONIC, 3)
    delay = 2 * DAY
    config = DeployConfig(deployer.address, admin.address, pricer.address, admin.address, timelock_delay=delay)
    folder, outcomes = tmp_path / "deployments", list[Outcome]()
    manifest = new_rollout(w3, Progress.start(31337, config), folder, outcomes).run()
    assert [o.step.name for o in outcomes][9:] == [
        "deploy-timelock", "grant-admin-token", "grant-admin-hub", "grant-admin-distributor",
        "renounce-admin-token", "renounce-admin-hub", "renounce-admin-distributor",
    ]  # fmt: skip
    address = {name: entry.address for name, entry in manifest.contracts.items()}
    timelock = w3.eth.contract(address=address[TIMELOCK], abi=artifacts.load(TIMELOCK).abi)
    hub = w3.eth.contract(address=address["ChoirHub"], abi=artifacts.load("ChoirHub").abi)
    assert manifest.roles["timelock"] == timelock.address and manifest.parameters["timelock.min_delay"] == delay
    assert timelock.functions.getMinDelay().call() == delay
    assert timelock.functions.hasRole(PROPOSER_ROLE, admin.address).call()
    for name in ("ChoirToken", "ChoirHub", "RewardsDistributor"):
        contract = w3.eth.contract(address=address[name], abi=artifacts.load(name).abi)
        candidates = (("deployer", deployer.address), ("admin", admin.address), ("timelock", timelock.address))
        holds = {who: contract.functions.hasRole(DEFAULT_ADMIN_ROLE, a).call() for who, a in candidates}
        assert holds == {"deployer": False, "admin": False, "timelock": True}, name

    distributor = address["RewardsDistributor"]
    off = bytes.fromhex(hub.encode_abi("setRewardsDistributor", [ZERO_ADDRESS])[2:])
    for who in (deployer, admin):  # neither can act directly any more
        with pytest.raises(ContractCustomError) as refused:
            hub.functions.setRewardsDistributor(ZERO_ADDRESS).transact({"from": who.address})
        assert _custom_error(refused.value) == function_selector("AccessControlUnauthorizedAccount(address,bytes32)")
    operation = (hub.address, 0, off, bytes(32), bytes(32))
    with pytest.raises(ContractCustomError) as short:  # scheduling with a delay below the minimum is refused
        timelock.functions.schedule(*operation, delay - 1).transact({"from": admin.address})
    assert _custom_error(short.value) == function_selector("TimelockInsufficientDelay(uint256,uint256)")
    timelock.functions.schedule(*operation, delay).transact({"from": admin.address})
    rpc_call(devnet.rpc_url, "evm_increaseTime", [delay - 60])
    rpc_call(devnet.rpc_url, "evm_mine")
    with pytest.raises(ContractCustomError) as early:
        timelock.functions.execute(*operation).transact({"from": admin.address})
    assert _custom_error(early.value) == function_selector("TimelockUnexpectedOperationState(bytes32,bytes32)")
    assert hub.functions.rewardsDistributor().call() == distributor  # nothing changed yet
    rpc_call(devnet.rpc_url, "evm_increaseTime", [60])
    rpc_call(devnet.rpc_url, "evm_mine")
    timelock.functions.execute(*operation).transact({"from": admin.address})
    assert hub.functions.rewardsDistributor().call() == ZERO_ADDRESS


def test_a_timelock_delay_outside_its_bounds_is_refused() -> None:
    a, b = Account.create().address, Account.create().address
    with pytest.raises(DeployError, match=rf"timelock delay 3600 s is below the minimum of {MIN_DELAY} s"):
        DeployConfig(a, b, b, b, timelock_delay=3600)
    with pytest.raises(DeployError, match="timelock delay 2592001000 s is above the maximum"):
        DeployConfig(a, b, b, b, timelock_delay=2_592_001_000)
    assert DeployConfig(a, b, b, b, timelock_delay=MIN_DELAY).timelock_delay == DAY
    progress = Progress.start(11155111, DeployConfig(a, b, b, b, timelock_delay=2 * DAY))
    assert progress.differences(DeployConfig(a, b, b, b, timelock_delay=3 * DAY)) == [
        f"timelock-delay: started with {2 * DAY}, now {3 * DAY}"
    ]
