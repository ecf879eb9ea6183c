"""Crash safety of the pricer: `choir pricer` killed with SIGKILL at 20 random points of a running workload
and restarted each time ends with exactly the prices of an uninterrupted run, never sends a transaction that
reverts (no duplicate round), and leaves a database equal to a fresh index.

The hub bounds each thread's move per deviation window of time (protocol section 6, r2), so how a move is split into
rounds depends on when the rounds are mined: a pricer working along with the workload and one working after it
send different rounds. Both runs therefore go on window after window (an hour of chain time between runs) until
no thread waits, and then hold the same prices: the model's, as of the last trigger block.

The workload (many settlements across many blocks on four threads, citations, exits, seven approvals settled
in one block, approvals leaving the 7-day window) runs twice: on devnet B with one uninterrupted pricer run
after it, and on devnet A while pricer processes are started and killed. The kill points come from a seeded
RNG; the seed is printed (set CHOIR_FAULT_SEED to replay one).
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers.world import dump, indexing
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError
from web3.types import TxParams

from choir_chain import artifacts
from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.rpc import RetryPolicy
from choir_chain.deploy import CHOIR, DAY, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.indexer import Indexer, make_engine
from choir_chain.pricer import Pricer, PricerConfig
from choir_chain.protocol import message_id
from choir_chain.protocol.author_kind import AuthorKind

KILLS = 20
STEPS = 32
"""Steps of the workload (`Workload.steps`), spread over the pricer's lives."""
ACCOUNTS = 20
STAKE = 500 * CHOIR
SHAPE_SEED = 20_251_123
"""Fixes the workload itself (which thread, which outcome): both devnets get the same one."""
CHOIR_CLI = [sys.executable, "-m", "choir_chain.cli"]
FAST = PricerConfig(retry=RetryPolicy(initial=0.01, maximum=0.1), poll_interval=0.02)
Rounds = dict[int, tuple[list[int], list[int]]]
T = TypeVar("T")


# ------------------------------------------------------------------------------------------------------------
# The workload
# ------------------------------------------------------------------------------------------------------------


class QuickSender:
    """Workload transactions with fixed gas and fees and locally counted nonces (a revert fails the test)."""

    def __init__(self, chain: Chain) -> None:
        self.w3 = chain.w3
        self.nonces: dict[str, int] = {}

    def nonce(self, account: LocalAccount) -> int:
        while account.address not in self.nonces:
            try:
                self.nonces[account.address] = self.w3.eth.get_transaction_count(account.address)
            except Web3RPCError as err:  # the stale-block race of `stable`
                if "BlockOutOfRange" not in str(err):
                    raise
        return self.nonces[account.address]

    def sign(self, call: ContractFunction, account: LocalAccount) -> bytes:
        fields = {"from": account.address, "nonce": self.nonce(account), "gas": 2_000_000, "chainId": 31337}
        fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        tx = call.build_transaction(cast(TxParams, {**fields, **fees}))
        self.nonces[account.address] += 1
        return bytes(account.sign_transaction(cast(dict[str, Any], tx)).raw_transaction)

    def __call__(self, call: ContractFunction, account: LocalAccount) -> int:
        tx_hash = self.w3.eth.send_raw_transaction(self.sign(call, account))
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        assert receipt["status"] == 1, f"{call.fn_name} reverted"
        return int(receipt["blockNumber"])

    def in_one_block(self, calls: list[ContractFunction], account: LocalAccount, rpc_url: str) -> None:
        """Mine `calls` in a single block (automine off meanwhile; a pricer round sent then joins it)."""
        rpc_call(rpc_url, "evm_setAutomine", [False])
        try:
            hashes = [self.w3.eth.send_raw_transaction(self.sign(call, account)) for call in calls]
            rpc_call(rpc_url, "evm_mine")
        finally:
            rpc_call(rpc_url, "evm_setAutomine", [True])
        receipts = [self.w3.eth.wait_for_transaction_receipt(h, poll_latency=0.002) for h in hashes]
        assert all(r["status"] == 1 for r in receipts)
        assert len({r["blockNumber"] for r in receipts}) == 1


gid = message_id
"""Global message id (short name for the tables below)."""


