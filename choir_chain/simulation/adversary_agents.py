"""The agents of the adversarial strategies on a devnet (`simulation.adversary_devnet`), one class per strategy of
the security review, each acting on the real contracts through a `devnet_world.World`.

An agent is called at four moments: `setup` (eight days before the measured epochs: its keys, threads and starting
holdings, whose value is its capital), `prelude(i)` (the seven days before them: only an agent whose approvals
become certain at the end of a 7-day window acts there), `day(d)` (each measured epoch, after the honest
background's steps), and `allocation` (the pricer's split of a closed epoch: the fair pro-rata one, except for the
compromised pricer). Its result is the value of its keys (CHOIR held plus what their equity would pay on exit) at
the end, minus its capital.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from choir_chain.deploy import CHOIR
from choir_chain.protocol import message_id as global_message_id
from choir_chain.protocol.governance import Proposal
from choir_chain.protocol.units import WAD
from choir_chain.semantics.calibration import calibrate
from choir_chain.semantics.relevance import RELEVANCE_FLOOR
from choir_chain.simulation.devnet_world import Paid, Spec, World

ON_TOPIC_RAW = 0.45
"""Raw MiniLM similarity of an attacker's on-topic text (the honest background's range is 0.40-0.55)."""
ON_TOPIC = calibrate(ON_TOPIC_RAW)
AT_FLOOR = calibrate(RELEVANCE_FLOOR)
"""Text made just relevant enough to its own thread and unrelated to everything else: the rule's bound."""
WITHHELD = WAD
"""Off-topic text (the relevance rule) and spam (the spam policy): the score is withheld, weight 0."""


def base(day: int) -> int:
    """Seconds into its epoch at which day `day`'s steps start: an hour in, 10 minutes later each day, so that a
    key that joined on one day is past its one-day exit cooldown at the same step of the next."""
    return 3600 + 600 * day


@dataclass
class Agent(ABC):
    """What every strategy shares: its keys, the threads its equity is in, and its messages."""

    name: str
    note: str
    keys: list[LocalAccount] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    messages: set[int] = field(default_factory=set)
    epoch0: int = 0
    """The first measured epoch (set by the runner)."""

    @abstractmethod
    def setup(self, world: World) -> None:
        """Eight days before the measured epochs: the agent's keys, threads and starting holdings."""

    def prelude(self, world: World, i: int) -> None:
        """Day `i` of the seven before the measured epochs; most strategies do nothing there."""
        del world, i

    @abstractmethod
    def day(self, world: World, d: int) -> None:
        """Measured epoch `d` (from 0), after the honest background's steps of that day."""

    def allocation(self, world: World, epoch: int, fair: dict[int, int]) -> dict[int, int]:
        return fair

    def finish(self, world: World) -> None:
        """After the last allocation: record what the tests check beyond the agent's own value."""
        del world

    def value(self, world: World) -> int:
        return world.value([k.address for k in self.keys], self.threads)

    def share(self, paid: Paid) -> float:
        """The part of the epoch's budget paid for this agent's messages."""
        return sum(a for m, a in paid.amounts.items() if m in self.messages) / paid.budget

    def key(self, world: World, choir: int = 0) -> LocalAccount:
        account = world.key(choir)
        self.keys.append(account)
        return account

    def top_up(self, world: World, account: LocalAccount, amount: int, keep: AbstractSet[str]) -> None:
        """Bring `account`'s balance to `amount` from the agent's other keys (not those in `keep`): one owner
        pools its keys' CHOIR. A key's payout on exit can be below its stake (while the thread's treasury is
        small, the equity rule's sqrt and 1/2 terms, not the NAV floor, give the creator part of each stake)."""
        missing = amount - world.balance(account.address)
        for payer in self.keys:
            if missing <= 0:
                return
            if payer.address == account.address or payer.address in keep:
                continue
            moved = min(missing, world.balance(payer.address))
            if moved:
                world.transfer(payer, account.address, moved)
                missing -= moved
        if missing > 0:
            raise RuntimeError(f"{self.name}: its keys hold too little for a stake of {amount}")


@dataclass
class SelfDealing(Agent):
    """The attacker's own thread, every co-author its keys: each day its `keys - 1` spec keys (out since the day
    before) submit a spec the creator approves alone. Capital: one stake per key (the model's convention; the
    creator's stays idle)."""

    n_keys: int = 3
    similarity: int = AT_FLOOR
    creator: LocalAccount | None = None
    spec_keys: list[LocalAccount] = field(default_factory=list)
    joined: bool = False

    def setup(self, world: World) -> None:
        price = world.price(1)
        self.creator = self.key(world, price)
        self.spec_keys = [self.key(world, price) for _ in range(self.n_keys - 1)]
        self.threads = [world.create_thread(self.creator, f"{self.name} thread")]

    def day(self, world: World, d: int) -> None:
        assert self.creator is not None
        start = world.epoch_start(self.epoch0 + d) + base(d)
        thread = self.threads[0]
        if self.joined:
            world.at(start + 200)
            for k in self.spec_keys:
                world.exit(thread, k)
        world.at(start + 210)
        price = world.price(thread)
        submitters = {k.address for k in self.spec_keys}
        for k in self.spec_keys:
            self.top_up(world, k, price, submitters - {k.address})
        specs = [self._submit(world, thread, k) for k in self.spec_keys]
        world.at(start + 220)
        for spec in specs:
            world.vote(spec, self.creator)
        world.at(start + 230)
        for spec in specs:
            world.settle(spec, self.creator)
        self.joined = True

    def _submit(self, world: World, thread: int, author: LocalAccount) -> Spec:
        spec = world.submit(thread, author, self.similarity)
        self.messages.add(spec.message_id)
        return spec


