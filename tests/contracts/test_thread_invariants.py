"""Stateful property test: random sequences of thread operations checked against a pure-Python model.

A Hypothesis `RuleBasedStateMachine` drives thread creation, staked specs (some below the price or zero),
votes (some by non-co-authors, twice, late), settlements (some too early), exits (some in the cooldown, some
by the last co-author with specs pending), curator claims, posts, price rounds of the pricer (some replayed,
some moving too far) and the passage of time. A model written from SPEC sections 2, 3, 5 and 6 predicts, for
the block timestamp each transaction lands in, either the new state or the set of custom errors the protocol
may answer with. After every step the invariants compare the whole chain state with the model:

1. every settlement conserves value to the wei (`SpecSettled`: treasury gain + payout per denier * deniers ==
   stake) and matches the model's outcome and division;
2. the token balances of every account and every thread sum to `totalSupply`; each account holds what the
   model says;
3. each thread: `balanceOf(thread) == treasury() + lockedBalance()`, both equal to the model;
4. each thread: the co-authors' `sharesOf` sum to `totalShares()`, every account's shares and
   `coauthorCount()` equal the model;
5. every spec (status, votes, stake, price, snapshot, deadline, eligible voters) equals the model;
6. no thread holds a pending spec without a co-author (SPEC 5 keeps the last co-author from leaving while
   specs are pending; a spec nobody can vote on would hand its stake to a treasury nobody owns).

On anvil one rule puts a membership change and a new spec in the same second (`evm_setNextBlockTimestamp`),
where the eligibility snapshot (co-authors one second before submission) is most delicate.

Transport: the machine sends its transactions and reads as plain JSON-RPC (anvil) or straight to eth-tester,
not through Ape's contract objects. Ape fetches and renders a call trace for every reverted transaction on
anvil (about a second each), and a random walk reverts often; here a revert costs a few milliseconds. Every
call is still a real, mined transaction, and its custom error is taken from the chain (anvil's
`trace_transaction`, or eth-tester replaying it on the block it failed in). Since a failed transaction is
mined too, the model judges every outcome at the exact timestamp of its block, including anvil's many
transactions within one second. Ape provides the fixtures, the ABIs, snapshots and `chain.mine`.

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
from support import CHOIR, DAY, HUB_DEFAULTS, content

WAD = 10**18
GAS = 3_000_000
MAX_THREADS = 3

# IThreadDAO.SpecStatus
NONE, PENDING, APPROVED, DENIED, SPLIT, EXPIRED = range(6)
STATUS_NAMES = ["None", "Pending", "Approved", "Denied", "Split", "Expired"]

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
        selector, inputs, _ = self.methods[(contract, method)]
        return selector + abi_encode(inputs, list(args))

    def decode(self, contract: str, method: str, data: bytes) -> Any:
        _, _, outputs = self.methods[(contract, method)]
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
        args = {
            k: to_checksum_address(v) if isinstance(v, str) and v.startswith("0x") else v
            for k, v in args.items()
        }
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
        results = self._batch(
            [("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]) for to, data in calls]
        )
        return [bytes.fromhex(r[2:]) for r in results]

    def head_timestamp(self) -> int:
        return int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def stay_in_this_second(self) -> None:
        """Mine the next block with the latest block's timestamp."""
        self._rpc("evm_setNextBlockTimestamp", [hex(self.head_timestamp())])

    def send(self, sender: str, to: str, data: bytes) -> TxResult:
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(GAS)}
        tx_hash = self._rpc("eth_sendTransaction", [tx])
        receipt = self._rpc("eth_getTransactionReceipt", [tx_hash])
        while receipt is None:  # automine: normally there at once
            time.sleep(0.002)
            receipt = self._rpc("eth_getTransactionReceipt", [tx_hash])
        ok = int(receipt["status"], 16) == 1
        calls: list[tuple[str, list]] = [("eth_getBlockByNumber", [receipt["blockNumber"], False])]
        if not ok:
            calls.append(("trace_transaction", [tx_hash]))
        replies = self._batch(calls)
        timestamp = int(replies[0]["timestamp"], 16)
        if ok:
            events = [
                self.codec.event(
                    log["address"],
                    [bytes.fromhex(t[2:]) for t in log["topics"]],
                    bytes.fromhex(log["data"][2:]),
                )
                for log in receipt["logs"]
            ]
            return TxResult(True, timestamp, [e for e in events if e is not None])
        top = next(t for t in replies[1] if not t["traceAddress"])
        output = (top.get("result") or {}).get("output", "0x")
        name, args = self.codec.error(bytes.fromhex(output[2:]))
        return TxResult(False, timestamp, [], name, args)


