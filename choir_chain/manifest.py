"""The deployment manifest `deployments/<chainId>.json`: where the contracts are and how they were set up."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class DeployedContract(BaseModel):
    address: str
    abi_hash: str = Field(description="keccak256 of the ABI as canonical JSON")
    tx_hash: str | None = Field(default=None, description="the deploying transaction, if deployed directly")
    block: int


class Manifest(BaseModel):
    """Written after a deployment; read by the indexer, the pricer, the gateway and `choir` commands."""

    chain_id: int
    deploy_block: int = Field(description="first block to index from")
    deployer: str
    contracts: dict[str, DeployedContract]
    roles: dict[str, str] = Field(default_factory=dict, description="role name -> holder address")
    parameters: dict[str, int] = Field(default_factory=dict)

    @staticmethod
    def path_for(folder: Path, chain_id: int) -> Path:
        return folder / f"{chain_id}.json"

    def write(self, folder: Path) -> Path:
        """Write atomically (temporary file, then rename) so a crash never leaves half a manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(folder, self.chain_id)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.model_validate_json(path.read_text())
