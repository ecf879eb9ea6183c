"""A small demo community on a fresh devnet deployment, from the development accounts (`choir up` runs it).

Four threads with root messages; co-authors who joined through approved specs; specs denied, split, expired
and left pending; posts and specs citing messages of other threads; and a governor for the first thread with an
open proposal (a treasury transfer) holding one vote. The approvals become certain in the first reward epoch,
and the script moves the clock past its end (the approval window of the expiring spec), so the epoch is closed:
the pricer (`choir up`) scores the seeded messages and then mints the epoch's allocation, its budget shared by
novelty weight (protocol 7, r2: no reward at settlement, none without a score). Every message body is kept, so
the gateway's content store can serve them (`SeedResult.bodies`).

Every message declares its author kind (protocol section 7): most are written by people (`human`), a few by an AI
on a member's prompt (`ai_prompted`) and a few by an AI agent on its own (`ai`; Heidi runs one). One pending
spec is a deliberate near-duplicate: an AI rewording of Frank's approved garden note, so the novelty scorer
finds it almost identical to an earlier message (similarity above 0.95: no novelty reward).

The script is deterministic: the same deployment gets the same threads, messages, outcomes, shares and proposal
id every time (block timestamps follow the clock, everything else follows the script). It moves the devnet's
clock (`evm_increaseTime`, `evm_mine`) past a spec's approval window and a proposal's voting delay, so it needs
a devnet, never a real chain.

The steps themselves (signed transactions, receipts checked) are the scenario helper's
(`choir_chain.scenario.SignedCommunity`); this module keeps the story and what it records.

Accounts (development mnemonic, index: role): 0 admin (holds the genesis supply and funds everyone), 1 pricer,
2 Alice, 3 Bob, 4 Carol, 5 Dave, 6 Erin, 7 Frank, 8 Grace, 9 Heidi.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from choir_chain.deploy import CHOIR, Deployment
from choir_chain.devnet import DEVNET_CHAIN_ID
from choir_chain.protocol import AuthorKind, message_id
from choir_chain.scenario.signed import SignedCommunity

NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi")
"""The community: development accounts 2 to 9."""
ACCOUNTS_NEEDED = 2 + len(NAMES)
FUNDING = 10_000 * CHOIR
"""CHOIR the admin sends each member."""
DAY = 24 * 3600
PROPOSAL_AMOUNT = 5 * CHOIR
PROPOSAL_DESCRIPTION = "Pay Grace 5 CHOIR from the treasury for summarising the first week of this thread"
NEAR_DUPLICATE_OF = (
    "Note: a weekly summary like the one Alice describes is what kept our newcomers informed; without it "
    "meetings doubled in length."
)
"""Frank's approved spec in the garden thread."""
NEAR_DUPLICATE = (
    "Note: a weekly summary like the one Alice describes is what kept our newcomers informed; without it, our "
    "meetings doubled in length."
)
"""Grace's pending spec in the garden thread: an AI's light rewording of `NEAR_DUPLICATE_OF`, posted later (cosine
similarity 0.97 with all-MiniLM-L6-v2, above the 0.95 at which the novelty reward drops to zero)."""


class SeedError(RuntimeError):
    """The deployment or the chain cannot be seeded (not a devnet, too few accounts)."""


def content_hash(body: str) -> str:
    """`0x` + keccak256 of the body's UTF-8 bytes, as the indexer and the content store write it."""
    return "0x" + keccak(text=body).hex()


@dataclass(frozen=True)
class SeededThread:
    thread_id: int
    address: str
    creator: str
    title: str


@dataclass(frozen=True)
class SeededMessage:
    thread_id: int
    index: int
    global_id: int
    author: str
    kind: str
    """`root`, `post` or `spec`."""
    body: str
    content_hash: str
    citations: list[int]
    author_kind: str
    """The declared author kind: `human`, `ai` or `ai_prompted` (`choir_chain.protocol.author_kind`)."""
    block: int
    """The block the message (or spec) was submitted in: messages in block order are in chain order."""
    status: str | None = None
    """A spec's outcome: `pending`, `approved`, `denied`, `split`, `expired` or `refunded`."""


