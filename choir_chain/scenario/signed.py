"""A community on a devnet driven by development accounts: one method per protocol step, each a signed
transaction sent and confirmed before the next (`Chain.transact`: the node's estimate with the one gas margin,
the receipt checked, `TransactionFailed` on a revert).

The demo seed and the tests' world script a small community step by step, reading what a step created (a thread
id, a message index) from the contracts' views: with one transaction at a time, nothing else moves the chain in
between. Every step returns the block it was mined in, so a script can note where things happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from choir_chain import artifacts
from choir_chain.deploy import Deployment
from choir_chain.protocol import AuthorKind, SpecStatus
from choir_chain.protocol.governance import FOR, Proposal


class SignedCommunity:
    """Protocol steps on `deployment`, each signed by the account that takes it (see the module docstring)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.chain = deployment.chain
        self.w3 = deployment.chain.w3
        self.hub: Contract = deployment.hub
        self.token: Contract = deployment.token
        self._threads: dict[int, Contract] = {}

    # -- sending and the clock ------------------------------------------------------------------------------

    def send(self, call: ContractFunction, sender: LocalAccount) -> int:
        """Send `call` from `sender` and wait for its receipt; the block it was mined in (raises on a revert)."""
        return int(self.chain.transact(call, sender)["blockNumber"])

    def advance(self, seconds: int) -> None:
        """Let `seconds` pass on the devnet and mine a block at the new time."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def thread(self, thread_id: int) -> Contract:
        """The `ThreadDAO` binding of thread `thread_id`."""
        if thread_id not in self._threads:
            self._threads[thread_id] = self.deployment.thread(thread_id)
        return self._threads[thread_id]

    def price(self, thread_id: int) -> int:
        """The thread's current stake price."""
        return int(self.hub.functions.price(thread_id).call())

    # -- protocol steps -------------------------------------------------------------------------------------

    def transfer(self, sender: LocalAccount, to: str, amount: int) -> int:
        """CHOIR from `sender` to `to` (funding a member, a donation to a thread)."""
        return self.send(self.token.functions.transfer(to, amount), sender)

    def create_thread(self, author: LocalAccount, content: bytes, kind: AuthorKind) -> tuple[int, int]:
        """A new thread with root message `content`: its id and block."""
        block = self.send(self.hub.functions.createThread(content, kind), author)
        return int(self.hub.functions.threadCount().call()), block

    def post(
        self, thread_id: int, author: LocalAccount, content: bytes, citations: Sequence[int], kind: AuthorKind
    ) -> tuple[int, int]:
        """A co-author's message: its index in the thread and block."""
        thread = self.thread(thread_id)
        block = self.send(thread.functions.post(content, list(citations), kind), author)
        return int(thread.functions.messageCount().call()) - 1, block

    def submit_spec(
        self,
        thread_id: int,
        author: LocalAccount,
        content: bytes,
        citations: Sequence[int],
        stake: int,
        kind: AuthorKind,
    ) -> tuple[int, int]:
        """Approve exactly `stake`, then stake it on a spec: the spec's id (its message index) and block."""
        thread = self.thread(thread_id)
        self.send(self.token.functions.approve(thread.address, stake), author)
        block = self.send(thread.functions.submitSpec(content, list(citations), stake, kind), author)
        return int(thread.functions.messageCount().call()) - 1, block

    def vote(self, thread_id: int, voter: LocalAccount, spec_id: int, approve: bool) -> int:
        return self.send(self.thread(thread_id).functions.vote(spec_id, approve), voter)

    def settle(self, thread_id: int, sender: LocalAccount, spec_id: int) -> int:
        return self.send(self.thread(thread_id).functions.settle(spec_id), sender)

    def status(self, thread_id: int, spec_id: int) -> str:
        """A spec's status: `pending`, `approved`, `denied`, `split`, `expired` or `refunded`."""
        return SpecStatus(self.thread(thread_id).functions.getSpec(spec_id).call()[8]).label

    def claim(self, thread_id: int, curator: LocalAccount, spec_ids: Sequence[int]) -> int:
        """A denier's curator rewards of `spec_ids`, in one transaction."""
        return self.send(self.thread(thread_id).functions.claimCuratorRewards(list(spec_ids)), curator)

    def exit(self, thread_id: int, member: LocalAccount) -> int:
        return self.send(self.thread(thread_id).functions.exit(), member)

    def update_prices(self, pricer: LocalAccount, ids: Sequence[int], prices: Sequence[int], round_: int) -> int:
        """One oracle round, from an account holding the hub's pricer role."""
        return self.send(self.hub.functions.updatePrices(list(ids), list(prices), round_), pricer)

    # -- governance -----------------------------------------------------------------------------------------

    def create_governor(self, thread_id: int, by: LocalAccount) -> Contract:
        """Deploy the thread's governor (a co-author's step); its binding."""
        self.send(self.hub.functions.createGovernor(thread_id), by)
        address = self.hub.functions.governorOf(thread_id).call()
        return self.chain.contract(artifacts.load("ThreadGovernor"), address)

    def treasury_transfer(self, thread_id: int, to: str, amount: int, description: str) -> Proposal:
        """A proposal that the thread's treasury pays `amount` to `to`."""
        thread = self.thread(thread_id)
        calldata = thread.functions.transferTreasury(to, amount)._encode_transaction_data()
        return Proposal([thread.address], [0], [calldata], description)

    def propose(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> int:
        """Submit `proposal`; its id."""
        p = proposal
        self.send(governor.functions.propose(p.targets, p.values, p.calldatas, p.description), by)
        return int(governor.functions.hashProposal(p.targets, p.values, p.calldatas, p.description_hash).call())

    def cast_vote(self, governor: Contract, by: LocalAccount, proposal_id: int, support: int = FOR) -> int:
        return self.send(governor.functions.castVote(proposal_id, support), by)

    def queue(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> int:
        p = proposal
        return self.send(governor.functions.queue(p.targets, p.values, p.calldatas, p.description_hash), by)

    def execute(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> int:
        p = proposal
        return self.send(governor.functions.execute(p.targets, p.values, p.calldatas, p.description_hash), by)