@dataclass
class CitationRing(SelfDealing):
    """`rings` attacker threads, each approving one on-topic spec a day from its own key; with `cite`, every spec
    cites the roots of the other ring threads. Measured against the same ring not citing (a second run)."""

    rings: int = 4
    cite: bool = True
    creators: list[LocalAccount] = field(default_factory=list)

    def setup(self, world: World) -> None:
        price = world.price(1)
        for i in range(self.rings):
            creator = self.key(world, price)
            self.creators.append(creator)
            self.spec_keys.append(self.key(world, price))
            self.threads.append(world.create_thread(creator, f"ring thread {i}"))

    def day(self, world: World, d: int) -> None:
        start = world.epoch_start(self.epoch0 + d) + base(d)
        members = list(zip(self.threads, self.creators, self.spec_keys, strict=True))
        if self.joined:
            world.at(start + 200)
            for thread, _, k in members:
                world.exit(thread, k)
        world.at(start + 210)
        submitters = {k.address for k in self.spec_keys}
        for thread, _, k in members:
            self.top_up(world, k, world.price(thread), submitters - {k.address})
        specs = []
        for thread, _, k in members:
            cites = tuple(global_message_id(t, 0) for t in self.threads if t != thread) if self.cite else ()
            spec = world.submit(thread, k, ON_TOPIC, citations=cites)
            self.messages.add(spec.message_id)
            specs.append(spec)
        world.at(start + 220)
        for spec, (_, creator, _) in zip(specs, members, strict=True):
            world.vote(spec, creator)
        world.at(start + 230)
        for spec, (_, creator, _) in zip(specs, members, strict=True):
            world.settle(spec, creator)
        self.joined = True


@dataclass
class SettlementTiming(Agent):
    """A thread owner submits one on-topic spec from its key on the first day and casts the only (last) vote on
    day `vote_day` (the epoch where the spec takes the largest share; 0 in the at-once counterfactual); it
    settles on the last day, which changes nothing (the reward belongs to the vote's epoch)."""

    vote_day: int = 0
    last_day: int = 0
    creator: LocalAccount | None = None
    spec_key: LocalAccount | None = None
    spec: Spec | None = None

    def setup(self, world: World) -> None:
        self.creator = self.key(world)
        self.spec_key = self.key(world, world.price(1))
        self.threads = [world.create_thread(self.creator, "timed thread")]

    def day(self, world: World, d: int) -> None:
        assert self.creator is not None and self.spec_key is not None
        start = world.epoch_start(self.epoch0 + d) + base(d)
        if d == 0:
            world.at(start + 210)
            self.spec = world.submit(self.threads[0], self.spec_key, ON_TOPIC)
            self.messages.add(self.spec.message_id)
        assert self.spec is not None
        if d == self.vote_day:
            world.at(start + 220)
            world.vote(self.spec, self.creator)
        if d == self.last_day:
            world.at(start + 230)
            world.settle(self.spec, self.creator)


@dataclass
class MajorityRaid(Agent):
    """A thread where the attacker holds 70% (its donation of 700 CHOIR) and an honest minority 30% (a 300 CHOIR
    spec the attacker approved). On the first day the attacker creates the governor, proposes to pay itself the
    whole treasury, votes for, and queues it; on the second it executes at the earliest second. An `alert`
    minority exits a minute before with its pro-rata share (its cooldown is long over), and the execution then
    fails for want of funds (final: it never runs later); a passive minority does nothing and loses its share."""

    alert: bool = True
    attacker: LocalAccount | None = None
    minority: LocalAccount | None = None
    proposal: Proposal | None = None
    eta: int = 0
    proposal_id: int = 0
    minority_payout: int = 0
    execution_failed: bool = False

    def setup(self, world: World) -> None:
        self.attacker = self.key(world, 700 * CHOIR)
        self.minority = world.key(300 * CHOIR)
        start = world.now()
        thread = world.create_thread(self.attacker, "raided thread")
        self.threads = [thread]
        world.donate(thread, self.attacker, 700 * CHOIR)
        world.at(start + 2)
        spec = world.submit(thread, self.minority, WITHHELD, stake=300 * CHOIR)
        world.at(start + 3)
        world.vote(spec, self.attacker)
        world.settle(spec, self.attacker)

    def day(self, world: World, d: int) -> None:
        assert self.attacker is not None and self.minority is not None
        start = world.epoch_start(self.epoch0 + d) + base(d)
        thread = self.threads[0]
        if d == 0:
            world.at(start + 300)
            governor = world.governor(thread, self.attacker)
            treasury = int(world.read(world.thread(thread), "treasury"))
            self.proposal = world.treasury_transfer(thread, self.attacker.address, treasury, "Pay the majority")
            world.at(start + 302)
            self.proposal_id = proposal_id = world.propose(governor, self.attacker, self.proposal)
            world.at(int(world.read(governor, "proposalSnapshot", proposal_id)) + 1)
            world.cast_vote(governor, self.attacker, proposal_id)
            world.at(int(world.read(governor, "proposalDeadline", proposal_id)) + 1)
            world.queue(governor, self.attacker, self.proposal)
            self.eta = int(world.read(governor, "proposalEta", proposal_id))
        if self.eta and world.epoch_start(self.epoch0 + d) <= self.eta < world.epoch_start(self.epoch0 + d + 1):
            assert self.proposal is not None
            if self.alert:
                world.at(self.eta - 60)
                before = world.balance(self.minority.address)
                world.exit(thread, self.minority)
                self.minority_payout = world.balance(self.minority.address) - before
            world.at(self.eta)
            governor = world.governor(thread, self.attacker)
            world.execute(governor, self.attacker, self.proposal)
            self.execution_failed = bool(world.read(governor, "executionFailed", self.proposal_id))
            self.eta = 0


