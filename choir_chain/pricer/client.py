"""The pricer's access to the chain: contract reads and its own signed transactions.

Everything goes through the indexer's `RpcClient`, so transport failures (connection refused, timeouts, HTTP
errors) are retried with exponential backoff until they succeed or the service stops, the same way for the
indexer and the pricer. Error *answers* (a revert, a rejected transaction) are raised to the caller.

Transactions are signed locally with an explicit nonce (`send`): the service decides the nonce after making
sure nothing of its own is in flight (`nonces`), which is what keeps a restarted pricer from sending a second
transaction for a round whose first one is still pending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from choir_chain.chain.gas import gas_limit
from choir_chain.chain.rpc import RpcClient, RpcError
from choir_chain.pricer.errors import RoundRejected, RoundReverted

STALE_BLOCK_ATTEMPTS = 10
DROPPED_CHECK_EVERY = 8
"""Looks for a receipt between two checks that the node still knows the transaction."""


def is_stale_block(err: RpcError) -> bool:
    """anvil run with `--prune-history` (as the devnet is) keeps the state of the head block only: an
    `eth_call` at "latest" whose block is mined over between the node resolving the tag and executing the call
    fails with "BlockOutOfRangeError: block height is N+1 but requested was N" (a few percent of calls while
    another client mines). Asking again at once is correct."""
    return "BlockOutOfRange" in str(err)


@dataclass(frozen=True)
class Function:
    """One function of a contract ABI: selector, argument and result types."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def from_abi(cls, abi: Sequence[dict[str, Any]], name: str) -> Function:
        for entry in abi:
            if entry.get("type") == "function" and entry.get("name") == name:
                return cls(
                    name=name,
                    inputs=tuple(i["type"] for i in entry["inputs"]),
                    outputs=tuple(o["type"] for o in entry["outputs"]),
                )
        raise KeyError(f"the ABI has no function {name}")

    @property
    def selector(self) -> bytes:
        return keccak(text=f"{self.name}({','.join(self.inputs)})")[:4]

    def encode(self, *args: Any) -> bytes:
        return self.selector + abi_encode(list(self.inputs), list(args))

    def decode(self, data: str) -> tuple[Any, ...]:
        return tuple(abi_decode(list(self.outputs), bytes.fromhex(data.removeprefix("0x"))))


class Contract:
    """Calls to one contract at `address`, by function name."""

    def __init__(self, rpc: RpcClient, address: str, abi: Sequence[dict[str, Any]]) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        self._abi = abi
        self._functions: dict[str, Function] = {}

    def function(self, name: str) -> Function:
        if name not in self._functions:
            self._functions[name] = Function.from_abi(self._abi, name)
        return self._functions[name]

    def calldata(self, name: str, *args: Any) -> bytes:
        return self.function(name).encode(*args)

    def call(self, name: str, *args: Any, block: str = "latest") -> tuple[Any, ...]:
        """The decoded results of a view call (a revert raises `RpcError`)."""
        params = [{"to": self.address, "data": "0x" + self.calldata(name, *args).hex()}, block]
        failures = 0
        while True:
            try:
                result = self.rpc.call("eth_call", params, retry_rpc_errors=False)
                return self.function(name).decode(result)
            except RpcError as err:
                failures += 1
                if not is_stale_block(err) or failures >= STALE_BLOCK_ATTEMPTS:
                    raise

    def call_many(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[Any, ...]]:
        """Several view calls `(function name, arguments)` in one JSON-RPC batch (one request)."""
        if not calls:
            return []
        params = [
            [{"to": self.address, "data": "0x" + self.calldata(name, *args).hex()}, "latest"] for name, args in calls
        ]
        results = self.rpc.batch("eth_call", params)
        return [self.function(name).decode(r) for (name, _), r in zip(calls, results, strict=True)]


@dataclass(frozen=True)
class Sent:
    """A transaction the node accepted."""

    tx_hash: str
    nonce: int
    gas_limit: int


