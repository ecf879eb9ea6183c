"""Worked example: the co-authors of a thread govern its treasury (see docs/governance.md).

Alice creates a thread; Bob and Carol stake specs that the co-authors approve, so they join with equity
shares; a donation tops up the treasury. The thread gets its governor, Bob proposes to pay Dave 120 CHOIR from
the treasury, the co-authors vote (Carol by an EIP-712 signature that a relayer submits), and after the voting
period and the execution delay anyone queues and executes the proposal. Every step prints what changed.

Run it from the repository root after ``make compile``::

    .venv/bin/python examples/governance.py             # starts its own devnet and stops it at the end
    .venv/bin/python examples/governance.py --rpc-url http://127.0.0.1:8545     # a devnet already running

With ``--rpc-url`` the node must fund the development accounts (``choir devnet`` and anvil's defaults do) and
accept ``evm_increaseTime``/``evm_mine``; the example deploys a fresh set of contracts there with
``choir_chain.deploy.deploy``. It uses web3.py and this package only, no Ape.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError

from choir_chain import artifacts
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.paths import run_root
from choir_chain.protocol import AuthorKind

STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
AGAINST, FOR, ABSTAIN = 0, 1, 2
DONATION = 50 * CHOIR
PAYMENT = 120 * CHOIR
DESCRIPTION = "Pay Dave 120 CHOIR for the thread's summary"


def fmt(amount: int) -> str:
    """An amount in wei as CHOIR, without trailing zeros."""
    text = format(Decimal(amount) / Decimal(CHOIR), "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " CHOIR"


def shares(amount: int) -> str:
    """Equity shares in units of 1e18 (a thread's creator starts with 1e18)."""
    return f"{format(Decimal(amount) / Decimal(10**18), '.6g')}e18" if amount else "0"


class Example:
    """The example's accounts and contracts on one chain."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.w3: Web3 = chain.w3
        (self.admin, self.pricer, self.alice, self.bob, self.carol, self.dave, self.relayer) = dev_accounts(
            DEV_MNEMONIC, 7
        )
        self.names = {
            account.address: name
            for account, name in (
                (self.alice, "Alice"),
                (self.bob, "Bob"),
                (self.carol, "Carol"),
                (self.dave, "Dave"),
                (self.relayer, "the relayer"),
            )
        }
        self.deployment = deploy(chain, self.admin, pricer=self.pricer.address)
        self.token: Contract = self.deployment.token
        self.hub: Contract = self.deployment.hub
        self.errors = _error_names(
            artifacts.load(name).abi for name in ("ThreadGovernor", "ThreadDAO", "ChoirHub", "ChoirToken")
        )

    # --- chain helpers --------------------------------------------------------------------------------------

    def send(self, call: ContractFunction, sender: LocalAccount) -> dict[str, Any]:
        return dict(self.chain.transact(call, sender))

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Let `seconds` pass and mine a block at the new time (a devnet's evm_increaseTime and evm_mine)."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def refusal(self, call: ContractFunction, sender: LocalAccount) -> str:
        """The custom error `call` reverts with, simulated (eth_call) so nothing is sent."""
        try:
            call.call({"from": sender.address})
        except ContractCustomError as err:
            data = str(err.data if isinstance(err.data, str) else err.args[-1])
            return self.errors.get(data[:10].lower(), data[:10])
        except ContractLogicError as err:
            return str(err)
        raise RuntimeError("expected the call to revert")

    # --- the story ------------------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        w3, token, hub = self.w3, self.token, self.hub
        print(f"chain {self.chain.chain_id}, token {token.address}, hub {hub.address}")
        settings = hub.functions.governanceSettings().call()
        voting_delay, voting_period, quorum_bps, execution_delay = (int(v) for v in settings[1:])
        print(
            f"governance settings: voting delay {voting_delay} s, voting period {voting_period} s, "
            f"quorum {quorum_bps / 100:g}% of shares, execution delay {execution_delay} s"
        )
        for person in (self.alice, self.bob, self.carol):
            self.send(token.functions.transfer(person.address, 1_000 * CHOIR), self.admin)

        print("\n1. Alice creates a thread")
        self.send(hub.functions.createThread(keccak(text="What makes a good summary?"), AuthorKind.HUMAN), self.alice)
        thread_id = int(hub.functions.threadCount().call())
        thread = self.deployment.thread(thread_id)
        print(f"   thread {thread_id} at {thread.address}")
        self.advance(1)  # votes on a spec need shares one second before its submission

        print("\n2. Bob and Carol stake specs; the co-authors approve them")
        price = int(hub.functions.price(thread_id).call())
        print(f"   stake price {fmt(price)}")
        for author, stake, approvers in (
            (self.bob, price, [self.alice]),
            (self.carol, 4 * price, [self.alice, self.bob]),
        ):
            self.send(token.functions.approve(thread.address, stake), author)
            body = keccak(text=f"A spec by {self.names[author.address]}")
            self.send(thread.functions.submitSpec(body, [], stake, AuthorKind.HUMAN), author)
            spec_id = int(thread.functions.messageCount().call()) - 1
            for voter in approvers:
                self.send(thread.functions.vote(spec_id, True), voter)
            self.send(thread.functions.settle(spec_id), author)
            print(
                f"   {self.names[author.address]} staked {fmt(stake)} (spec {spec_id}), approved: "
                f"{shares(thread.functions.sharesOf(author.address).call())} shares"
            )
            self.advance(1)
        members = (self.alice, self.bob, self.carol)
        total = int(thread.functions.totalShares().call())
        for member in members:
            held = shares(thread.functions.sharesOf(member.address).call())
            print(f"   {self.names[member.address]:<5} {held} shares")
        print(f"   total {shares(total)} shares")

        print("\n3. The treasury: approved stakes, plus a donation absorbed into it")
        self.send(token.functions.transfer(thread.address, DONATION), self.admin)
        self.send(thread.functions.absorbDonations(), self.relayer)
        print(
            f"   treasury {fmt(thread.functions.treasury().call())}, "
            f"escrow {fmt(thread.functions.lockedBalance().call())}"
        )

        print("\n4. The thread gets its governor (a co-author asks the hub, once)")
        create = hub.functions.createGovernor(thread_id)
        print(f"   Dave (not a co-author) asking is refused: {self.refusal(create, self.dave)}")
        self.send(create, self.alice)
        governor = self.chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(thread_id).call())
        assert thread.functions.governor().call() == governor.address
        print(f"   governor {governor.address} (thread.governor() agrees)")
        self.advance(1)

        print("\n5. Bob proposes to pay Dave from the treasury")
        targets = [thread.address]
        values = [0]
        calldatas = [_calldata(thread.functions.transferTreasury(self.dave.address, PAYMENT))]
        description_hash = keccak(text=DESCRIPTION)
        receipt = self.send(governor.functions.propose(targets, values, calldatas, DESCRIPTION), self.bob)
        key = (targets, values, calldatas, description_hash)  # what queue and execute take
        proposal_id = int(governor.functions.hashProposal(*key).call())
        snapshot = int(governor.functions.proposalSnapshot(proposal_id).call())
        deadline = int(governor.functions.proposalDeadline(proposal_id).call())
        print(f"   proposal id {proposal_id}")
        proposed_at = w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        print(f"   proposed at {proposed_at}, snapshot {snapshot}, vote ends {deadline}")
        print(f"   state {self.state(governor, proposal_id)}")
        outsider = governor.functions.propose(targets, values, calldatas, "Dave's own proposal")
        print(f"   Dave (no shares) proposing is refused: {self.refusal(outsider, self.dave)}")

        print(f"\n6. The voting delay passes ({voting_delay} s): the vote opens")
        self.advance(voting_delay + 1)
        print(f"   state {self.state(governor, proposal_id)}")
        quorum = int(governor.functions.quorum(snapshot).call())
        print(f"   quorum: {shares(quorum)} shares (for + abstain) of {shares(total)} at the snapshot")

        print("\n7. The co-authors vote, weighted by their shares at the snapshot")
        for voter, support, word in ((self.alice, AGAINST, "against"), (self.bob, FOR, "for")):
            self.send(governor.functions.castVote(proposal_id, support), voter)
            weight = shares(governor.functions.getVotes(voter.address, snapshot).call())
            print(f"   {self.names[voter.address]} votes {word} on chain ({weight} shares)")
        nonce = int(governor.functions.nonces(self.carol.address).call())
        signature_deadline = self.now() + 3600
        signature = _sign_ballot(
            self.carol, governor.address, self.chain.chain_id, proposal_id, FOR, nonce, signature_deadline
        )
        vote_by_sig = governor.functions.castVoteBySigWithDeadline(
            proposal_id, FOR, self.carol.address, signature_deadline, signature
        )
        self.send(vote_by_sig, self.relayer)
        weight = shares(governor.functions.getVotes(self.carol.address, snapshot).call())
        print(f"   Carol signs a vote for (BallotWithDeadline, nonce {nonce}, valid until {signature_deadline})")
        print(f"   and the relayer submits it: castVoteBySigWithDeadline ({weight} shares)")
        print(f"   replaying Carol's signature is refused: {self.refusal(vote_by_sig, self.relayer)}")
        against, for_, abstain = (int(v) for v in governor.functions.proposalVotes(proposal_id).call())
        print(f"   votes: for {shares(for_)}, against {shares(against)}, abstain {shares(abstain)}")

        print(f"\n8. The voting period ends ({voting_period} s after the snapshot)")
        self.advance(deadline - self.now() + 1)
        print(f"   state {self.state(governor, proposal_id)}")
        execute = governor.functions.execute(*key)
        print(f"   executing without queueing is refused: {self.refusal(execute, self.relayer)}")

        print("\n9. Anyone queues it; it waits out the execution delay")
        self.send(governor.functions.queue(*key), self.relayer)
        eta = int(governor.functions.proposalEta(proposal_id).call())
        print(f"   state {self.state(governor, proposal_id)}, executable from {eta}")
        print(f"   executing now is refused: {self.refusal(execute, self.relayer)}")
        cooldown = int(thread.functions.EXIT_COOLDOWN().call())  # the execution delay is at least this
        can_leave = int(thread.functions.joinedAt(self.alice.address).call()) + cooldown
        print(f"   Alice, outvoted, could still exit with her share first: from {can_leave}, before {eta}")
        assert can_leave < eta
        self.advance(eta - self.now())

        print("\n10. Anyone executes it")
        before = self.balances(thread)
        self.send(governor.functions.execute(*key), self.relayer)
        after = self.balances(thread)
        print(f"   state {self.state(governor, proposal_id)}")
        for label, name in (("Dave", "recipient"), ("treasury", "treasury"), ("thread holds", "thread")):
            print(f"   {label:<12} {fmt(before[name]):>10} -> {fmt(after[name])}")
        print(f"   executing again is refused: {self.refusal(execute, self.relayer)}")
        print(
            f"\nfinal balances: recipient {fmt(after['recipient'])}, treasury {fmt(after['treasury'])}, "
            f"thread holds {fmt(after['thread'])}"
        )
        print(f"addresses: thread {thread.address}, governor {governor.address}, recipient {self.dave.address}")
        return after

    def state(self, governor: Contract, proposal_id: int) -> str:
        return STATES[int(governor.functions.state(proposal_id).call())]

    def balances(self, thread: Contract) -> dict[str, int]:
        return {
            "recipient": int(self.token.functions.balanceOf(self.dave.address).call()),
            "treasury": int(thread.functions.treasury().call()),
            "thread": int(self.token.functions.balanceOf(thread.address).call()),
        }


def _calldata(call: ContractFunction) -> bytes:
    return bytes.fromhex(call._encode_transaction_data()[2:])


def _sign_ballot(
    voter: LocalAccount,
    governor: str,
    chain_id: int,
    proposal_id: int,
    support: int,
    nonce: int,
    deadline: int,
) -> bytes:
    """The voter's EIP-712 signature of a BallotWithDeadline for this governor (docs/governance.md)."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "BallotWithDeadline": [
                {"name": "proposalId", "type": "uint256"},
                {"name": "support", "type": "uint8"},
                {"name": "voter", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "BallotWithDeadline",
        "domain": {  # the governor's EIP-712 domain: its name, version "1", the chain and its own address
            "name": "ThreadGovernor",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": governor,
        },
        "message": {
            "proposalId": proposal_id,
            "support": support,
            "voter": voter.address,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), voter.key).signature)


def _error_names(abis: Any) -> dict[str, str]:
    """Custom error selector (0x + 8 hex digits) -> name, for the given ABIs."""
    names: dict[str, str] = {}
    for abi in abis:
        for entry in abi:
            if entry.get("type") == "error":
                signature = f"{entry['name']}({','.join(i['type'] for i in entry.get('inputs', []))})"
                names["0x" + keccak(text=signature)[:4].hex()] = entry["name"]
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rpc-url", help="a running devnet (default: start one for the example)")
    args = parser.parse_args(argv)
    if args.rpc_url:
        Example(Chain.connect(args.rpc_url)).run()
        return 0
    run_root().mkdir(parents=True, exist_ok=True)
    with Devnet(Path(tempfile.mkdtemp(prefix="governance-example-", dir=run_root()))) as node:
        print(f"devnet at {node.rpc_url} (anvil, files in {node.run_dir})")
        Example(Chain.connect(node.rpc_url)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