@dataclass(frozen=True)
class SeededProposal:
    thread_id: int
    governor: str
    proposal_id: int
    proposer: str
    description: str
    votes_for: int


@dataclass
class SeedResult:
    """What `seed` created."""

    accounts: dict[str, str]
    """Name -> address of every account the script used."""
    threads: list[SeededThread] = field(default_factory=list)
    messages: list[SeededMessage] = field(default_factory=list)
    proposal: SeededProposal | None = None
    rewards: dict[int, list[str]] = field(default_factory=dict)
    """Epoch -> the approved specs (global ids) its allocation is to pay once it closed and they are scored."""
    last_block: int = 0

    def bodies(self) -> dict[str, str]:
        """Content hash -> message body, for every message the script posted."""
        return {m.content_hash: m.body for m in self.messages}

    def specs(self, status: str | None = None) -> list[SeededMessage]:
        return [m for m in self.messages if m.kind == "spec" and (status is None or m.status == status)]

    def author_kinds(self) -> dict[str, int]:
        """Author kind name -> number of messages declaring it (every kind present, possibly 0)."""
        counts = dict.fromkeys((kind.label for kind in AuthorKind), 0)
        for message in self.messages:
            counts[message.author_kind] += 1
        return counts

    def as_json(self) -> str:
        """JSON (ids as decimal strings where they exceed 2^53, as the gateway answers them)."""
        data: dict[str, Any] = asdict(self)
        for message in data["messages"]:
            message["global_id"] = str(message["global_id"])
            message["citations"] = [str(c) for c in message["citations"]]
        if data["proposal"] is not None:
            data["proposal"]["proposal_id"] = str(data["proposal"]["proposal_id"])
            data["proposal"]["votes_for"] = str(data["proposal"]["votes_for"])
        data["rewards"] = {str(epoch): ids for epoch, ids in self.rewards.items()}
        return json.dumps(data, indent=2) + "\n"


