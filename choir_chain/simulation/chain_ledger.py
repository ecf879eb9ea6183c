"""The ledger on a devnet: every call of the simulation is a transaction to the real contracts.

Agents are addresses anvil impersonates (no keys), funded from the genesis allocation; the simulation's own
pricer is the deployment's pricer account. Transactions go out in JSON-RPC batches, one block per phase, through
the scenario helper (`choir_chain.scenario.Community`: its protocol steps, gas limits and receipt check).
Results (spec ids, settlements, shares, claims, payouts) are read from the contracts' events, and `view()` reads
the contracts' views, so nothing the simulation records about a devnet run comes from the simulation's own
arithmetic.

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

from typing import Any

from eth_utils import keccak
from web3.contract import Contract

from choir_chain.deploy import Deployment
from choir_chain.protocol import UNANIMOUS_BPS, AuthorKind, message_ids
from choir_chain.scenario.batch import BatchSender, Tx
from choir_chain.scenario.community import Community, keyless_address
from choir_chain.scenario.receipts import events, single
from choir_chain.simulation.chain_threshold import set_approval_thresholds
from choir_chain.simulation.ledger import OUTCOMES, Ballot, LedgerView, Post, Settled, Submission
from choir_chain.simulation.params import DAY, SimParams

HUMAN = AuthorKind.HUMAN
STATUS = {2 + i: name for i, name in enumerate(OUTCOMES)}
"""`IThreadDAO.SpecStatus` values of settled specs."""


def agent_address(index: int) -> str:
    """The address of simulated agent `index` (deterministic; nobody holds its key)."""
    return keyless_address(f"choir simulation agent {index}")


class ChainLedger:
    """`Ledger` on a deployed devnet (see the module docstring)."""

    def __init__(self, params: SimParams, rpc_url: str, deployment: Deployment, *, funder: str, pricer: str) -> None:
        self.params = params
        self.deployment = deployment
        self.hub: Contract = deployment.hub
        self.token: Contract = deployment.token
        self.pricer = pricer
        self.keeper = funder
        self.agents = [agent_address(i) for i in range(params.agents)]
        self.index = {a: i for i, a in enumerate(self.agents)}
        self.sender = BatchSender(rpc_url)
        self.community = Community(deployment, self.sender)
        self.dao: type[Contract] = self.community.dao
        self.addresses: dict[int, str] = self.community.threads
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
        self._run([self.community.transfer(funder, a, self.params.endowment, "fund") for a in self.agents])

    def create_threads(self, creators: list[int]) -> list[int]:
        ids = []
        for i, creator in enumerate(creators):
            root = keccak(text=f"simulation root {i}")
            (receipt,) = self._run(
                [self.community.create_thread(self.agents[creator], root, AuthorKind.HUMAN, "create")]
            )
            thread_id = self.community.created_thread(receipt)
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
        return self.community.latest_timestamp()

    # -- transactions ---------------------------------------------------------------------------------------

    def _run(self, txs: list[Tx]) -> list[dict[str, Any]]:
        return self.community.run(txs)

    def push_prices(self, round_: int, prices: dict[int, int]) -> None:
        ids = sorted(prices)
        self._run([self.community.update_prices(self.pricer, ids, [prices[t] for t in ids], round_)])

    def post(self, posts: list[Post]) -> None:
        c = self.community
        self._run(
            [
                c.post(p.thread, self.agents[p.author], _hash("post", self.day, i), message_ids(p.citations), HUMAN)
                for i, p in enumerate(posts)
            ]
        )

    def submit(self, submissions: list[Submission]) -> list[int]:
        txs = []
        for i, s in enumerate(submissions):
            content, cited = _hash("spec", self.day, i), message_ids(s.citations)
            txs += self.community.stake_spec(s.thread, self.agents[s.author], content, cited, s.stake, HUMAN)
        receipts = self._run(txs)
        return [self.community.spec_id(r) for r in receipts[1::2]]

    def vote(self, ballots: list[Ballot]) -> None:
        self._run([self.community.vote(b.thread, self.agents[b.voter], b.spec, b.approve) for b in ballots])

    def settle(self, specs: list[tuple[int, int]]) -> list[Settled]:
        receipts = self._run([self.community.settle(t, self.keeper, spec) for t, spec in specs])
        out = []
        for (thread, spec), receipt in zip(specs, receipts, strict=True):
            args = single(receipt, self.dao, "SpecSettled")
            joined = events(receipt, self.dao, "CoauthorJoined")
            added = sum(int(e["sharesAdded"]) for e in joined)
            for e in joined:
                self.candidates[thread].add(self.index[e["account"]])
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
        receipts = self._run([self.community.claim(t, self.agents[d], [spec]) for t, spec, d in claims])
        return [int(single(r, self.dao, "CuratorRewardClaimed")["amount"]) for r in receipts]

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
            receipts = self._run([self.community.exit(t, self.agents[a]) for _, t, a in group])
            for (position, _, _), receipt in zip(group, receipts, strict=True):
                payouts[position] = int(single(receipt, self.dao, "CoauthorExited")["payout"])
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


def _hash(kind: str, day: int, i: int) -> bytes:
    """A message's content hash (the simulation has no content; the chain needs a non-zero hash)."""
    return keccak(text=f"simulation {kind}: day {day}, #{i}")