@dataclass
class Workload:
    """Applies the same scripted history to a deployment; `coauthors` mirrors each thread's members."""

    rpc_url: str
    deployment: Deployment
    accounts: list[LocalAccount]
    send: QuickSender
    coauthors: dict[int, list[LocalAccount]] = field(default_factory=dict)
    approved: set[tuple[str, int]] = field(default_factory=set)
    messages: dict[int, int] = field(default_factory=dict)
    threads: dict[int, Contract] = field(default_factory=dict)
    """(account, thread) pairs with a token allowance."""
    texts: int = 0

    @property
    def admin(self) -> LocalAccount:
        return self.accounts[0]

    @property
    def outsiders(self) -> list[LocalAccount]:
        return self.accounts[6:]

    def thread(self, thread_id: int) -> Contract:
        if thread_id not in self.threads:
            address = stable(self.deployment.hub.functions.threadAddress(thread_id))
            self.threads[thread_id] = self.deployment.chain.contract(artifacts.load("ThreadDAO"), address)
        return self.threads[thread_id]

    def text(self) -> bytes:
        self.texts += 1
        return keccak(text=f"message {self.texts}")

    def advance(self, seconds: int) -> None:
        rpc_call(self.rpc_url, "evm_increaseTime", [seconds])

    def submit(self, thread_id: int, cites: list[int], skip: int = 0) -> tuple[int, LocalAccount]:
        """A spec by the first outsider who is not a co-author (past `skip` of them)."""
        members = {a.address for a in self.coauthors[thread_id]}
        author = [a for a in self.outsiders if a.address not in members][skip]
        self.advance(2)  # every co-author holds shares one second before the submission: all may vote
        thread = self.thread(thread_id)
        if (author.address, thread_id) not in self.approved:
            self.send(self.deployment.token.functions.approve(thread.address, 2**255), author)
            self.approved.add((author.address, thread_id))
        self.send(thread.functions.submitSpec(self.text(), cites, STAKE, AuthorKind.HUMAN), author)
        return self.new_message(thread_id), author

    def new_message(self, thread_id: int) -> int:
        """The index of the thread's message just posted, counted here: a view call races with the pricer's
        blocks (see `last_round`)."""
        self.messages[thread_id] = self.messages.get(thread_id, 1) + 1
        return self.messages[thread_id] - 1

    def spec(self, thread_id: int, outcome: str, cites: list[int]) -> None:
        spec_id, author = self.submit(thread_id, cites)
        thread, voters = self.thread(thread_id), list(self.coauthors[thread_id])
        for i, voter in enumerate(voters):
            approve = outcome == "approved" or (outcome == "split" and i == 0)
            self.send(thread.functions.vote(spec_id, approve), voter)
        self.send(thread.functions.settle(spec_id), self.admin)
        if outcome == "approved":
            self.coauthors[thread_id].append(author)

    def post(self, thread_id: int, cites: list[int]) -> None:
        self.send(
            self.thread(thread_id).functions.post(self.text(), cites, AuthorKind.HUMAN), self.coauthors[thread_id][0]
        )
        self.new_message(thread_id)

    def exit(self, thread_id: int) -> None:
        leaver = self.coauthors[thread_id].pop(1)
        self.send(self.thread(thread_id).functions.exit(), leaver)

    def run(self) -> None:
        for _ in self.steps():
            pass

    def steps(self) -> Iterator[None]:
        """The workload, one step (a settled spec, a jump in time...) per iteration: `STEPS` of them."""
        shape = random.Random(SHAPE_SEED)
        hub, token = self.deployment.hub, self.deployment.token
        creators = self.accounts[2:6]
        for account in [*creators, *self.outsiders]:
            self.send(token.functions.transfer(account.address, 20_000 * CHOIR), self.admin)
        for i, creator in enumerate(creators, start=1):
            self.send(hub.functions.createThread(self.text(), AuthorKind.HUMAN), creator)
            self.coauthors[i] = [creator]
        yield

        def phase(steps: int, threads: list[int]) -> Iterator[None]:
            for step in range(steps):
                thread_id = shape.choice(threads)
                others = [t for t in range(1, 5) if t != thread_id]
                cites = [gid(shape.choice(others), 0)] if shape.random() < 0.4 else []
                outcome = shape.choices(["approved", "denied", "split"], [0.55, 0.25, 0.2])[0]
                if outcome == "split" and len(self.coauthors[thread_id]) < 2:
                    outcome = "approved"
                self.spec(thread_id, outcome, cites)
                if step % 4 == 3:
                    self.post(shape.choice(threads), [gid(shape.choice(others), 0)])
                yield

        yield from phase(16, [1, 2, 3])
        # Seven approvals of thread 4 settled in one block: a jump of several rounds.
        specs = [self.submit(4, [gid(1, 0)] if i == 0 else [], skip=i) for i in range(7)]
        creator, t4 = self.coauthors[4][0], self.thread(4)
        for spec_id, _author in specs:
            self.send(t4.functions.vote(spec_id, True), creator)
        self.send.in_one_block([t4.functions.settle(s) for s, _ in specs], self.admin, self.rpc_url)
        self.coauthors[4] += [author for _, author in specs]
        yield
        self.advance(DAY + 2)
        self.exit(1)
        self.exit(4)
        yield
        yield from phase(8, [1, 2, 3, 4])
        self.advance(8 * DAY)  # every approval leaves the 7-day window: prices fall, in steps
        yield from phase(5, [1, 2, 3, 4])