class _Seeder:
    """The script's accounts and the helpers its steps share."""

    def __init__(self, deployment: Deployment, accounts: Sequence[LocalAccount]) -> None:
        if len(accounts) < ACCOUNTS_NEEDED:
            raise SeedError(f"seeding needs {ACCOUNTS_NEEDED} development accounts, got {len(accounts)}")
        self.deployment = deployment
        self.community = SignedCommunity(deployment)
        self.chain = deployment.chain
        self.w3 = deployment.chain.w3
        if self.chain.chain_id != DEVNET_CHAIN_ID:
            raise SeedError(
                f"seeding moves the clock of a devnet (chain {DEVNET_CHAIN_ID}), not chain {self.chain.chain_id}"
            )
        self.admin, self.pricer = accounts[0], accounts[1]
        self.people = dict(zip(NAMES, accounts[2:ACCOUNTS_NEEDED], strict=True))
        named: dict[str, str] = {"admin": self.admin.address, "pricer": self.pricer.address}
        named.update((name, account.address) for name, account in self.people.items())
        self.result = SeedResult(accounts=named)
        self.messages: dict[tuple[int, int], SeededMessage] = {}

    # --- chain helpers --------------------------------------------------------------------------------------

    def advance(self, seconds: int) -> None:
        """Let `seconds` pass on the devnet and mine a block at the new time."""
        self.community.advance(seconds)

    def person(self, name: str) -> LocalAccount:
        return self.people[name]

    def approval_window(self, thread_id: int) -> int:
        return int(self.community.thread(thread_id).functions.approvalWindow().call())

    # --- the protocol's actions -----------------------------------------------------------------------------

    def note_epoch(self, thread_id: int, spec_id: int) -> None:
        """Record the epoch in which the approval of spec `spec_id` became certain (it is paid from that epoch's
        budget once the epoch closed and the pricer scored it)."""
        distributor = self.deployment.distributor
        if distributor is None:
            return
        certain = int(self.community.thread(thread_id).functions.approvalCertainAt(spec_id).call())
        launch = int(distributor.functions.launchTime().call())
        epoch = (certain - launch) // DAY
        self.result.rewards.setdefault(epoch, []).append(str(message_id(thread_id, spec_id)))

    def create_thread(self, name: str, title: str, body: str, author_kind: AuthorKind = AuthorKind.HUMAN) -> int:
        author = self.person(name)
        thread_id, block = self.community.create_thread(author, keccak(text=body), author_kind)
        thread = self.community.thread(thread_id)
        self.result.threads.append(SeededThread(thread_id, thread.address, author.address, title))
        self._record(thread_id, 0, name, "root", body, [], author_kind, block)
        return thread_id

    def post(
        self,
        thread_id: int,
        name: str,
        body: str,
        citations: Sequence[int] = (),
        author_kind: AuthorKind = AuthorKind.HUMAN,
    ) -> int:
        index, block = self.community.post(thread_id, self.person(name), keccak(text=body), citations, author_kind)
        self._record(thread_id, index, name, "post", body, citations, author_kind, block)
        return index

    def spec(
        self,
        thread_id: int,
        name: str,
        body: str,
        citations: Sequence[int] = (),
        stake_times: int = 1,
        author_kind: AuthorKind = AuthorKind.HUMAN,
    ) -> int:
        """Stake `stake_times` the thread's current price on a message; its spec id."""
        author = self.person(name)
        stake = self.community.price(thread_id) * stake_times
        index, block = self.community.submit_spec(thread_id, author, keccak(text=body), citations, stake, author_kind)
        self._record(thread_id, index, name, "spec", body, citations, author_kind, block, status="pending")
        return index

    def vote(self, thread_id: int, spec_id: int, votes: dict[str, bool]) -> None:
        for name, approve in votes.items():
            self.community.vote(thread_id, self.person(name), spec_id, approve)

    def settle(self, thread_id: int, spec_id: int, by: str) -> str:
        self.community.settle(thread_id, self.person(by), spec_id)
        status = self.community.status(thread_id, spec_id)
        message = self.messages[(thread_id, spec_id)]
        self.messages[(thread_id, spec_id)] = SeededMessage(**{**asdict(message), "status": status})
        return status

    def claim(self, thread_id: int, spec_ids: list[int], name: str) -> None:
        self.community.claim(thread_id, self.person(name), spec_ids)

    def propose_transfer(self, thread_id: int, proposer: str, to: str, amount: int, description: str) -> None:
        """Create the thread's governor, propose a treasury transfer, let the voting delay pass, vote for it."""
        c, by = self.community, self.person(proposer)
        governor = c.create_governor(thread_id, by)
        self.advance(2)  # proposing needs shares one second before
        proposal_id = c.propose(
            governor, by, c.treasury_transfer(thread_id, self.person(to).address, amount, description)
        )
        voting_delay = int(governor.functions.votingDelay().call())
        self.advance(voting_delay + 1)  # the vote opens
        c.cast_vote(governor, by, proposal_id)
        _against, votes_for, _abstain = governor.functions.proposalVotes(proposal_id).call()
        self.result.proposal = SeededProposal(
            thread_id=thread_id,
            governor=governor.address,
            proposal_id=proposal_id,
            proposer=self.person(proposer).address,
            description=description,
            votes_for=int(votes_for),
        )

    def _record(
        self,
        thread_id: int,
        index: int,
        name: str,
        kind: str,
        body: str,
        citations: Sequence[int],
        author_kind: AuthorKind,
        block: int,
        status: str | None = None,
    ) -> None:
        self.messages[(thread_id, index)] = SeededMessage(
            thread_id=thread_id,
            index=index,
            global_id=message_id(thread_id, index),
            author=self.person(name).address,
            kind=kind,
            body=body,
            content_hash=content_hash(body),
            citations=list(citations),
            author_kind=author_kind.label,
            block=block,
            status=status,
        )