@dataclass
class PassiveDilution(Agent):
    """A co-author (1/8 of a thread whose other co-author, 7/8, never votes) approves one spec of a second key
    of its own a day; nobody else votes, so each approval becomes certain when its 7-day window ends: the keys
    submit in the seven days before the measured epochs, one a day. Each spec cites an honest thread's root (as
    the model's 10% citation share assumes)."""

    epochs: int = 3
    cited: int = 0
    passive: LocalAccount | None = None
    passive_claim: int = 0
    """The passive co-author's claim once the owner has joined (what dilution must not reduce)."""
    passive_claim_end: int = 0
    joined_claims: list[int] = field(default_factory=list)
    """Each second key's claim right after joining (the NAV floor: at most its stake)."""
    owner: LocalAccount | None = None
    second_keys: list[LocalAccount] = field(default_factory=list)
    specs: list[Spec] = field(default_factory=list)

    def setup(self, world: World) -> None:
        self.passive = passive = world.key(2_100 * CHOIR)
        self.owner = self.key(world, 300 * CHOIR)
        self.second_keys = [self.key(world, world.price(1)) for _ in range(self.epochs)]
        start = world.now()
        thread = world.create_thread(passive, "passive thread")
        self.threads = [thread]
        world.donate(thread, passive, 2_100 * CHOIR)
        world.at(start + 2)
        spec = world.submit(thread, self.owner, WITHHELD, stake=300 * CHOIR)
        world.at(start + 3)
        world.vote(spec, passive)  # the passive co-author's only vote: the owner's own, honest, joining
        world.settle(spec, self.owner)
        self.passive_claim = world.claim(thread, passive.address)

    def prelude(self, world: World, i: int) -> None:
        if i >= self.epochs:
            return
        assert self.owner is not None
        world.at(world.epoch_start(self.epoch0 - 7 + i) + base(i) + 200)
        spec = world.submit(self.threads[0], self.second_keys[i], ON_TOPIC, citations=(self.cited,))
        self.messages.add(spec.message_id)
        self.specs.append(spec)
        world.at(world.now() + 1)
        world.vote(spec, self.owner)

    def day(self, world: World, d: int) -> None:
        assert self.owner is not None
        spec = self.specs[d]
        deadline = int(world.thread(spec.thread_id).functions.getSpec(spec.spec_id).call()[4])  # a struct
        assert world.epoch_start(self.epoch0 + d) <= deadline < world.epoch_start(self.epoch0 + d + 1)
        world.at(deadline + 1)
        world.settle(spec, self.owner)
        self.joined_claims.append(world.claim(spec.thread_id, spec.author))

    def finish(self, world: World) -> None:
        assert self.passive is not None
        self.passive_claim_end = world.claim(self.threads[0], self.passive.address)


@dataclass
class CompromisedPricer(SelfDealing):
    """An accomplice approves one on-topic spec a day in its own thread (one spec key, re-entering each day);
    the pricer's key pays that spec all of `B_e`: `allocate` checks the epoch, the approval, a positive weight,
    `AlreadyPaid` and the sum against the budget, not the split. Capital: the spec key's stake."""

    def setup(self, world: World) -> None:
        self.creator = self.key(world)
        self.spec_keys = [self.key(world, world.price(1))]
        self.threads = [world.create_thread(self.creator, "accomplice thread")]

    def allocation(self, world: World, epoch: int, fair: dict[int, int]) -> dict[int, int]:
        mine = sorted(m for m in fair if m in self.messages)
        if not mine:
            return fair
        budget = world.budget(epoch)
        amounts = {m: budget // len(mine) for m in mine}
        amounts[mine[0]] += budget - sum(amounts.values())
        return amounts
