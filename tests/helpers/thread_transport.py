"""The stateful thread test's transports: real, mined transactions and batched reads as plain JSON-RPC to anvil
or straight to eth-tester, a failed transaction's custom error taken from the chain (anvil's
`trace_transaction`, or eth-tester replaying it on the block it failed in)."""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_utils import to_checksum_address

from helpers.thread_codec import Codec, Event

GAS = 3_000_000
DEPLOY_GAS = 8_000_000


@dataclass
class TxResult:
    ok: bool
    timestamp: int  # of the block the transaction was mined in (failed ones too)
    events: list[Event]
    error: str | None = None
    error_args: dict[str, Any] = field(default_factory=dict)
    contract_address: str | None = None  # of a contract creation

    def all(self, name: str) -> list[dict[str, Any]]:
        return [e.args for e in self.events if e.name == name]

    def one(self, name: str) -> dict[str, Any]:
        found = self.all(name)
        assert len(found) == 1, f"expected one {name} event, got {found}"
        return found[0]


class AnvilTransport:
    """JSON-RPC to anvil: dev accounts are unlocked; `trace_transaction` gives a failed call's revert data."""

    def __init__(self, url: str, codec: Codec):
        self.url = url
        self.codec = codec
        self.session = requests.Session()

    def _batch(self, calls: list[tuple[str, list]]) -> list[Any]:
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        replies = sorted(self.session.post(self.url, json=body, timeout=60).json(), key=lambda r: r["id"])
        for reply in replies:
            if "error" in reply:
                raise RuntimeError(f"{calls[reply['id']][0]} failed: {reply['error']}")
        return [r["result"] for r in replies]

    def _rpc(self, method: str, params: list) -> Any:
        return self._batch([(method, params)])[0]

    def call_many(self, calls: list[tuple[str, bytes]]) -> list[bytes]:
        return self.read_at_head(calls)[1]

    def read_at_head(self, calls: list[tuple[str, bytes]]) -> tuple[int, list[bytes]]:
        """The latest block's timestamp and the calls on it, in one round trip."""
        head, *results = self._batch(
            [("eth_getBlockByNumber", ["latest", False])]
            + [("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]) for to, data in calls]
        )
        return int(head["timestamp"], 16), [bytes.fromhex(r[2:]) for r in results]

    def head_timestamp(self) -> int:
        return int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def stay_in_this_second(self) -> None:
        """Mine the next block with the latest block's timestamp."""
        self._rpc("evm_setNextBlockTimestamp", [hex(self.head_timestamp())])

    def send(self, sender: str, to: str | None, data: bytes) -> TxResult:
        """A transaction (`to` None: a contract creation), mined at once."""
        tx = {"from": sender, "data": "0x" + data.hex(), "gas": hex(GAS if to else DEPLOY_GAS)}
        if to:
            tx["to"] = to
        tx_hash = self._rpc("eth_sendTransaction", [tx])
        # automine: the receipt is normally there at once, and its block is the latest one
        receipt, block = self._batch(
            [("eth_getTransactionReceipt", [tx_hash]), ("eth_getBlockByNumber", ["latest", False])]
        )
        while receipt is None:
            time.sleep(0.002)
            receipt, block = self._rpc("eth_getTransactionReceipt", [tx_hash]), None
        if block is None or block["number"] != receipt["blockNumber"]:
            block = self._rpc("eth_getBlockByNumber", [receipt["blockNumber"], False])
        timestamp = int(block["timestamp"], 16)
        if int(receipt["status"], 16) == 1:
            events = [
                self.codec.event(
                    log["address"],
                    [bytes.fromhex(t[2:]) for t in log["topics"]],
                    bytes.fromhex(log["data"][2:]),
                )
                for log in receipt["logs"]
            ]
            created = receipt.get("contractAddress")
            return TxResult(
                True,
                timestamp,
                [e for e in events if e is not None],
                contract_address=to_checksum_address(created) if created else None,
            )
        top = next(t for t in self._rpc("trace_transaction", [tx_hash]) if not t["traceAddress"])
        output = (top.get("result") or {}).get("output", "0x")
        name, args = self.codec.error(bytes.fromhex(output[2:]))
        return TxResult(False, timestamp, [], name, args)

    def send_together(self, txs: list[tuple[str, str | None, bytes]]) -> list[TxResult]:
        """Transactions in order, all in the latest block's second (one block each)."""
        results: list[TxResult] = []
        for sender, to, data in txs:
            if results:
                self._rpc("evm_setNextBlockTimestamp", [hex(results[0].timestamp)])
            else:
                self.stay_in_this_second()
            results.append(self.send(sender, to, data))
        return results


class InProcessTransport:
    """eth-tester in process: a failed transaction is mined; replaying it on its block gives the error."""

    def __init__(self, tester: Any, codec: Codec, reader: str):
        self.tester = tester
        self.codec = codec
        self.reader = reader

    def call_many(self, calls: list[tuple[str, bytes]]) -> list[bytes]:
        """Every call on one state of the latest block, as `eth_call` at "latest" runs it. This is
        `EthereumTester.call` without rebuilding the VM, looking up the reader's nonce and validating the
        request anew for each call, which took about a third of a call's time (most of this machine's time on
        eth-tester goes into these reads)."""
        from eth.vm.spoof import SpoofTransaction
        from eth_tester.backends.pyevm.main import _get_vm_for_block_number

        backend = self.tester.backend
        state = _get_vm_for_block_number(backend.chain, "latest").state
        reader = bytes.fromhex(self.reader[2:])
        nonce = state.get_nonce(reader)
        out = []
        for to, data in calls:
            request = {"from": reader, "to": bytes.fromhex(to[2:]), "data": data, "value": 0}
            unsigned = backend._get_normalized_and_unsigned_evm_transaction({**request, "gas": GAS, "nonce": nonce})
            snapshot = state.snapshot()
            computation = state.apply_transaction(SpoofTransaction(unsigned, from_=reader))
            state.revert(snapshot)
            if computation.is_error:
                raise RuntimeError(f"call to {to} failed: {computation.error!r}")
            out.append(bytes(computation.output))
        return out

    def head_timestamp(self) -> int:
        return self.tester.get_block_by_number("latest")["timestamp"]

    def read_at_head(self, calls: list[tuple[str, bytes]]) -> tuple[int, list[bytes]]:
        return self.head_timestamp(), self.call_many(calls)

    def stay_in_this_second(self) -> None:
        """Not possible here: py-evm requires every block to be later than its parent."""

    @staticmethod
    def _tx(sender: str, to: str | None, data: bytes) -> dict[str, Any]:
        tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "gas": GAS if to else DEPLOY_GAS}
        if to:
            tx["to"] = to
        return tx

    def send(self, sender: str, to: str | None, data: bytes) -> TxResult:
        """A transaction (`to` None: a contract creation), mined at once in a block of its own."""
        tx = self._tx(sender, to, data)
        return self._result(tx, self.tester.send_transaction(tx))

    def send_together(self, txs: list[tuple[str, str | None, bytes]]) -> list[TxResult]:
        """Transactions in order, mined together in one block. eth-tester's own batching (auto-mining off)
        re-validates every transaction against the state before the block and so refuses a sender's second
        transaction; adding them to the pending block one by one, with explicit nonces, executes each on the
        state the previous ones left, as a block does."""
        nonces: dict[str, int] = {}
        sent = []
        for sender, to, data in txs:
            tx = self._tx(sender, to, data)
            nonce = nonces.setdefault(sender, self.tester.get_nonce(sender))
            nonces[sender] = nonce + 1
            sent.append((tx, self.tester._add_transaction_to_pending_block({**tx, "nonce": nonce})))
        self.tester.mine_blocks(1)
        # a failed transaction is replayed on the state after the whole block: its error may differ from the one
        # it met inside the block (a model mismatch is reported either way)
        return [self._result(tx, tx_hash) for tx, tx_hash in sent]

    def _result(self, tx: dict[str, Any], tx_hash: str) -> TxResult:
        receipt = self.tester.get_transaction_receipt(tx_hash)
        timestamp = self.tester.get_block_by_number(receipt["block_number"])["timestamp"]
        if receipt["status"] == 1:
            events = [
                self.codec.event(
                    log["address"],
                    [bytes.fromhex(t[2:]) for t in log["topics"]],
                    bytes.fromhex(log["data"][2:]),
                )
                for log in receipt["logs"]
            ]
            created = receipt.get("contract_address")
            return TxResult(
                True,
                timestamp,
                [e for e in events if e is not None],
                contract_address=to_checksum_address(created) if created else None,
            )
        try:
            self.tester.call(tx, "latest")  # the block it failed in: same state, same timestamp
        except Exception as err:  # eth-tester's TransactionFailed carries the revert data
            raw = err.args[0] if err.args else b""
            if isinstance(raw, str) and raw[:2] in ("b'", 'b"'):
                raw = ast.literal_eval(raw)
            name, args = self.codec.error(raw if isinstance(raw, bytes) else b"")
            return TxResult(False, timestamp, [], name, args)
        return TxResult(False, timestamp, [], "failed, but its replay succeeded")
