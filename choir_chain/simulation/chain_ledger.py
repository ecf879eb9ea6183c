"""The ledger on a devnet: every call of the simulation is a transaction to the real contracts.

Agents are addresses anvil impersonates (no keys), funded from the genesis allocation; the simulation's own
pricer is the deployment's pricer account. Transactions go out in JSON-RPC batches, one block per phase
(`choir_chain.bench.batch.BatchSender`), and every receipt is checked. Results (spec ids, settlements, shares,
claims, payouts) are read from the contracts' events, and `view()` reads the contracts' views, so nothing the
simulation records about a devnet run comes from the simulation's own arithmetic.

Where the order of transactions changes the result, the order is forced: threads are created one block each
(ids follow creation order); all settlements of a day come from one keeper account, so its nonces fix their
order (an approved author's shares depend on who joined before); a thread's exits go one block per exit.
Elsewhere the order inside a block does not matter. The clock moves one second a block, and each day starts
exactly `DAY` seconds after the previous one.

A run under an approval threshold other than unanimity sets it before day 0 through each thread's governor
(`chain_threshold.py`).

The simulated agents model stakes and votes, not who writes: every message declares a human author (protocol 7).
"""

from __future__ import annotations

from typing import Any, cast

from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.bench.batch import BatchSender, Tx
from choir_chain.deploy import Deployment
from choir_chain.protocol import UNANIMOUS_BPS, AuthorKind, message_ids
from choir_chain.simulation.chain_threshold import set_approval_thresholds
from choir_chain.simulation.ledger import OUTCOMES, Ballot, LedgerView, Post, Settled, Submission
from choir_chain.simulation.params import DAY, SimParams

GAS = {
    "createThread": 400_000,
    "transfer": 100_000,
    "post": 300_000,
    "approve": 100_000,
    "submitSpec": 500_000,
    "vote": 200_000,
    "settle": 500_000,
    "claimCuratorRewards": 200_000,
    "exit": 400_000,
}
GAS_PER_PRICE = 40_000
STATUS = {2 + i: name for i, name in enumerate(OUTCOMES)}
"""`IThreadDAO.SpecStatus` values of settled specs."""


def agent_address(index: int) -> str:
    """The address of simulated agent `index` (deterministic; nobody holds its key)."""
    return Web3.to_checksum_address(keccak(text=f"choir simulation agent {index}")[12:])


class ChainLedgerError(RuntimeError):
    """The chain answered something the simulation cannot map back (a missing event)."""


