"""Handlers of a thread's events: messages, specs, votes, settlements, equity and the treasury."""

from __future__ import annotations

from choir_chain.chain.events import Event
from choir_chain.indexer.errors import InconsistentEvent
from choir_chain.indexer.handlers.registry import THREAD, event_thread_id, event_timestamp, handles
from choir_chain.indexer.models import (
    Citation,
    Coauthor,
    CuratorClaim,
    Donation,
    EquityEvent,
    Message,
    Settlement,
    Spec,
    Thread,
    TreasuryMovement,
    Vote,
)
from choir_chain.indexer.store import Store
from choir_chain.protocol import AuthorKind, SpecStatus, message_id, split_message_id


def _add_citations(store: Store, thread_id: int, index: int, citations: list[int]) -> None:
    for position, cited in enumerate(citations):
        cited_thread_id, cited_index = split_message_id(cited)
        store.insert(
            Citation,
            thread_id=thread_id,
            message_index=index,
            position=position,
            cited_global_id=cited,
            cited_thread_id=cited_thread_id,
            cited_index=cited_index,
        )


def _author_kind(event: Event) -> str:
    """The declared author kind's name; the contracts revert on any value outside the enum."""
    value = event.args["authorKind"]
    try:
        return AuthorKind(value).label
    except ValueError as err:
        raise InconsistentEvent(f"{event.name} at block {event.block} carries unknown author kind {value}") from err


def _add_message(
    store: Store, event: Event, thread: Thread, index: int, author: str, kind: str, author_kind: str
) -> None:
    store.insert(
        Message,
        thread_id=thread.thread_id,
        message_index=index,
        global_id=message_id(thread.thread_id, index),
        author=author,
        content_hash=event.args["contentHash"],
        kind=kind,
        author_kind=author_kind,
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=event_timestamp(event),
    )
    _add_citations(store, thread.thread_id, index, event.args["citations"])
    thread.message_count = max(thread.message_count, index + 1)
    _touch(thread, event)


def _touch(thread: Thread, event: Event) -> None:
    """A message, vote or settlement: the thread's `last_activity` (events come in chain order)."""
    thread.last_activity = max(thread.last_activity, event_timestamp(event))


