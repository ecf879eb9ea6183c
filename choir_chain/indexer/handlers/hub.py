"""Handlers of the hub's events: threads, price rounds, parameters, roles, governors and citing threads."""

from __future__ import annotations

from eth_utils import keccak

from choir_chain.chain.events import Event
from choir_chain.indexer.handlers.registry import HUB, event_timestamp, handles
from choir_chain.indexer.models import (
    CountedCitation,
    HubParameter,
    Price,
    PriceRound,
    RoleMember,
    Thread,
)
from choir_chain.indexer.store import Store
from choir_chain.protocol import UNANIMOUS_BPS, split_message_id

KNOWN_ROLES = {
    "0x" + "00" * 32: "DEFAULT_ADMIN_ROLE",
    **{"0x" + keccak(text=name).hex(): name for name in ("PRICER_ROLE", "ORACLE_ROLE", "MINTER_ROLE")},
}


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
            created_timestamp=event_timestamp(event),
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
            approval_threshold=UNANIMOUS_BPS,
            last_activity=event_timestamp(event),
        ),
        thread_id,
    )


@handles(HUB, "PricesUpdated")
def prices_updated(store: Store, event: Event) -> None:
    round_, thread_ids, prices = event.args["round"], event.args["threadIds"], event.args["prices"]
    timestamp = event_timestamp(event)
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


@handles(HUB, "GovernorCreated")
def governor_created(store: Store, event: Event) -> None:
    store.require(Thread, event.args["threadId"]).governor = event.args["governor"]


@handles(HUB, "CitationRecorded")
def citation_recorded(store: Store, event: Event) -> None:
    citing_thread_id, citing_index = split_message_id(event.args["citingMessageId"])
    store.insert(
        CountedCitation,
        block=event.block,
        log_index=event.log_index,
        citing_thread_id=citing_thread_id,
        citing_index=citing_index,
        cited_thread_id=event.args["citedThreadId"],
        cited_global_id=event.args["citedMessageId"],
        timestamp=event_timestamp(event),
    )


@handles(HUB, "CitingThreadCounted")
def citing_thread_counted(store: Store, event: Event) -> None:
    """The hub counts distinct citing threads (protocol section 7, r2) and says the new count."""
    store.require(Thread, event.args["citedThreadId"]).citations_received = event.args["citingThreads"]
