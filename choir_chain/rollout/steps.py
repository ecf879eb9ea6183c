"""A step of the deployment, and reading the contracts of the build on a chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts


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

    def remember(self, contract: str, instance: Contract) -> None:
        """Reuse a binding made elsewhere on the same chain (e.g. the one `Chain.deploy` returns)."""
        self._contracts[(contract, to_checksum_address(instance.address))] = instance

    def call(self, contract: str, address: str, function: str, *args: Any) -> Any:
        return self.contract(contract, address).functions[function](*args).call()

    def has_role(self, contract: str, address: str, role: bytes, holder: str) -> bool:
        return bool(self.call(contract, address, "hasRole", role, to_checksum_address(holder)))

    def has_code(self, address: str) -> bool:
        return len(self.w3.eth.get_code(to_checksum_address(address))) > 0
