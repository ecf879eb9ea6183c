"""Many transactions on anvil, fast and verified: JSON-RPC batches of `eth_sendTransaction`, mined on demand.

Signing locally costs about 5 ms a transaction here (eth-keys' pure-Python backend), a minute for a 12,000
transaction workload; anvil signs nothing for impersonated senders (`anvil_autoImpersonateAccount`), so the
benchmarks send unsigned transactions from any address they fund with `anvil_setBalance`.

With automine off, `mine()` mines blocks until the transaction pool is empty and then checks the receipt of
every transaction it sent: each must exist and have succeeded, or `BatchError` names the first that did not, with
its revert decoded by the chain layer (`chain.revert.decode`: the custom error and its arguments). With automine
on, each transaction is mined as it arrives and a batch of one, sent and mined, is one step taken before the next.
Transactions carry explicit nonces, gas limits and a fee cap far above anvil's base fee, because a full block
raises the base fee by 12.5% and a transaction priced under it would wait in the pool for ever (the likely
reason a previous bulk load saw only half of its transactions mined).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from choir_chain.chain.client import RECEIPT_POLL_SECONDS
from choir_chain.chain.revert import decode

GWEI = 10**9
MAX_FEE = 1_000 * GWEI
PRIORITY_FEE = 1 * GWEI
BLOCK_GAS_LIMIT = 1_000_000_000
"""Large enough that a phase of a workload fits one block (anvil's default is 30M)."""
CHUNK = 500
"""Requests per HTTP batch."""
MAX_EMPTY_BLOCKS = 3
"""Blocks mined without the pool shrinking before `mine` gives up."""


class BatchError(RuntimeError):
    """A transaction was rejected, reverted, or never mined."""


@dataclass(frozen=True)
class Tx:
    """An unsigned contract call; `label` names it in errors."""

    sender: str
    to: str
    data: str
    gas: int
    label: str = ""


class BatchSender:
    """Sends transactions in JSON-RPC batches from impersonated accounts and mines them with `mine()`."""

    def __init__(self, rpc_url: str, *, timeout: float = 120.0) -> None:
        self.rpc_url = rpc_url
        self.timeout = timeout
        self._session = requests.Session()
        self._nonces: dict[str, int] = {}
        self._sent: list[tuple[str, Tx]] = []
        self._id = 0
        self.sent_total = 0

    # -- JSON-RPC -------------------------------------------------------------------------------------------

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        return self.batch([(method, params or [])])[0]

    def batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]:
        """Results of many calls, in order; raises BatchError on any error answer."""
        results: list[Any] = []
        for start in range(0, len(requests_), CHUNK):
            chunk = requests_[start : start + CHUNK]
            payload = []
            for method, params in chunk:
                self._id += 1
                payload.append({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
            reply = self._session.post(self.rpc_url, json=payload, timeout=self.timeout)
            reply.raise_for_status()
            answers = {a["id"]: a for a in reply.json()}
            for request, (method, _params) in zip(payload, chunk, strict=True):
                answer = answers.get(request["id"])
                if answer is None or "error" in answer:
                    error = answer["error"] if answer else "no answer"
                    raise BatchError(f"{method}: {error}")
                results.append(answer["result"])
        return results

    # -- set-up ---------------------------------------------------------------------------------------------

    def prepare(self, accounts: list[str], ether: int = 1_000, *, automine: bool = False) -> None:
        """Impersonate every address, fund `accounts` with ETH, raise the block gas limit and (unless
        `automine`) stop automine. With automine on, every transaction is mined as it arrives, in its own
        block, and `mine()` only checks the receipts."""
        self.call("anvil_autoImpersonateAccount", [True])
        self.fund(accounts, ether)
        self.call("evm_setBlockGasLimit", [hex(BLOCK_GAS_LIMIT)])
        self.call("evm_setAutomine", [automine])

    def fund(self, accounts: list[str], ether: int = 1_000) -> None:
        """Set the ETH balance of each of `accounts` to `ether` (gas for an address joining later)."""
        self.batch([("anvil_setBalance", [a, hex(ether * 10**18)]) for a in accounts])

    def automine(self, on: bool) -> None:
        self.call("evm_setAutomine", [on])

    def snapshot(self) -> str:
        """An anvil snapshot of the chain (`evm_snapshot`): its id, for `revert`."""
        return str(self.call("evm_snapshot"))

    def revert(self, snapshot: str) -> None:
        """Back to `snapshot`: the chain, and the nonces this sender counted since (they are read again)."""
        if self.call("evm_revert", [snapshot]) is not True:
            raise BatchError(f"evm_revert: no snapshot {snapshot}")
        self._nonces.clear()
        self._sent.clear()

    # -- transactions ---------------------------------------------------------------------------------------

    def send(self, txs: list[Tx]) -> None:
        """Queue `txs` in the pool with consecutive nonces per sender (in list order)."""
        missing = sorted({tx.sender for tx in txs if tx.sender not in self._nonces})
        if missing:
            counts = self.batch([("eth_getTransactionCount", [a, "pending"]) for a in missing])
            self._nonces.update({a: int(c, 16) for a, c in zip(missing, counts, strict=True)})
        requests_ = []
        for tx in txs:
            nonce = self._nonces[tx.sender]
            self._nonces[tx.sender] = nonce + 1
            body = {
                "from": tx.sender,
                "to": tx.to,
                "data": tx.data,
                "gas": hex(tx.gas),
                "nonce": hex(nonce),
                "maxFeePerGas": hex(MAX_FEE),
                "maxPriorityFeePerGas": hex(PRIORITY_FEE),
            }
            requests_.append(("eth_sendTransaction", [body]))
        try:
            hashes = self.batch(requests_)
        except (BatchError, requests.RequestException):
            for tx in txs:  # some may have been accepted: count again from the node next time
                self._nonces.pop(tx.sender, None)
            raise
        self._sent.extend(zip(hashes, txs, strict=True))
        self.sent_total += len(txs)

    def mine(self) -> list[dict[str, Any]]:
        """Mine until the pool is empty; every transaction sent since the last `mine` must have succeeded.

        With automine on (`anvil_getAutomine`, asked in the same request as the receipts), the node mines them
        itself: `mine` only waits for their receipts, up to `timeout`, and mines no block of its own. Returns their
        receipts, in the order sent.
        """
        asks = [("eth_getTransactionReceipt", [h]) for h, _ in self._sent]
        automine, *receipts = self.batch([("anvil_getAutomine", []), *asks])
        if automine is True:
            deadline = time.monotonic() + self.timeout
            while any(r is None for r in receipts) and time.monotonic() < deadline:
                time.sleep(RECEIPT_POLL_SECONDS)
                receipts = self.batch(asks)
        else:
            self._mine_pool()
            receipts = self.batch(asks)
        sent, self._sent = self._sent, []
        for (tx_hash, tx), receipt in zip(sent, receipts, strict=True):
            if receipt is None:
                raise BatchError(f"{tx.label or tx_hash} was never mined")
            if receipt["status"] != "0x1":
                raise BatchError(f"{tx.label or tx_hash} reverted: {self._revert_reason(tx_hash)}")
        return list(receipts)

    def _mine_pool(self) -> None:
        """Mine blocks until the transaction pool is empty (automine off); `BatchError` if it stops shrinking."""
        stalled, before = 0, None
        while True:
            status = self.call("txpool_status")
            waiting = int(status["pending"], 16) + int(status["queued"], 16)
            if waiting == 0:
                return
            if before is not None and waiting >= before:
                stalled += 1
                if stalled >= MAX_EMPTY_BLOCKS:
                    raise BatchError(f"{waiting} transactions stay in the pool after {stalled} blocks")
            before = waiting
            self.call("evm_mine")

    def _revert_reason(self, tx_hash: str) -> str:
        """Why a mined transaction reverted: its custom error decoded (`chain.revert.decode`), with its raw data,
        if anvil can trace it."""
        try:
            trace = self.call("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        except (BatchError, requests.RequestException) as err:
            return f"transaction {tx_hash}; no trace: {err}"
        data = trace.get("output")
        if not isinstance(data, str):
            return f"transaction {tx_hash}, no revert data"
        return f"{decode(data).message} (transaction {tx_hash}, revert data {data})"

    def mine_empty(self, blocks: int = 1) -> None:
        """Mine empty blocks (each moves the clock by the timestamp interval, if one is set)."""
        for _ in range(blocks):
            self.call("evm_mine")

    def close(self) -> None:
        self._session.close()
