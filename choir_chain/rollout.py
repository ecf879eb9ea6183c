"""A staged, resumable deployment of the Choir protocol to a persistent chain (a testnet or mainnet), as run by the
Ape script `scripts/deploy.py`; the devnet keeps the one-shot `choir_chain.deploy`.

The deployment is a fixed list of steps (`plan`): deploy the token, the hub (which deploys the thread
implementation), the thread governor implementation, `hub.setGovernance`, the rewards distributor; grant the
token's `MINTER_ROLE` to the distributor, point the hub at it (the hub checks it can mint); grant the pricer the
hub's `PRICER_ROLE` and the distributor's `ORACLE_ROLE` (scores and epoch allocations). With a timelock delay
(`DeployConfig.timelock_delay`, what `scripts/deploy.py` always sets) deploy a `ProtocolTimelock` whose proposer
and executor is the admin, grant it `DEFAULT_ADMIN_ROLE` on the three contracts, check everything, and renounce
the deployer's admin roles (`choir_chain.timelock`); without one, when the admin is not the deployer, the same with
the admin in the timelock's place. Then every role and parameter is read back (`verify`) and the manifest
`deployments/<chainId>.json` is built. A dry run is `choir_chain.dry_run`.

**Resuming.** Each step is recorded in the progress file `deployments/<chainId>.progress.json` twice: as `sent`
(with the deployer's nonce and the head block) just before its transaction goes out, and as `done` (with its
transaction, block and gas) once mined. A re-run skips `done` steps; a step left `sent` by a crash is *adopted*
if it happened on chain (a deployment: the deployer's nonce moved past the recorded one and there is code at the
address that nonce creates; a call: its effect is visible, e.g. the role is held) and sent again otherwise. So a
deployment that stopped anywhere resumes without deploying anything twice. A chain with a manifest but no
progress file (e.g. written by `choir_chain.deploy`) resumes from the manifest's contracts.

**Failure injection.** `CHOIR_DEPLOY_FAIL_AFTER=<step>` makes the run stop (`SimulatedFailure`) right after that
step is recorded as done; `<step>:unrecorded` stops after its transaction is mined but before it is recorded (a
crash at the worst moment). Only honoured when set; the tests use it to check resuming.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from eth_utils import keccak, to_checksum_address
from pydantic import BaseModel
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import Nonce, TxParams
from web3.utils.address import get_create_address

from choir_chain import artifacts, timelock
from choir_chain.deploy import GovernanceParameters, HubParameters
from choir_chain.manifest import DeployedContract, Manifest

FAIL_AFTER_ENV = "CHOIR_DEPLOY_FAIL_AFTER"
"""Test hook: stop after the named step (`<step>` or `<step>:unrecorded`); see the module docstring."""

DEFAULT_ADMIN_ROLE = bytes(32)
MINTER_ROLE = keccak(text="MINTER_ROLE")
PRICER_ROLE = keccak(text="PRICER_ROLE")
ORACLE_ROLE = keccak(text="ORACLE_ROLE")
ROLE_NAMES = {
    DEFAULT_ADMIN_ROLE: "DEFAULT_ADMIN_ROLE",
    MINTER_ROLE: "MINTER_ROLE",
    PRICER_ROLE: "PRICER_ROLE",
    ORACLE_ROLE: "ORACLE_ROLE",
}

DEPLOYED = {
    "deploy-token": "ChoirToken",
    "deploy-hub": "ChoirHub",
    "deploy-governor": "ThreadGovernor",
    "deploy-distributor": "RewardsDistributor",
}
"""Deployment steps and the contract each deploys (also the manifest's contract names); with a timelock also
`timelock.DEPLOY_STEP`."""
ALL_DEPLOYED = {**DEPLOYED, timelock.DEPLOY_STEP: timelock.TIMELOCK}

RECEIPT_POLL_SECONDS = 0.002


class DeployError(RuntimeError):
    """The deployment cannot go on: inconsistent options, a failed transaction, pending transactions."""


class VerificationError(DeployError):
    """What the chain holds differs from what was deployed; `mismatches` names every difference."""

    def __init__(self, mismatches: list[str]) -> None:
        self.mismatches = mismatches
        super().__init__("verification failed:\n  " + "\n  ".join(mismatches))


class SimulatedFailure(DeployError):
    """Raised by the `CHOIR_DEPLOY_FAIL_AFTER` test hook."""


# ------------------------------------------------------------------------------------------------------------
# What to deploy, and what happened so far
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployConfig:
    """Who gets what, and the initial parameters."""

    deployer: str
    admin: str
    pricer: str
    genesis_recipient: str
    hub: HubParameters = field(default_factory=HubParameters)
    governance: GovernanceParameters = field(default_factory=GovernanceParameters)
    timelock_delay: int | None = None
    """Seconds: the admin roles go to a `ProtocolTimelock` with this delay (see `choir_chain.timelock`); None: to
    `admin` directly (as the devnet does)."""

    def __post_init__(self) -> None:
        for name in ("deployer", "admin", "pricer", "genesis_recipient"):
            object.__setattr__(self, name, to_checksum_address(getattr(self, name)))
        if self.timelock_delay is not None and (problem := timelock.delay_problem(self.timelock_delay)):
            raise DeployError(problem)

    @property
    def deployed(self) -> dict[str, str]:
        """The deployment steps of this configuration and the contract each deploys."""
        return ALL_DEPLOYED if self.timelock_delay is not None else DEPLOYED

    @property
    def parameters(self) -> dict[str, int]:
        """In the manifest's naming: hub parameters, then `governance.*`."""
        return {**self.hub.as_dict(), **self.governance.as_dict()}

    @property
    def hands_over(self) -> bool:
        """Whether the deployer hands the admin roles to someone else at the end."""
        return self.admin != self.deployer


def parameters_from(values: dict[str, int]) -> tuple[HubParameters, GovernanceParameters]:
    """Hub and governance parameters from the manifest's naming (missing keys keep their defaults); raises
    DeployError on an unknown key."""
    hub_fields = set(HubParameters().as_dict())
    governance_fields = {k.removeprefix("governance.") for k in GovernanceParameters().as_dict()}
    hub: dict[str, int] = {}
    governance: dict[str, int] = {}
    for key, value in values.items():
        if key in hub_fields:
            hub[key] = int(value)
        elif key.startswith("governance.") and key.removeprefix("governance.") in governance_fields:
            governance[key.removeprefix("governance.")] = int(value)
        else:
            known = sorted(hub_fields) + sorted(f"governance.{k}" for k in governance_fields)
            raise DeployError(f"unknown parameter {key!r}; known: {', '.join(known)}")
    return HubParameters(**hub), GovernanceParameters(**governance)


class StepRecord(BaseModel):
    status: Literal["sent", "done"]
    nonce: int | None = None
    """The deployer's nonce when the step's transaction was sent."""
    sent_after_block: int | None = None
    """The head block when it was sent: its block is later."""
    address: str | None = None
    """The contract a deployment step created."""
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None
    how: Literal["sent", "adopted", "found"] = "sent"
    """`adopted`: mined but unrecorded by a run that crashed; `found`: its effect was already on chain."""


class Progress(BaseModel):
    """The progress file `deployments/<chainId>.progress.json`: the options a deployment started with and its
    steps so far."""

    chain_id: int
    deployer: str
    admin: str
    pricer: str
    genesis_recipient: str
    parameters: dict[str, int]
    timelock_delay: int | None = None
    steps: dict[str, StepRecord] = {}

    @staticmethod
    def path_for(folder: Path, chain_id: int) -> Path:
        return folder / f"{chain_id}.progress.json"

    @classmethod
    def start(cls, chain_id: int, config: DeployConfig) -> Progress:
        return cls(
            chain_id=chain_id,
            deployer=config.deployer,
            admin=config.admin,
            pricer=config.pricer,
            genesis_recipient=config.genesis_recipient,
            parameters=config.parameters,
            timelock_delay=config.timelock_delay,
        )

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> Progress:
        """Progress as far as a manifest tells: its contracts are deployed (calls are checked on chain)."""
        steps = {
            step: StepRecord(
                status="done", address=entry.address, tx_hash=entry.tx_hash, block=entry.block, how="found"
            )
            for step, name in ALL_DEPLOYED.items()
            if (entry := manifest.contracts.get(name)) is not None
        }
        parameters = dict(manifest.parameters)
        delay = parameters.pop(timelock.DELAY_PARAMETER, None)
        return cls(
            chain_id=manifest.chain_id,
            deployer=manifest.deployer,
            admin=manifest.roles.get("admin", manifest.deployer),
            pricer=manifest.roles.get("pricer", manifest.deployer),
            genesis_recipient=manifest.roles.get("genesis", manifest.deployer),
            parameters=parameters,
            timelock_delay=delay,
            steps=steps,
        )

    def config(self) -> DeployConfig:
        hub, governance = parameters_from(self.parameters)
        return DeployConfig(
            deployer=self.deployer,
            admin=self.admin,
            pricer=self.pricer,
            genesis_recipient=self.genesis_recipient,
            hub=hub,
            governance=governance,
            timelock_delay=self.timelock_delay,
        )

    def differences(self, config: DeployConfig) -> list[str]:
        """How `config` differs from the options this deployment started with."""
        started = self.config()
        out = [
            f"{name.replace('_', '-')}: started with {getattr(started, name)}, now {getattr(config, name)}"
            for name in ("deployer", "admin", "pricer", "genesis_recipient", "timelock_delay")
            if getattr(started, name) != getattr(config, name)
        ]
        ours, theirs = started.parameters, config.parameters
        out += [f"parameter {k}: started with {ours[k]}, now {theirs[k]}" for k in ours if ours[k] != theirs[k]]
        return out

    def write(self, folder: Path) -> Path:
        """Write atomically (temporary file, then rename)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(folder, self.chain_id)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> Progress:
        return cls.model_validate_json(path.read_text())


def load_progress(folder: Path, chain_id: int) -> Progress | None:
    """The progress of this chain's deployment: its progress file, else its manifest, else None."""
    path = Progress.path_for(folder, chain_id)
    if path.is_file():
        return Progress.read(path)
    manifest_path = Manifest.path_for(folder, chain_id)
    if manifest_path.is_file():
        return Progress.from_manifest(Manifest.read(manifest_path))
    return None


@dataclass(frozen=True)
class Step:
    name: str
    contract: str
    """The contract deployed (a deployment step) or called (a call step)."""
    function: str | None
    """The function called; None for a deployment."""
    args: Callable[[dict[str, str]], tuple[Any, ...]]
    """Arguments, from the addresses of the contracts deployed so far (by contract name)."""
    summary: str
    done: Callable[[dict[str, str]], bool] | None = None
    """A call step: whether its effect is already on chain."""

    @property
    def deploys(self) -> bool:
        return self.function is None


class Reader:
    """Reads contracts of the build on a chain."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._contracts: dict[tuple[str, str], Contract] = {}

    def contract(self, contract: str, address: str) -> Contract:
        key = (contract, to_checksum_address(address))
        if key not in self._contracts:  # building a web3 contract from a large ABI takes tens of milliseconds
            self._contracts[key] = self.w3.eth.contract(address=key[1], abi=artifacts.load(contract).abi)
        return self._contracts[key]

    def call(self, contract: str, address: str, function: str, *args: Any) -> Any:
        return self.contract(contract, address).functions[function](*args).call()

    def has_role(self, contract: str, address: str, role: bytes, holder: str) -> bool:
        return bool(self.call(contract, address, "hasRole", role, to_checksum_address(holder)))

    def has_code(self, address: str) -> bool:
        return len(self.w3.eth.get_code(to_checksum_address(address))) > 0


# ------------------------------------------------------------------------------------------------------------
# Sending transactions
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A mined transaction."""

    tx_hash: str | None
    block: int
    gas_used: int
    address: str | None = None


class Sender(Protocol):
    """Sends the deployer's transactions and waits until they are mined; raises on a revert."""

    def deploy(self, contract: str, args: Sequence[Any]) -> Sent: ...

    def transact(self, contract: str, address: str, function: str, args: Sequence[Any]) -> Sent: ...


class ImpersonatingSender:
    """Sends as `deployer` without its key on an anvil chain (a fork, for a dry run): `anvil_impersonateAccount`."""

    def __init__(self, w3: Web3, deployer: str) -> None:
        self.w3, self.deployer = w3, to_checksum_address(deployer)
        self.reader = Reader(w3)
        w3.provider.make_request("anvil_impersonateAccount", [self.deployer])  # type: ignore[arg-type]

    def deploy(self, contract: str, args: Sequence[Any]) -> Sent:
        artifact = artifacts.load(contract)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        return self._send(lambda: factory.constructor(*args).build_transaction({"from": self.deployer}), contract)

    def transact(self, contract: str, address: str, function: str, args: Sequence[Any]) -> Sent:
        call = self.reader.contract(contract, address).functions[function](*args)
        return self._send(lambda: call.build_transaction({"from": self.deployer}), f"{contract}.{function}")

    def _send(self, build: Callable[[], Any], what: str) -> Sent:
        try:
            tx = dict(build())  # estimates the gas: reverts here if the transaction would
        except ContractLogicError as err:
            raise DeployError(f"{what} would revert: {err}") from None
        tx["gas"] = int(tx["gas"] * 1.2) + 10_000  # a margin; the receipt's gasUsed is what it costs
        tx_hash = self.w3.eth.send_transaction(cast(TxParams, tx))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=RECEIPT_POLL_SECONDS)
        if receipt["status"] != 1:
            raise DeployError(f"transaction {tx_hash.hex()} reverted")
        return Sent(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            address=receipt["contractAddress"],
        )