class ChainLedger:
    """`Ledger` on a deployed devnet (see the module docstring)."""

    def __init__(self, params: SimParams, rpc_url: str, deployment: Deployment, *, funder: str, pricer: str) -> None:
        self.params = params
        self.deployment = deployment
        self.hub: Contract = deployment.hub
        self.token: Contract = deployment.token
        self.dao: type[Contract] = deployment.chain.w3.eth.contract(abi=artifacts.load("ThreadDAO").abi)
        self.pricer = pricer
        self.keeper = funder
        self.agents = [agent_address(i) for i in range(params.agents)]
        self.index = {a: i for i, a in enumerate(self.agents)}
        self.sender = BatchSender(rpc_url)
        self.addresses: dict[int, str] = {}
        self.candidates: dict[int, set[int]] = {}
        """thread -> agents that may hold shares (creators and approved authors)."""
        self.start_time = 0
        self.day = 0
        self.genesis_supply = 0
        self._fund(funder)

    # -- set-up and clock -----------------------------------------------------------------------------------

    def _fund(self, funder: str) -> None:
        self.sender.prepare(self.agents)
        self.sender.call("anvil_setBlockTimestampInterval", [1])
        self.genesis_supply = int(self.token.functions.totalSupply().call())
        data = [self.token.encode_abi("transfer", args=[a, self.params.endowment]) for a in self.agents]
        self.sender.send([Tx(funder, self.token.address, d, GAS["transfer"], "fund") for d in data])
        self.sender.mine()

    def create_threads(self, creators: list[int]) -> list[int]:
        ids = []
        for i, creator in enumerate(creators):
            data = self.hub.encode_abi("createThread", args=[keccak(text=f"simulation root {i}"), AuthorKind.HUMAN])
            self.sender.send([Tx(self.agents[creator], self.hub.address, data, GAS["createThread"], "create")])
            (receipt,) = self.sender.mine()
            (event,) = self._events(receipt, self.hub, "ThreadCreated")
            thread_id = int(event["args"]["threadId"])
            self.addresses[thread_id] = event["args"]["thread"]
            self.candidates[thread_id] = {creator}
            ids.append(thread_id)
        if self.params.approval_threshold_bps != UNANIMOUS_BPS:
            set_approval_thresholds(self, ids, creators, self.params.approval_threshold_bps)
        self.start_time = self._timestamp() + 1
        return ids

    def begin_day(self, day: int) -> None:
        self.day = day
        if day == 0:
            return
        self.sender.call("evm_setNextBlockTimestamp", [self.start_time + day * DAY])
        self.sender.mine_empty()

    def _timestamp(self) -> int:
        return int(self.sender.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    # -- transactions ---------------------------------------------------------------------------------------

    def _thread_tx(self, thread: int, sender: str, fn: str, args: list[Any]) -> Tx:
        return Tx(sender, self.addresses[thread], self.dao.encode_abi(fn, args=args), GAS[fn], f"{fn} {thread}")

    def _run(self, txs: list[Tx]) -> list[dict[str, Any]]:
        if not txs:
            return []
        self.sender.send(txs)
        return self.sender.mine()

    def push_prices(self, round_: int, prices: dict[int, int]) -> None:
        ids = sorted(prices)
        data = self.hub.encode_abi("updatePrices", args=[ids, [prices[t] for t in ids], round_])
        gas = 100_000 + GAS_PER_PRICE * len(ids)
        self._run([Tx(self.pricer, self.hub.address, data, gas, f"round {round_}")])

    def post(self, posts: list[Post]) -> None:
        self._run(
            [
                self._thread_tx(
                    p.thread,
                    self.agents[p.author],
                    "post",
                    [_hash("post", self.day, i), message_ids(p.citations), AuthorKind.HUMAN],
                )
                for i, p in enumerate(posts)
            ]
        )

    def submit(self, submissions: list[Submission]) -> list[int]:
        txs = []
        for i, s in enumerate(submissions):
            author = self.agents[s.author]
            approve = self.token.encode_abi("approve", args=[self.addresses[s.thread], s.stake])
            txs.append(Tx(author, self.token.address, approve, GAS["approve"], "approve"))
            txs.append(
                self._thread_tx(
                    s.thread,
                    author,
                    "submitSpec",
                    [_hash("spec", self.day, i), message_ids(s.citations), s.stake, AuthorKind.HUMAN],
                )
            )
        receipts = self._run(txs)
        return [int(self._single(r, self.dao, "SpecSubmitted")["args"]["specId"]) for r in receipts[1::2]]

    def vote(self, ballots: list[Ballot]) -> None:
        self._run([self._thread_tx(b.thread, self.agents[b.voter], "vote", [b.spec, b.approve]) for b in ballots])

    def settle(self, specs: list[tuple[int, int]]) -> list[Settled]:
        receipts = self._run([self._thread_tx(t, self.keeper, "settle", [spec]) for t, spec in specs])
        out = []
        for (thread, spec), receipt in zip(specs, receipts, strict=True):
            args = self._single(receipt, self.dao, "SpecSettled")["args"]
            joined = self._events(receipt, self.dao, "CoauthorJoined")
            added = sum(int(e["args"]["sharesAdded"]) for e in joined)
            for e in joined:
                self.candidates[thread].add(self.index[e["args"]["account"]])
            out.append(
                Settled(
                    thread,
                    spec,
                    STATUS[int(args["outcome"])],
                    int(args["treasuryGain"]),
                    int(args["payoutPerDenier"]),
                    int(args["approvals"]),
                    int(args["denials"]),
                    added,
                )
            )
        return out

    def claim(self, claims: list[tuple[int, int, int]]) -> list[int]:
        receipts = self._run(
            [self._thread_tx(t, self.agents[d], "claimCuratorRewards", [[spec]]) for t, spec, d in claims]
        )
        return [int(self._single(r, self.dao, "CuratorRewardClaimed")["args"]["amount"]) for r in receipts]

    def exit(self, exits: list[tuple[int, int]]) -> list[int]:
        """One block per rank: a thread's second exit waits for its first (the payout depends on it)."""
        payouts: dict[int, int] = {}
        rank: dict[int, int] = {}
        ranks: list[list[tuple[int, int, int]]] = []
        for position, (thread, agent) in enumerate(exits):
            r = rank.get(thread, 0)
            rank[thread] = r + 1
            if r == len(ranks):
                ranks.append([])
            ranks[r].append((position, thread, agent))
        for group in ranks:
            receipts = self._run([self._thread_tx(t, self.agents[a], "exit", []) for _, t, a in group])
            for (position, _, _), receipt in zip(group, receipts, strict=True):
                payouts[position] = int(self._single(receipt, self.dao, "CoauthorExited")["args"]["payout"])
        return [payouts[i] for i in range(len(exits))]

    # -- reading --------------------------------------------------------------------------------------------

    def view(self) -> LedgerView:
        threads = sorted(self.addresses)
        calls: list[tuple[str, str]] = []
        for t in threads:
            where = self.addresses[t]
            calls += [(where, self.dao.encode_abi(fn, args=[])) for fn in ("treasury", "lockedBalance", "totalShares")]
            calls += [
                (where, self.dao.encode_abi("sharesOf", args=[self.agents[a]])) for a in sorted(self.candidates[t])
            ]
            calls.append((self.hub.address, self.hub.encode_abi("pricePoint", args=[t])))
        calls += [(self.token.address, self.token.encode_abi("balanceOf", args=[a])) for a in self.agents]
        calls.append((self.token.address, self.token.encode_abi("totalSupply", args=[])))
        answers = self.sender.batch([("eth_call", [{"to": to, "data": data}, "latest"]) for to, data in calls])
        words = iter(int(answer[:66], 16) for answer in answers)  # the first 32-byte word of each answer
        treasury, locked, total, shares, prices = {}, {}, {}, {}, {}
        for t in threads:
            treasury[t], locked[t], total[t] = next(words), next(words), next(words)
            held = {a: next(words) for a in sorted(self.candidates[t])}
            shares[t] = {a: s for a, s in held.items() if s}
            prices[t] = next(words)
        wallets = [next(words) for _ in self.agents]
        minted = next(words) - self.genesis_supply
        return LedgerView(treasury, locked, total, shares, wallets, prices, minted)

    def balance_of(self, thread: int) -> int:
        return int(self.token.functions.balanceOf(self.addresses[thread]).call())

    def close(self) -> None:
        self.sender.close()

    # -- events ---------------------------------------------------------------------------------------------

    def _events(self, receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> list[Any]:
        event = getattr(contract.events, name)()
        topic = HexBytes(keccak(text=_signature(contract, name)))
        out = []
        for entry in receipt["logs"]:
            if entry["topics"] and HexBytes(entry["topics"][0]) == topic:
                out.append(event.process_log(_web3_log(entry)))
        return out

    def _single(self, receipt: dict[str, Any], contract: Contract | type[Contract], name: str) -> Any:
        found = self._events(receipt, contract, name)
        if len(found) != 1:
            raise ChainLedgerError(f"{len(found)} {name} events in transaction {receipt['transactionHash']}")
        return found[0]


def _signature(contract: Contract | type[Contract], name: str) -> str:
    for entry in cast(list[dict[str, Any]], contract.abi):
        if entry.get("type") == "event" and entry.get("name") == name:
            return f"{name}({','.join(_type(i) for i in entry['inputs'])})"
    raise ChainLedgerError(f"no event {name} in the ABI")


def _type(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter (enums are uint8 in the ABI already; tuples expanded)."""
    if param["type"].startswith("tuple"):
        return f"({','.join(_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _web3_log(entry: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC log in the shape web3's event decoder takes."""
    return {
        "address": Web3.to_checksum_address(entry["address"]),
        "topics": [HexBytes(t) for t in entry["topics"]],
        "data": HexBytes(entry["data"]),
        "blockNumber": int(entry["blockNumber"], 16),
        "blockHash": HexBytes(entry["blockHash"]),
        "transactionHash": HexBytes(entry["transactionHash"]),
        "transactionIndex": int(entry["transactionIndex"], 16),
        "logIndex": int(entry["logIndex"], 16),
    }


def _hash(kind: str, day: int, i: int) -> bytes:
    """A message's content hash (the simulation has no content; the chain needs a non-zero hash)."""
    return keccak(text=f"simulation {kind}: day {day}, #{i}")
