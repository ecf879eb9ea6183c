"""A thin web3.py client: local signing, fast receipts, gas figures and decoded custom errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from choir_chain.artifacts import Artifact
from choir_chain.chain.gas import gas_limit

Account.enable_unaudited_hdwallet_features()

RECEIPT_POLL_SECONDS = 0.002
"""anvil answers eth_sendRawTransaction before mining; web3's default 0.1 s poll adds 100 ms a transaction."""


class TransactionFailed(RuntimeError):
    """A transaction reverted or could not be sent."""


def dev_accounts(mnemonic: str, count: int) -> list[LocalAccount]:
    """The first `count` accounts of an HD mnemonic (m/44'/60'/0'/0/i)."""
    return [Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


@dataclass
class Chain:
    """A web3 connection with helpers to deploy and transact from local accounts."""

    w3: Web3

    @classmethod
    def connect(cls, rpc_url: str, timeout: float = 30.0) -> Chain:
        """A client of `rpc_url` that asks the node its chain id once (web3 asks before every transaction)."""
        provider = Web3.HTTPProvider(
            rpc_url,
            request_kwargs={"timeout": timeout},
            cache_allowed_requests=True,
            cacheable_requests={"eth_chainId"},
        )
        return cls(Web3(provider))

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def contract(self, artifact: Artifact, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)

    def _send(self, tx: dict[str, Any], sender: LocalAccount) -> TxReceipt:
        tx.setdefault("from", sender.address)
        tx.setdefault("chainId", self.chain_id)
        tx.setdefault("nonce", self.w3.eth.get_transaction_count(sender.address, "pending"))
        if "gas" not in tx:
            tx["gas"] = gas_limit(self.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=RECEIPT_POLL_SECONDS)
        if receipt["status"] != 1:
            raise TransactionFailed(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def deploy(self, artifact: Artifact, sender: LocalAccount, *args: Any) -> tuple[Contract, TxReceipt]:
        """Deploy `artifact` with constructor `args`; returns the contract and the receipt."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self._send(_unestimated(factory.constructor(*args).build_transaction(_no_estimate(sender))), sender)
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionFailed(f"deploying {artifact.name} created no contract")
        return self.contract(artifact, address), receipt

    def transact(self, call: ContractFunction, sender: LocalAccount) -> TxReceipt:
        """Send a contract call from `sender` and wait for its receipt; raises on revert."""
        return self._send(_unestimated(call.build_transaction(_no_estimate(sender))), sender)


def _no_estimate(sender: LocalAccount) -> TxParams:
    """Transaction fields that keep `build_transaction` from estimating gas itself (it would set the bare
    estimate, with no margin: an estimate made in the latest block's second can be short for a transaction mined
    in the next one, e.g. when it writes a new checkpoint slot instead of updating one)."""
    return {"from": sender.address, "gas": 0}  # a placeholder `_unestimated` removes


def _unestimated(tx: Any) -> dict[str, Any]:
    """`tx` without its placeholder gas, for `_send` to estimate with a margin."""
    fields = dict(tx)
    fields.pop("gas", None)
    return fields
