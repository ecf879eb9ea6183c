"""Stateful property test: random sequences of thread operations checked against a pure-Python model.

A Hypothesis `RuleBasedStateMachine` drives thread creation, staked specs (some below the price or zero, some a
second pending spec of the same author), votes (some by non-co-authors, twice, late), settlements (some too early;
some with `settleWithDepartures`, its list now and then short, out of order or naming an account that did not
depart), exits (some in the cooldown, some by the last co-author with specs pending), curator claims, posts and
specs with citations (some unknown, duplicated, too many), price rounds of the pricer (some replayed, some moving
too far), novelty scores and allocations of closed epochs by the oracle (some over the budget, paying a message
twice, for an epoch still open, for a message approved in another epoch, by someone else) and the passage of time.
A model written from protocol sections 2, 3, 5, 6 and 7 (revision 2) predicts, for the block timestamp each
transaction lands in, either the new state or the set of custom errors the protocol may answer with. After every
step the invariants compare the whole chain state with the model:

1. every settlement conserves value to the wei (`SpecSettled`: treasury gain + payout per denier * deniers +
   the stake sent back to the author == stake; only `Refunded` sends it back, with gain and payouts 0) and matches
   the model's outcome and division; `Refunded` (r2) when nobody voted and no eligible co-author is left (the
   thread has none, or `settleWithDepartures` shows they all left); only an approved spec keeps its
   `specCitations`;
2. the token balances of every account and every thread sum to `totalSupply`; each account holds what the
   model says;
3. each thread: `balanceOf(thread) == treasury() + lockedBalance()`, both equal to the model;
4. each thread: the co-authors' `sharesOf` sum to `totalShares()`, every account's shares and
   `coauthorCount()` equal the model; an approval adds `total * e / (1 - e)` shares with
   `e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s))` (r2: the NAV floor, `T` the treasury before the stake),
   1e18 into a thread nobody holds shares in, never past `MAX_TOTAL_SHARES`;
5. every spec (status, votes, stake, price, snapshot, deadline, eligible voters) equals the model; an author
   has at most one pending spec per thread (r2: a second one is refused with `PendingSpecExists`);
6. the NAV floor (protocol 5, r2): right after joining a thread that had shareholders, no joiner's pro-rata claim
   on the treasury exceeds its stake;
7. exits never block a decision (protocol 3, r2): every pending spec whose outcome is decided (every eligible
   co-author voted or left, no co-author left at all, or its window ended) settles without a revert, checked as a
   call of `settleWithDepartures` on the latest state; so a thread without co-authors (the last one may leave,
   pending specs or not) holds only specs that settle at once;
8. rewards (protocol 1 and 7, r2): settlement never mints; the distributor never minted more than the emission
   curve allows now (`minted() <= emissionCap(now)`), `minted()` equals the model's, and `totalSupply` is the
   genesis supply plus exactly what the model minted; every epoch's allocations stay within its budget
   `F(end) - F(start)` (the contract's `emissionCap` being the oracle for `F`, tested elsewhere against Python)
   and equal the model's; an allocation pays only specs whose approval became certain in that epoch (the last
   vote when every eligible co-author approved, else the deadline), scored with a weight, at most once, of which
   every distinct other cited thread that has co-authors gets `amount * 10% / n` (rounded down) and the citing
   thread the rest;
9. citations (protocol 7, r2): `hub.citationsReceived(thread)` equals the model's count of distinct other
   threads citing it (by a co-author's post or by a spec when it is approved): `CitingThreadCounted` the first
   time a thread cites another, `CitationRecorded` for every cited message;
10. prices (protocol section 6, r2): each thread's price point and deviation window (`priceWindow`: anchor price
   and start) equal the model's; a round is refused exactly when a price leaves the band of its window's anchor
   (a new window, anchored at the current price, starts at the first update `deviationWindow` after the last
   one started); every spec records `price()`, a stale price being `max(last price, fallbackPrice)`.

Rewards start at a random point of an example (mostly with the first thread's joins, else later by a rule):
the machine deploys a fresh `RewardsDistributor` (the curve starting at its deployment, a little earlier, or
two seconds before an epoch boundary or the end of the curve), then in one block or second wires it and settles
the specs that are ready (minting nothing). `settle_ready_together` settles several specs in one block later on
too. eth-tester mines such a batch as one block; anvil pins every transaction of it to the same second. The
`allocate` rule scores the approved specs of a closed epoch and pays them a drawn share of the epoch's budget.

On anvil one rule puts a membership change and a new spec in the same second (`evm_setNextBlockTimestamp`),
where the eligibility snapshot (co-authors one second before submission) is most delicate.

Transport: the machine sends its transactions and reads as plain JSON-RPC (anvil) or straight to eth-tester,
not through Ape's contract objects. Ape fetches and renders a call trace for every reverted transaction on
anvil (about a second each), and a random walk reverts often; here a revert costs a few milliseconds. Every
call is still a real, mined transaction, and its custom error is taken from the chain (anvil's
`trace_transaction`, or eth-tester replaying it on the block it failed in). Since a failed transaction is
mined too, the model judges every outcome at the exact timestamp of its block, including anvil's many
transactions within one second. On eth-tester the reads of a step run on one EVM state of the latest block
(`InProcessTransport.call_many`), three times faster than one `eth_call` each. Ape provides the fixtures, the
ABIs, snapshots and `chain.mine`.

Draws have a fixed shape (`pick`: an index modulo the model's current list), because the model's lists follow
block timestamps, which differ from run to run; Hypothesis needs the same choices to draw the same way.

Each Hypothesis example starts from a chain snapshot taken in the machine's constructor and restores it in
`teardown`, so examples are independent although they share one pytest test.
"""

from __future__ import annotations

import ast
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from helpers.contracts import AI, AI_PROMPTED, CHOIR, DAY, HUB_DEFAULTS, HUMAN, content
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from choir_chain.protocol.approval import UNANIMOUS_BPS

WAD = 10**18
GAS = 3_000_000
DEPLOY_GAS = 8_000_000
MAX_THREADS = 3
YEAR = 365 * DAY

# RewardsDistributor (protocol 1 and 7)
CITATION_SHARE_BPS = 1_000
MODEL_ID = "all-MiniLM-L6-v2"
EMISSION_END = 4 * YEAR
MAX_CITATIONS = 8

# IThreadDAO.AuthorKind: declared kinds (mostly human), and values the contracts refuse with UnknownAuthorKind
AUTHOR_KINDS = st.sampled_from([HUMAN, HUMAN, AI, AI_PROMPTED])
BAD_AUTHOR_KINDS = st.sampled_from([AI_PROMPTED + 1, 255])

# IThreadDAO.SpecStatus
NONE, PENDING, APPROVED, DENIED, SPLIT, EXPIRED, REFUNDED = range(7)
STATUS_NAMES = ["None", "Pending", "Approved", "Denied", "Split", "Expired", "Refunded"]
# ThreadDAO.MAX_TOTAL_SHARES: approvals stop adding shares there (protocol 3, r2)
MAX_TOTAL_SHARES = 2**200 - 1

# Budget per network (a step with its invariant reads: about 20 ms on anvil, 200 ms on eth-tester): a passing
# run of this file takes about 60-75 s on anvil and 50-70 s on eth-tester on an idle machine.
RUN_SETTINGS = {
    "foundry": {"max_examples": 30, "stateful_step_count": 60},
    "test": {"max_examples": 12, "stateful_step_count": 20},
}


# ----------------------------------------------------------------------------------------------------
# ABI codec (eth_abi on the compiled ABIs)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    name: str
    address: str
    args: dict[str, Any]


class Codec:
    """Encodes calls and decodes results, custom errors and events of the project's contracts."""

    def __init__(self, contract_types: dict[str, Any]):
        self.methods: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}
        self.errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        self.events: dict[bytes, tuple[str, list[tuple[str, str, bool]]]] = {}
        self._encoded: dict[tuple, bytes] = {}
        for key, contract_type in contract_types.items():
            for item in contract_type.abi:
                if item.type == "function":
                    selector = keccak(text=item.selector)[:4]
                    inputs = [i.canonical_type for i in item.inputs]
                    outputs = [o.canonical_type for o in item.outputs]
                    self.methods[(key, item.name)] = (selector, inputs, outputs)
                elif item.type == "error":
                    types = [i.canonical_type for i in item.inputs]
                    self.errors[keccak(text=item.selector)[:4]] = (
                        item.name,
                        types,
                        [i.name for i in item.inputs],
                    )
                elif item.type == "event":
                    inputs = [(i.name, i.canonical_type, bool(i.indexed)) for i in item.inputs]
                    self.events[keccak(text=item.selector)] = (item.name, inputs)

    def encode(self, contract: str, method: str, *args: Any) -> bytes:
        # the invariants read the same calls after every step: encode each once (eth_abi is slow)
        try:
            key = (contract, method, args)
            return self._encoded[key]
        except TypeError:  # unhashable arguments (lists)
            key = None
        except KeyError:
            pass
        selector, inputs, _ = self.methods[(contract, method)]
        encoded = selector + abi_encode(inputs, list(args))
        if key is not None:
            self._encoded[key] = encoded
        return encoded

    def decode(self, contract: str, method: str, data: bytes) -> Any:
        _, _, outputs = self.methods[(contract, method)]
        if len(outputs) == 1 and outputs[0].startswith("uint") and len(data) == 32:
            return int.from_bytes(data, "big")  # most reads: one unsigned integer
        values = abi_decode(outputs, data)
        return values[0] if len(values) == 1 else values

    def error(self, data: bytes) -> tuple[str, dict[str, Any]]:
        if len(data) < 4 or data[:4] not in self.errors:
            return (f"unknown revert 0x{data.hex()}", {})
        name, types, names = self.errors[data[:4]]
        return name, dict(zip(names, abi_decode(types, data[4:]), strict=True))

    def event(self, address: str, topics: list[bytes], data: bytes) -> Event | None:
        if not topics or topics[0] not in self.events:
            return None
        name, inputs = self.events[topics[0]]
        indexed = iter(topics[1:])
        plain = iter(abi_decode([t for _, t, ix in inputs if not ix], data))
        args = {n: (abi_decode([t], next(indexed))[0] if ix else next(plain)) for n, t, ix in inputs}
        args = {k: to_checksum_address(v) if isinstance(v, str) and v.startswith("0x") else v for k, v in args.items()}
        return Event(name, to_checksum_address(address), args)


# ----------------------------------------------------------------------------------------------------
# Transports: real transactions, fast reverts
# ----------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------
# The model (protocol sections 2, 3, 5, 6), independent of the contracts
# ----------------------------------------------------------------------------------------------------


