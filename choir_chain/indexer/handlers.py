"""One function per contract event, turning it into rows.

Handlers are registered by `@handles(source, event name)`; the indexer fetches and applies only events that
have a handler, so supporting a new event (rewards, governance) is one decorated function here (plus its table
in `models.py`). Handlers run in chain order inside the range's transaction and must be deterministic: rows
may depend only on the event and on earlier rows, never on the wall clock or insertion order.

Running totals mirror the thread's ledger (`ThreadDAO.treasury()` / `lockedBalance()`):
SpecSubmitted locks the stake (ApprovalCertain moves its deadline to the last approval's second); SpecSettled
moves the treasury gain from locked to the treasury (the deniers' shares stay locked until claimed);
CuratorRewardClaimed releases a denier's share; CoauthorExited pays out of the treasury; DonationAbsorbed and
RewardCredited add to the treasury; TreasuryTransferred (governance) takes from it.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak

from choir_chain.indexer.decode import Event
from choir_chain.indexer.errors import InconsistentEvent
from choir_chain.indexer.models import (
    Citation,
    Coauthor,
    CuratorClaim,
    Donation,
    EpochAllocation,
    EquityEvent,
    HubParameter,
    Message,
    MessageReward,
    NoveltyScore,
    Price,
    PriceRound,
    RoleMember,
    Settlement,
    Spec,
    Thread,
    TreasuryMovement,
    Vote,
)
from choir_chain.indexer.store import Store
from choir_chain.protocol import WAD, AuthorKind, SpecStatus, message_id, split_message_id

HUB = "hub"
THREAD = "thread"
REWARDS = "rewards"
"""The RewardsDistributor (when the manifest has one)."""

Handler = Callable[[Store, Event], None]
HANDLERS: dict[tuple[str, str], Handler] = {}
"""(source, event name) -> handler."""

KNOWN_ROLES = {
    "0x" + "00" * 32: "DEFAULT_ADMIN_ROLE",
    **{"0x" + keccak(text=name).hex(): name for name in ("PRICER_ROLE", "ORACLE_ROLE", "MINTER_ROLE")},
}


def handles(source: str, name: str) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of event `name` emitted by `source` (`hub` or `thread`)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[(source, name)] = fn
        return fn

    return register


def handled_events(source: str) -> list[str]:
    return sorted(name for src, name in HANDLERS if src == source)


def _timestamp(event: Event) -> int:
    if event.timestamp is None:
        raise InconsistentEvent(f"no timestamp for block {event.block}")
    return event.timestamp


def _thread_id(event: Event) -> int:
    if event.thread_id is None:
        raise InconsistentEvent(f"{event.name} at block {event.block} is not from a known thread")
    return event.thread_id


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
        timestamp=_timestamp(event),
    )
    _add_citations(store, thread.thread_id, index, event.args["citations"])
    thread.message_count = max(thread.message_count, index + 1)


# ------------------------------------------------------------------------------------------------------------
# Hub
# ------------------------------------------------------------------------------------------------------------


@handles(HUB, "ThreadCreated")
def thread_created(store: Store, event: Event) -> None:
    thread_id = event.args["threadId"]
    store.create(
        Thread(
            thread_id=thread_id,
            address=event.args["thread"],
            creator=event.args["creator"],
            content_hash=event.args["contentHash"],
            created_block=event.block,
            created_tx_hash=event.tx_hash,
            created_timestamp=_timestamp(event),
            message_count=0,
            coauthor_count=0,
            total_shares=0,
            treasury=0,
            locked=0,
            last_price=None,
            last_price_round=None,
            last_price_timestamp=None,
            citations_received=0,
            governor=None,
            approval_window=None,
        ),
        thread_id,
    )


@handles(HUB, "PricesUpdated")
def prices_updated(store: Store, event: Event) -> None:
    round_, thread_ids, prices = event.args["round"], event.args["threadIds"], event.args["prices"]
    timestamp = _timestamp(event)
    store.insert(
        PriceRound,
        round=round_,
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=timestamp,
        thread_count=len(thread_ids),
    )
    for thread_id, price in zip(thread_ids, prices, strict=True):
        store.insert(Price, round=round_, thread_id=thread_id, price=price)
        thread = store.require(Thread, thread_id)
        thread.last_price, thread.last_price_round, thread.last_price_timestamp = price, round_, timestamp


def _set_parameter(store: Store, event: Event, name: str, value: int) -> None:
    row = store.get(HubParameter, name)
    if row is None:
        store.create(HubParameter(name=name, value=value, block=event.block, log_index=event.log_index), name)
    else:
        row.value, row.block, row.log_index = value, event.block, event.log_index


@handles(HUB, "PriceBoundsSet")
def price_bounds_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "min_price", event.args["minPrice"])
    _set_parameter(store, event, "max_price", event.args["maxPrice"])


@handles(HUB, "FallbackPriceSet")
def fallback_price_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "fallback_price", event.args["fallbackPrice"])


@handles(HUB, "MaxDeviationSet")
def max_deviation_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "max_deviation_bps", event.args["maxDeviationBps"])


@handles(HUB, "HeartbeatSet")
def heartbeat_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "heartbeat", event.args["heartbeat"])


@handles(HUB, "DeviationWindowSet")
def deviation_window_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "deviation_window", event.args["deviationWindow"])


@handles(HUB, "DefaultApprovalWindowSet")
def default_approval_window_set(store: Store, event: Event) -> None:
    _set_parameter(store, event, "default_approval_window", event.args["approvalWindow"])


def _set_role(store: Store, event: Event, active: bool) -> None:
    role, account = event.args["role"], event.args["account"]
    row = store.get(RoleMember, role, account)
    if row is None:
        row = RoleMember(role=role, account=account, role_name=KNOWN_ROLES.get(role))
        store.create(row, role, account)
    row.active, row.block, row.log_index = active, event.block, event.log_index


@handles(HUB, "RoleGranted")
def role_granted(store: Store, event: Event) -> None:
    _set_role(store, event, True)


@handles(HUB, "RoleRevoked")
def role_revoked(store: Store, event: Event) -> None:
    _set_role(store, event, False)


# ------------------------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------------------------


@handles(THREAD, "MessagePosted")
def message_posted(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
    index = event.args["index"]
    kind = "root" if index == 0 else "post"
    _add_message(store, event, thread, index, event.args["author"], kind, _author_kind(event))


@handles(THREAD, "SpecSubmitted")
def spec_submitted(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
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
            submitted_timestamp=_timestamp(event),
            settled_block=None,
            settled_timestamp=None,
        ),
        thread.thread_id,
        spec_id,
    )
    thread.locked += stake


@handles(THREAD, "VoteCast")
def vote_cast(store: Store, event: Event) -> None:
    thread_id, spec_id, approve = _thread_id(event), event.args["specId"], event.args["approve"]
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
        timestamp=_timestamp(event),
    )
    if approve:
        spec.approvals += 1
    else:
        spec.denials += 1


@handles(THREAD, "ApprovalCertain")
def approval_certain(store: Store, event: Event) -> None:
    """Every eligible co-author approved: the chain moved the spec's deadline to this block's second (r2)."""
    spec = store.require(Spec, _thread_id(event), event.args["specId"])
    spec.deadline = _timestamp(event)


@handles(THREAD, "SpecSettled")
def spec_settled(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
    spec_id, gain = event.args["specId"], event.args["treasuryGain"]
    spec = store.require(Spec, thread.thread_id, spec_id)
    value = event.args["outcome"]
    if value not in {status.value for status in SpecStatus} or value <= SpecStatus.PENDING:
        raise InconsistentEvent(f"spec {thread.thread_id}/{spec_id} settled with outcome {event.args['outcome']}")
    outcome = SpecStatus(value).label
    timestamp = _timestamp(event)
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
    if outcome == "refunded":  # the whole stake went back to its author (protocol section 3, r2)
        thread.locked -= spec.stake
        return
    thread.locked -= gain
    thread.treasury += gain


@handles(THREAD, "CuratorRewardClaimed")
def curator_reward_claimed(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
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
        timestamp=_timestamp(event),
    )
    thread.locked -= amount


@handles(THREAD, "CoauthorJoined")
def coauthor_joined(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
    account, added, total = event.args["account"], event.args["sharesAdded"], event.args["totalShares"]
    timestamp = _timestamp(event)
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
    thread = store.require(Thread, _thread_id(event))
    account, shares, payout = event.args["account"], event.args["shares"], event.args["payout"]
    total = event.args["totalShares"]
    timestamp = _timestamp(event)
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
    thread = store.require(Thread, _thread_id(event))
    amount = event.args["amount"]
    store.insert(
        Donation,
        block=event.block,
        log_index=event.log_index,
        thread_id=thread.thread_id,
        amount=amount,
        tx_hash=event.tx_hash,
        timestamp=_timestamp(event),
    )
    thread.treasury += amount


@handles(THREAD, "RewardCredited")
def reward_credited(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
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
        timestamp=_timestamp(event),
    )
    thread.treasury += amount


@handles(THREAD, "TreasuryTransferred")
def treasury_transferred(store: Store, event: Event) -> None:
    thread = store.require(Thread, _thread_id(event))
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
        timestamp=_timestamp(event),
    )
    thread.treasury -= amount


@handles(THREAD, "ApprovalWindowSet")
def approval_window_set(store: Store, event: Event) -> None:
    store.require(Thread, _thread_id(event)).approval_window = event.args["approvalWindow"]


@handles(HUB, "GovernorCreated")
def governor_created(store: Store, event: Event) -> None:
    store.require(Thread, event.args["threadId"]).governor = event.args["governor"]


@handles(HUB, "CitingThreadCounted")
def citing_thread_counted(store: Store, event: Event) -> None:
    """The hub counts distinct citing threads (protocol section 7, r2) and says the new count."""
    store.require(Thread, event.args["citedThreadId"]).citations_received = event.args["citingThreads"]


@handles(THREAD, "GovernorSet")
def governor_set(store: Store, event: Event) -> None:
    """The governor the hub created, or one a governance migration installed later."""
    store.require(Thread, _thread_id(event)).governor = event.args["governor"]


# ------------------------------------------------------------------------------------------------------------
# Rewards distributor
# ------------------------------------------------------------------------------------------------------------


@handles(REWARDS, "NoveltyScoresSet")
def novelty_scores_set(store: Store, event: Event) -> None:
    """One row per scored message; a later round (or a repeat within the batch) overwrites, as on chain."""
    round_, ids, similarities = event.args["round"], event.args["messageIds"], event.args["maxSimilarities"]
    if len(ids) != len(similarities):
        raise InconsistentEvent(f"NoveltyScoresSet round {round_}: {len(ids)} ids, {len(similarities)} scores")
    for global_id, wad in zip(ids, similarities, strict=True):
        thread_id, index = split_message_id(global_id)
        values = {
            "thread_id": thread_id,
            "message_index": index,
            "max_similarity": wad / WAD,
            "round": round_,
            "model_id": event.args["modelId"],
            "calibration_version": event.args["calibrationVersion"],
            "block": event.block,
            "tx_hash": event.tx_hash,
            "log_index": event.log_index,
        }
        row = store.get(NoveltyScore, global_id)
        if row is None:
            store.create(NoveltyScore(message_id=global_id, **values), global_id)
        else:
            for name, value in values.items():
                setattr(row, name, value)


@handles(REWARDS, "MessageRewarded")
def message_rewarded(store: Store, event: Event) -> None:
    global_id = event.args["messageId"]
    thread_id, index = split_message_id(global_id)
    store.insert(
        MessageReward,
        message_id=global_id,
        thread_id=thread_id,
        message_index=index,
        epoch=event.args["epoch"],
        amount=event.args["amount"],
        to_thread=event.args["toThread"],
        score_round=event.args["scoreRound"],
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=_timestamp(event),
    )


@handles(REWARDS, "EpochAllocated")
def epoch_allocated(store: Store, event: Event) -> None:
    store.insert(
        EpochAllocation,
        block=event.block,
        log_index=event.log_index,
        epoch=event.args["epoch"],
        messages=event.args["messages"],
        amount=event.args["amount"],
        allocated=event.args["allocated"],
        budget=event.args["budget"],
        tx_hash=event.tx_hash,
        timestamp=_timestamp(event),
    )
