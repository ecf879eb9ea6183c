"""The resumable run: each missing step sent and recorded, sent-but-unrecorded steps adopted, then verified."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import Nonce
from web3.utils.address import get_create_address

from choir_chain import artifacts, timelock
from choir_chain.manifest import DeployedContract, Manifest
from choir_chain.rollout.config import ALL_DEPLOYED, FAIL_AFTER_ENV, DeployError, SimulatedFailure, VerificationError
from choir_chain.rollout.plan import check, plan
from choir_chain.rollout.progress import Progress, StepRecord
from choir_chain.rollout.senders import Sender
from choir_chain.rollout.steps import Reader, Step


@dataclass(frozen=True)
class Outcome:
    """What became of one step in this run."""

    step: Step
    status: Literal["done before", "sent", "adopted", "found"]
    record: StepRecord


Report = Callable[[Outcome], None]


class Rollout:
    """Runs the steps still missing on `w3`'s chain through `sender`, recording each in `progress` (and calling
    `save` after every change: the progress file of a persistent deployment; nothing on a devnet, whose progress
    lives in memory), then verifies and returns the manifest. `reader` may be shared with the sender (its contract
    bindings are cached).

    `fresh`: the chain holds nothing of this deployment and its progress is kept nowhere (the devnet's): a step
    not recorded as done is sent at once, without looking for its effect on chain or recording the deployer's
    nonce and the head block first, which only a later run resuming from the progress file would need; and the
    final read-back of every role and parameter (`verify`, some 35 calls) is skipped: it would make the devnet's
    deployment, which the tests run many times, half as slow again; tests/choir_chain/test_rollout.py runs `check`
    on a devnet deployment instead."""

    def __init__(
        self,
        w3: Web3,
        progress: Progress,
        sender: Sender,
        *,
        save: Callable[[Progress], object] = lambda _: None,
        report: Report = lambda _: None,
        fail_after: str | None = None,
        reader: Reader | None = None,
        fresh: bool = False,
    ) -> None:
        self.w3, self.progress, self.sender = w3, progress, sender
        self.reader = reader or Reader(w3)
        self.config = progress.config()
        self.save, self.report = save, report
        self.fail_after = fail_after if fail_after is not None else os.environ.get(FAIL_AFTER_ENV) or None
        self.plan = plan(self.config, self.reader)
        self.fresh = fresh
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
        if not self.fresh:
            self.verify(final=True)
        return self.manifest()

    def _step(self, step: Step) -> None:
        record = self.progress.steps.get(step.name)
        if record is not None and record.status == "done":
            self.report(Outcome(step, "done before", record))
            return
        addresses = self.addresses()
        if not self.fresh:
            if record is not None and step.deploys and (adopted := self._adopt(record)) is not None:
                self._record(step, adopted, "adopted")
                return
            if step.done is not None and step.done(addresses):
                self._record(step, StepRecord(status="done", how="found"), "found")
                return
        if step.name.startswith("renounce-") and not self.fresh and not self._checked_before_renouncing:
            self.verify(final=False)  # nothing can be fixed once the deployer is no admin any more
            self._checked_before_renouncing = True
        nonce = head = None
        if not self.fresh:
            nonce = self.w3.eth.get_transaction_count(to_checksum_address(self.config.deployer), "latest")
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
                **({"pricer": c.pricer} if c.pricer is not None else {}),
                **({"minter": addresses["RewardsDistributor"]} if c.rewards else {}),
                "genesis": c.genesis_recipient,
                **({"timelock": addresses[timelock.TIMELOCK]} if c.timelock_delay is not None else {}),
            },
            parameters={**c.parameters, **timelock.manifest_parameters(c)},
        )