@handles(THREAD, "MessagePosted")
def message_posted(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    index = event.args["index"]
    kind = "root" if index == 0 else "post"
    _add_message(store, event, thread, index, event.args["author"], kind, _author_kind(event))


@handles(THREAD, "SpecSubmitted")
def spec_submitted(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    spec_id, author, stake = event.args["specId"], event.args["author"], event.args["stake"]
    author_kind = _author_kind(event)
    _add_message(store, event, thread, spec_id, author, "spec", author_kind)
    store.create(
        Spec(
            thread_id=thread.thread_id,
            spec_id=spec_id,
            author=author,
            content_hash=event.args["contentHash"],
            author_kind=author_kind,
            stake=stake,
            price=event.args["price"],
            deadline=event.args["deadline"],
            status="pending",
            approvals=0,
            denials=0,
            submitted_block=event.block,
            submitted_timestamp=event_timestamp(event),
            settled_block=None,
            settled_timestamp=None,
        ),
        thread.thread_id,
        spec_id,
    )
    thread.locked += stake


@handles(THREAD, "VoteCast")
def vote_cast(store: Store, event: Event) -> None:
    thread_id, spec_id, approve = event_thread_id(event), event.args["specId"], event.args["approve"]
    spec = store.require(Spec, thread_id, spec_id)
    store.insert(
        Vote,
        thread_id=thread_id,
        spec_id=spec_id,
        voter=event.args["voter"],
        approve=approve,
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=event_timestamp(event),
    )
    if approve:
        spec.approvals += 1
    else:
        spec.denials += 1
    _touch(store.require(Thread, thread_id), event)


@handles(THREAD, "ApprovalCertain")
def approval_certain(store: Store, event: Event) -> None:
    """The approvals reached the thread's threshold of the eligible co-authors (under unanimity: every one of them
    approved): the chain moved the spec's deadline to this block's second (r2; idempotent, it may come twice)."""
    spec = store.require(Spec, event_thread_id(event), event.args["specId"])
    spec.deadline = event_timestamp(event)


@handles(THREAD, "SpecSettled")
def spec_settled(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    spec_id, gain = event.args["specId"], event.args["treasuryGain"]
    spec = store.require(Spec, thread.thread_id, spec_id)
    value = event.args["outcome"]
    if not SpecStatus.PENDING < value <= max(SpecStatus):  # a settled outcome the contracts define
        raise InconsistentEvent(f"spec {thread.thread_id}/{spec_id} settled with outcome {event.args['outcome']}")
    outcome = SpecStatus(value).label
    timestamp = event_timestamp(event)
    store.insert(
        Settlement,
        thread_id=thread.thread_id,
        spec_id=spec_id,
        outcome=outcome,
        treasury_gain=gain,
        payout_per_denier=event.args["payoutPerDenier"],
        approvals=event.args["approvals"],
        denials=event.args["denials"],
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=timestamp,
    )
    spec.status, spec.settled_block, spec.settled_timestamp = outcome, event.block, timestamp
    spec.approvals, spec.denials = event.args["approvals"], event.args["denials"]
    _touch(thread, event)
    if outcome == "refunded":  # the whole stake went back to its author (protocol section 3, r2)
        thread.locked -= spec.stake
        return
    thread.locked -= gain
    thread.treasury += gain


@handles(THREAD, "CuratorRewardClaimed")
def curator_reward_claimed(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    spec_id, amount = event.args["specId"], event.args["amount"]
    store.insert(
        CuratorClaim,
        thread_id=thread.thread_id,
        spec_id=spec_id,
        curator=event.args["curator"],
        amount=amount,
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=event_timestamp(event),
    )
    thread.locked -= amount


@handles(THREAD, "CoauthorJoined")
def coauthor_joined(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    account, added, total = event.args["account"], event.args["sharesAdded"], event.args["totalShares"]
    timestamp = event_timestamp(event)
    member = store.get(Coauthor, thread.thread_id, account)
    if member is None:
        member = Coauthor(thread_id=thread.thread_id, account=account, shares=0, active=False)
        store.create(member, thread.thread_id, account)
    if not member.active:
        thread.coauthor_count += 1
    member.shares += added
    member.active, member.joined_timestamp, member.exited_timestamp = True, timestamp, None
    thread.total_shares = total
    store.insert(
        EquityEvent,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        account=account,
        kind="join",
        spec_id=event.args["specId"],
        shares=added,
        total_shares_after=total,
        payout=0,
        tx_hash=event.tx_hash,
        timestamp=timestamp,
    )


@handles(THREAD, "CoauthorExited")
def coauthor_exited(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    account, shares, payout = event.args["account"], event.args["shares"], event.args["payout"]
    total = event.args["totalShares"]
    timestamp = event_timestamp(event)
    member = store.require(Coauthor, thread.thread_id, account)
    member.shares, member.active, member.exited_timestamp = 0, False, timestamp
    thread.coauthor_count -= 1
    thread.total_shares = total
    thread.treasury -= payout
    store.insert(
        EquityEvent,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        account=account,
        kind="exit",
        spec_id=None,
        shares=shares,
        total_shares_after=total,
        payout=payout,
        tx_hash=event.tx_hash,
        timestamp=timestamp,
    )


@handles(THREAD, "DonationAbsorbed")
def donation_absorbed(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    amount = event.args["amount"]
    store.insert(
        Donation,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        amount=amount,
        tx_hash=event.tx_hash,
        timestamp=event_timestamp(event),
    )
    thread.treasury += amount


@handles(THREAD, "RewardCredited")
def reward_credited(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    amount = event.args["amount"]
    store.insert(
        TreasuryMovement,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        kind="reward",
        amount=amount,
        message_id=event.args["messageId"],
        recipient=None,
        tx_hash=event.tx_hash,
        timestamp=event_timestamp(event),
    )
    thread.treasury += amount


@handles(THREAD, "TreasuryTransferred")
def treasury_transferred(store: Store, event: Event) -> None:
    thread = store.require(Thread, event_thread_id(event))
    amount = event.args["amount"]
    if amount > thread.treasury:
        raise InconsistentEvent(f"thread {thread.thread_id} transferred {amount} from a treasury of {thread.treasury}")
    store.insert(
        TreasuryMovement,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        kind="governance",
        amount=amount,
        message_id=None,
        recipient=event.args["to"],
        tx_hash=event.tx_hash,
        timestamp=event_timestamp(event),
    )
    thread.treasury -= amount


@handles(THREAD, "ApprovalWindowSet")
def approval_window_set(store: Store, event: Event) -> None:
    store.require(Thread, event_thread_id(event)).approval_window = event.args["approvalWindow"]


@handles(THREAD, "ApprovalThresholdSet")
def approval_threshold_set(store: Store, event: Event) -> None:
    store.require(Thread, event_thread_id(event)).approval_threshold = event.args["approvalThreshold"]


@handles(THREAD, "GovernorSet")
def governor_set(store: Store, event: Event) -> None:
    """The governor the hub created, or one a governance migration installed later."""
    store.require(Thread, event_thread_id(event)).governor = event.args["governor"]