def start(run_dir: Path) -> tuple[Devnet, Deployment, list[LocalAccount]]:
    devnet = Devnet(run_dir, accounts=ACCOUNTS).start()
    accounts = dev_accounts(DEV_MNEMONIC, ACCOUNTS)
    deployment = deploy(Chain.connect(devnet.rpc_url), accounts[0], pricer=accounts[1].address)
    return devnet, deployment, accounts


def workload(devnet: Devnet, deployment: Deployment, accounts: list[LocalAccount]) -> Workload:
    return Workload(devnet.rpc_url, deployment, accounts, QuickSender(deployment.chain))


# ------------------------------------------------------------------------------------------------------------
# What the chain says
# ------------------------------------------------------------------------------------------------------------


def rounds_of(deployment: Deployment) -> Rounds:
    logs = deployment.hub.events.PricesUpdated().get_logs(from_block=0)
    rounds = {int(x["args"]["round"]): (list(x["args"]["threadIds"]), list(x["args"]["prices"])) for x in logs}
    assert len(rounds) == len(logs), "a round was accepted twice"
    return rounds


def advance(steps: Iterator[None], count: int) -> int:
    """Run up to `count` steps of the workload; how many ran."""
    return sum(1 for _ in itertools.islice(steps, count))


def stable(call: ContractFunction) -> Any:
    """A view call while other clients mine: anvil with --prune-history refuses an `eth_call` whose "latest"
    block was mined over meanwhile (BlockOutOfRangeError), so ask again."""
    for _ in range(50):
        try:
            return call.call()
        except Web3RPCError as err:
            if "BlockOutOfRange" not in str(err):
                raise
    raise AssertionError(f"{call.fn_name}() kept failing")


def price_points(deployment: Deployment) -> dict[int, tuple[int, int]]:
    """Thread -> (price, round) (`updatedAt` is a wall-clock time and differs between the devnets)."""
    hub = deployment.hub
    points = {}
    for thread_id in range(1, hub.functions.threadCount().call() + 1):
        price, _updated_at, round_ = hub.functions.pricePoint(thread_id).call()
        points[thread_id] = (price, round_)
    return points


def receipts_from(rpc_url: str, sender: str) -> list[dict[str, object]]:
    """Every receipt of a transaction sent by `sender` (all blocks, in one JSON-RPC batch)."""
    head = int(str(rpc_call(rpc_url, "eth_blockNumber")), 16)
    batch = [{"jsonrpc": "2.0", "id": n, "method": "eth_getBlockReceipts", "params": [hex(n)]} for n in range(head + 1)]
    replies = requests.post(rpc_url, json=batch, timeout=60).json()
    return [r for reply in replies for r in reply["result"] if r["from"].lower() == sender.lower()]


# ------------------------------------------------------------------------------------------------------------
# The test
# ------------------------------------------------------------------------------------------------------------


class Background(threading.Thread, Generic[T]):
    """Runs `target` in a thread; `result()` joins it and re-raises what it raised."""

    def __init__(self, target: Callable[[], T]) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self._value: list[T] = []
        self._error: list[BaseException] = []
        self.start()

    def run(self) -> None:
        try:
            self._value.append(self._target_fn())
        except BaseException as err:
            self._error.append(err)

    def result(self) -> T:
        self.join()
        if self._error:
            raise self._error[0]
        return self._value[0]


