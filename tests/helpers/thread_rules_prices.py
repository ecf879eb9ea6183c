"""The stateful thread test's rules of prices and time: price rounds of the pricer (some replayed, moving too
far, out of bounds, by an intruder), time passing, and landing next to a time the protocol turns on."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from helpers.contracts import CHOIR, DAY, HUB_DEFAULTS
from helpers.thread_machine_actions import ThreadActions
from helpers.thread_machine_draws import pick, pick_many
from helpers.thread_model_arithmetic import (
    EMISSION_END,
)


class PriceRules(ThreadActions):
    """Rules of price rounds and the passage of time."""

    # --- rules: prices and time ----------------------------------------------------------------------

    @rule(data=st.data())
    def update_prices(self, data: st.DataObject) -> None:
        batch = list(dict.fromkeys([pick(data, self.threads, "thread"), *pick_many(data, self.threads, 2, "more")]))
        bps = HUB_DEFAULTS["maxDeviationBps"]
        lo_bound, hi_bound = HUB_DEFAULTS["minPrice"], HUB_DEFAULTS["maxPrice"]
        prices = []
        for th in batch:
            mode = data.draw(st.sampled_from(["move", "move", "move", "too far", "out of bounds"]), label="mode")
            first = data.draw(st.integers(5 * CHOIR, 100 * CHOIR), label="first price")
            move = data.draw(st.one_of(st.integers(-bps, bps), st.sampled_from([bps, -bps])), label="move (bps)")
            bad = data.draw(st.sampled_from([lo_bound - 1, hi_bound + 1]), label="price out of bounds")
            anchor = th.deviation_anchor(self._now())  # the block's time may differ: `expect` decides
            if th.price == 0:
                price = first  # no previous price: any price within the bounds
            else:
                step = anchor * abs(move) // 10_000  # rounded towards zero: within the allowed deviation
                if move > 0 and anchor + step > 2_000 * CHOIR:  # keep stakes affordable
                    move = -move
                price = anchor + step if move > 0 else anchor - step
                if mode == "too far":
                    limit = anchor * bps // 10_000
                    price = anchor + limit + 1 if move >= 0 else anchor - limit - 1
            if mode == "out of bounds":
                price = bad
            prices.append(price)
        replay = data.draw(st.integers(0, 5), label="replay") == 5
        stale = data.draw(st.integers(0, 255), label="stale round") % (self.last_round + 1)
        round_ = stale if replay else self.last_round + 1
        sender = self.ctx.pricer if data.draw(st.integers(0, 9), label="intruder") < 9 else self.ctx.actors[0]

        def expect(t: int) -> set[str]:
            errors = set()
            if sender != self.ctx.pricer:
                errors.add("AccessControlUnauthorizedAccount")
            if round_ <= self.last_round:
                errors.add("StaleRound")
            for th, price in zip(batch, prices, strict=True):
                if not lo_bound <= price <= hi_bound:
                    errors.add("PriceOutOfBounds")
                anchor = th.deviation_anchor(t)  # measured from the window's start (r2)
                if anchor and abs(price - anchor) * 10_000 > anchor * bps:
                    errors.add("PriceDeviationTooLarge")
            return errors

        ids = [th.thread_id for th in batch]
        call = self.ctx.codec.encode("hub", "updatePrices", ids, prices, round_)
        result = self._send("updatePrices", sender, self.ctx.hub, call, expect)
        if result.ok:
            assert result.one("PricesUpdated") == {
                "round": round_,
                "threadIds": tuple(ids),
                "prices": tuple(prices),
            }
            for th, price in zip(batch, prices, strict=True):
                th.record_price(price, result.timestamp)
            self.last_round = round_

    @rule(
        seconds=st.one_of(st.sampled_from([1, 2, DAY - 1, DAY, 7 * DAY, 7 * DAY + 1]), st.integers(1, 8 * DAY)),
    )
    def advance_time(self, seconds: int) -> None:
        self._view = None
        self.ctx.chain.mine(deltatime=seconds)
        self.ctx.stats["advance time"] += 1

    @rule(data=st.data())
    def advance_to_a_boundary(self, data: st.DataObject) -> None:
        """Land next to a time the protocol turns on: a deadline, a cooldown's end, a price going stale."""
        now = self._now()
        marks = {s.deadline for t in self.threads for s in t.pending()}
        marks |= {t.joined_at(a) + DAY for t in self.threads for a in t.coauthors()}
        marks |= {t.updated_at + HUB_DEFAULTS["heartbeat"] for t in self.threads if t.updated_at}
        marks |= {t.window_start + HUB_DEFAULTS["deviationWindow"] for t in self.threads if t.window_start}
        if self.rewards is not None:  # the next epoch (closing this one), the end of the curve
            marks |= {self.rewards.epoch_start(self.rewards.epoch_at(now) + 1), self.rewards.launch + EMISSION_END}
        ahead = sorted(m + d for m in marks for d in (-1, 0, 1) if m + d > now)
        target = pick(data, ahead or [None], "boundary")
        if target is None:
            return
        self._view = None
        self.ctx.chain.mine(deltatime=target - now)
        self.ctx.stats["advance to a boundary"] += 1
