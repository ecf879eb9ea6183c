"""A devnet run's approval threshold, set the way a thread's parameters change on chain: through its governor.

Before day 0, every thread's creator (its only co-author, holding every share) creates the thread's governor,
proposes `setApprovalThreshold(bps)`, votes for it, queues it and, after the execution delay, executes it; each
step is one block for all threads, and the clock jumps over the voting delay, the voting period and the execution
delay (a few days the simulation does not count). The thread's `ApprovalThresholdSet` is checked in every
execution's receipt: a run never starts under a rule other than the one asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.bench.batch import Tx
from choir_chain.protocol.approval import is_valid_threshold

if TYPE_CHECKING:
    from choir_chain.simulation.chain_ledger import ChainLedger

GAS = {"createGovernor": 800_000, "propose": 400_000, "castVote": 300_000, "queue": 300_000, "execute": 400_000}
FOR = 1


class ThresholdError(RuntimeError):
    """A thread's governance did not set the approval threshold asked for."""


def set_approval_thresholds(ledger: ChainLedger, threads: list[int], creators: list[int], bps: int) -> None:
    """Give every thread in `threads` (created by agent `creators[i]`) the approval threshold `bps` through a
    governance proposal of its own governor (see the module docstring)."""
    if not is_valid_threshold(bps):
        raise ValueError(f"the contracts accept an approval threshold of 5001 to 10000 basis points, not {bps}")
    sender, hub = ledger.sender, ledger.hub
    proposers = [ledger.agents[c] for c in creators]
    sender.send(
        [
            Tx(who, hub.address, hub.encode_abi("createGovernor", args=[t]), GAS["createGovernor"], f"governor {t}")
            for t, who in zip(threads, proposers, strict=True)
        ]
    )
    sender.mine()
    abi = artifacts.load("ThreadGovernor").abi
    governors = [
        ledger.deployment.chain.w3.eth.contract(address=hub.functions.governorOf(t).call(), abi=abi) for t in threads
    ]
    description = f"approval threshold {bps} basis points"
    keys = []
    for t, governor, who in zip(threads, governors, proposers, strict=True):
        calldata = ledger.dao.encode_abi("setApprovalThreshold", args=[bps])
        key = ([ledger.addresses[t]], [0], [calldata], keccak(text=description))
        keys.append(key)
        data = governor.encode_abi("propose", args=[*key[:3], description])
        sender.send([Tx(who, governor.address, data, GAS["propose"], f"propose {t}")])
    sender.mine()
    ids = [int(g.functions.hashProposal(*key).call()) for g, key in zip(governors, keys, strict=True)]
    _at(ledger, max(int(g.functions.proposalSnapshot(i).call()) for g, i in zip(governors, ids, strict=True)) + 1)
    _each(ledger, governors, proposers, "castVote", lambda i, _key: [i, FOR], ids, keys)
    _at(ledger, max(int(g.functions.proposalDeadline(i).call()) for g, i in zip(governors, ids, strict=True)) + 1)
    _each(ledger, governors, proposers, "queue", lambda _i, key: list(key), ids, keys)
    _at(ledger, max(int(g.functions.proposalEta(i).call()) for g, i in zip(governors, ids, strict=True)))
    receipts = _each(ledger, governors, proposers, "execute", lambda _i, key: list(key), ids, keys)
    for t, receipt in zip(threads, receipts, strict=True):
        (event,) = ledger._events(receipt, ledger.dao, "ApprovalThresholdSet")
        if int(event["args"]["approvalThreshold"]) != bps:
            raise ThresholdError(f"thread {t}: the governor set {event['args']['approvalThreshold']}, not {bps}")
    for t in threads:
        set_to = int(
            ledger.dao(address=Web3.to_checksum_address(ledger.addresses[t])).functions.approvalThreshold().call()
        )
        if set_to != bps:
            raise ThresholdError(f"thread {t} reads an approval threshold of {set_to}, not {bps}")


def _at(ledger: ChainLedger, timestamp: int) -> None:
    """The next block is mined at `timestamp` (or one second on, if the chain is already there)."""
    latest = int(ledger.sender.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    ledger.sender.call("evm_setNextBlockTimestamp", [max(timestamp, latest + 1)])


def _each(
    ledger: ChainLedger,
    governors: list[Contract],
    senders: list[str],
    fn: str,
    args: Any,
    ids: list[int],
    keys: list[Any],
) -> list[dict[str, Any]]:
    """One `fn` call on every governor, all in one block; returns the receipts in thread order."""
    txs = [
        Tx(who, g.address, g.encode_abi(fn, args=args(i, key)), GAS[fn], f"{fn} {i}")
        for g, who, i, key in zip(governors, senders, ids, keys, strict=True)
    ]
    ledger.sender.send(txs)
    return ledger.sender.mine()
