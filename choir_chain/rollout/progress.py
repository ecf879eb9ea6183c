"""The progress record of a deployment: each step recorded as sent, then done; kept in the progress file
`deployments/<chainId>.progress.json` by a persistent deployment, in memory only by the devnet's."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from choir_chain import timelock
from choir_chain.manifest import Manifest
from choir_chain.rollout.config import ALL_DEPLOYED, DeployConfig, parameters_from


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
    """The options a deployment started with and its steps so far: the progress file
    `deployments/<chainId>.progress.json` (`write`, `read`), or in memory only (the devnet's `choir_chain.deploy`)."""

    chain_id: int
    deployer: str
    admin: str
    pricer: str | None
    genesis_recipient: str
    parameters: dict[str, int]
    timelock_delay: int | None = None
    rewards: bool = True
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
            rewards=config.rewards,
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
            rewards=self.rewards,
        )

    def differences(self, config: DeployConfig) -> list[str]:
        """How `config` differs from the options this deployment started with."""
        started = self.config()
        out = [
            f"{name.replace('_', '-')}: started with {getattr(started, name)}, now {getattr(config, name)}"
            for name in ("deployer", "admin", "pricer", "genesis_recipient", "timelock_delay", "rewards")
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
