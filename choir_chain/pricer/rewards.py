"""The daily reward per approved message, `R = F'(t) / M(t)` (protocol section 7), set once per epoch.

`F'(t)` is the emission rate of the reward curve (`choir_chain.pricing.emission_rate`, CHOIR per year, here
per day) at the start of the epoch; `M(t)` the specs approved in the day before the epoch started (at least
one, so a quiet day cannot divide by zero). The reward is capped at `MAX_REWARD_PER_MESSAGE` CHOIR.

Both inputs are taken at the epoch's start, so an epoch's reward is a function of the chain's history alone,
whenever the pricer sets it (and a restart sets the same value). The RewardsDistributor accepts one value per
epoch from the pricer role; the setter sends it only when the epoch has none yet, after the same in-flight and
estimation checks as a price round.

Written against the interface announced for the RewardsDistributor (`currentEpoch`, `setRewardPerMessage`)
plus the views it needs (`epochStart(epoch)`, `launchTime()`, `rewardPerMessage(epoch)`); a deployed
distributor without them disables the setter (reported once) instead of stopping the prices.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from choir_chain.indexer.models import Cursor, Spec
from choir_chain.indexer.rpc import RpcClient, RpcError
from choir_chain.manifest import Manifest
from choir_chain.pricer.client import Contract, Sender
from choir_chain.pricer.distributor import find_distributor, holds_role
from choir_chain.pricer.errors import PricerError, RoundRejected, RoundReverted
from choir_chain.pricing import emission_rate, to_wei

DAY = 24 * 3600
YEAR = 365 * DAY
"""Seconds in a year of the emission curve's time axis."""
MAX_REWARD_PER_MESSAGE = 100
"""Cap of the reward per message, in CHOIR."""


def reward_per_message(years_since_launch: float, approved_last_day: int) -> int:
    """`min(F'(t) / max(M, 1), 100 CHOIR)` in wei, `F'` per day."""
    per_day = emission_rate(max(years_since_launch, 0.0)) * DAY / YEAR
    reward = min(per_day / max(approved_last_day, 1), float(MAX_REWARD_PER_MESSAGE))
    return to_wei(reward)


def approved_between(engine: Engine, start: int, end: int) -> int:
    """Specs approved with a settlement time in `[start, end)`."""
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).where(
                Spec.status == "approved", Spec.settled_timestamp >= start, Spec.settled_timestamp < end
            )
        )
    return int(count or 0)


REQUIRED_FUNCTIONS = (
    "PRICER_ROLE",
    "hasRole",
    "currentEpoch",
    "epochStart",
    "launchTime",
    "rewardPerMessage",
    "setRewardPerMessage",
)
"""What the setter calls on the RewardsDistributor."""
RETRY_AFTER = 60.0
"""Seconds before a failed reward update is tried again (prices go on meanwhile)."""


class RewardSetter:
    """Sets `rewardPerMessage` of the current epoch on the RewardsDistributor when it has none yet.

    Rewards never hold prices up: a failure to set one is reported (`reward_failed`) and tried again after
    `RETRY_AFTER` seconds while rounds go on.
    """

    def __init__(
        self,
        distributor: Contract,
        rpc: RpcClient,
        sender: Sender,
        engine: Engine,
        emit: Callable[[dict[str, Any]], None],
        stop: threading.Event,
    ) -> None:
        self.distributor = distributor
        self.rpc = rpc
        self.sender = sender
        self.engine = engine
        self.emit = emit
        self.stop = stop
        self._retry_at = 0.0

    @classmethod
    def from_manifest(
        cls,
        manifest: Manifest,
        rpc: RpcClient,
        sender: Sender,
        engine: Engine,
        emit: Callable[[dict[str, Any]], None],
        stop: threading.Event,
    ) -> RewardSetter | None:
        """The setter of the manifest's RewardsDistributor; None for a deployment without one, or (reported
        as `rewards_disabled`) one whose ABI lacks a function the setter calls."""
        found = find_distributor(manifest, rpc, REQUIRED_FUNCTIONS)
        if found.missing:
            emit({"event": "rewards_disabled", "reason": f"RewardsDistributor has no {', '.join(found.missing)}"})
        if found.contract is None:
            return None
        return cls(found.contract, rpc, sender, engine, emit, stop)

    def check_role(self) -> None:
        if not holds_role(self.distributor, "PRICER_ROLE", self.sender.address):
            raise PricerError(
                f"account {self.sender.address} lacks PRICER_ROLE on RewardsDistributor {self.distributor.address}"
            )

    def step(self, nonce: int) -> bool:
        """Set the current epoch's reward if it has none (sent with `nonce`); False when nothing was sent."""
        if time.monotonic() < self._retry_at:
            return False
        try:
            return self._step(nonce)
        except (RpcError, RoundRejected, RoundReverted) as err:
            self._retry_at = time.monotonic() + RETRY_AFTER
            self.emit({"event": "reward_failed", "error": str(err), "retry_in": RETRY_AFTER})
            return False

    def _step(self, nonce: int) -> bool:
        (epoch,) = self.distributor.call("currentEpoch")
        (current,) = self.distributor.call("rewardPerMessage", epoch)
        if int(current) != 0:
            return False
        (start,) = self.distributor.call("epochStart", epoch)
        indexed = self._indexed_timestamp()
        if indexed is None or indexed < start:
            return False  # the database does not cover the day before the epoch yet
        (launch,) = self.distributor.call("launchTime")
        approved = approved_between(self.engine, int(start) - DAY, int(start))
        reward = reward_per_message((int(start) - int(launch)) / YEAR, approved)
        data = self.distributor.calldata("setRewardPerMessage", epoch, reward)
        try:
            gas = self.sender.estimate(self.distributor.address, data)
            sent = self.sender.send(self.distributor.address, data, nonce, gas)
        except RpcError as err:
            raise RoundRejected(f"setting the reward of epoch {epoch} was refused: {err}") from err
        receipt = self.sender.receipt(sent.tx_hash, 120.0, self.stop)
        if receipt is None:
            return True  # in flight; the next step waits for it
        if int(receipt["status"], 16) != 1:
            raise RoundReverted(f"setting the reward of epoch {epoch} reverted in {sent.tx_hash}")
        self.emit(
            {
                "event": "reward",
                "epoch": int(epoch),
                "reward_per_message": str(reward),
                "approved_last_day": approved,
                "tx": sent.tx_hash,
                "block": int(receipt["blockNumber"], 16),
                "gas": int(receipt["gasUsed"], 16),
            }
        )
        return True

    def _indexed_timestamp(self) -> int | None:
        """The timestamp of the last block the database holds."""
        with Session(self.engine) as session:
            cursor = session.get(Cursor, 1)
        if cursor is None or cursor.last_block < 0:
            return None
        header = self.rpc.call("eth_getBlockByNumber", [hex(cursor.last_block), False])
        return int(header["timestamp"], 16) if isinstance(header, dict) else None