# ------------------------------------------------------------------------------------------------------------
# The deployment
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one step in this run."""

    step: Step
    status: Literal["done before", "sent", "adopted", "found"]
    record: StepRecord


Report = Callable[[Outcome], None]


class Rollout:
    """Runs the steps still missing on `w3`'s chain through `sender`, recording each in `progress` (and calling
    `save` after every change), then verifies and returns the manifest."""

    def __init__(
        self,
        w3: Web3,
        progress: Progress,
        sender: Sender,
        *,
        save: Callable[[Progress], object] = lambda _: None,
        report: Report = lambda _: None,
        fail_after: str | None = None,
    ) -> None:
        self.w3, self.progress, self.sender = w3, progress, sender
        self.reader = Reader(w3)
        self.config = progress.config()
        self.save, self.report = save, report
        self.fail_after = fail_after if fail_after is not None else os.environ.get(FAIL_AFTER_ENV) or None
        self.plan = plan(self.config, self.reader)
        self._checked_before_renouncing = False

    def addresses(self) -> dict[str, str]:
        """Contract name -> address, of the contracts deployed so far."""
        return {
            ALL_DEPLOYED[step]: record.address
            for step, record in self.progress.steps.items()
            if step in ALL_DEPLOYED and record.status == "done" and record.address
        }

    # --- running -------------------------------------------------------------------------------------------

    def run(self) -> Manifest:
        self._check_fail_after()
        for step in self.plan:
            self._step(step)
        self.verify(final=True)
        return self.manifest()

    def _step(self, step: Step) -> None:
        record = self.progress.steps.get(step.name)
        if record is not None and record.status == "done":
            self.report(Outcome(step, "done before", record))
            return
        addresses = self.addresses()
        if record is not None and step.deploys and (adopted := self._adopt(record)) is not None:
            self._record(step, adopted, "adopted")
            return
        if step.done is not None and step.done(addresses):
            self._record(step, StepRecord(status="done", how="found"), "found")
            return
        if step.name.startswith("renounce-") and not self._checked_before_renouncing:
            self.verify(final=False)  # nothing can be fixed once the deployer is no admin any more
            self._checked_before_renouncing = True
        deployer = to_checksum_address(self.config.deployer)
        nonce = self.w3.eth.get_transaction_count(deployer, "latest")
        head = self.w3.eth.block_number
        self.progress.steps[step.name] = StepRecord(status="sent", nonce=nonce, sent_after_block=head)
        self.save(self.progress)
        args = step.args(addresses)
        if step.function is None:
            sent = self.sender.deploy(step.contract, args)
        else:
            sent = self.sender.transact(step.contract, addresses[step.contract], step.function, args)
        self._fail_if(f"{step.name}:unrecorded")
        record = StepRecord(
            status="done",
            nonce=nonce,
            sent_after_block=head,
            address=to_checksum_address(sent.address) if sent.address else None,
            tx_hash=sent.tx_hash,
            block=sent.block,
            gas_used=sent.gas_used,
        )
        self._record(step, record, "sent")
        self._fail_if(step.name)

    def _record(self, step: Step, record: StepRecord, status: Literal["sent", "adopted", "found"]) -> None:
        self.progress.steps[step.name] = record
        self.save(self.progress)
        self.report(Outcome(step, status, record))

    def _adopt(self, record: StepRecord) -> StepRecord | None:
        """A deployment recorded as sent by a run that stopped before recording it as done: adopt the contract
        if its transaction was mined (the deployer's nonce moved past it and the address it creates has code)."""
        if record.nonce is None:
            return None
        deployer = to_checksum_address(self.config.deployer)
        if self.w3.eth.get_transaction_count(deployer, "latest") <= record.nonce:
            return None
        address = get_create_address(deployer, Nonce(record.nonce))
        if not self.reader.has_code(address):
            return None
        return StepRecord(
            status="done",
            nonce=record.nonce,
            sent_after_block=record.sent_after_block,
            address=address,
            block=(record.sent_after_block or 0) + 1,  # a lower bound: the transaction itself is not known
            how="adopted",
        )

    def _check_fail_after(self) -> None:
        if not self.fail_after:
            return
        names = [s.name for s in self.plan]
        if self.fail_after.removesuffix(":unrecorded") not in names:
            raise DeployError(f"{FAIL_AFTER_ENV}={self.fail_after}: no such step; steps: {', '.join(names)}")

    def _fail_if(self, point: str) -> None:
        if self.fail_after == point:
            raise SimulatedFailure(f"stopped after {point} ({FAIL_AFTER_ENV})")

    def wait_until_idle(self, timeout: float, poll: float = 2.0) -> None:
        """Wait until none of the deployer's transactions is pending (a stopped run may have left one)."""
        deployer = to_checksum_address(self.config.deployer)
        deadline = time.monotonic() + timeout
        while True:
            latest = self.w3.eth.get_transaction_count(deployer, "latest")
            pending = self.w3.eth.get_transaction_count(deployer, "pending")
            if pending <= latest:
                return
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{pending - latest} transaction(s) of the deployer {deployer} (nonce {latest} on) still "
                    f"pending after {timeout:.0f}s: wait for them or replace them, then run again"
                )
            time.sleep(poll)

    # --- verifying -----------------------------------------------------------------------------------------

    def verify(self, *, final: bool) -> None:
        """Read back every role and parameter; raise VerificationError naming every mismatch. Before the deployer
        renounces (`final=False`) its own admin roles are not checked."""
        mismatches = check(self.config, self.addresses(), self.reader, final=final)
        if mismatches:
            raise VerificationError(mismatches)

    def manifest(self) -> Manifest:
        """The manifest of the finished deployment (in `choir_chain.manifest` format)."""
        steps, addresses, c = self.progress.steps, self.addresses(), self.config

        def entry(step: str) -> DeployedContract:
            record = steps[step]
            assert record.address is not None and record.block is not None
            return DeployedContract(
                address=record.address,
                abi_hash=artifacts.load(c.deployed[step]).abi_hash,
                tx_hash=record.tx_hash,
                block=record.block,
            )

        contracts = {name: entry(step) for step, name in c.deployed.items()}
        thread = self.reader.call("ChoirHub", addresses["ChoirHub"], "threadImplementation")
        contracts["ThreadDAO"] = DeployedContract(
            address=to_checksum_address(thread),
            abi_hash=artifacts.load("ThreadDAO").abi_hash,
            block=contracts["ChoirHub"].block,
        )
        order = ["ChoirToken", "ChoirHub", "ThreadDAO", "ThreadGovernor", "RewardsDistributor", timelock.TIMELOCK]
        return Manifest(
            chain_id=self.progress.chain_id,
            deploy_block=min(x.block for x in contracts.values()),
            deployer=c.deployer,
            contracts={name: contracts[name] for name in order if name in contracts},
            roles={
                "admin": c.admin,
                "pricer": c.pricer,
                "minter": addresses["RewardsDistributor"],
                "genesis": c.genesis_recipient,
                **({"timelock": addresses[timelock.TIMELOCK]} if c.timelock_delay is not None else {}),
            },
            parameters={**c.parameters, **timelock.manifest_parameters(c)},
        )