def new_shares(stake: int, price: int, coauthors_before: int, treasury_before: int, total: int) -> int:
    """protocol 5: e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s)) with T the treasury before the stake (r2: the
    NAV floor), new = total * e / (1 - e), WAD integers rounded down, at least 1; a thread nobody holds shares in
    starts again at 1e18; never past MAX_TOTAL_SHARES (protocol 3, r2)."""
    if total == 0:
        return WAD
    e = min(equity_without_floor(stake, price, coauthors_before), stake * WAD // (treasury_before + stake))
    return min(max(total * e // (WAD - e), 1), MAX_TOTAL_SHARES - total)


def equity_without_floor(stake: int, price: int, coauthors_before: int) -> int:
    """protocol 5 before r2: min(sqrt(s / P0) / (N + 1), 1/2) in WAD."""
    return min(math.isqrt(stake * WAD * WAD // price) // (coauthors_before + 1), WAD // 2)


def divide(stake: int, approvals: int, denials: int, threshold: int = UNANIMOUS_BPS) -> tuple[int, int, int]:
    """protocol 3: (outcome, treasury gain, payout per denier), integer division, remainder to the treasury;
    approved when `approvals * 10,000 >= threshold * votes cast` (with a vote), and then no denier is paid."""
    if denials == 0:
        return (EXPIRED if approvals == 0 else APPROVED), stake, 0
    if approvals and approvals * UNANIMOUS_BPS >= threshold * (approvals + denials):
        return APPROVED, stake, 0
    if approvals == 0:
        per = stake // denials
        return DENIED, stake - per * denials, per
    per = stake * denials // (approvals + denials) // denials
    return SPLIT, stake - per * denials, per


@dataclass
class SpecModel:
    spec_id: int
    author: str
    stake: int
    price: int
    submitted: int
    deadline: int
    eligible: int
    citations: list[int] = field(default_factory=list)
    votes: dict[str, bool] = field(default_factory=dict)
    status: int = PENDING
    per_denier: int = 0
    claimed: set[str] = field(default_factory=set)

    @property
    def approvals(self) -> int:
        return sum(self.votes.values())

    @property
    def denials(self) -> int:
        return len(self.votes) - self.approvals

    def unclaimed(self) -> list[str]:
        if self.status not in (DENIED, SPLIT):
            return []
        return [a for a, approve in self.votes.items() if not approve and a not in self.claimed]


@dataclass(eq=False)  # compared and hashed by identity
class ThreadModel:
    thread_id: int
    address: str
    window: int
    threshold: int = UNANIMOUS_BPS  # approvalThreshold(): basis points of the votes cast (unanimity at creation)
    treasury: int = 0
    locked: int = 0
    message_count: int = 1
    citing_threads: set[int] = field(default_factory=set)  # the hub's count (r2): distinct other citing threads
    shares: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # account -> [(timestamp, shares)]
    total: list[tuple[int, int]] = field(default_factory=list)
    specs: dict[int, SpecModel] = field(default_factory=dict)
    # the hub's price point for this thread
    price: int = 0
    updated_at: int = 0
    anchor: int = 0  # the price at the start of the current deviation window
    window_start: int = 0  # 0: no window yet (at most one price)

    @staticmethod
    def _push(history: list[tuple[int, int]], timestamp: int, value: int) -> None:
        if history and history[-1][0] == timestamp:
            history[-1] = (timestamp, value)
        else:
            history.append((timestamp, value))

    def set_shares(self, account: str, timestamp: int, value: int) -> None:
        self._push(self.shares.setdefault(account, []), timestamp, value)

    def set_total(self, timestamp: int, value: int) -> None:
        self._push(self.total, timestamp, value)

    def shares_at(self, account: str, timestamp: int) -> int:
        for key, value in reversed(self.shares.get(account, [])):
            if key <= timestamp:
                return value
        return 0

    def shares_of(self, account: str) -> int:
        history = self.shares.get(account)
        return history[-1][1] if history else 0

    def joined_at(self, account: str) -> int:
        history = self.shares.get(account)
        return history[-1][0] if history else 0

    def total_shares(self) -> int:
        return self.total[-1][1] if self.total else 0

    def coauthors(self) -> list[str]:
        return [a for a in self.shares if self.shares_of(a) > 0]

    def coauthors_at(self, timestamp: int) -> int:
        return sum(1 for a in self.shares if self.shares_at(a, timestamp) > 0)

    def pending(self) -> list[SpecModel]:
        return [s for s in self.specs.values() if s.status == PENDING]

    def has_pending_spec(self, author: str) -> bool:
        """protocol 3 (r2): one pending spec per author per thread."""
        return any(s.author == author for s in self.pending())

    def departed(self, spec: SpecModel) -> list[str]:
        """The co-authors eligible for `spec` (shares at its snapshot) who hold none now and never voted on it, in
        increasing address order: the list `settleWithDepartures` takes."""
        return sorted(
            (
                a
                for a in self.shares
                if self.shares_at(a, spec.submitted - 1) > 0 and self.shares_of(a) == 0 and a not in spec.votes
            ),
            key=lambda a: int(a, 16),
        )

    def price_at(self, timestamp: int) -> int:
        if self.updated_at and timestamp - self.updated_at <= HUB_DEFAULTS["heartbeat"]:
            return self.price
        return max(self.price, HUB_DEFAULTS["fallbackPrice"])  # stale: never below the last price (r2)

    def deviation_anchor(self, timestamp: int) -> int:
        """The price an update at `timestamp` is measured from (0: a first price, not bounded)."""
        if self.price and timestamp - self.window_start < HUB_DEFAULTS["deviationWindow"]:
            return self.anchor
        return self.price  # a new window starts, anchored at the current price

    def record_price(self, price: int, timestamp: int) -> None:
        if self.price and timestamp - self.window_start >= HUB_DEFAULTS["deviationWindow"]:
            self.anchor, self.window_start = self.price, timestamp
        self.price, self.updated_at = price, timestamp

    def message_id(self, index: int) -> int:
        return (self.thread_id << 64) | index


@dataclass
class RewardsModel:
    """The rewards distributor (protocol 1 and 7, r2): the curve's start, scores, allocations, what was minted."""

    address: str
    launch: int
    wired: bool = False  # the hub's distributor: threads accept its credits
    allocated: dict[int, int] = field(default_factory=dict)  # epoch -> paid so far
    weighted: dict[int, bool] = field(default_factory=dict)  # message id -> scored with a non-zero weight
    paid: set[int] = field(default_factory=set)
    last_round: int = 0
    minted: int = 0

    def epoch_at(self, timestamp: int) -> int:
        return (timestamp - self.launch) // DAY

    def epoch_start(self, epoch: int) -> int:
        return self.launch + epoch * DAY


def split_reward(total: int, cited_threads: int) -> tuple[int, int]:
    """protocol 7: (to each cited thread, to the citing thread): 10% split equally among the distinct other threads
    cited, rounded down; the citing thread gets the rest."""
    if cited_threads == 0:
        return 0, total
    per = total * CITATION_SHARE_BPS // 10_000 // cited_threads
    return per, total - per * cited_threads


# ----------------------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every example shares: the deployed contracts, accounts, transport and run statistics."""

    chain: Any
    codec: Codec
    transport: AnvilTransport | InProcessTransport
    token: str
    hub: str
    implementation: str
    admin: str
    pricer: str
    actors: list[str]
    distributor_code: bytes  # RewardsDistributor's deployment bytecode
    distributor_args: list[str]  # its constructor's ABI types
    stats: Counter = field(default_factory=Counter)

    @property
    def accounts(self) -> list[str]:
        return [self.admin, self.pricer, *self.actors]


@dataclass
class Tx:
    """A transaction and what the model makes of it: `expect(t)` gives the errors the model allows at block
    time `t` (none: it must succeed); `apply` updates the model (and checks the events) after a success."""

    label: str
    sender: str
    to: str | None  # None: a contract creation
    data: bytes
    expect: Callable[[int], set[str]]
    apply: Callable[[TxResult], None] | None = None


def pick(data: st.DataObject, items: list, label: str) -> Any:
    """One of `items` (not empty), shrinking towards the first. Every draw has the same shape whatever the
    items are, so Hypothesis sees consistent data generation although the model follows block timestamps."""
    return items[data.draw(st.integers(0, 255), label=label) % len(items)]


def pick_many(data: st.DataObject, items: list, max_size: int, label: str, min_size: int = 0) -> list:
    """Up to `max_size` distinct `items` (none if there are none), drawn with a fixed shape like `pick`."""
    indices = data.draw(st.lists(st.integers(0, 255), min_size=min_size, max_size=max_size), label=label)
    return list(dict.fromkeys(items[i % len(items)] for i in indices)) if items else []


def pick_mostly(data: st.DataObject, good: list, everyone: list, label: str) -> Any:
    """Mostly one of `good` (valid callers, pending specs), now and then any of `everyone` (errors)."""
    stray = data.draw(st.integers(0, 7), label=f"{label}: stray") == 7
    return pick(data, everyone if stray or not good else good, label)


class ThreadMachine(RuleBasedStateMachine):
    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.snapshot_id = ctx.chain.snapshot()
        self.threads: list[ThreadModel] = []
        self.allowances: set[tuple[str, str]] = set()
        # (thread, spec id, SpecSettled, the model's (outcome, gain, per denier), stake, CHOIR sent back to the author)
        self.settlements: list[tuple[ThreadModel, int, dict[str, Any], tuple[int, int, int], int, int]] = []
        # approvals that added shares: (thread, spec id, stake, shares added, total after, treasury after, total before)
        self.joins: list[tuple[ThreadModel, int, int, int, int, int, int]] = []
        self._settle_checked: dict[str, Any] | None = None  # the view `decided_specs_settle` last checked
        self.messages = 0
        self._view: dict[str, Any] | None = None
        self.rewards: RewardsModel | None = None  # until rewards are launched
        self._caps: dict[int, int] = {}  # emissionCap(t) of the distributor, read once per timestamp
        self._last_head = 0  # the latest block's timestamp at the last view
        reads = self._read(
            [("token", ctx.token, "balanceOf", a) for a in ctx.accounts]
            + [("hub", ctx.hub, "threadCount"), ("hub", ctx.hub, "lastRound"), ("token", ctx.token, "totalSupply")]
            + [("hub", ctx.hub, "rewardsDistributor")]
        )
        self.balances = dict(zip(ctx.accounts, reads[: len(ctx.accounts)], strict=True))
        self.base_thread_id, self.last_round, self.genesis_supply, wired = reads[len(ctx.accounts) :]
        assert int(wired, 16) == 0, "the machine launches rewards itself: the hub must start without a distributor"
        ctx.stats["examples"] += 1

    def teardown(self) -> None:
        self.ctx.chain.restore(self.snapshot_id)

    # --- plumbing ------------------------------------------------------------------------------------

    def _read(self, calls: list[tuple]) -> list[Any]:
        return self._read_at_head(calls)[1]

    def _read_at_head(self, calls: list[tuple]) -> tuple[int, list[Any]]:
        """The latest block's timestamp and the calls `(abi, address, method, *args)` decoded, read on it."""
        encoded = [(to, self.ctx.codec.encode(kind, method, *args)) for kind, to, method, *args in calls]
        head, raw = self.ctx.transport.read_at_head(encoded)
        return head, [self.ctx.codec.decode(c[0], c[2], r) for c, r in zip(calls, raw, strict=True)]

    def _send(
        self, label: str, sender: str, to: str | None, data: bytes, expect: Callable[[int], set[str]]
    ) -> TxResult:
        """Send a real transaction; `expect(t)` gives the errors the model allows at block time `t` (none:
        it must succeed). The chain state is compared with the model by the invariants afterwards."""
        return self._run(Tx(label, sender, to, data, expect))

    def _run(self, tx: Tx) -> TxResult:
        self._view = None
        result = self.ctx.transport.send(tx.sender, tx.to, tx.data)
        self._judge(tx, result)
        return result

    def _run_together(self, txs: list[Tx]) -> list[TxResult]:
        """Send transactions in one block (eth-tester) or one second (anvil), then judge them in order: each
        against the model as the ones before it left it."""
        if not txs:
            return []
        self._view = None
        results = self.ctx.transport.send_together([(tx.sender, tx.to, tx.data) for tx in txs])
        assert len({r.timestamp for r in results}) == 1, "transactions sent together span several seconds"
        for tx, result in zip(txs, results, strict=True):
            self._judge(tx, result)
        self.ctx.stats["batches of transactions in one block/second"] += 1
        return results

    def _judge(self, tx: Tx, result: TxResult) -> None:
        allowed = tx.expect(result.timestamp)
        if result.ok:
            assert not allowed, f"{tx.label}: expected a revert with one of {sorted(allowed)} at t={result.timestamp}"
        else:
            assert result.error in allowed, (
                f"{tx.label}: reverted with {result.error}{result.error_args} at t={result.timestamp}, "
                f"the model expected {sorted(allowed) or 'success'}"
            )
        self.ctx.stats[f"{tx.label}: {'ok' if result.ok else result.error}"] += 1
        self.ctx.stats["transactions"] += 1
        if result.ok and tx.apply is not None:
            tx.apply(result)

    def _thread_call(self, sender: str, th: ThreadModel, method: str, *args: Any) -> tuple[str, str, bytes]:
        return sender, th.address, self.ctx.codec.encode("thread", method, *args)

    def _now(self) -> int:
        return self.ctx.transport.head_timestamp()

    def _content(self, kind: str) -> bytes:
        self.messages += 1
        return content(f"{kind} {self.messages}")

    def _draw_citations(self, data: st.DataObject, th: ThreadModel, bad: bool = True) -> list[int]:
        """Citations of a new message of `th`: mostly of other threads (rewarded and counted), else of its own
        (neither) or both; none now and then. With `bad`, one in ten is refused: an unknown message, a
        duplicate, more than `MAX_CITATIONS`."""
        own = [th.message_id(i) for i in range(th.message_count)]
        other = [t.message_id(i) for t in self.threads if t is not th for i in range(t.message_count)]
        scope = data.draw(
            st.sampled_from(["other threads", "other threads", "both", "own thread", "none"]), label="cite"
        )
        pools = {"other threads": other, "own thread": own, "both": own + other, "none": []}
        citations = pick_many(data, pools[scope] or own, 3, "citations", min_size=1) if scope != "none" else []
        if bad and data.draw(st.integers(0, 9), label="bad citation") == 9:
            kind = data.draw(st.sampled_from(["unknown", "duplicate", "too many"]), label="bad citation kind")
            unknown = [th.message_id(th.message_count), (self.base_thread_id + 9) << 64, 0]
            if kind == "duplicate" and citations:
                citations = [*citations, citations[0]]
            elif kind == "too many":
                citations = [*citations, *own, *other][: MAX_CITATIONS + 1]
                citations += [own[0]] * (MAX_CITATIONS + 1 - len(citations))  # duplicates if too few exist
            else:
                citations = [*citations, pick(data, unknown, "unknown message")]
        return citations

    def _draw_author_kind(self, data: st.DataObject) -> int:
        """A declared author kind; one in ten is out of range (`UnknownAuthorKind`)."""
        bad = data.draw(st.integers(0, 9), label="bad author kind") == 9
        return data.draw(BAD_AUTHOR_KINDS if bad else AUTHOR_KINDS, label="author kind")

    def _free_authors(self, th: ThreadModel) -> list[str]:
        """Accounts that may submit a spec to `th`: no co-author, no spec pending there (else every actor)."""
        free = [a for a in self.ctx.actors if th.shares_of(a) == 0 and not th.has_pending_spec(a)]
        return free or self.ctx.actors

    def _draw_thread(self, data: st.DataObject) -> ThreadModel:
        return pick(data, self.threads, "thread")

    def _thread_of(self, message_id: int) -> ThreadModel | None:
        return next((t for t in self.threads if t.thread_id == message_id >> 64), None)

    def _citation_errors(self, citations: list[int]) -> set[str]:
        errors = set()
        if len(citations) > MAX_CITATIONS:
            errors.add("TooManyCitations")
        if len(set(citations)) < len(citations):
            errors.add("DuplicateCitation")
        for cited in citations:
            th = self._thread_of(cited)
            if th is None or (cited & (2**64 - 1)) >= th.message_count:
                errors.add("UnknownMessage")
        return errors

    def _record_citations(self, th: ThreadModel, message_id: int, citations: list[int], result: TxResult) -> None:
        """The hub records every cited message of another thread (a post's at once, a spec's on approval), and
        counts a citing thread once per cited thread (r2): `CitingThreadCounted` the first time only."""
        counted = [c for c in citations if c >> 64 != th.thread_id]
        recorded = [
            (e["citedThreadId"], e["citedMessageId"], e["citingMessageId"]) for e in result.all("CitationRecorded")
        ]
        assert recorded == [(c >> 64, c, message_id) for c in counted], f"message {message_id:#x}: citations"
        new_citers = []
        for cited in counted:
            cited_thread = self._thread_of(cited)
            assert cited_thread is not None
            if th.thread_id not in cited_thread.citing_threads:
                cited_thread.citing_threads.add(th.thread_id)
                new_citers.append((cited_thread.thread_id, th.thread_id, len(cited_thread.citing_threads)))
        got = [(e["citedThreadId"], e["citingThreadId"], e["citingThreads"]) for e in result.all("CitingThreadCounted")]
        assert got == new_citers, f"message {message_id:#x}: CitingThreadCounted {got}, model {new_citers}"
        self.ctx.stats["citations recorded at the hub"] += len(counted)
        self.ctx.stats["citing threads counted at the hub"] += len(new_citers)
        self.ctx.stats["citations of a thread already citing (not counted again)"] += len(counted) - len(new_citers)

    def _ensure_allowance(self, owner: str, th: ThreadModel) -> None:
        if (owner, th.address) in self.allowances:
            return
        data = self.ctx.codec.encode("token", "approve", th.address, 2**256 - 1)
        self._send("approve", owner, self.ctx.token, data, lambda t: set())
        self.allowances.add((owner, th.address))

    # --- actions: each sends one transaction and checks it against the model ------------------------

    def _create(self, creator: str, author_kind: int = HUMAN) -> ThreadModel | None:
        """A new thread whose root message declares `author_kind`; None if the hub refused the kind."""
        data = self.ctx.codec.encode("hub", "createThread", self._content("root"), author_kind)
        expected = {"UnknownAuthorKind"} if author_kind > AI_PROMPTED else set()
        result = self._send("createThread", creator, self.ctx.hub, data, lambda t: expected)
        if not result.ok:
            return None
        event = result.one("ThreadCreated")
        thread_id = self.base_thread_id + len(self.threads) + 1
        assert event["threadId"] == thread_id and event["creator"] == creator
        root = result.one("MessagePosted")
        assert (root["index"], root["author"], root["authorKind"]) == (0, creator, author_kind)
        (address,) = self._read([("hub", self.ctx.hub, "threadAddress", thread_id)])
        assert to_checksum_address(address) == event["thread"]
        th = ThreadModel(thread_id, event["thread"], HUB_DEFAULTS["approvalWindow"])
        (threshold,) = self._read([("thread", th.address, "approvalThreshold")])
        assert threshold == th.threshold == UNANIMOUS_BPS, "a new thread decides by unanimity"
        th.set_shares(creator, result.timestamp, WAD)  # protocol 2: the creator holds 1e18 shares
        th.set_total(result.timestamp, WAD)
        self.threads.append(th)
        return th

    def _submit(
        self, th: ThreadModel, author: str, stake: int, citations: list[int], author_kind: int = HUMAN
    ) -> int | None:
        """Stake on a spec; its id, or None if the protocol refused it (as the model expected)."""
        self._ensure_allowance(author, th)
        spec_id = th.message_count

        def expect(t: int) -> set[str]:
            errors = set()
            if stake == 0:
                errors.add("ZeroStake")
            if th.shares_of(author) > 0:
                errors.add("AlreadyCoauthor")
            if th.has_pending_spec(author):
                errors.add("PendingSpecExists")  # protocol 3 (r2): one pending spec per author per thread
            # Nobody held shares one second before, or nobody holds any now: nobody could decide the spec.
            if th.coauthors_at(t - 1) == 0 or not th.coauthors():
                errors.add("NoEligibleVoters")
            if stake < th.price_at(t):
                errors.add("StakeBelowPrice")
            errors |= self._citation_errors(citations)
            if stake > self.balances[author]:
                errors.add("ERC20InsufficientBalance")
            if author_kind > AI_PROMPTED:
                errors.add("UnknownAuthorKind")
            return errors

        call = self._thread_call(author, th, "submitSpec", self._content("spec"), citations, stake, author_kind)
        result = self._send("submitSpec", *call, expect)
        if not result.ok:
            return None
        t = result.timestamp
        event = result.one("SpecSubmitted")
        assert (event["specId"], event["author"], event["stake"]) == (spec_id, author, stake)
        assert event["price"] == th.price_at(t), "the spec records the price in force at submission"
        assert event["deadline"] == t + th.window
        assert list(event["citations"]) == citations
        assert event["authorKind"] == author_kind
        assert not result.all("CitationRecorded"), "a spec's citations count only once it is approved"
        assert not result.all("MessagePosted"), "a spec's message is its SpecSubmitted"
        th.specs[spec_id] = SpecModel(
            spec_id,
            author,
            stake,
            th.price_at(t),
            t,
            t + th.window,
            eligible=th.coauthors_at(t - 1),
            citations=citations,
        )
        th.message_count += 1
        th.locked += stake
        self.balances[author] -= stake
        return spec_id

    def _vote(self, th: ThreadModel, spec_id: int, voter: str, approve: bool) -> None:
        spec = th.specs.get(spec_id)

        def expect(t: int) -> set[str]:
            if spec is None:
                return {"UnknownSpec"}
            if spec.status != PENDING:
                return {"SpecNotPending"}
            errors = set()
            if t > spec.deadline:
                errors.add("VotingClosed")
            if th.shares_of(voter) == 0:
                errors.add("NotCoauthor")
            elif th.shares_at(voter, spec.submitted - 1) == 0:  # joined after the snapshot
                errors.add("NotEligibleForSpec")
            if voter in spec.votes:
                errors.add("AlreadyVoted")
            return errors

        result = self._send("vote", *self._thread_call(voter, th, "vote", spec_id, approve), expect)
        if result.ok:
            assert spec is not None and result.one("VoteCast") == {
                "specId": spec_id,
                "voter": voter,
                "approve": approve,
            }
            spec.votes[voter] = approve
            needed = th.threshold * spec.eligible
            crossed = spec.approvals * UNANIMOUS_BPS >= needed > (spec.approvals - 1) * UNANIMOUS_BPS
            everyone = spec.approvals == spec.eligible and spec.denials == 0  # certain under any threshold
            if approve and (crossed or everyone):
                # the approvals reached the threshold of the eligible (under unanimity: every eligible co-author
                # approved): certain now (r2); under a lower threshold the last approvals of the second it became
                # certain in repeat the event for that same second
                spec.deadline = result.timestamp
                assert result.all("ApprovalCertain"), f"spec {spec_id}: no ApprovalCertain"
            else:
                assert not result.all("ApprovalCertain"), f"spec {spec_id}: ApprovalCertain at an uncertain vote"

    def _settle(self, th: ThreadModel, spec_id: int, caller: str, departed: list[str] | None = None) -> None:
        self._run(self._settle_tx(th, spec_id, caller, departed))

    @staticmethod
    def _settleable(th: ThreadModel, spec: SpecModel, t: int, departed: int = 0) -> bool:
        """protocol 3 (r2): a pending spec settles once every eligible co-author voted or left (`departed` of them
        shown to have left without voting), at once when the thread has no co-author, else after its deadline."""
        decided = not th.coauthors() or len(spec.votes) + departed >= spec.eligible
        return spec.status == PENDING and (decided or t > spec.deadline)

    def _departures_error(self, th: ThreadModel, spec: SpecModel | None, departed: list[str]) -> str | None:
        """The first error `settleWithDepartures` meets in its list: out of order (or repeated), or an account
        that was not eligible for the spec, holds shares now, or voted on it."""
        previous = 0
        for account in departed:
            if int(account, 16) <= previous:
                return "DeparturesNotSorted"
            previous = int(account, 16)
            eligible = spec is not None and th.shares_at(account, spec.submitted - 1) > 0
            if th.shares_of(account) != 0 or not eligible or (spec is not None and account in spec.votes):
                return "NotDeparted"
        return None

    def _settle_tx(self, th: ThreadModel, spec_id: int, caller: str, departed: list[str] | None = None) -> Tx:
        """`settle(specId)`, or `settleWithDepartures(specId, departed)` when `departed` is given."""
        spec = th.specs.get(spec_id)

        def expect(t: int) -> set[str]:
            error = self._departures_error(th, spec, departed or [])
            if error is not None:
                return {error}
            if spec is None:
                return {"UnknownSpec"}
            if spec.status != PENDING:
                return {"SpecNotPending"}
            # Either way the contract counts every departed non-voter itself (from its exit log) when the votes
            # alone do not decide, so the outcome never depends on the list a caller gave.
            if not self._settleable(th, spec, t, len(th.departed(spec))):
                return {"SettleTooEarly"}
            return set()

        def apply(result: TxResult) -> None:
            assert spec is not None
            self._apply_settlement(th, spec, result, len(th.departed(spec)))

        if departed is None:
            return Tx("settle", *self._thread_call(caller, th, "settle", spec_id), expect, apply)
        call = self._thread_call(caller, th, "settleWithDepartures", spec_id, departed)
        return Tx("settleWithDepartures", *call, expect, apply)

    def _apply_settlement(self, th: ThreadModel, spec: SpecModel, result: TxResult, departed: int) -> None:
        spec_id = spec.spec_id
        t = result.timestamp
        empty = not th.coauthors()  # the thread had no co-author when it settled
        all_left = not spec.votes and len(th.departed(spec)) >= spec.eligible
        if not spec.votes and (empty or departed >= spec.eligible):
            # protocol 3 (r2): nobody voted and nobody eligible is left to: the stake goes back to its author
            outcome, gain, per = REFUNDED, 0, 0
        else:
            outcome, gain, per = divide(spec.stake, spec.approvals, spec.denials, th.threshold)
        event = result.one("SpecSettled")
        assert not result.all("MessagePosted"), "settling emits no MessagePosted: SpecSubmitted carried the message"
        refunds = [
            e.args["value"]
            for e in result.events
            if e.name == "Transfer" and (e.args["from"], e.args["to"]) == (th.address, spec.author)
        ]
        self.settlements.append((th, spec_id, event, (outcome, gain, per), spec.stake, sum(refunds)))
        spec.status, spec.per_denier = outcome, per
        if outcome == REFUNDED:
            assert refunds == [spec.stake], f"spec {spec_id}: refund transfers {refunds}, stake {spec.stake}"
            th.locked -= spec.stake
            self.balances[spec.author] += spec.stake
        else:
            assert not refunds, f"spec {spec_id}: {STATUS_NAMES[outcome]} sent {refunds} back to its author"
        treasury_before = th.treasury
        th.locked -= gain  # the deniers' payouts stay locked until claimed
        th.treasury += gain
        if outcome == APPROVED:
            held = th.shares_of(spec.author)
            others = len([a for a in th.coauthors() if a != spec.author])
            total = th.total_shares()
            added = new_shares(spec.stake, spec.price, others, treasury_before, total)
            floor = spec.stake * WAD // (treasury_before + spec.stake)
            if total and floor < equity_without_floor(spec.stake, spec.price, others):
                self.ctx.stats["NAV floor bound the equity of a join"] += 1
            if added:
                joined = result.one("CoauthorJoined")
                assert joined == {
                    "account": spec.author,
                    "specId": spec_id,
                    "sharesAdded": added,
                    "totalShares": total + added,
                }
                th.set_shares(spec.author, t, held + added)
                th.set_total(t, total + added)
                self.joins.append((th, spec_id, spec.stake, added, total + added, th.treasury, total))
            else:  # MAX_TOTAL_SHARES reached: approved, no equity (practically never)
                assert not result.all("CoauthorJoined")
            self._reward_approval(th, spec, result)
        else:
            for name in ("CoauthorJoined", "CitationRecorded", "CitingThreadCounted"):
                assert not result.all(name), f"only an approved spec emits {name}"
        for name in ("MessageRewarded", "CitationRewarded", "RewardCredited"):
            assert not result.all(name), f"settle emitted {name}: settlement pays no reward (r2)"
        # protocol 7 (r2): only an approved spec keeps its citations (the allocation splits its reward by them)
        (kept,) = self._read([("thread", th.address, "specCitations", spec_id)])
        assert list(kept) == (spec.citations if outcome == APPROVED else []), f"spec {spec_id}: specCitations"
        if th.total_shares() == 0 and gain:
            self.ctx.stats["note: stake went to a treasury nobody holds shares in"] += 1
        if departed:
            self.ctx.stats[f"settled with {departed} departure(s)"] += 1
        if all_left and outcome != REFUNDED:  # plain `settle` after the deadline: see the report
            self.ctx.stats[f"note: settled {STATUS_NAMES[outcome]} although every eligible co-author had left"] += 1
        if empty:
            self.ctx.stats[f"settled {STATUS_NAMES[outcome]} in a thread without co-authors"] += 1
        self.ctx.stats[f"settled {STATUS_NAMES[outcome]}"] += 1

    def _emission_cap(self, timestamp: int) -> int:
        """F at `timestamp`, from the contract (the curve itself is tested against Python elsewhere)."""
        assert self.rewards is not None
        if timestamp not in self._caps:
            (self._caps[timestamp],) = self._read([("distributor", self.rewards.address, "emissionCap", timestamp)])
        return self._caps[timestamp]

    def _thread_by_id(self, thread_id: int) -> ThreadModel:
        th = next((t for t in self.threads if t.thread_id == thread_id), None)
        assert th is not None, f"thread {thread_id} is not in the model"
        return th

    def _reward_approval(self, th: ThreadModel, spec: SpecModel, result: TxResult) -> None:
        """protocol 7: the approved spec's citations are counted; nothing is minted (rewards come with the epoch's
        allocation, after the epoch closed)."""
        self._record_citations(th, th.message_id(spec.spec_id), spec.citations, result)
        self.ctx.stats["reward: approvals settled (nothing minted)"] += 1

    def _certain_at(self, th: ThreadModel, spec: SpecModel, t: int) -> int:
        """When the approval of `spec` became certain at time `t` (0: not approved, or not yet certain)."""
        if spec.status == APPROVED:
            return spec.deadline
        if spec.status != PENDING or spec.approvals == 0:
            return 0
        approvals = spec.approvals * UNANIMOUS_BPS
        if approvals >= th.threshold * spec.eligible:  # `vote` moved the deadline to that vote's second
            return spec.deadline
        return spec.deadline if t > spec.deadline and approvals >= th.threshold * len(spec.votes) else 0

    @staticmethod
    def _joined_after(th: ThreadModel, spec: SpecModel) -> list[str]:
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) == 0]

    def _can_vote(self, th: ThreadModel, spec_id: int) -> list[str]:
        spec = th.specs.get(spec_id)
        if spec is None or spec.status != PENDING:
            return []
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) > 0 and a not in spec.votes]

    # --- rewards ---------------------------------------------------------------------------------------

    def _launch_rewards(self, data: st.DataObject) -> None:
        """Deploy a fresh distributor (its curve starting at deployment, or a little earlier, or a day or the
        whole curve minus two seconds earlier), then in one block (one second on anvil), at once or a second
        later: give it the minter role and the pricer its oracle role, wire it into the hub, and settle every
        spec that is ready (which mints nothing)."""
        ctx = self.ctx
        # mostly at deployment (where the cap binds), else earlier: by 0 s (the latest block), 5 s, or two seconds
        # before the first epoch ends or before the curve's end
        starts: list[int | None] = [None] * 6 + [0, 5, DAY - 2, EMISSION_END - 2]
        ago = starts[data.draw(st.integers(0, len(starts) - 1), label="launch: curve started seconds ago")]
        # wired in the next block (eth-tester: a second later) or the same second (anvil), else a little later
        delay = int(data.draw(st.integers(0, 2), label="launch: wired later") == 2)
        now = self._now()
        launch_arg = 0 if ago is None else now - ago
        code = ctx.distributor_code + abi_encode(ctx.distributor_args, [ctx.token, ctx.hub, ctx.admin, launch_arg])
        result = self._send("deploy RewardsDistributor", ctx.admin, None, code, lambda t: set())
        address = result.contract_address
        assert address is not None
        launch, minter_role, oracle_role = self._read(
            [
                ("distributor", address, "launchTime"),
                ("token", ctx.token, "MINTER_ROLE"),
                ("distributor", address, "ORACLE_ROLE"),
            ]
        )
        assert launch == (result.timestamp if ago is None else launch_arg), "launchTime"
        rewards = RewardsModel(address, launch)
        self.rewards = rewards
        ctx.stats[f"launch: {'at deployment' if ago is None else f'{ago} s before deployment'}"] += 1
        if delay:
            ctx.chain.mine(deltatime=delay)

        def wired(result: TxResult) -> None:
            assert result.one("RewardsDistributorSet") == {"distributor": address}
            rewards.wired = True

        codec = ctx.codec
        txs = [
            Tx(
                "grant MINTER_ROLE",
                ctx.admin,
                ctx.token,
                codec.encode("token", "grantRole", minter_role, address),
                lambda t: set(),
            ),
            Tx(
                "grant ORACLE_ROLE",
                ctx.admin,
                address,
                codec.encode("distributor", "grantRole", oracle_role, ctx.pricer),
                lambda t: set(),
            ),
            Tx(
                "setRewardsDistributor",
                ctx.admin,
                ctx.hub,
                codec.encode("hub", "setRewardsDistributor", address),
                lambda t: set(),
                wired,
            ),
        ]
        now = self._now()
        ready = [(th, s) for th in self.threads for s in th.pending() if self._settleable(th, s, now)]
        txs += [self._settle_tx(th, s.spec_id, s.author) for th, s in ready]
        self._run_together(txs)

    def _score_tx(self, ids: list[int], similarities: list[int]) -> Tx:
        rewards = self.rewards
        assert rewards is not None
        round_ = rewards.last_round + 1

        def apply(result: TxResult) -> None:
            event = result.one("NoveltyScoresSet")
            assert (event["round"], event["modelId"], list(event["messageIds"])) == (round_, MODEL_ID, ids)
            rewards.last_round = round_
            for message_id, similarity in zip(ids, similarities, strict=True):
                rewards.weighted[message_id] = similarity <= 95 * WAD // 100

        data = self.ctx.codec.encode("distributor", "setNoveltyScores", round_, MODEL_ID, 1, ids, similarities)
        return Tx("setNoveltyScores", self.ctx.pricer, rewards.address, data, lambda t: set(), apply)

    def _approved_in(self, epoch: int, t: int) -> list[tuple[ThreadModel, SpecModel]]:
        """Specs whose approval became certain during `epoch`, as the model sees them at time `t`."""
        rewards = self.rewards
        assert rewards is not None
        start = rewards.epoch_start(epoch)
        return [
            (th, spec)
            for th in self.threads
            for spec in th.specs.values()
            if start <= self._certain_at(th, spec, t) < start + DAY
        ]

    def _allocate_tx(self, sender: str, epoch: int, items: list[tuple[ThreadModel, int, int]]) -> Tx:
        """`allocate(epoch, ids, amounts)` and what the model makes of it (`items`: thread, spec id, amount)."""
        rewards = self.rewards
        assert rewards is not None
        ids = [th.message_id(spec_id) for th, spec_id, _ in items]
        amounts = [amount for _, _, amount in items]

        def expect(t: int) -> set[str]:
            if sender != self.ctx.pricer:
                return {"AccessControlUnauthorizedAccount"}
            if epoch >= rewards.epoch_at(t):
                return {"EpochNotClosed"}
            start, errors, seen = rewards.epoch_start(epoch), set(), set()
            for (th, spec_id, amount), message_id in zip(items, ids, strict=True):
                spec = th.specs.get(spec_id)
                certain = self._certain_at(th, spec, t) if spec is not None else 0
                if amount == 0:
                    errors.add("ZeroAmount")
                elif not start <= certain < start + DAY:
                    errors.add("NotApprovedInEpoch")
                elif message_id in rewards.paid or message_id in seen:
                    errors.add("AlreadyPaid")
                elif not rewards.weighted.get(message_id, False):
                    errors.add("NoNoveltyWeight")
                seen.add(message_id)
                if errors:
                    return errors  # the contract stops at the first bad message
            budget = self._emission_cap(start + DAY) - self._emission_cap(start)
            if rewards.allocated.get(epoch, 0) + sum(amounts) > budget:
                return {"BudgetExceeded"}
            if rewards.minted + sum(amounts) > self._emission_cap(t):
                return {"EmissionCapExceeded"}
            return set()

        def apply(result: TxResult) -> None:
            total = sum(amounts)
            batch = result.one("EpochAllocated")
            assert (batch["epoch"], batch["messages"], batch["amount"]) == (epoch, len(ids), total)
            rewards.allocated[epoch] = rewards.allocated.get(epoch, 0) + total
            assert batch["allocated"] == rewards.allocated[epoch]
            expected_rewarded, expected_cited, expected_credits = [], [], []
            for (th, _, amount), message_id in zip(items, ids, strict=True):
                spec = th.specs[message_id & (2**64 - 1)]
                cited = [
                    c
                    for c in dict.fromkeys(c >> 64 for c in spec.citations if c >> 64 != th.thread_id)
                    if self._thread_by_id(c).coauthors()
                ]
                per, to_thread = split_reward(amount, len(cited))
                expected_rewarded.append((message_id, epoch, amount, to_thread))
                expected_credits.append((th.address, message_id, to_thread))
                th.treasury += to_thread
                if per:
                    for c in cited:
                        expected_cited.append((c, message_id, per))
                        expected_credits.append((self._thread_by_id(c).address, message_id, per))
                        self._thread_by_id(c).treasury += per
                    self.ctx.stats["reward: citation credits"] += len(cited)
                rewards.paid.add(message_id)
            rewarded = [(e["messageId"], e["epoch"], e["amount"], e["toThread"]) for e in result.all("MessageRewarded")]
            assert rewarded == expected_rewarded, "MessageRewarded"
            assert [(e["threadId"], e["messageId"], e["amount"]) for e in result.all("CitationRewarded")] == (
                expected_cited
            )
            credited = [
                (e.address, e.args["messageId"], e.args["amount"]) for e in result.events if e.name == "RewardCredited"
            ]
            assert credited == expected_credits, "RewardCredited"
            rewards.minted += total
            self.ctx.stats["reward: rewarded messages"] += len(ids)

        data = self.ctx.codec.encode("distributor", "allocate", epoch, ids, amounts)
        return Tx("allocate", sender, rewards.address, data, expect, apply)

    @precondition(lambda self: self.rewards is None)
    @rule(data=st.data())
    def launch_rewards(self, data: st.DataObject) -> None:
        self._launch_rewards(data)

    @precondition(lambda self: self.rewards is not None and self.rewards.wired)
    @rule(
        data=st.data(),
        mode=st.sampled_from(["pay"] * 5 + ["over budget", "twice", "other epoch", "open epoch", "intruder"]),
        similarities=st.lists(
            st.sampled_from([0, 8 * WAD // 10, 9 * WAD // 10, 99 * WAD // 100]), min_size=4, max_size=4
        ),
        shares=st.lists(st.integers(1, 1_000), min_size=4, max_size=4),
        scale=st.sampled_from([1, 1_000, 10**15, 10**18]),
    )
    def allocate(self, data: st.DataObject, mode: str, similarities: list[int], shares: list[int], scale: int) -> None:
        """The oracle scores the specs approved during a closed epoch, then pays them a share of the epoch's
        budget (protocol 7, r2); over the budget, a message twice or from another epoch, an epoch still open, or by
        someone else, it is refused and nothing changes."""
        rewards = self.rewards
        assert rewards is not None
        now = self._now()

        def unpaid_epochs(t: int) -> list[int]:
            """Epochs (open or closed) holding approvals not yet paid, at time `t`."""
            certain = [
                (th.message_id(s.spec_id), self._certain_at(th, s, t)) for th in self.threads for s in th.specs.values()
            ]
            return sorted({rewards.epoch_at(c) for m, c in certain if c >= rewards.launch and m not in rewards.paid})

        current = rewards.epoch_at(now)
        if mode != "open epoch" and unpaid_epochs(now) and max(unpaid_epochs(now)) >= current:
            # the latest approvals' epoch is still open: close it (the oracle allocates after the epoch)
            self._view = None
            self.ctx.chain.mine(deltatime=rewards.epoch_start(current + 1) - now)
            now = self._now()
            current = rewards.epoch_at(now)
        closed = [e for e in unpaid_epochs(now) if e < current]
        epoch = pick(data, closed or [max(current - 1, 0)], "epoch")
        intruder = pick(data, self.ctx.actors, "intruder")
        candidates = [
            (th, s) for th, s in self._approved_in(epoch, now) if th.message_id(s.spec_id) not in rewards.paid
        ]
        chosen = candidates[:4]
        if chosen:
            ids = [th.message_id(s.spec_id) for th, s in chosen]
            self._run(self._score_tx(ids, similarities[: len(ids)]))
        budget = self._emission_cap(rewards.epoch_start(epoch) + DAY) - self._emission_cap(rewards.epoch_start(epoch))
        left = budget - rewards.allocated.get(epoch, 0)
        weighted = [(th, s) for th, s in chosen if rewards.weighted.get(th.message_id(s.spec_id), False)]
        amounts = [min(share * scale, max(left // 8, 1)) for share in shares[: len(weighted)]]
        items = [(th, s.spec_id, a) for (th, s), a in zip(weighted, amounts, strict=True)]
        sender = self.ctx.pricer
        if mode == "over budget" and items:
            items[-1] = (items[-1][0], items[-1][1], left - sum(a for _, _, a in items[:-1]) + 1)
        elif mode == "twice":
            paid = [
                (th, s.spec_id, 1)
                for th in self.threads
                for s in th.specs.values()
                if th.message_id(s.spec_id) in rewards.paid
            ]
            items = items + paid[:1] + items[:1]
        elif mode == "other epoch":
            others = [(th, s.spec_id, 1) for e in closed if e != epoch for th, s in self._approved_in(e, now)]
            items = items + others[:1]
        elif mode == "open epoch":
            epoch = current
        elif mode == "intruder":
            sender = intruder
        self._run(self._allocate_tx(sender, epoch, items))
        self.ctx.stats[f"allocate: {mode}"] += 1

    @rule(
        data=st.data(),
        what=st.sampled_from(["creditReward", "allocate", "recordCitations", "setRewardsDistributor", "mint"]),
        amount=st.integers(1, 1_000 * CHOIR),
    )
    def intrude(self, data: st.DataObject, what: str, amount: int) -> None:
        """Someone other than the distributor, a thread, the oracle or the admin tries to mint, credit a treasury,
        count citations, allocate an epoch or rewire rewards: refused, nothing changes (the invariants check the
        ledgers after it)."""
        ctx = self.ctx
        intruder = pick(data, [ctx.pricer, *ctx.actors], "intruder")
        th = self._draw_thread(data)
        message = th.message_id(pick(data, list(range(th.message_count)), "message"))
        other = pick(data, self.threads, "cited thread").message_id(0)
        codec = ctx.codec
        if what == "allocate" and self.rewards is None:
            what = "creditReward"  # no distributor yet
        if what == "allocate" and self.rewards is not None:  # (for mypy: the line above)
            intruder = intruder if intruder != ctx.pricer else ctx.actors[0]  # the pricer is the oracle
            to, call = self.rewards.address, codec.encode("distributor", "allocate", 0, [message], [amount])
            errors = {"AccessControlUnauthorizedAccount"}
        elif what == "recordCitations":
            to, call, errors = ctx.hub, codec.encode("hub", "recordCitations", message, [other]), {"NotThread"}
        elif what == "setRewardsDistributor":
            call = codec.encode("hub", "setRewardsDistributor", intruder)
            to, errors = ctx.hub, {"AccessControlUnauthorizedAccount"}
        elif what == "mint":
            to, call = ctx.token, codec.encode("token", "mint", intruder, amount)
            errors = {"AccessControlUnauthorizedAccount"}
        else:
            to, call = th.address, codec.encode("thread", "creditReward", message, amount)
            errors = {"OnlyRewardsDistributor"}
        self._send(f"{what} by an intruder", intruder, to, call, lambda t: errors)

    @rule(data=st.data())
    def settle_ready_together(self, data: st.DataObject) -> None:
        """Up to four specs that are ready settled in one block (one second on anvil): several approvals meet
        the same cap and the same epoch's reward, and shares change more than once in a second."""
        now = self._now()
        ready = [(th, s.spec_id) for th in self.threads for s in th.pending() if self._settleable(th, s, now)]
        chosen = pick_many(data, ready, 4, "ready specs", min_size=1)
        self._run_together([self._settle_tx(th, i, th.specs[i].author) for th, i in chosen])

    # --- rules: threads and messages -----------------------------------------------------------------

    @initialize(
        creator=st.integers(0, 7),
        joiners=st.integers(0, 3),
        extras=st.lists(st.integers(0, 3_000), min_size=3, max_size=3),
        rewards_later=st.integers(0, 3),
        second=st.booleans(),
        data=st.data(),
    )
    def first_thread(
        self, creator: int, joiners: int, extras: list[int], rewards_later: int, second: bool, data: st.DataObject
    ) -> None:
        """A first thread, and up to three more co-authors who join it the ordinary way (stake, all approve,
        settle), so that votes can split and members can leave from the first step on.

        Most examples launch rewards here: at least one joiner's spec (citing the root message, which earns
        nothing, and the root of a second thread if there is one, which earns a citation share) is approved by
        the creator, and they are settled together in the launch block, the first approvals the curve meets,
        so their rewards are mostly capped. The other examples join one after another (later joiners vote on
        the next) and launch rewards later by a rule."""
        th = self._create(self.ctx.actors[creator])
        assert th is not None
        if second:  # by another account: so that specs can cite another thread from the first step on
            self._create(self.ctx.actors[(creator + 1) % len(self.ctx.actors)])
        if rewards_later != 3:  # mostly
            self.ctx.chain.mine(deltatime=1)  # voters need shares one second before the spec
            authors = [a for a in self.ctx.actors if a not in th.shares][: max(joiners, 1)]
            citations = [t.message_id(0) for t in self.threads]
            for author, extra in zip(authors, extras, strict=False):
                price = th.price_at(self._now())
                spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
                assert spec_id is not None
                for voter in self._can_vote(th, spec_id):
                    self._vote(th, spec_id, voter, True)
            self._launch_rewards(data)
            self.ctx.chain.mine(deltatime=1)
            return
        for extra in extras[:joiners]:
            self.ctx.chain.mine(deltatime=1)  # voters need shares one second before the spec
            author = next(a for a in self.ctx.actors if th.shares_of(a) == 0 and a not in th.shares)
            price = th.price_at(self._now())
            spec_id = self._submit(th, author, price + price * extra // 1_000, [])
            assert spec_id is not None
            for voter in self._can_vote(th, spec_id):
                self._vote(th, spec_id, voter, True)
            self._settle(th, spec_id, author)
        self.ctx.chain.mine(deltatime=1)

    @precondition(lambda self: len(self.threads) < MAX_THREADS)
    @rule(creator=st.integers(0, 7), wait=st.integers(0, 3), data=st.data())
    def create_thread(self, creator: int, wait: int, data: st.DataObject) -> None:
        """A new thread; mostly a second passes after it (`wait` 0-2), else new specs find no voters."""
        self._create(self.ctx.actors[creator], self._draw_author_kind(data))
        if wait != 3:
            self.ctx.chain.mine(deltatime=1)

    @rule(data=st.data())
    def post(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        author = pick_mostly(data, th.coauthors(), self.ctx.actors, "author")
        citations = self._draw_citations(data, th)
        author_kind = self._draw_author_kind(data)
        index = th.message_count

        def expect(t: int) -> set[str]:
            errors = self._citation_errors(citations)
            if th.shares_of(author) == 0:
                errors.add("NotCoauthor")
            if author_kind > AI_PROMPTED:
                errors.add("UnknownAuthorKind")
            return errors

        call = self._thread_call(author, th, "post", self._content("post"), citations, author_kind)
        result = self._send("post", *call, expect)
        if result.ok:
            posted = result.one("MessagePosted")
            assert (posted["index"], posted["author"], posted["authorKind"]) == (index, author, author_kind)
            self._record_citations(th, th.message_id(index), citations, result)
            th.message_count += 1

    @rule(data=st.data())
    def submit_spec(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        kind = data.draw(st.sampled_from(["stake", "stake", "stake", "below price", "zero", "co-author", "second"]))
        insiders = th.coauthors()
        outsiders = [a for a in self.ctx.actors if a not in insiders]
        waiting = [s.author for s in th.pending()]  # a second spec of theirs is refused (r2)
        pool = insiders if (kind == "co-author" and insiders) or not outsiders else outsiders
        if kind == "second" and waiting:
            pool = waiting
        author = pick(data, pool, "author")
        # amounts in thousandths of the price, so the draws do not depend on the price in force
        short = data.draw(st.integers(0, 999), label="short by (thousandths)")
        extra = data.draw(st.one_of(st.integers(0, 3_000), st.just(20_000)), label="extra (thousandths)")
        citations = self._draw_citations(data, th)
        price = th.price_at(self._now())
        if kind == "below price":
            stake = price - max(1, price * short // 1_000)
        elif kind == "zero":
            stake = 0
        else:
            stake = price + price * extra // 1_000
        self._submit(th, author, stake, citations, self._draw_author_kind(data))

    @rule(
        data=st.data(),
        extra=st.integers(0, 3_000),
        votes=st.lists(st.booleans(), max_size=4),
        settle_now=st.booleans(),
    )
    def spec_round(self, data: st.DataObject, extra: int, votes: list[bool], settle_now: bool) -> None:
        """The main path in one step: a spec at the price plus `extra` thousandths, mostly citing other threads
        (its approval then rewards them), votes (approve or deny) of some of its eligible voters, and settlement
        right away or left for later."""
        th = self._draw_thread(data)
        author = pick(data, self._free_authors(th), "author")
        citations = self._draw_citations(data, th, bad=False)
        price = th.price_at(self._now())
        spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
        if spec_id is None:
            return
        for voter, approve in zip(self._can_vote(th, spec_id), votes, strict=False):
            self._vote(th, spec_id, voter, approve)
        if settle_now:
            self._settle(th, spec_id, author)

    @rule(data=st.data(), extra=st.integers(0, 3_000), settle_now=st.booleans())
    def spec_approved_by_all(self, data: st.DataObject, extra: int, settle_now: bool) -> None:
        """The path rewards follow: a spec, mostly citing other threads, that every eligible co-author
        approves; settled at once, or left ready for `settle_ready_together` or `settle`."""
        th = self._draw_thread(data)
        author = pick(data, self._free_authors(th), "author")
        citations = self._draw_citations(data, th, bad=False)
        price = th.price_at(self._now())
        spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
        if spec_id is None:
            return
        for voter in self._can_vote(th, spec_id):
            self._vote(th, spec_id, voter, True)
        if settle_now:
            self._settle(th, spec_id, author)

    # --- rules: votes and settlement -----------------------------------------------------------------

    def _draw_spec(self, data: st.DataObject) -> tuple[ThreadModel, int]:
        """Mostly a pending spec; else a settled one, a message that is no spec, or an unknown id."""
        pending = [(t, s.spec_id) for t in self.threads for s in t.pending()]
        others = [
            (t, i)
            for t in self.threads
            for i in [*range(t.message_count), t.message_count + 3]
            if i not in t.specs or t.specs[i].status != PENDING
        ]
        return pick_mostly(data, pending, pending + others, "spec")

    @rule(data=st.data())
    def vote(self, data: st.DataObject) -> None:
        th, spec_id = self._draw_spec(data)
        who = data.draw(st.sampled_from(["eligible"] * 5 + ["joined later", "co-author", "anyone"]))
        # a pending spec with a co-author who joined after its submission, and so may not vote on it
        late = [(t, s.spec_id, a) for t in self.threads for s in t.pending() for a in self._joined_after(t, s)]
        late_pick = pick(data, late or [None], "joined later")
        pools = {"eligible": self._can_vote(th, spec_id), "co-author": th.coauthors()}
        voter = pick(data, pools.get(who) or self.ctx.actors, "voter")  # drawn either way: the same shape
        if who == "joined later" and late_pick:
            th, spec_id, voter = late_pick
        approve = data.draw(st.booleans(), label="approve")
        self._vote(th, spec_id, voter, approve)

    @rule(data=st.data(), approvals=st.lists(st.booleans(), min_size=4, max_size=4))
    def votes_in_a_row(self, data: st.DataObject, approvals: list[bool]) -> None:
        """Several co-authors vote on one spec back to back (within one second, on anvil)."""
        th, spec_id = self._draw_spec(data)
        voters = pick_many(data, self._can_vote(th, spec_id), 4, "voters", min_size=1)
        for voter, approve in zip(voters, approvals, strict=False):
            self._vote(th, spec_id, voter, approve)

    @rule(data=st.data(), caller=st.integers(0, 7))
    def settle(self, data: st.DataObject, caller: int) -> None:
        th, spec_id = self._draw_spec(data)
        self._settle(th, spec_id, self.ctx.actors[caller])

    @rule(
        data=st.data(),
        mode=st.sampled_from(["departed"] * 4 + ["some", "unsorted", "not departed"]),
        caller=st.integers(0, 7),
    )
    def settle_with_departures(self, data: st.DataObject, mode: str, caller: int) -> None:
        """protocol 3 (r2): settle a spec without waiting for its eligible co-authors who left without voting,
        listed in increasing address order (Refunded when they all left and nobody voted). Now and then the list
        leaves some out (early only once the others voted), is out of order or repeats one
        (`DeparturesNotSorted`), or names an account that did not depart (`NotDeparted`: a co-author now, a voter,
        or not eligible)."""
        with_departures = [(t, s.spec_id) for t in self.threads for s in t.pending() if t.departed(s)]
        drawn = self._draw_spec(data)  # both draws every time: the same shape whatever the state
        th, spec_id = pick(data, with_departures or [drawn], "spec with departures")
        spec = th.specs.get(spec_id)
        departed = th.departed(spec) if spec is not None else []
        if mode == "some":
            departed = departed[:-1]
        elif mode == "unsorted":
            departed = departed[::-1] if len(departed) > 1 else [*departed, *departed] or self.ctx.actors[:1] * 2
        elif mode == "not departed":
            stray = pick(data, [a for a in self.ctx.actors if a not in departed] or self.ctx.actors, "not departed")
            departed = sorted([*departed, stray], key=lambda a: int(a, 16))
        self._settle(th, spec_id, self.ctx.actors[caller], departed)
        self.ctx.stats[f"settleWithDepartures: {mode}"] += 1

    @rule(data=st.data())
    def claim_curator_rewards(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        claimable = {a: [s.spec_id for s in th.specs.values() if a in s.unclaimed()] for a in self.ctx.actors}
        curators = [a for a in self.ctx.actors if claimable[a]]
        curator = pick_mostly(data, curators, self.ctx.actors, "curator")
        ids = pick_many(data, claimable[curator], 3, "spec ids")
        # now and then a spec it cannot claim from (pending, approved, not denied by it, or claimed just now)
        bad = data.draw(st.integers(0, 4), label="bad id") == 4
        wrong = pick(data, [*sorted(th.specs), th.message_count], "unclaimable id")
        if bad:
            ids = [*ids, wrong]

        def expect(t: int) -> set[str]:
            taken: set[int] = set()
            for spec_id in ids:
                spec = th.specs.get(spec_id)
                if spec is None or spec_id in taken or curator not in spec.unclaimed():
                    return {"NoCuratorReward"}
                taken.add(spec_id)
            return set()

        result = self._send("claimCuratorRewards", *self._thread_call(curator, th, "claimCuratorRewards", ids), expect)
        if not result.ok:
            return
        paid = result.all("CuratorRewardClaimed")
        assert [(e["specId"], e["curator"], e["amount"]) for e in paid] == [
            (i, curator, th.specs[i].per_denier) for i in ids
        ]
        amount = sum(th.specs[i].per_denier for i in ids)
        for spec_id in ids:
            th.specs[spec_id].claimed.add(curator)
        th.locked -= amount
        self.balances[curator] += amount

    # --- rules: equity -------------------------------------------------------------------------------

    def _exit(self, th: ThreadModel, member: str) -> None:
        def expect(t: int) -> set[str]:
            if th.shares_of(member) == 0:
                return {"NotCoauthor"}
            errors = set()
            if t < th.joined_at(member) + DAY:
                errors.add("ExitCooldown")
            # protocol 5 (r2): the last co-author may leave too, pending specs or not
            return errors

        last_with_pending = th.coauthors() == [member] and bool(th.pending())
        result = self._send("exit", *self._thread_call(member, th, "exit"), expect)
        if not result.ok:
            return
        if last_with_pending:
            self.ctx.stats["exit: the last co-author left with specs pending"] += 1
        held, total = th.shares_of(member), th.total_shares()
        payout = th.treasury * held // total  # protocol 5: pro-rata part of the treasury
        assert result.one("CoauthorExited") == {
            "account": member,
            "shares": held,
            "payout": payout,
            "totalShares": total - held,
        }
        th.set_shares(member, result.timestamp, 0)
        th.set_total(result.timestamp, total - held)
        th.treasury -= payout
        self.balances[member] += payout

    @rule(data=st.data())
    def exit(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        self._exit(th, pick_mostly(data, th.coauthors(), self.ctx.actors, "member"))

    @rule(data=st.data(), everyone=st.booleans())
    def leave_a_pending_spec(self, data: st.DataObject, everyone: bool) -> None:
        """The co-authors eligible for a pending spec who have not voted on it leave (all of them, or all but one),
        once their cooldowns allow it within the spec's window: what `settleWithDepartures` and Refunded are for
        (protocol 3, r2); with no newcomer in the thread, its last co-author leaves with specs pending."""
        waiting = [(t, s) for t in self.threads for s in t.pending() if self._non_voters(t, s)]
        chosen = pick(data, waiting or [None], "spec")  # a draw of the same shape either way
        if chosen is None:
            return
        th, spec = chosen
        leavers = self._non_voters(th, spec)
        leavers = leavers if everyone else leavers[1:]
        ready_at = max((th.joined_at(a) + DAY for a in leavers), default=0)
        now = self._now()
        if ready_at > now:
            if ready_at > spec.deadline:
                return
            self._view = None
            self.ctx.chain.mine(deltatime=ready_at - now)
        for member in leavers:
            self._exit(th, member)
        self.ctx.stats[f"leave a pending spec: {'everyone' if everyone else 'all but one'}"] += 1

    @staticmethod
    def _non_voters(th: ThreadModel, spec: SpecModel) -> list[str]:
        """Co-authors now, eligible for `spec`, who have not voted on it."""
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) > 0 and a not in spec.votes]

    @rule(data=st.data(), change=st.sampled_from(["exit", "join"]), extra=st.integers(0, 3_000))
    def change_members_then_spec_in_one_second(self, data: st.DataObject, change: str, extra: int) -> None:
        """A member leaves (or a spec is settled, which may add one), then a spec arrives in the same
        second: its voters are the co-authors of the second before. Anvil can put both in one second;
        eth-tester mines every block a second later, so there the spec comes one second after."""
        th = self._draw_thread(data)
        if change == "exit":
            self._exit(th, pick_mostly(data, th.coauthors(), self.ctx.actors, "member"))
        else:
            self._settle(th, pick(data, [s.spec_id for s in th.pending()] or [0], "spec"), self.ctx.actors[0])
        author = pick(data, self._free_authors(th), "author")
        self._ensure_allowance(author, th)  # before pinning the clock: this is a transaction too
        self.ctx.transport.stay_in_this_second()
        price = th.price_at(self._now())
        self._submit(th, author, price + price * extra // 1_000, [])

    # --- rules: prices and time ----------------------------------------------------------------------

    @rule(data=st.data())
    def update_prices(self, data: st.DataObject) -> None:
        batch = list(dict.fromkeys([pick(data, self.threads, "thread"), *pick_many(data, self.threads, 2, "more")]))
        bps = HUB_DEFAULTS["maxDeviationBps"]
        lo_bound, hi_bound = HUB_DEFAULTS["minPrice"], HUB_DEFAULTS["maxPrice"]
        prices = []
        for th in batch:
            mode = data.draw(st.sampled_from(["move", "move", "move", "too far", "out of bounds"]), label="mode")
            first = data.draw(st.integers(5 * CHOIR, 100 * CHOIR), label="first price")
            move = data.draw(st.one_of(st.integers(-bps, bps), st.sampled_from([bps, -bps])), label="move (bps)")
            bad = data.draw(st.sampled_from([lo_bound - 1, hi_bound + 1]), label="price out of bounds")
            anchor = th.deviation_anchor(self._now())  # the block's time may differ: `expect` decides
            if th.price == 0:
                price = first  # no previous price: any price within the bounds
            else:
                step = anchor * abs(move) // 10_000  # rounded towards zero: within the allowed deviation
                if move > 0 and anchor + step > 2_000 * CHOIR:  # keep stakes affordable
                    move = -move
                price = anchor + step if move > 0 else anchor - step
                if mode == "too far":
                    limit = anchor * bps // 10_000
                    price = anchor + limit + 1 if move >= 0 else anchor - limit - 1
            if mode == "out of bounds":
                price = bad
            prices.append(price)
        replay = data.draw(st.integers(0, 5), label="replay") == 5
        stale = data.draw(st.integers(0, 255), label="stale round") % (self.last_round + 1)
        round_ = stale if replay else self.last_round + 1
        sender = self.ctx.pricer if data.draw(st.integers(0, 9), label="intruder") < 9 else self.ctx.actors[0]

        def expect(t: int) -> set[str]:
            errors = set()
            if sender != self.ctx.pricer:
                errors.add("AccessControlUnauthorizedAccount")
            if round_ <= self.last_round:
                errors.add("StaleRound")
            for th, price in zip(batch, prices, strict=True):
                if not lo_bound <= price <= hi_bound:
                    errors.add("PriceOutOfBounds")
                anchor = th.deviation_anchor(t)  # measured from the window's start (r2)
                if anchor and abs(price - anchor) * 10_000 > anchor * bps:
                    errors.add("PriceDeviationTooLarge")
            return errors

        ids = [th.thread_id for th in batch]
        call = self.ctx.codec.encode("hub", "updatePrices", ids, prices, round_)
        result = self._send("updatePrices", sender, self.ctx.hub, call, expect)
        if result.ok:
            assert result.one("PricesUpdated") == {
                "round": round_,
                "threadIds": tuple(ids),
                "prices": tuple(prices),
            }
            for th, price in zip(batch, prices, strict=True):
                th.record_price(price, result.timestamp)
            self.last_round = round_

    @rule(
        seconds=st.one_of(st.sampled_from([1, 2, DAY - 1, DAY, 7 * DAY, 7 * DAY + 1]), st.integers(1, 8 * DAY)),
    )
    def advance_time(self, seconds: int) -> None:
        self._view = None
        self.ctx.chain.mine(deltatime=seconds)
        self.ctx.stats["advance time"] += 1

    @rule(data=st.data())
    def advance_to_a_boundary(self, data: st.DataObject) -> None:
        """Land next to a time the protocol turns on: a deadline, a cooldown's end, a price going stale."""
        now = self._now()
        marks = {s.deadline for t in self.threads for s in t.pending()}
        marks |= {t.joined_at(a) + DAY for t in self.threads for a in t.coauthors()}
        marks |= {t.updated_at + HUB_DEFAULTS["heartbeat"] for t in self.threads if t.updated_at}
        marks |= {t.window_start + HUB_DEFAULTS["deviationWindow"] for t in self.threads if t.window_start}
        if self.rewards is not None:  # the next epoch (closing this one), the end of the curve
            marks |= {self.rewards.epoch_start(self.rewards.epoch_at(now) + 1), self.rewards.launch + EMISSION_END}
        ahead = sorted(m + d for m in marks for d in (-1, 0, 1) if m + d > now)
        target = pick(data, ahead or [None], "boundary")
        if target is None:
            return
        self._view = None
        self.ctx.chain.mine(deltatime=target - now)
        self.ctx.stats["advance to a boundary"] += 1

    # --- invariants ----------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The chain state the invariants compare, read in one batch after each step."""
        if self._view is not None:
            return self._view
        ctx = self.ctx
        rewards = self.rewards
        holders = [*ctx.accounts, *(t.address for t in self.threads), ctx.hub, ctx.implementation]
        if rewards is not None:
            holders.append(rewards.address)
        calls: list[tuple] = [("token", ctx.token, "totalSupply"), ("hub", ctx.hub, "lastRound")]
        calls += [("token", ctx.token, "balanceOf", a) for a in holders]
        for th in self.threads:
            calls += [("thread", th.address, m) for m in ("treasury", "lockedBalance", "totalShares")]
            calls += [("thread", th.address, m) for m in ("coauthorCount", "pendingSpecs", "messageCount")]
            calls += [("thread", th.address, "sharesOf", a) for a in ctx.actors]
            calls += [("thread", th.address, "getSpec", i) for i in sorted(th.specs)]
            calls += [("hub", ctx.hub, "pricePoint", th.thread_id), ("hub", ctx.hub, "citationsReceived", th.thread_id)]
            calls += [("hub", ctx.hub, "priceWindow", th.thread_id)]
        epochs: list[int] = []
        if rewards is not None:
            epochs = sorted(rewards.allocated)
            calls += [("distributor", rewards.address, "minted")]
            calls += [("distributor", rewards.address, "allocated", e) for e in epochs]
        now, values_list = self._read_at_head(calls)
        self._last_head = now
        values = iter(values_list)
        view: dict[str, Any] = {"supply": next(values), "last round": next(values)}
        view["balances"] = {a: next(values) for a in holders}
        view["threads"] = {}
        for th in self.threads:
            entry = {k: next(values) for k in ("treasury", "locked", "total", "count", "pending", "messages")}
            entry["shares"] = {a: next(values) for a in ctx.actors}
            entry["specs"] = {i: next(values) for i in sorted(th.specs)}
            entry["price point"] = next(values)
            entry["citations"] = next(values)
            entry["price window"] = next(values)
            view["threads"][th.address] = entry
        if rewards is not None:
            view["minted"], view["cap now"] = next(values), self._emission_cap(now)
            view["epochs"] = {e: next(values) for e in epochs}
        self._view = view
        return view

    @invariant()
    def settlements_conserve_value(self) -> None:
        for th, spec_id, event, (outcome, gain, per), stake, refund in self.settlements:
            denials = event["denials"]
            # a Refunded spec's stake went back to its author (the Transfer in its receipt): gain and payouts are 0
            assert event["treasuryGain"] + event["payoutPerDenier"] * denials + refund == stake, (
                f"thread {th.thread_id} spec {spec_id}: {event} and a refund of {refund} do not add up to {stake}"
            )
            spec = th.specs[spec_id]
            got = (event["outcome"], event["treasuryGain"], event["payoutPerDenier"])
            assert got == (outcome, gain, per), f"spec {spec_id}: chain {got}, model {(outcome, gain, per)}"
            assert (event["approvals"], event["denials"]) == (spec.approvals, spec.denials)
        self.settlements.clear()

    @invariant()
    def supply_is_the_sum_of_all_balances(self) -> None:
        view = self.view()
        assert sum(view["balances"].values()) == view["supply"]
        for account in self.ctx.accounts:
            assert view["balances"][account] == self.balances[account], f"balance of {account}"

    @invariant()
    def thread_ledgers_match(self) -> None:
        view = self.view()
        for th in self.threads:
            entry = view["threads"][th.address]
            assert view["balances"][th.address] == entry["treasury"] + entry["locked"], f"thread {th.thread_id}"
            expected_locked = sum(s.stake for s in th.pending()) + sum(
                s.per_denier * len(s.unclaimed()) for s in th.specs.values()
            )
            assert th.locked == expected_locked, "model bookkeeping"  # the model agrees with itself
            assert (entry["treasury"], entry["locked"]) == (th.treasury, th.locked), f"thread {th.thread_id} ledger"

    @invariant()
    def equity_matches(self) -> None:
        view = self.view()
        for th in self.threads:
            entry = view["threads"][th.address]
            assert sum(entry["shares"].values()) == entry["total"], f"thread {th.thread_id}: shares vs total"
            assert entry["shares"] == {a: th.shares_of(a) for a in self.ctx.actors}, f"thread {th.thread_id}"
            assert entry["total"] == th.total_shares()
            assert entry["count"] == len(th.coauthors()), f"thread {th.thread_id} coauthorCount"

    @invariant()
    def specs_match(self) -> None:
        view = self.view()
        assert view["last round"] == self.last_round
        for th in self.threads:
            entry = view["threads"][th.address]
            assert entry["messages"] == th.message_count
            assert entry["pending"] == len(th.pending())
            assert entry["price point"][:2] == (th.price, th.updated_at)
            assert tuple(entry["price window"]) == ((th.anchor, th.window_start) if th.window_start else (0, 0))
            for spec_id, spec in th.specs.items():
                author, stake, price, snapshot, deadline, eligible, approvals, denials, status = entry["specs"][spec_id]
                assert (STATUS_NAMES[status], to_checksum_address(author)) == (
                    STATUS_NAMES[spec.status],
                    spec.author,
                ), f"thread {th.thread_id} spec {spec_id}"
                assert (stake, price, snapshot, deadline) == (
                    spec.stake,
                    spec.price,
                    spec.submitted - 1,
                    spec.deadline,
                )
                assert (eligible, approvals, denials) == (spec.eligible, spec.approvals, spec.denials), (
                    f"thread {th.thread_id} spec {spec_id}: eligible/approvals/denials"
                )

    @invariant()
    def rewards_follow_the_curve(self) -> None:
        """protocol 1 and 7: nothing is minted beyond F(now), and the supply grows by exactly what the model
        minted; every epoch's allocations are the model's and within the epoch's budget."""
        view = self.view()
        rewards = self.rewards
        minted = rewards.minted if rewards is not None else 0
        assert view["supply"] == self.genesis_supply + minted, "totalSupply: genesis supply + rewards minted"
        if rewards is None:
            return
        assert view["minted"] <= view["cap now"], f"minted {view['minted']} above the curve's {view['cap now']}"
        assert view["minted"] == minted, f"minted: chain {view['minted']}, model {minted}"
        assert view["epochs"] == rewards.allocated, "allocated(epoch)"
        for epoch, paid in rewards.allocated.items():
            start = rewards.epoch_start(epoch)
            assert paid <= self._emission_cap(start + DAY) - self._emission_cap(start), f"epoch {epoch} over budget"

    @invariant()
    def citation_counts_match(self) -> None:
        view = self.view()
        for th in self.threads:
            got = view["threads"][th.address]["citations"]
            assert got == len(th.citing_threads), (
                f"thread {th.thread_id}: citationsReceived {got}, model {sorted(th.citing_threads)}"
            )

    @invariant()
    def joiners_pay_book_value(self) -> None:
        """protocol 5 (r2, the NAV floor): right after joining, a newcomer's pro-rata claim on the treasury
        (`treasury * sharesAdded / totalShares`, what an exit would pay) never exceeds its stake. A join into a
        thread nobody held shares in is only counted: it gets 1e18 shares, the whole treasury (see the report on
        `test_nav_floor_in_an_empty_thread`)."""
        for th, spec_id, stake, added, total_after, treasury_after, total_before in self.joins:
            claim = treasury_after * added // total_after
            if total_before == 0:
                if claim > stake:
                    self.ctx.stats["note: a joiner of an empty thread took more than its stake"] += 1
                continue
            assert claim <= stake, f"thread {th.thread_id} spec {spec_id}: claim {claim} above the stake {stake}"
            self.ctx.stats["NAV floor checked on a join"] += 1
        self.joins.clear()

    @invariant()
    def decided_specs_settle(self) -> None:
        """protocol 3 (r2): exits never block a decision and share arithmetic never fails a settlement. Every
        pending spec whose outcome is decided (each eligible co-author voted or left, no co-author is left, or its
        window ended) settles: `settleWithDepartures` with its departed non-voters, run as a call on the latest
        state, does not revert. A thread with no co-author may hold pending specs only so: decided at once."""
        view = self.view()
        if self._settle_checked is view:
            return  # nothing happened since the last check
        self._settle_checked = view
        calls = []
        for th in self.threads:
            for spec in th.pending():
                departed = th.departed(spec)
                if self._settleable(th, spec, self._last_head, len(departed)):  # the call runs at or after the head
                    calls.append((th, spec, departed))
                elif not th.coauthors():
                    raise AssertionError(f"thread {th.thread_id}: spec {spec.spec_id} pending, undecided, no co-author")
        for th, spec, departed in calls:
            data = self.ctx.codec.encode("thread", "settleWithDepartures", spec.spec_id, departed)
            try:
                self.ctx.transport.call_many([(th.address, data)])
            except RuntimeError as err:
                message = f"thread {th.thread_id}: decided spec {spec.spec_id} cannot settle: {err}"
                raise AssertionError(message) from err
        self.ctx.stats["decided specs checked to settle"] += len(calls)


def test_thread_protocol_state_machine(chain, project, accounts, token, hub, admin, pricer, coauthors, outsiders):
    codec = Codec(
        {
            "token": project.ChoirToken.contract_type,
            "hub": project.ChoirHub.contract_type,
            "thread": project.ThreadDAO.contract_type,
            "distributor": project.RewardsDistributor.contract_type,
        }
    )
    distributor_type = project.RewardsDistributor.contract_type
    network = chain.provider.name
    if network == "test":
        transport: AnvilTransport | InProcessTransport = InProcessTransport(
            chain.provider.tester.ethereum_tester, codec, admin.address
        )
    else:
        transport = AnvilTransport(chain.provider.web3.provider.endpoint_uri, codec)
    ctx = Context(
        chain=chain,
        codec=codec,
        transport=transport,
        token=token.address,
        hub=hub.address,
        implementation=hub.threadImplementation(),
        admin=admin.address,
        pricer=pricer.address,
        actors=[a.address for a in [*coauthors, *outsiders]],
        distributor_code=bytes.fromhex(distributor_type.deployment_bytecode.bytecode.removeprefix("0x")),
        distributor_args=[i.canonical_type for i in distributor_type.constructor.inputs],
    )
    budget = RUN_SETTINGS.get(network, RUN_SETTINGS["foundry"])
    run_settings = settings(
        **budget,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    start = time.perf_counter()
    run_state_machine_as_test(lambda: ThreadMachine(ctx), settings=run_settings)
    elapsed = time.perf_counter() - start
    stats = ctx.stats
    print(
        f"\n{network}: {elapsed:.1f} s, {stats['examples']} examples, {stats['transactions']} transactions, "
        f"{stats['advance time'] + stats['advance to a boundary']} time jumps"
    )
    print(
        f"rewards: {stats['reward: rewarded messages']} rewarded messages, "
        f"{stats['reward: citation credits']} citation credits; "
        f"{stats['citations recorded at the hub']} citations recorded at the hub, "
        f"{stats['citing threads counted at the hub']} citing threads counted"
    )
    for key, count in sorted(ctx.stats.items()):
        print(f"  {key}: {count}")
