"""The stateful thread test's machine, its state and plumbing: what every example shares (`Context`), a
transaction with the model's expectation (`Tx`), and the base of the state machine: its model state, the
chain snapshot it restores after each example, sending and judging transactions, reads, and the draws of
citations, author kinds and threads. The rules and invariants are mixins on top of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from helpers.contracts import content
from helpers.thread_codec import Codec
from helpers.thread_machine_draws import AUTHOR_KINDS, BAD_AUTHOR_KINDS, pick, pick_many
from helpers.thread_model import RewardsModel, ThreadModel
from helpers.thread_model_arithmetic import MAX_CITATIONS
from helpers.thread_transport import AnvilTransport, InProcessTransport, TxResult


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


class ThreadMachineBase(RuleBasedStateMachine):
    """The model's state, the chain snapshot of an example, and sending, judging and reading."""

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