def plan(config: DeployConfig, reader: Reader) -> list[Step]:
    """Every step of the deployment, in order."""
    c, h, g = config, config.hub, config.governance

    def governance(a: dict[str, str]) -> tuple[Any, ...]:
        return (a["ThreadGovernor"], g.voting_delay, g.voting_period, g.quorum_bps, g.execution_delay)

    def governance_set(a: dict[str, str]) -> bool:
        settings = reader.call("ChoirHub", a["ChoirHub"], "governanceSettings")
        return _normalized(settings) == _normalized(governance(a))

    def distributor_set(a: dict[str, str]) -> bool:
        return _same(reader.call("ChoirHub", a["ChoirHub"], "rewardsDistributor"), a["RewardsDistributor"])

    def grant(name: str, contract: str, role: bytes, holder: Callable[[dict[str, str]], str], who: str) -> Step:
        return Step(
            name=name,
            contract=contract,
            function="grantRole",
            args=lambda a: (role, holder(a)),
            done=lambda a: reader.has_role(contract, a[contract], role, holder(a)),
            summary=f"{contract}.grantRole({ROLE_NAMES[role]}, {who})",
        )

    def renounce(name: str, contract: str) -> Step:
        return Step(
            name=name,
            contract=contract,
            function="renounceRole",
            args=lambda a: (DEFAULT_ADMIN_ROLE, c.deployer),
            done=lambda a: not reader.has_role(contract, a[contract], DEFAULT_ADMIN_ROLE, c.deployer),
            summary=f"{contract}.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
        )

    def hub_config(a: dict[str, str]) -> tuple[Any, ...]:
        config = (c.deployer, h.min_price, h.max_price, h.fallback_price, h.max_deviation_bps, h.heartbeat,
                  h.deviation_window, h.approval_window)  # fmt: skip
        return (a["ChoirToken"], config)

    steps = [
        Step("deploy-token", "ChoirToken", None, lambda a: (c.deployer, c.genesis_recipient),
             f"deploy ChoirToken (genesis supply to {c.genesis_recipient})"),
        Step("deploy-hub", "ChoirHub", None, hub_config, "deploy ChoirHub (it deploys the ThreadDAO implementation)"),
        Step("deploy-governor", "ThreadGovernor", None, lambda a: (), "deploy the ThreadGovernor implementation"),
        Step("set-governance", "ChoirHub", "setGovernance", lambda a: (governance(a),),
             "ChoirHub.setGovernance(governor implementation, voting delay, voting period, quorum, execution delay)",
             done=governance_set),
        Step("deploy-distributor", "RewardsDistributor", None,
             lambda a: (a["ChoirToken"], a["ChoirHub"], c.deployer, 0),
             "deploy RewardsDistributor (its emission curve starts at this block)"),
        grant("grant-minter", "ChoirToken", MINTER_ROLE, lambda a: a["RewardsDistributor"], "distributor"),
        Step("set-distributor", "ChoirHub", "setRewardsDistributor", lambda a: (a["RewardsDistributor"],),
             "ChoirHub.setRewardsDistributor(distributor)", done=distributor_set),
        grant("grant-pricer-hub", "ChoirHub", PRICER_ROLE, lambda a: c.pricer, "pricer"),
        grant("grant-oracle-distributor", "RewardsDistributor", ORACLE_ROLE, lambda a: c.pricer, "pricer"),
    ]  # fmt: skip
    if config.timelock_delay is not None:
        steps += timelock.handover_steps(config, reader)
    elif config.hands_over:
        admined = (("token", "ChoirToken"), ("hub", "ChoirHub"), ("distributor", "RewardsDistributor"))
        steps += [grant(f"grant-admin-{s}", n, DEFAULT_ADMIN_ROLE, lambda a: c.admin, "admin") for s, n in admined]
        steps += [renounce(f"renounce-admin-{s}", n) for s, n in admined]
    return steps


