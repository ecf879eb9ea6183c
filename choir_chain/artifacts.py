"""Compiled contracts (ABI and bytecode) read from Ape's build output, so services need no Ape at run time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from eth_utils import keccak

from choir_chain.paths import build_manifest


class ArtifactError(RuntimeError):
    """The contracts are not compiled, or a contract is missing from the build."""


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict]
    bytecode: str

    @property
    def abi_hash(self) -> str:
        """keccak256 of the ABI as canonical JSON (sorted keys, no spaces): tells whether two ABIs differ."""
        canonical = json.dumps(self.abi, sort_keys=True, separators=(",", ":"))
        return "0x" + keccak(text=canonical).hex()


@cache
def _contract_types(path: Path) -> dict[str, dict]:
    if not path.is_file():
        raise ArtifactError(f"no compiled contracts at {path}: run `make compile`")
    return json.loads(path.read_text())["contractTypes"]


def load(name: str, path: Path | None = None) -> Artifact:
    """The artifact of contract `name` from the build manifest."""
    types = _contract_types(path or build_manifest())
    if name not in types:
        raise ArtifactError(f"contract {name!r} is not in the build: run `make compile`")
    entry = types[name]
    bytecode = (entry.get("deploymentBytecode") or {}).get("bytecode") or "0x"
    return Artifact(name=name, abi=entry["abi"], bytecode=bytecode)
