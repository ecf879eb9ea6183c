"""A dry run of `choir_chain.rollout`: the missing steps on a throw-away anvil fork of the chain, sending as the
deployer by impersonation; nothing reaches the chain and no key is needed (`ape run deploy --dry-run`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3

from choir_chain.devnet import Devnet
from choir_chain.rollout import ImpersonatingSender, Outcome, Progress, Report, Rollout


@dataclass(frozen=True)
class DryRun:
    """What a run would do now: each step's outcome on a fork of the chain (gas measured there)."""

    chain_id: int
    fork_block: int
    outcomes: list[Outcome]
    gas_price: int
    """The chain's current gas price (wei), for a cost estimate."""
    balance: int
    """The deployer's balance on the chain (wei)."""

    @property
    def gas(self) -> int:
        return sum(o.record.gas_used or 0 for o in self.outcomes if o.status == "sent")


def dry_run(rpc_url: str, progress: Progress, *, report: Report = lambda _: None, timeout: float = 60.0) -> DryRun:
    """Run the missing steps on an anvil fork of the chain at `rpc_url` (anvil from node_modules), sending as the
    deployer by impersonation: nothing reaches the chain, no key is needed, and the gas figures are those the
    chain would charge at the fork's block. Raises DeployError when a step fails on the fork."""
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    chain_id, fork_block = int(w3.eth.chain_id), int(w3.eth.block_number)
    deployer = to_checksum_address(progress.deployer)
    gas_price, balance = int(w3.eth.gas_price), int(w3.eth.get_balance(deployer))
    outcomes: list[Outcome] = []

    def collect(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)

    fork_args = ("--fork-url", rpc_url, "--fork-block-number", str(fork_block), "--no-storage-caching")
    with tempfile.TemporaryDirectory(prefix="choir-dry-run-") as tmp:
        fork = Devnet(Path(tmp), chain_id=chain_id, accounts=1, start_timeout=timeout, extra_args=fork_args)
        with fork:
            fork_w3 = Web3(HTTPProvider(fork.rpc_url, request_kwargs={"timeout": timeout}))
            fork_w3.provider.make_request("anvil_setBalance", [deployer, hex(10**27)])  # type: ignore[arg-type]
            sender = ImpersonatingSender(fork_w3, deployer)
            Rollout(fork_w3, progress.model_copy(deep=True), sender, report=collect, fail_after="").run()
    return DryRun(chain_id, fork_block, outcomes, gas_price, balance)