def seed(deployment: Deployment, accounts: Sequence[LocalAccount]) -> SeedResult:
    """Seed the demo community on a fresh devnet deployment whose pricer is `accounts[1]` (as `choir devnet`
    and `choir up` deploy it). `accounts`: the first ten development accounts. Raises `SeedError` off the
    devnet, `TransactionFailed` if a step reverts (e.g. a deployment that is not fresh)."""
    s = _Seeder(deployment, accounts)
    for account in s.people.values():
        s.community.transfer(s.admin, account.address, FUNDING)
    play(s)
    s.result.messages = [s.messages[key] for key in sorted(s.messages)]
    s.result.last_block = int(s.w3.eth.block_number)
    return s.result


def play(s: _Seeder) -> None:
    """The demo's steps, in chain order (`choir_chain.semantics.demo` replays them off chain for their bodies)."""
    ai, ai_prompted = AuthorKind.AI, AuthorKind.AI_PROMPTED  # every other message: human
    summaries = s.create_thread(
        "Alice",
        "Summaries that stay true to a thread",
        "What makes a summary of a long thread trustworthy? Let's agree on a checklist: what a summary must keep, "
        "what it may drop, and how it cites the messages it condenses.",
    )
    reading = s.create_thread(
        "Bob",
        "A reading list on mechanism design",
        "A reading list on mechanism design for small online communities: one paper or post per message, each "
        "with two lines on why it matters.",
    )
    garden = s.create_thread(
        "Carol",
        "Field notes: a community garden run as a DAO",
        "Field notes from a year of running our community garden's budget as a DAO: what worked, and what we "
        "would change.",
    )
    voting = s.create_thread(
        "Dave",
        "Is quadratic voting worth its complexity?",
        "Is quadratic voting worth its complexity for a group of ten? Arguments for and against, please; I will "
        "keep a tally.",
    )
    s.advance(2)  # co-authors vote on a spec only with shares one second before its submission

    # Co-authors post freely, citing each other's threads.
    s.post(
        summaries,
        "Alice",
        "Starting point: a summary cites every message it condenses, so a reader can check it. Bob's reading "
        "list does this for papers.",
        [message_id(reading, 0)],
    )
    s.post(
        reading,
        "Bob",
        "First entry: Hurwicz, 'The Design of Mechanisms for Resource Allocation' (1973). Why: incentive "
        "compatibility in plain words. Short notes, as Alice's checklist asks.",
        [message_id(summaries, 0)],
        author_kind=ai_prompted,  # Bob had an assistant draft the note from his outline
    )

    # Approved specs: their authors join as co-authors; each approval earns the thread its share of the epoch's
    # budget once the epoch closed (by novelty weight), a tenth of it shared with the other threads it cites.
    bob_spec = s.spec(
        summaries,
        "Bob",
        "Checklist draft: (1) keep every open question; (2) keep dissent, with its author; (3) cite sources by "
        "message id; (4) drop greetings and repetition. Carol's garden notes show how dissent gets lost.",
        [message_id(summaries, 1), message_id(garden, 0)],
    )
    s.vote(summaries, bob_spec, {"Alice": True})
    s.settle(summaries, bob_spec, by="Bob")
    s.note_epoch(summaries, bob_spec)
    erin_spec = s.spec(
        reading,
        "Erin",
        "Entry: Lalley and Weyl, 'Quadratic Voting: How Mechanism Design Can Radicalize Democracy' (2018). Why: "
        "the cleanest statement of the idea Dave's thread questions.",
        [message_id(voting, 0)],
        stake_times=2,
        author_kind=ai_prompted,
    )
    s.vote(reading, erin_spec, {"Bob": True})
    s.settle(reading, erin_spec, by="Erin")
    s.note_epoch(reading, erin_spec)
    frank_spec = s.spec(garden, "Frank", NEAR_DUPLICATE_OF, [message_id(summaries, 0)])
    s.vote(garden, frank_spec, {"Carol": True})
    s.settle(garden, frank_spec, by="Frank")
    s.note_epoch(garden, frank_spec)
    # Nobody will vote on this one: it expires when its approval window ends.
    heidi_for = s.spec(
        voting,
        "Heidi",
        "For: quadratic voting lets a minority with strong preferences be heard without giving it a veto.",
        author_kind=ai,  # Heidi's debate agent
    )
    s.advance(2)  # the new co-authors may vote on the specs that follow

    carol_spec = s.spec(
        summaries,
        "Carol",
        "Add (5): a summary says what changed since the previous one. Without it, readers re-read everything.",
        [message_id(summaries, bob_spec)],
    )
    s.vote(summaries, carol_spec, {"Alice": True, "Bob": True})
    s.settle(summaries, carol_spec, by="Carol")
    s.note_epoch(summaries, carol_spec)
    # Denied: both co-authors deny; the stake goes to the deniers (Bob claims his part, Erin not yet).
    grace_denied = s.spec(
        reading,
        "Grace",
        "Entry: my own blog post on token-weighted polls. Why: it is mine.",
    )
    s.vote(reading, grace_denied, {"Bob": False, "Erin": False})
    s.settle(reading, grace_denied, by="Bob")
    s.claim(reading, [grace_denied], "Bob")
    s.advance(2)  # Carol may vote on the next spec of thread 1

    # Split: one approval, two denials; the deniers share two thirds of the stake, the treasury keeps the rest.
    heidi_split = s.spec(
        summaries,
        "Heidi",
        "Summaries should be written by an editor chosen by lot each week, not by whoever volunteers.",
        [message_id(reading, 0)],
        author_kind=ai,
    )
    s.vote(summaries, heidi_split, {"Alice": True, "Bob": False, "Carol": False})
    s.settle(summaries, heidi_split, by="Heidi")

    # The approval window passes: Heidi's spec in Dave's thread expires, its stake goes to the treasury.
    s.advance(s.approval_window(voting) + 1)
    s.settle(voting, heidi_for, by="Dave")  # a week later: the approvals' epoch has closed

    s.post(
        summaries,
        "Bob",
        "Dave's question applies to us as well: whose summary counts when co-authors disagree? Checklist item "
        "(5) helps a reader see it.",
        [message_id(voting, 0), message_id(summaries, carol_spec)],
    )
    s.post(
        voting,
        "Dave",
        "Tally so far: one argument for (it expired unreviewed, my fault); Erin's reading-list entry makes the "
        "case better than I could, and Carol's garden shows a group of ten deciding without it.",
        [message_id(reading, erin_spec), message_id(garden, 0)],
        author_kind=ai_prompted,  # Dave asked an assistant to tally the thread
    )

    # Left pending: one with a vote already cast, one untouched. Grace's is an AI's rewording of Frank's approved
    # note (a near-duplicate: the novelty scorer gives it no reward); Carol approved it without noticing.
    grace_pending = s.spec(
        garden,
        "Grace",
        NEAR_DUPLICATE,
        [message_id(summaries, carol_spec)],
        author_kind=ai,
    )
    s.vote(garden, grace_pending, {"Carol": True})
    s.spec(
        voting,
        "Erin",
        "Against: for ten people a conversation beats any voting rule; the reading list agrees more than it admits.",
        [message_id(reading, 0)],
    )

    # Thread 1 gets its governor; Alice proposes paying Grace from the treasury and votes for it. The proposal
    # stays open for the voting period.
    s.propose_transfer(summaries, "Alice", "Grace", PROPOSAL_AMOUNT, PROPOSAL_DESCRIPTION)