class Sender:
    """Signs and sends the pricer's transactions from one local account."""

    def __init__(self, rpc: RpcClient, account: LocalAccount, chain_id: int) -> None:
        self.rpc = rpc
        self.account = account
        self.chain_id = chain_id

    @property
    def address(self) -> str:
        return str(self.account.address)

    def nonces(self) -> tuple[int, int]:
        """(mined, pending) transaction counts of the account: equal when nothing is in flight."""
        latest, pending = self.rpc.batch(
            "eth_getTransactionCount", [[self.address, "latest"], [self.address, "pending"]]
        )
        return int(latest, 16), int(pending, 16)

    def estimate(self, to: str, data: bytes) -> int:
        """Gas for the call; a predicted revert raises `RpcError` (and nothing is sent)."""
        tx = {"from": self.address, "to": to, "data": "0x" + data.hex()}
        gas = int(self.rpc.call("eth_estimateGas", [tx], retry_rpc_errors=False), 16)
        return gas_limit(gas)

    def send(self, to: str, data: bytes, nonce: int, gas: int) -> Sent:
        """Sign with `nonce` and broadcast. Sending the same signed bytes twice is harmless (same hash), so a
        transport failure is retried as is; a rejection raises `RpcError`."""
        tip = int(self.rpc.call("eth_maxPriorityFeePerGas", []), 16)
        head = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(head.get("baseFeePerGas", "0x0"), 16) if isinstance(head, dict) else 0
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": to_checksum_address(to),
            "value": 0,
            "data": data,
            "gas": gas,
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 2 * base_fee + tip,
        }
        signed = self.account.sign_transaction(tx)
        raw = "0x" + bytes(signed.raw_transaction).hex()
        tx_hash = "0x" + bytes(signed.hash).hex()
        try:
            self.rpc.call("eth_sendRawTransaction", [raw], retry_rpc_errors=False)
        except RpcError:
            # An earlier attempt whose answer was lost may have reached the node ("already known", or
            # "nonce too low" once mined): then the transaction exists and this is not a failure.
            if self.rpc.call("eth_getTransactionByHash", [tx_hash]) is None:
                raise
        return Sent(tx_hash=tx_hash, nonce=nonce, gas_limit=gas)

    def submit(self, to: str, data: bytes, nonce: int, what: str) -> Sent:
        """Estimate, sign and send; a predicted revert or a refusal raises `RoundRejected` naming `what` (nothing
        was sent, so nothing is lost)."""
        try:
            return self.send(to, data, nonce, self.estimate(to, data))
        except RpcError as err:
            raise RoundRejected(f"{what} was refused: {err}") from err

    def confirm(self, sent: Sent, timeout: float, stop: threading.Event, what: str) -> dict[str, Any] | None:
        """The receipt of a successful transaction; None while it is in flight (see `receipt`); `RoundReverted`
        naming `what` if it reverted."""
        receipt = self.receipt(sent.tx_hash, timeout, stop)
        if receipt is not None and int(receipt["status"], 16) != 1:
            raise RoundReverted(f"{what} reverted in transaction {sent.tx_hash}{self.revert_reason(receipt)}")
        return receipt

    def revert_reason(self, receipt: dict[str, Any]) -> str:
        """Why a mined transaction reverted, in words (the chain layer's decoder names the custom error): replayed
        with `eth_call` on the state before its block, or, when the node keeps no such state (anvil's
        `--prune-history`), on the latest state, and then said so. Empty when the replay does not revert."""
        tx = self.rpc.call("eth_getTransactionByHash", [receipt["transactionHash"]])
        if not isinstance(tx, dict) or not tx.get("to"):
            return ""
        call = {"from": tx["from"], "to": tx["to"], "data": tx.get("input") or tx.get("data"), "gas": tx["gas"]}
        parent = hex(int(receipt["blockNumber"], 16) - 1)
        for block, said in ((parent, ""), ("latest", " (replayed on the latest state)")):
            try:
                self.rpc.call("eth_call", [call, block], retry_rpc_errors=False)
                return ""
            except RpcError as err:
                if err.data is not None:
                    return f": {err.reason}{said}"
        return ""

    def receipt(self, tx_hash: str, timeout: float, stop: threading.Event) -> dict[str, Any] | None:
        """The receipt once mined; None if not mined within `timeout` seconds or when `stop` is set (the
        transaction stays in flight: the next start waits for it), and None at once when the node no longer
        knows the transaction at all (dropped, e.g. by a reorg that replaced its block): nothing of the account
        is then in flight, so the next step plans again from the chain instead of waiting for it."""
        deadline, delay = time.monotonic() + timeout, 0.002
        looks = 0
        while True:
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            if isinstance(receipt, dict) and receipt.get("blockNumber"):
                return receipt
            looks += 1
            if looks % DROPPED_CHECK_EVERY == 0 and self.rpc.call("eth_getTransactionByHash", [tx_hash]) is None:
                return None
            if time.monotonic() >= deadline or stop.wait(delay):
                return None
            delay = min(delay * 2, 0.5)
