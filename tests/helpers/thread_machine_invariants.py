"""The stateful thread test's invariants: after every step the whole chain state, read in one batch, is
compared with the model (value conservation of settlements, supply and balances, thread ledgers, equity,
specs and prices, the emission curve, citation counts, the NAV floor, decided specs settling)."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from hypothesis.stateful import invariant

from helpers.contracts import DAY
from helpers.thread_machine_actions import ThreadActions
from helpers.thread_model_arithmetic import (
    STATUS_NAMES,
)


class ThreadInvariants(ThreadActions):
    """The invariants checked after every step (numbered as in the test module's docstring)."""

    # --- invariants ----------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The chain state the invariants compare, read in one batch after each step."""
        if self._view is not None:
            return self._view
        ctx = self.ctx
        rewards = self.rewards
        holders = [*ctx.accounts, *(t.address for t in self.threads), ctx.hub, ctx.implementation]
        if rewards is not None:
            holders.append(rewards.address)
        calls: list[tuple] = [("token", ctx.token, "totalSupply"), ("hub", ctx.hub, "lastRound")]
        calls += [("token", ctx.token, "balanceOf", a) for a in holders]
        for th in self.threads:
            calls += [("thread", th.address, m) for m in ("treasury", "lockedBalance", "totalShares")]
            calls += [("thread", th.address, m) for m in ("coauthorCount", "pendingSpecs", "messageCount")]
            calls += [("thread", th.address, "sharesOf", a) for a in ctx.actors]
            calls += [("thread", th.address, "getSpec", i) for i in sorted(th.specs)]
            calls += [("hub", ctx.hub, "pricePoint", th.thread_id), ("hub", ctx.hub, "citationsReceived", th.thread_id)]
            calls += [("hub", ctx.hub, "priceWindow", th.thread_id)]
        epochs: list[int] = []
        if rewards is not None:
            epochs = sorted(rewards.allocated)
            calls += [("distributor", rewards.address, "minted")]
            calls += [("distributor", rewards.address, "allocated", e) for e in epochs]
        now, values_list = self._read_at_head(calls)
        self._last_head = now
        values = iter(values_list)
        view: dict[str, Any] = {"supply": next(values), "last round": next(values)}
        view["balances"] = {a: next(values) for a in holders}
        view["threads"] = {}
        for th in self.threads:
            entry = {k: next(values) for k in ("treasury", "locked", "total", "count", "pending", "messages")}
            entry["shares"] = {a: next(values) for a in ctx.actors}
            entry["specs"] = {i: next(values) for i in sorted(th.specs)}
            entry["price point"] = next(values)
            entry["citations"] = next(values)
            entry["price window"] = next(values)
            view["threads"][th.address] = entry
        if rewards is not None:
            view["minted"], view["cap now"] = next(values), self._emission_cap(now)
            view["epochs"] = {e: next(values) for e in epochs}
        self._view = view
        return view

    @invariant()
    def settlements_conserve_value(self) -> None:
        for th, spec_id, event, (outcome, gain, per), stake, refund in self.settlements:
            denials = event["denials"]
            # a Refunded spec's stake went back to its author (the Transfer in its receipt): gain and payouts are 0
            assert event["treasuryGain"] + event["payoutPerDenier"] * denials + refund == stake, (
                f"thread {th.thread_id} spec {spec_id}: {event} and a refund of {refund} do not add up to {stake}"
            )
            spec = th.specs[spec_id]
            got = (event["outcome"], event["treasuryGain"], event["payoutPerDenier"])
            assert got == (outcome, gain, per), f"spec {spec_id}: chain {got}, model {(outcome, gain, per)}"
            assert (event["approvals"], event["denials"]) == (spec.approvals, spec.denials)
        self.settlements.clear()

    @invariant()
    def supply_is_the_sum_of_all_balances(self) -> None:
        view = self.view()
        assert sum(view["balances"].values()) == view["supply"]
        for account in self.ctx.accounts:
            assert view["balances"][account] == self.balances[account], f"balance of {account}"

    @invariant()
    def thread_ledgers_match(self) -> None:
        view = self.view()
        for th in self.threads:
            entry = view["threads"][th.address]
            assert view["balances"][th.address] == entry["treasury"] + entry["locked"], f"thread {th.thread_id}"
            expected_locked = sum(s.stake for s in th.pending()) + sum(
                s.per_denier * len(s.unclaimed()) for s in th.specs.values()
            )
            assert th.locked == expected_locked, "model bookkeeping"  # the model agrees with itself
            assert (entry["treasury"], entry["locked"]) == (th.treasury, th.locked), f"thread {th.thread_id} ledger"

    @invariant()
    def equity_matches(self) -> None:
        view = self.view()
        for th in self.threads:
            entry = view["threads"][th.address]
            assert sum(entry["shares"].values()) == entry["total"], f"thread {th.thread_id}: shares vs total"
            assert entry["shares"] == {a: th.shares_of(a) for a in self.ctx.actors}, f"thread {th.thread_id}"
            assert entry["total"] == th.total_shares()
            assert entry["count"] == len(th.coauthors()), f"thread {th.thread_id} coauthorCount"

    @invariant()
    def specs_match(self) -> None:
        view = self.view()
        assert view["last round"] == self.last_round
        for th in self.threads:
            entry = view["threads"][th.address]
            assert entry["messages"] == th.message_count
            assert entry["pending"] == len(th.pending())
            assert entry["price point"][:2] == (th.price, th.updated_at)
            assert tuple(entry["price window"]) == ((th.anchor, th.window_start) if th.window_start else (0, 0))
            for spec_id, spec in th.specs.items():
                author, stake, price, snapshot, deadline, eligible, approvals, denials, status = entry["specs"][spec_id]
                assert (STATUS_NAMES[status], to_checksum_address(author)) == (
                    STATUS_NAMES[spec.status],
                    spec.author,
                ), f"thread {th.thread_id} spec {spec_id}"
                assert (stake, price, snapshot, deadline) == (
                    spec.stake,
                    spec.price,
                    spec.submitted - 1,
                    spec.deadline,
                )
                assert (eligible, approvals, denials) == (spec.eligible, spec.approvals, spec.denials), (
                    f"thread {th.thread_id} spec {spec_id}: eligible/approvals/denials"
                )

    @invariant()
    def rewards_follow_the_curve(self) -> None:
        """protocol 1 and 7: nothing is minted beyond F(now), and the supply grows by exactly what the model
        minted; every epoch's allocations are the model's and within the epoch's budget."""
        view = self.view()
        rewards = self.rewards
        minted = rewards.minted if rewards is not None else 0
        assert view["supply"] == self.genesis_supply + minted, "totalSupply: genesis supply + rewards minted"
        if rewards is None:
            return
        assert view["minted"] <= view["cap now"], f"minted {view['minted']} above the curve's {view['cap now']}"
        assert view["minted"] == minted, f"minted: chain {view['minted']}, model {minted}"
        assert view["epochs"] == rewards.allocated, "allocated(epoch)"
        for epoch, paid in rewards.allocated.items():
            start = rewards.epoch_start(epoch)
            assert paid <= self._emission_cap(start + DAY) - self._emission_cap(start), f"epoch {epoch} over budget"

    @invariant()
    def citation_counts_match(self) -> None:
        view = self.view()
        for th in self.threads:
            got = view["threads"][th.address]["citations"]
            assert got == len(th.citing_threads), (
                f"thread {th.thread_id}: citationsReceived {got}, model {sorted(th.citing_threads)}"
            )

    @invariant()
    def joiners_pay_book_value(self) -> None:
        """protocol 5 (r2, the NAV floor): right after joining, a newcomer's pro-rata claim on the treasury
        (`treasury * sharesAdded / totalShares`, what an exit would pay) never exceeds its stake. A join into a
        thread nobody held shares in is only counted: it gets 1e18 shares, the whole treasury (see the report on
        `test_nav_floor_in_an_empty_thread`)."""
        for th, spec_id, stake, added, total_after, treasury_after, total_before in self.joins:
            claim = treasury_after * added // total_after
            if total_before == 0:
                if claim > stake:
                    self.ctx.stats["note: a joiner of an empty thread took more than its stake"] += 1
                continue
            assert claim <= stake, f"thread {th.thread_id} spec {spec_id}: claim {claim} above the stake {stake}"
            self.ctx.stats["NAV floor checked on a join"] += 1
        self.joins.clear()

    @invariant()
    def decided_specs_settle(self) -> None:
        """protocol 3 (r2): exits never block a decision and share arithmetic never fails a settlement. Every
        pending spec whose outcome is decided (each eligible co-author voted or left, no co-author is left, or its
        window ended) settles: `settleWithDepartures` with its departed non-voters, run as a call on the latest
        state, does not revert. A thread with no co-author may hold pending specs only so: decided at once."""
        view = self.view()
        if self._settle_checked is view:
            return  # nothing happened since the last check
        self._settle_checked = view
        calls = []
        for th in self.threads:
            for spec in th.pending():
                departed = th.departed(spec)
                if self._settleable(th, spec, self._last_head, len(departed)):  # the call runs at or after the head
                    calls.append((th, spec, departed))
                elif not th.coauthors():
                    raise AssertionError(f"thread {th.thread_id}: spec {spec.spec_id} pending, undecided, no co-author")
        for th, spec, departed in calls:
            data = self.ctx.codec.encode("thread", "settleWithDepartures", spec.spec_id, departed)
            try:
                self.ctx.transport.call_many([(th.address, data)])
            except RuntimeError as err:
                message = f"thread {th.thread_id}: decided spec {spec.spec_id} cannot settle: {err}"
                raise AssertionError(message) from err
        self.ctx.stats["decided specs checked to settle"] += len(calls)