def check(config: DeployConfig, addresses: dict[str, str], reader: Reader, *, final: bool) -> list[str]:
    """Every mismatch between the chain and `config` (empty when all is as deployed). Before the deployer
    renounces (`final=False`) its own admin roles are not checked."""
    c, h, g = config, config.hub, config.governance
    missing = [name for name in c.deployed.values() if name not in addresses]
    if missing:
        return [f"not deployed: {', '.join(missing)}"]
    out = [f"{name}: no code at {address}" for name, address in addresses.items() if not reader.has_code(address)]
    if out:
        return out
    token, hub, governor, distributor = (
        addresses[n] for n in ("ChoirToken", "ChoirHub", "ThreadGovernor", "RewardsDistributor")
    )

    def expect(label: str, actual: Any, wanted: Any) -> None:
        if _normalized(actual) != _normalized(wanted):
            out.append(f"{label}: expected {_show(wanted)}, found {_show(actual)}")

    def role(contract: str, role_id: bytes, holder: str, who: str, held: bool) -> None:
        if reader.has_role(contract, addresses[contract], role_id, holder) != held:
            verb = "lacks" if held else "holds"
            out.append(f"{contract}: {who} {to_checksum_address(holder)} {verb} {ROLE_NAMES[role_id]}")

    for contract, name, role_id in (
        ("ChoirToken", "MINTER_ROLE", MINTER_ROLE),
        ("ChoirHub", "PRICER_ROLE", PRICER_ROLE),
        ("RewardsDistributor", "ORACLE_ROLE", ORACLE_ROLE),
    ):
        expect(f"{contract}.{name}()", bytes(reader.call(contract, addresses[contract], name)), role_id)
    # Administration: the timelock (or else the admin) on all three contracts; the deployer on none once it has
    # handed over.
    if c.timelock_delay is not None:
        out += timelock.check_timelock(c, addresses, reader, final=final)
    for contract in ("ChoirToken", "ChoirHub", "RewardsDistributor") if c.timelock_delay is None else ():
        role(contract, DEFAULT_ADMIN_ROLE, c.admin, "admin", True)
        if final and c.hands_over:
            role(contract, DEFAULT_ADMIN_ROLE, c.deployer, "deployer", False)
    # Minting: the distributor only.
    role("ChoirToken", MINTER_ROLE, distributor, "distributor", True)
    for who, holder in (("deployer", c.deployer), ("admin", c.admin), ("pricer", c.pricer)):
        role("ChoirToken", MINTER_ROLE, holder, who, False)
    # Pricing, novelty scores and epoch allocations: the pricer.
    for contract, role_id in (
        ("ChoirHub", PRICER_ROLE),
        ("RewardsDistributor", ORACLE_ROLE),
    ):
        role(contract, role_id, c.pricer, "pricer", True)
        if c.pricer != c.deployer:
            role(contract, role_id, c.deployer, "deployer", False)
    # Wiring.
    expect("ChoirHub.token()", reader.call("ChoirHub", hub, "token"), token)
    expect("ChoirHub.rewardsDistributor()", reader.call("ChoirHub", hub, "rewardsDistributor"), distributor)
    expect("RewardsDistributor.token()", reader.call("RewardsDistributor", distributor, "token"), token)
    expect("RewardsDistributor.hub()", reader.call("RewardsDistributor", distributor, "hub"), hub)
    thread = reader.call("ChoirHub", hub, "threadImplementation")
    if not reader.has_code(thread):
        out.append(f"ChoirHub.threadImplementation(): no code at {thread}")
    # Parameters.
    for label, function, wanted in (
        ("min_price", "minPrice", h.min_price),
        ("max_price", "maxPrice", h.max_price),
        ("fallback_price", "fallbackPrice", h.fallback_price),
        ("max_deviation_bps", "maxDeviationBps", h.max_deviation_bps),
        ("heartbeat", "heartbeat", h.heartbeat),
        ("deviation_window", "deviationWindow", h.deviation_window),
        ("approval_window", "defaultApprovalWindow", h.approval_window),
    ):
        expect(f"ChoirHub.{function}() ({label})", reader.call("ChoirHub", hub, function), wanted)
    settings = reader.call("ChoirHub", hub, "governanceSettings")
    wanted_settings = (governor, g.voting_delay, g.voting_period, g.quorum_bps, g.execution_delay)
    labels = ("implementation", "voting_delay", "voting_period", "quorum_bps", "execution_delay")
    for label, actual, setting in zip(labels, settings, wanted_settings, strict=True):
        expect(f"ChoirHub.governanceSettings().{label}", actual, setting)
    return out


def _same(a: Any, b: Any) -> bool:
    return _normalized(a) == _normalized(b)


def _normalized(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return tuple(_normalized(v) for v in value)
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