class InProcessTransport:
    """eth-tester in process: a failed transaction is mined; replaying it on its block gives the error."""

    def __init__(self, tester: Any, codec: Codec, reader: str):
        self.tester = tester
        self.codec = codec
        self.reader = reader

    def call_many(self, calls: list[tuple[str, bytes]]) -> list[bytes]:
        out = []
        for to, data in calls:
            result = self.tester.call({"from": self.reader, "to": to, "data": "0x" + data.hex()}, "latest")
            out.append(bytes.fromhex(result[2:]))
        return out

    def head_timestamp(self) -> int:
        return self.tester.get_block_by_number("latest")["timestamp"]

    def stay_in_this_second(self) -> None:
        """Not possible here: py-evm requires every block to be later than its parent."""

    def send(self, sender: str, to: str, data: bytes) -> TxResult:
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": GAS}
        tx_hash = self.tester.send_transaction(tx)
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
            return TxResult(True, timestamp, [e for e in events if e is not None])
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
# The model (SPEC sections 2, 3, 5, 6), independent of the contracts
# ----------------------------------------------------------------------------------------------------


def new_shares(stake: int, price: int, coauthors_before: int, total: int) -> int:
    """SPEC 5: e = min(sqrt(s / P0) / (N + 1), 1/2), new = total * e / (1 - e), WAD integers, at least 1."""
    root = math.isqrt(stake * WAD * WAD // price)
    e = min(root // (coauthors_before + 1), WAD // 2)
    return max(total * e // (WAD - e), 1)


def divide(stake: int, approvals: int, denials: int) -> tuple[int, int, int]:
    """SPEC 3: (outcome, treasury gain, payout per denier), integer division, remainder to the treasury."""
    if denials == 0:
        return (EXPIRED if approvals == 0 else APPROVED), stake, 0
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
    treasury: int = 0
    locked: int = 0
    message_count: int = 1
    shares: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # account -> [(timestamp, shares)]
    total: list[tuple[int, int]] = field(default_factory=list)
    specs: dict[int, SpecModel] = field(default_factory=dict)
    # the hub's price point for this thread
    price: int = 0
    updated_at: int = 0

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

    def price_at(self, timestamp: int) -> int:
        if self.updated_at and timestamp - self.updated_at <= HUB_DEFAULTS["heartbeat"]:
            return self.price
        return HUB_DEFAULTS["fallbackPrice"]

    def message_id(self, index: int) -> int:
        return (self.thread_id << 64) | index


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
    stats: Counter = field(default_factory=Counter)

    @property
    def accounts(self) -> list[str]:
        return [self.admin, self.pricer, *self.actors]


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
        self.settlements: list[tuple[ThreadModel, int, dict[str, Any], tuple[int, int, int], int]] = []
        self.messages = 0
        self._view: dict[str, Any] | None = None
        reads = self._read(
            [("token", ctx.token, "balanceOf", a) for a in ctx.accounts]
            + [("hub", ctx.hub, "threadCount"), ("hub", ctx.hub, "lastRound")]
        )
        self.balances = dict(zip(ctx.accounts, reads[: len(ctx.accounts)], strict=True))
        self.base_thread_id, self.last_round = reads[len(ctx.accounts) :]
        ctx.stats["examples"] += 1

    def teardown(self) -> None:
        self.ctx.chain.restore(self.snapshot_id)

    # --- plumbing ------------------------------------------------------------------------------------

    def _read(self, calls: list[tuple]) -> list[Any]:
        encoded = [(to, self.ctx.codec.encode(kind, method, *args)) for kind, to, method, *args in calls]
        raw = self.ctx.transport.call_many(encoded)
        return [self.ctx.codec.decode(c[0], c[2], r) for c, r in zip(calls, raw, strict=True)]

    def _send(
        self, label: str, sender: str, to: str, data: bytes, expect: Callable[[int], set[str]]
    ) -> TxResult:
        """Send a real transaction; `expect(t)` gives the errors the model allows at block time `t` (none:
        it must succeed). The chain state is compared with the model by the invariants afterwards."""
        self._view = None
        result = self.ctx.transport.send(sender, to, data)
        allowed = expect(result.timestamp)
        if result.ok:
            assert not allowed, (
                f"{label}: expected a revert with one of {sorted(allowed)} at t={result.timestamp}"
            )
        else:
            assert result.error in allowed, (
                f"{label}: reverted with {result.error}{result.error_args} at t={result.timestamp}, "
                f"the model expected {sorted(allowed) or 'success'}"
            )
        self.ctx.stats[f"{label}: {'ok' if result.ok else result.error}"] += 1
        self.ctx.stats["transactions"] += 1
        return result

    def _thread_call(self, sender: str, th: ThreadModel, method: str, *args: Any) -> tuple[str, str, bytes]:
        return sender, th.address, self.ctx.codec.encode("thread", method, *args)

    def _now(self) -> int:
        return self.ctx.transport.head_timestamp()

    def _content(self, kind: str) -> bytes:
        self.messages += 1
        return content(f"{kind} {self.messages}")

    def _draw_citations(self, data: st.DataObject, th: ThreadModel) -> list[int]:
        existing = [t.message_id(i) for t in self.threads for i in range(t.message_count)]
        citations = pick_many(data, existing, 2, "citations")
        if data.draw(st.integers(0, 9), label="bad citation") == 9:
            unknown = [th.message_id(th.message_count), (self.base_thread_id + 9) << 64, 0]
            citations = [*citations, pick(data, unknown, "unknown message")]
        return citations

    def _draw_thread(self, data: st.DataObject) -> ThreadModel:
        return pick(data, self.threads, "thread")

    def _thread_of(self, message_id: int) -> ThreadModel | None:
        return next((t for t in self.threads if t.thread_id == message_id >> 64), None)

    def _citations_valid(self, citations: list[int]) -> bool:
        for cited in citations:
            th = self._thread_of(cited)
            if th is None or (cited & (2**64 - 1)) >= th.message_count:
                return False
        return True

    def _ensure_allowance(self, owner: str, th: ThreadModel) -> None:
        if (owner, th.address) in self.allowances:
            return
        data = self.ctx.codec.encode("token", "approve", th.address, 2**256 - 1)
        self._send("approve", owner, self.ctx.token, data, lambda t: set())
        self.allowances.add((owner, th.address))

    # --- actions: each sends one transaction and checks it against the model ------------------------

    def _create(self, creator: str) -> ThreadModel:
        data = self.ctx.codec.encode("hub", "createThread", self._content("root"))
        result = self._send("createThread", creator, self.ctx.hub, data, lambda t: set())
        event = result.one("ThreadCreated")
        thread_id = self.base_thread_id + len(self.threads) + 1
        assert event["threadId"] == thread_id and event["creator"] == creator
        (address,) = self._read([("hub", self.ctx.hub, "threadAddress", thread_id)])
        assert to_checksum_address(address) == event["thread"]
        th = ThreadModel(thread_id, event["thread"], HUB_DEFAULTS["approvalWindow"])
        th.set_shares(creator, result.timestamp, WAD)  # SPEC 2: the creator holds 1e18 shares
        th.set_total(result.timestamp, WAD)
        self.threads.append(th)
        return th

    def _submit(self, th: ThreadModel, author: str, stake: int, citations: list[int]) -> int | None:
        """Stake on a spec; its id, or None if the protocol refused it (as the model expected)."""
        self._ensure_allowance(author, th)
        spec_id = th.message_count

        def expect(t: int) -> set[str]:
            errors = set()
            if stake == 0:
                errors.add("ZeroStake")
            if th.shares_of(author) > 0:
                errors.add("AlreadyCoauthor")
            # Nobody held shares one second before, or nobody holds any now: nobody could decide the spec.
            if th.coauthors_at(t - 1) == 0 or not th.coauthors():
                errors.add("NoEligibleVoters")
            if stake < th.price_at(t):
                errors.add("StakeBelowPrice")
            if not self._citations_valid(citations):
                errors.add("UnknownMessage")
            if stake > self.balances[author]:
                errors.add("ERC20InsufficientBalance")
            return errors

        call = self._thread_call(author, th, "submitSpec", self._content("spec"), citations, stake)
        result = self._send("submitSpec", *call, expect)
        if not result.ok:
            return None
        t = result.timestamp
        event = result.one("SpecSubmitted")
        assert (event["specId"], event["author"], event["stake"]) == (spec_id, author, stake)
        assert event["price"] == th.price_at(t), "the spec records the price in force at submission"
        assert event["deadline"] == t + th.window
        th.specs[spec_id] = SpecModel(
            spec_id, author, stake, th.price_at(t), t, t + th.window, eligible=th.coauthors_at(t - 1)
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
            assert result.one("VoteCast") == {"specId": spec_id, "voter": voter, "approve": approve}
            spec.votes[voter] = approve

    def _settle(self, th: ThreadModel, spec_id: int, caller: str) -> None:
        spec = th.specs.get(spec_id)

        def expect(t: int) -> set[str]:
            if spec is None:
                return {"UnknownSpec"}
            if spec.status != PENDING:
                return {"SpecNotPending"}
            if len(spec.votes) < spec.eligible and t <= spec.deadline:
                return {"SettleTooEarly"}
            return set()

        result = self._send("settle", *self._thread_call(caller, th, "settle", spec_id), expect)
        if not result.ok:
            return
        t = result.timestamp
        outcome, gain, per = divide(spec.stake, spec.approvals, spec.denials)
        event = result.one("SpecSettled")
        self.settlements.append((th, spec_id, event, (outcome, gain, per), spec.stake))
        spec.status, spec.per_denier = outcome, per
        th.locked -= gain  # the deniers' payouts stay locked until claimed
        th.treasury += gain
        if outcome == APPROVED:
            held = th.shares_of(spec.author)
            others = len([a for a in th.coauthors() if a != spec.author])
            total = th.total_shares()
            added = new_shares(spec.stake, spec.price, others, total)
            joined = result.one("CoauthorJoined")
            assert joined == {
                "account": spec.author,
                "specId": spec_id,
                "sharesAdded": added,
                "totalShares": total + added,
            }
            th.set_shares(spec.author, t, held + added)
            th.set_total(t, total + added)
        else:
            assert not result.all("CoauthorJoined"), "only an approved spec adds a co-author"
        if th.total_shares() == 0 and gain:
            self.ctx.stats["note: stake went to a treasury nobody holds shares in"] += 1
        self.ctx.stats[f"settled {STATUS_NAMES[outcome]}"] += 1

    @staticmethod
    def _joined_after(th: ThreadModel, spec: SpecModel) -> list[str]:
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) == 0]

    def _can_vote(self, th: ThreadModel, spec_id: int) -> list[str]:
        spec = th.specs.get(spec_id)
        if spec is None or spec.status != PENDING:
            return []
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) > 0 and a not in spec.votes]

    # --- rules: threads and messages -----------------------------------------------------------------

    @initialize(
        creator=st.integers(0, 7),
        joiners=st.integers(0, 3),
        extras=st.lists(st.integers(0, 3_000), min_size=3, max_size=3),
    )
    def first_thread(self, creator: int, joiners: int, extras: list[int]) -> None:
        """A first thread, and up to three more co-authors who join it the ordinary way (stake, all approve,
        settle), so that votes can split and members can leave from the first step on."""
        th = self._create(self.ctx.actors[creator])
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
    @rule(creator=st.integers(0, 7), wait=st.integers(0, 3))
    def create_thread(self, creator: int, wait: int) -> None:
        """A new thread; mostly a second passes after it (`wait` 0-2), else new specs find no voters."""
        self._create(self.ctx.actors[creator])
        if wait != 3:
            self.ctx.chain.mine(deltatime=1)

    @rule(data=st.data())
    def post(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        author = pick_mostly(data, th.coauthors(), self.ctx.actors, "author")
        citations = self._draw_citations(data, th)
        index = th.message_count

        def expect(t: int) -> set[str]:
            errors = set()
            if th.shares_of(author) == 0:
                errors.add("NotCoauthor")
            if not self._citations_valid(citations):
                errors.add("UnknownMessage")
            return errors

        call = self._thread_call(author, th, "post", self._content("post"), citations)
        result = self._send("post", *call, expect)
        if result.ok:
            assert result.one("MessagePosted")["index"] == index
            th.message_count += 1

    @rule(data=st.data())
    def submit_spec(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        kind = data.draw(st.sampled_from(["stake", "stake", "stake", "below price", "zero", "co-author"]))
        insiders = th.coauthors()
        outsiders = [a for a in self.ctx.actors if a not in insiders]
        pool = insiders if (kind == "co-author" and insiders) or not outsiders else outsiders
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
        self._submit(th, author, stake, citations)

    @rule(
        data=st.data(),
        extra=st.integers(0, 3_000),
        votes=st.lists(st.booleans(), max_size=4),
        settle_now=st.booleans(),
    )
    def spec_round(self, data: st.DataObject, extra: int, votes: list[bool], settle_now: bool) -> None:
        """The main path in one step: a spec at the price plus `extra` thousandths, votes (approve or deny)
        of some of its eligible voters, and settlement right away or left for later."""
        th = self._draw_thread(data)
        author = pick(data, [a for a in self.ctx.actors if th.shares_of(a) == 0] or self.ctx.actors, "author")
        price = th.price_at(self._now())
        spec_id = self._submit(th, author, price + price * extra // 1_000, [])
        if spec_id is None:
            return
        for voter, approve in zip(self._can_vote(th, spec_id), votes, strict=False):
            self._vote(th, spec_id, voter, approve)
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
        late = [
            (t, s.spec_id, a) for t in self.threads for s in t.pending() for a in self._joined_after(t, s)
        ]
        late_pick = pick(data, late or [None], "joined later")
        if who == "joined later" and late_pick:
            th, spec_id, voter = late_pick
        else:
            pools = {"eligible": self._can_vote(th, spec_id), "co-author": th.coauthors()}
            voter = pick(data, pools.get(who) or self.ctx.actors, "voter")
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

        result = self._send(
            "claimCuratorRewards", *self._thread_call(curator, th, "claimCuratorRewards", ids), expect
        )
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
            if len(th.coauthors()) == 1 and th.pending():
                errors.add("LastCoauthorWithPendingSpecs")
            return errors

        result = self._send("exit", *self._thread_call(member, th, "exit"), expect)
        if not result.ok:
            return
        held, total = th.shares_of(member), th.total_shares()
        payout = th.treasury * held // total  # SPEC 5: pro-rata part of the treasury
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
        author = pick(data, [a for a in self.ctx.actors if th.shares_of(a) == 0] or self.ctx.actors, "author")
        self._ensure_allowance(author, th)  # before pinning the clock: this is a transaction too
        self.ctx.transport.stay_in_this_second()
        price = th.price_at(self._now())
        self._submit(th, author, price + price * extra // 1_000, [])

    # --- rules: prices and time ----------------------------------------------------------------------

    @rule(data=st.data())
    def update_prices(self, data: st.DataObject) -> None:
        batch = list(
            dict.fromkeys([pick(data, self.threads, "thread"), *pick_many(data, self.threads, 2, "more")])
        )
        bps = HUB_DEFAULTS["maxDeviationBps"]
        lo_bound, hi_bound = HUB_DEFAULTS["minPrice"], HUB_DEFAULTS["maxPrice"]
        prices = []
        for th in batch:
            mode = data.draw(
                st.sampled_from(["move", "move", "move", "too far", "out of bounds"]), label="mode"
            )
            first = data.draw(st.integers(5 * CHOIR, 100 * CHOIR), label="first price")
            move = data.draw(
                st.one_of(st.integers(-bps, bps), st.sampled_from([bps, -bps])), label="move (bps)"
            )
            bad = data.draw(st.sampled_from([lo_bound - 1, hi_bound + 1]), label="price out of bounds")
            if th.price == 0:
                price = first  # no previous price: any price within the bounds
            else:
                step = th.price * abs(move) // 10_000  # rounded towards zero: within the allowed deviation
                if move > 0 and th.price + step > 2_000 * CHOIR:  # keep stakes affordable
                    move = -move
                price = th.price + step if move > 0 else th.price - step
                if mode == "too far":
                    limit = th.price * bps // 10_000
                    price = th.price + limit + 1 if move >= 0 else th.price - limit - 1
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
                if th.price and abs(price - th.price) * 10_000 > th.price * bps:
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
                th.price, th.updated_at = price, result.timestamp
            self.last_round = round_

    @rule(
        seconds=st.one_of(
            st.sampled_from([1, 2, DAY - 1, DAY, 7 * DAY, 7 * DAY + 1]), st.integers(1, 8 * DAY)
        )
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
        holders = [*ctx.accounts, *(t.address for t in self.threads), ctx.hub, ctx.implementation]
        calls: list[tuple] = [("token", ctx.token, "totalSupply"), ("hub", ctx.hub, "lastRound")]
        calls += [("token", ctx.token, "balanceOf", a) for a in holders]
        for th in self.threads:
            calls += [("thread", th.address, m) for m in ("treasury", "lockedBalance", "totalShares")]
            calls += [("thread", th.address, m) for m in ("coauthorCount", "pendingSpecs", "messageCount")]
            calls += [("thread", th.address, "sharesOf", a) for a in ctx.actors]
            calls += [("thread", th.address, "getSpec", i) for i in sorted(th.specs)]
            calls += [("hub", ctx.hub, "pricePoint", th.thread_id)]
        values = iter(self._read(calls))
        view: dict[str, Any] = {"supply": next(values), "last round": next(values)}
        view["balances"] = {a: next(values) for a in holders}
        view["threads"] = {}
        for th in self.threads:
            entry = {k: next(values) for k in ("treasury", "locked", "total", "count", "pending", "messages")}
            entry["shares"] = {a: next(values) for a in ctx.actors}
            entry["specs"] = {i: next(values) for i in sorted(th.specs)}
            entry["price point"] = next(values)
            view["threads"][th.address] = entry
        self._view = view
        return view

    @invariant()
    def settlements_conserve_value(self) -> None:
        for th, spec_id, event, (outcome, gain, per), stake in self.settlements:
            denials = event["denials"]
            assert event["treasuryGain"] + event["payoutPerDenier"] * denials == stake, (
                f"thread {th.thread_id} spec {spec_id}: {event} does not add up to the stake {stake}"
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
            assert view["balances"][th.address] == entry["treasury"] + entry["locked"], (
                f"thread {th.thread_id}"
            )
            expected_locked = sum(s.stake for s in th.pending()) + sum(
                s.per_denier * len(s.unclaimed()) for s in th.specs.values()
            )
            assert th.locked == expected_locked, "model bookkeeping"  # the model agrees with itself
            assert (entry["treasury"], entry["locked"]) == (th.treasury, th.locked), (
                f"thread {th.thread_id} ledger"
            )

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
            for spec_id, spec in th.specs.items():
                author, stake, price, snapshot, deadline, eligible, approvals, denials, status = entry[
                    "specs"
                ][spec_id]
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
    def pending_specs_have_a_coauthor(self) -> None:
        """SPEC 5: the last co-author cannot leave while specs are pending, so that someone is there to decide
        them. So no thread may hold a pending spec and no co-author: such a spec can never be voted on, and
        at expiry its stake goes to a treasury in which nobody holds a share, locked for good."""
        view = self.view()
        for th in self.threads:
            entry = view["threads"][th.address]
            assert entry["count"] > 0 or entry["pending"] == 0, (
                f"thread {th.thread_id} has {entry['pending']} pending spec(s) and no co-author"
            )


def test_thread_protocol_state_machine(
    chain, project, accounts, token, hub, admin, pricer, coauthors, outsiders
):
    codec = Codec(
        {
            "token": project.ChoirToken.contract_type,
            "hub": project.ChoirHub.contract_type,
            "thread": project.ThreadDAO.contract_type,
        }
    )
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
    for key, count in sorted(ctx.stats.items()):
        print(f"  {key}: {count}")
