"""The testnet deployment, played on this machine: anvil with Sepolia's chain id (11155111), a freshly generated
Ape keystore account as deployer (in a temporary Ape data folder: nothing touches ~/.ape), the real Ape script
`scripts/deploy.py` run non-interactively as `ape run deploy` (passphrase from the environment). A dry run sends
nothing; Ape's test accounts are refused; a run stopped after a step, and one stopped between mining a deployment
and recording it, resume without deploying anything twice; a re-run sends nothing; every role is where it
belongs; then `choir pricer`, with its key from another keystore account, reprices a thread after a spec is
staked, voted and settled.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from typer.testing import CliRunner
from web3.types import Nonce, Wei
from web3.utils.address import get_create_address

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.deploy import CHOIR, GovernanceParameters, HubParameters
from choir_chain.devnet import Devnet, free_port, rpc_call
from choir_chain.keys import SignerError, passphrase_variable
from choir_chain.manifest import Manifest
from choir_chain.paths import PROJECT_ROOT
from choir_chain.pricer.cli import pricer as pricer_command
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.rollout import (
    DEFAULT_ADMIN_ROLE,
    MINTER_ROLE,
    ORACLE_ROLE,
    PRICER_ROLE,
    DeployConfig,
    Progress,
    Reader,
    check,
)
from choir_chain.timelock import DEFAULT_DELAY, EXECUTOR_ROLE, PROPOSER_ROLE

SEPOLIA = 11155111
PASSPHRASE = "not a real passphrase"
KDF_ITERATIONS = 1 << 12
"""A cheaper scrypt cost than Ape's default (a second or more per unlock on this machine); same keystore format."""
STAKE = 200 * CHOIR
STEPS = 16
"""Steps of a deployment that hands the admin roles over to a timelock, each one transaction of the deployer."""
APE = str(PROJECT_ROOT / ".venv" / "bin" / "ape")
UP_TIMEOUT = 240.0
"""Seconds for `choir up` to answer /health (imports and a first index on a loaded machine)."""


@dataclass
class Rehearsal:
    """The testnet on this machine and what each deployment run did."""

    devnet: Devnet
    chain: Chain
    ape_data: Path
    deployments: Path
    deployer: LocalAccount
    admin: LocalAccount
    pricer: LocalAccount
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    progress: dict[str, Progress] = field(default_factory=dict)
    """Progress file after each run."""
    nonces: dict[str, int] = field(default_factory=dict)
    """The deployer's nonce after each run."""

    @property
    def rpc_url(self) -> str:
        return self.devnet.rpc_url

    @property
    def manifest_path(self) -> Path:
        return Manifest.path_for(self.deployments, SEPOLIA)

    @property
    def progress_path(self) -> Path:
        return Progress.path_for(self.deployments, SEPOLIA)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHOIR_", "APE_ACCOUNTS_"))}
        return {
            **env,
            "APE_DATA_FOLDER": str(self.ape_data),
            "APE_FOUNDRY_HOST": self.rpc_url,
            passphrase_variable("deployer"): PASSPHRASE,
            **extra,
        }

    def deploy(self, label: str, *options: str, network: str = "ethereum:local:foundry", **env: str) -> None:
        """`ape run deploy` against the testnet, non-interactively; keeps its result, progress and nonce."""
        args = [APE, "run", "deploy", "--network", network, "--account", "deployer"]
        args += ["--admin", self.admin.address, "--pricer", self.pricer.address]
        args += ["--deployments", str(self.deployments), *options]
        started = time.monotonic()
        self.runs[label] = subprocess.run(
            args, cwd=PROJECT_ROOT, env=self.env(**env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        self.seconds[label] = time.monotonic() - started
        if self.progress_path.is_file():
            self.progress[label] = Progress.read(self.progress_path)
        self.nonces[label] = self.chain.w3.eth.get_transaction_count(self.deployer.address)

    def output(self, label: str) -> str:
        run = self.runs[label]
        return f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-6000:]}"


def keystore(folder: Path, alias: str, account: LocalAccount) -> None:
    """Write `account` the way `ape accounts import` does: `<data folder>/accounts/<alias>.json`."""
    path = folder / "accounts" / f"{alias}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(account.key, PASSPHRASE, iterations=KDF_ITERATIONS)))