def _wait_for_start(process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    """Until the pricer reports where it resumes (it is then indexing and pricing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the pricer exited ({process.returncode}): {log.with_suffix('.err').read_text()}")
        if b'"event":"resume"' in log.read_bytes():
            return
        time.sleep(0.01)
    raise AssertionError("the pricer did not start")


def settle(devnet: Devnet, deployment: Deployment, account: LocalAccount, db: str) -> int:
    """Price until no thread waits for its deviation window, an hour of chain time between runs; how many runs."""
    for runs in itertools.count(1):
        events: list[dict[str, Any]] = []
        with (
            indexing(devnet.rpc_url, deployment.manifest, db),
            Pricer(devnet.rpc_url, deployment.manifest, account, db, config=FAST, emit=events.append) as pricer,
        ):
            pricer.run(once=True)
        if not any(e["event"] == "waiting" and e.get("reason") == "deviation window" for e in events):
            return runs
        assert runs < 60, "the prices should settle within a few windows"
        rpc_call(devnet.rpc_url, "evm_increaseTime", [3600])
        rpc_call(devnet.rpc_url, "evm_mine")
    raise AssertionError("unreachable")


def uninterrupted(run_dir: Path, db: str) -> tuple[Rounds, dict[int, tuple[int, int]]]:
    """Devnet B: the workload, then pricer runs that nothing interrupts (window after window)."""
    devnet, deployment, accounts = start(run_dir)
    try:
        workload(devnet, deployment, accounts).run()
        settle(devnet, deployment, accounts[1], db)
        return rounds_of(deployment), price_points(deployment)
    finally:
        devnet.stop()


def test_sigkill_at_random_points_changes_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHOIR_FAULT_SEED", random.SystemRandom().randrange(2**32)))
    print(f"fault seed: {seed} (CHOIR_FAULT_SEED={seed} replays these kill points)")
    kill_points = random.Random(seed)
    clock = time.monotonic()
    reference = Background(lambda: uninterrupted(tmp_path / "uninterrupted", f"sqlite:///{tmp_path / 'b.db'}"))

    # Devnet A: the same workload while pricer processes are started and killed.
    devnet, deployment, accounts = start(tmp_path / "killed")
    try:
        manifest = deployment.manifest.write(tmp_path / "deployments")
        db = f"sqlite:///{tmp_path / 'killed.db'}"
        command = [
            *CHOIR_CLI, "pricer", "--rpc", devnet.rpc_url, "--manifest", str(manifest), "--db", db,
            "--poll-interval", "0.02",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "CHOIR_PRICER_KEY"}  # devnet: account 1
        steps = workload(devnet, deployment, accounts).steps()
        done, rounds_at_kill, chunk = 0, [], None
        for life in range(KILLS):
            log = tmp_path / f"life{life}.log"
            with log.open("wb") as out, log.with_suffix(".err").open("wb") as err:
                process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
            try:
                if chunk is not None:
                    done += chunk.result()  # the previous part of the workload ends while this pricer starts
                _wait_for_start(process, log)
                # The next part of the workload runs while the pricer works; the kill lands anywhere in it.
                take = -(-(STEPS - done) // (KILLS - life))
                chunk = Background(functools.partial(advance, steps, take))
                time.sleep(kill_points.uniform(0.05, 0.6))
            finally:
                process.kill()  # SIGKILL
                process.wait()
            rounds_at_kill.append(stable(deployment.hub.functions.lastRound()))
        assert chunk is not None
        done += chunk.result()
        assert next(steps, "end") == "end" and done == STEPS
        print(f"{KILLS} kills in {time.monotonic() - clock:.1f}s; last round at each: {rounds_at_kill}")
        expected_rounds, expected_points = reference.result()  # type: ignore[misc]
        print(f"uninterrupted run: {len(expected_rounds)} rounds; {time.monotonic() - clock:.1f}s")
        assert sorted(expected_rounds) == list(range(1, len(expected_rounds) + 1))
        assert len(expected_rounds) >= 10, len(expected_rounds)

        runs = settle(devnet, deployment, accounts[1], db)
        rounds = rounds_of(deployment)
        print(f"killed run: {len(rounds)} rounds, settled in {runs} more runs")
        assert sorted(rounds) == list(range(1, len(rounds) + 1))
        assert deployment.hub.functions.lastRound().call() == len(rounds)
        assert {t: p for t, (p, _round) in price_points(deployment).items()} == {
            t: p for t, (p, _round) in expected_points.items()
        }
        receipts = receipts_from(devnet.rpc_url, accounts[1].address)
        assert [int(str(r["status"]), 16) for r in receipts] == [1] * len(receipts), "a pricer tx reverted"
        hub = deployment.hub.address.lower()
        to_hub = [r for r in receipts if str(r["to"]).lower() == hub]
        assert len(to_hub) == len(rounds), "one transaction per round, none wasted"
        # The rest allocated closed epochs, each once: a repeat would have reverted (AlreadyPaid, BudgetExceeded).
        distributor = deployment.distributor
        assert distributor is not None
        others = [r for r in receipts if str(r["to"]).lower() != hub]
        assert {str(r["to"]).lower() for r in others} <= {distributor.address.lower()}
        epochs = distributor.events.EpochAllocated().get_logs(from_block=0)
        assert len(others) == len(epochs) == len({e["args"]["epoch"] for e in epochs})

        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        with Indexer(devnet.rpc_url, deployment.manifest, fresh) as indexer:
            indexer.sync()
        killed = make_engine(db)
        assert dump(killed) == dump(fresh)
        killed.dispose()
        fresh.dispose()
        print(f"done: {time.monotonic() - clock:.1f}s")
    finally:
        devnet.stop()
