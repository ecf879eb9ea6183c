"""Sending the steps' transactions: `Sender` (the Ape script's account, the dry run's impersonation, or the
devnet's local key through the chain layer, `KeySender`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt

from choir_chain import artifacts
from choir_chain.chain import Chain, gas_limit
from choir_chain.rollout.config import RECEIPT_POLL_SECONDS, DeployError
from choir_chain.rollout.steps import Reader


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


class KeySender:
    """Sends as `account` (a local key, e.g. a devnet development account) through the chain layer (`Chain`:
    local signing, the one gas margin, fast receipts)."""

    def __init__(self, chain: Chain, account: LocalAccount, reader: Reader | None = None) -> None:
        self.chain, self.account = chain, account
        self.reader = reader or Reader(chain.w3)

    def deploy(self, contract: str, args: Sequence[Any]) -> Sent:
        instance, receipt = self.chain.deploy(artifacts.load(contract), self.account, *args)
        self.reader.remember(contract, instance)
        return _sent(receipt)

    def transact(self, contract: str, address: str, function: str, args: Sequence[Any]) -> Sent:
        call = self.reader.contract(contract, address).functions[function](*args)
        return _sent(self.chain.transact(call, self.account))


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
        tx["gas"] = gas_limit(tx["gas"])
        tx_hash = self.w3.eth.send_transaction(cast(TxParams, tx))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=RECEIPT_POLL_SECONDS)
        if receipt["status"] != 1:
            raise DeployError(f"transaction {tx_hash.hex()} reverted")
        return _sent(receipt)


def _sent(receipt: TxReceipt) -> Sent:
    return Sent(
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        address=receipt["contractAddress"],
    )