@pytest.fixture(scope="module")
def testnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    root = tmp_path_factory.mktemp("testnet")
    with Devnet(root / "anvil", chain_id=SEPOLIA) as devnet:
        assert int(str(rpc_call(devnet.rpc_url, "eth_chainId")), 16) == SEPOLIA
        chain = Chain.connect(devnet.rpc_url)
        deployer, admin, pricer = Account.create(), Account.create(), Account.create()
        ape_data = root / "ape"
        # Accounts are this test's own; the installed dependency packages (OpenZeppelin, Solady) are shared. A data
        # folder without them makes `ape run` install and rewrite them, and the project's compiled contracts then
        # no longer match in other Ape processes (seen: contracts missing from `project` in the rest of the run).
        ape_data.mkdir(parents=True)
        shared = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "packages"
        (ape_data / "packages").symlink_to(shared, target_is_directory=True)
        keystore(ape_data, "deployer", deployer)
        keystore(ape_data, "pricer", pricer)
        funder = chain.w3.eth.accounts[0]  # a devnet account, unlocked in anvil
        for account in (deployer, admin, pricer):
            tx = chain.w3.eth.send_transaction({"from": funder, "to": account.address, "value": Wei(100 * 10**18)})
            chain.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)
        net = Rehearsal(devnet, chain, ape_data, root / "deployments", deployer, admin, pricer)
        # The dry run goes through ape-config.yaml's Sepolia entry (Ape's node provider, URL from SEPOLIA_RPC_URL,
        # chain id checked); the real runs through ethereum:local:foundry, which waits for no confirmation blocks
        # (anvil mines only when sent a transaction).
        net.deploy("dry run", "--dry-run", network="ethereum:sepolia:node", SEPOLIA_RPC_URL=devnet.rpc_url)
        net.deploy("stopped", CHOIR_DEPLOY_FAIL_AFTER="set-governance")
        net.deploy("crashed", CHOIR_DEPLOY_FAIL_AFTER="deploy-distributor:unrecorded")
        net.deploy("resumed")
        net.deploy("again")
        print("ape run deploy, seconds:", {k: round(v, 1) for k, v in net.seconds.items()})
        yield net


def test_a_dry_run_prints_the_plan_and_sends_nothing(testnet: Rehearsal) -> None:
    run = testnet.runs["dry run"]
    assert run.returncode == 0, testnet.output("dry run")
    lines = [line.split() for line in run.stdout.splitlines() if line.startswith("  to do")]
    steps = [line[2] for line in lines]
    assert steps[:5] == ["deploy-token", "deploy-hub", "deploy-governor", "set-governance", "deploy-distributor"]
    assert len(steps) == STEPS and steps[-1] == "renounce-admin-distributor"
    assert all(line[-2] == "gas" and int(line[-1].replace(",", "")) > 20_000 for line in lines)
    assert "total gas" in run.stdout and "nothing was sent" in run.stdout
    assert testnet.nonces["dry run"] == 0
    assert "dry run" not in testnet.progress


def test_development_accounts_are_refused_off_the_devnet(tmp_path: Path) -> None:
    """What the script checks first, before it unlocks or sends anything (called in process: an `ape run` costs
    ten seconds here): no Ape test account as deployer, and no development account as deployer, admin, pricer
    or genesis recipient, except on the devnet."""
    from ape import accounts

    spec = importlib.util.spec_from_file_location("choir_deploy_script", PROJECT_ROOT / "scripts" / "deploy.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    own, dev = Account.create().address, accounts.test_accounts[1].address
    test_account = accounts.test_accounts[0]
    with pytest.raises(SignerError, match=f"test account or an account of the public development mnemonic.*{SEPOLIA}"):
        script._progress(SEPOLIA, test_account, own, own, None, None, tmp_path)
    assert script._progress(31337, test_account, own, own, None, None, tmp_path).chain_id == 31337
    deployer = SimpleNamespace(address=Account.create().address)
    for option, chosen in (
        ("admin", (dev, own, None)),
        ("pricer", (own, dev, None)),
        ("genesis recipient", (own, own, dev)),
    ):
        with pytest.raises(SignerError, match=f"{option} {dev} is an account of the public development mnemonic"):
            script._progress(SEPOLIA, deployer, *chosen, None, tmp_path)


def test_a_stopped_deployment_resumes_without_deploying_twice(testnet: Rehearsal) -> None:
    stopped = testnet.runs["stopped"]
    assert stopped.returncode == 3, testnet.output("stopped")
    assert "stopped after set-governance" in stopped.stderr
    first = testnet.progress["stopped"].steps
    assert [s for s, r in first.items() if r.status == "done"] == [
        "deploy-token", "deploy-hub", "deploy-governor", "set-governance",
    ]  # fmt: skip
    assert testnet.nonces["stopped"] == 4

    crashed = testnet.runs["crashed"]
    assert crashed.returncode == 3, testnet.output("crashed")
    record = testnet.progress["crashed"].steps["deploy-distributor"]
    assert record.status == "sent" and record.nonce == 4  # mined, but the run stopped before recording it
    assert testnet.nonces["crashed"] == 5

    resumed = testnet.runs["resumed"]
    assert resumed.returncode == 0, testnet.output("resumed")
    assert "adopted     deploy-distributor" in resumed.stdout
    final = testnet.progress["resumed"].steps
    assert all(r.status == "done" for r in final.values()) and len(final) == STEPS
    for step in ("deploy-token", "deploy-hub", "deploy-governor"):
        assert final[step].address == first[step].address  # nothing deployed twice
    assert final["deploy-distributor"].address == get_create_address(testnet.deployer.address, Nonce(4))
    assert testnet.nonces["resumed"] == STEPS  # one transaction per step, none repeated
    assert "verified every role and parameter" in resumed.stdout

    again = testnet.runs["again"]
    assert again.returncode == 0, testnet.output("again")
    assert testnet.nonces["again"] == STEPS
    assert again.stdout.count("done before") == STEPS


def test_the_manifest_and_every_role(testnet: Rehearsal) -> None:
    manifest = Manifest.read(testnet.manifest_path)
    assert manifest.chain_id == SEPOLIA and manifest.deployer == testnet.deployer.address
    assert set(manifest.contracts) == {
        "ChoirToken", "ChoirHub", "ThreadDAO", "ThreadGovernor", "RewardsDistributor", "ProtocolTimelock",
    }  # fmt: skip
    assert manifest.roles["admin"] == testnet.admin.address and manifest.roles["pricer"] == testnet.pricer.address
    timelock_parameter = {"timelock.min_delay": DEFAULT_DELAY}  # the script's default
    hub_parameters, governance_parameters = HubParameters().as_dict(), GovernanceParameters().as_dict()
    assert manifest.parameters == {**hub_parameters, **governance_parameters, **timelock_parameter}
    assert manifest.deploy_block == manifest.contracts["ChoirToken"].block

    reader = Reader(testnet.chain.w3)
    address = {name: entry.address for name, entry in manifest.contracts.items()}
    admin, deployer, pricer = testnet.admin.address, testnet.deployer.address, testnet.pricer.address
    distributor, timelock = address["RewardsDistributor"], address["ProtocolTimelock"]
    assert manifest.roles["timelock"] == timelock

    def holders(contract: str, role: bytes) -> set[str]:
        candidates = {
            "admin": admin, "deployer": deployer, "pricer": pricer, "distributor": distributor, "timelock": timelock,
        }  # fmt: skip
        return {who for who, a in candidates.items() if reader.has_role(contract, address[contract], role, a)}

    for contract in ("ChoirToken", "ChoirHub", "RewardsDistributor"):
        assert holders(contract, DEFAULT_ADMIN_ROLE) == {"timelock"}  # the admin acts only through its delay
    for role in (PROPOSER_ROLE, EXECUTOR_ROLE):
        assert holders("ProtocolTimelock", role) == {"admin"}
    assert holders("ProtocolTimelock", DEFAULT_ADMIN_ROLE) == {"timelock"}
    assert reader.call("ProtocolTimelock", timelock, "getMinDelay") == DEFAULT_DELAY
    assert holders("ChoirToken", MINTER_ROLE) == {"distributor"}
    assert holders("ChoirHub", PRICER_ROLE) == {"pricer"}
    assert holders("RewardsDistributor", ORACLE_ROLE) == {"pricer"}
    assert reader.call("ChoirHub", address["ChoirHub"], "rewardsDistributor") == distributor

    # The read-back names each difference from what was asked for.
    other = Account.create().address
    config = Progress.read(testnet.progress_path).config()
    wrong = DeployConfig(
        deployer, admin, other, config.genesis_recipient, HubParameters(min_price=2 * CHOIR),
        timelock_delay=config.timelock_delay,
    )  # fmt: skip
    mismatches = check(wrong, {n: a for n, a in address.items() if n != "ThreadDAO"}, reader, final=True)
    assert f"ChoirHub: pricer {other} lacks PRICER_ROLE" in mismatches
    assert f"RewardsDistributor: pricer {other} lacks ORACLE_ROLE" in mismatches
    assert f"ChoirHub.minPrice() (min_price): expected {2 * CHOIR}, found {CHOIR}" in mismatches
    assert Progress.read(testnet.progress_path).differences(wrong) == [
        f"pricer: started with {pricer}, now {other}",
        f"parameter min_price: started with {CHOIR}, now {2 * CHOIR}",
    ]


def test_the_pricer_reprices_from_a_keystore_account(testnet: Rehearsal, tmp_path: Path) -> None:
    manifest = Manifest.read(testnet.manifest_path)
    chain, admin = testnet.chain, testnet.admin
    token = chain.contract(artifacts.load("ChoirToken"), manifest.contracts["ChoirToken"].address)
    hub = chain.contract(artifacts.load("ChoirHub"), manifest.contracts["ChoirHub"].address)
    creator, staker = Account.create(), Account.create()
    funder = chain.w3.eth.accounts[0]
    for account in (creator, staker):
        tx = chain.w3.eth.send_transaction({"from": funder, "to": account.address, "value": Wei(10**18)})
        chain.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)
        chain.transact(token.functions.transfer(account.address, 10_000 * CHOIR), admin)  # from the genesis supply
    chain.transact(hub.functions.createThread(keccak(text="a testnet thread"), AuthorKind.HUMAN), creator)
    rpc_call(testnet.rpc_url, "evm_increaseTime", [2])  # the creator's shares count from the next second on
    rpc_call(testnet.rpc_url, "evm_mine")
    thread_id = int(hub.functions.threadCount().call())
    thread = chain.contract(artifacts.load("ThreadDAO"), hub.functions.threadAddress(thread_id).call())
    chain.transact(token.functions.approve(thread.address, STAKE), staker)
    chain.transact(thread.functions.submitSpec(keccak(text="a spec"), [], STAKE, AuthorKind.HUMAN), staker)
    spec_id = int(thread.functions.messageCount().call()) - 1
    chain.transact(thread.functions.vote(spec_id, True), creator)
    chain.transact(thread.functions.settle(spec_id), creator)
    rounds_before, price_before = hub.functions.lastRound().call(), hub.functions.price(thread_id).call()

    app = typer.Typer()
    app.command()(pricer_command)
    env = {"APE_DATA_FOLDER": str(testnet.ape_data), passphrase_variable("pricer"): PASSPHRASE, "CHOIR_PRICER_KEY": ""}
    args = ["--rpc", testnet.rpc_url, "--manifest", str(testnet.manifest_path), "--db", f"sqlite:///{tmp_path}/p.db"]
    args += ["--account", "pricer", "--confirmations", "0", "--once"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"as {testnet.pricer.address}" in result.stderr
    assert hub.functions.lastRound().call() > rounds_before
    # Repriced in a new round. (Its price may equal the fallback by chance: 20 CHOIR, then 30, the edge of its
    # deviation window on the way to its model price.)
    assert hub.functions.pricePoint(thread_id).call()[2] > rounds_before
    assert price_before == hub.functions.fallbackPrice().call()


def test_choir_up_serves_the_deployment(testnet: Rehearsal, tmp_path: Path) -> None:
    """`choir up --rpc --manifest` over the testnet deployment, the pricer's key from the keystore account: the
    gateway's /health reports the chain."""
    port, log = free_port(), tmp_path / "up.log"
    args = [sys.executable, "-m", "choir_chain.cli", "up", "--port", str(port), "--run-dir", str(tmp_path / "up")]
    args += ["--rpc", testnet.rpc_url, "--manifest", str(testnet.manifest_path), "--pricer-account", "pricer"]
    env = {**testnet.env(), passphrase_variable("pricer"): PASSPHRASE, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline, health = time.monotonic() + UP_TIMEOUT, None
        while health is None and time.monotonic() < deadline:
            assert process.poll() is None, f"choir up exited ({process.returncode}):\n{log.read_text()}"
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
                health = reply.json() if reply.status_code == 200 else None
            except requests.RequestException:
                pass
            time.sleep(0.25)
        assert health is not None, f"no /health within {UP_TIMEOUT}s:\n{log.read_text()}"
        assert health["chain_id"] == SEPOLIA
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
