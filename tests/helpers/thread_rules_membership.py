"""The stateful thread test's rules of membership: exits (some in the cooldown, by the last co-author with specs
pending), eligible co-authors leaving a pending spec, and a membership change followed by a spec in the
same second."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from helpers.contracts import DAY
from helpers.thread_machine_actions import ThreadActions
from helpers.thread_machine_draws import pick, pick_mostly
from helpers.thread_model import SpecModel, ThreadModel


class MembershipRules(ThreadActions):
    """Rules of exits and membership changes."""

    # --- rules: equity -------------------------------------------------------------------------------

    def _exit(self, th: ThreadModel, member: str) -> None:
        def expect(t: int) -> set[str]:
            if th.shares_of(member) == 0:
                return {"NotCoauthor"}
            errors = set()
            if t < th.joined_at(member) + DAY:
                errors.add("ExitCooldown")
            # protocol 5 (r2): the last co-author may leave too, pending specs or not
            return errors

        last_with_pending = th.coauthors() == [member] and bool(th.pending())
        result = self._send("exit", *self._thread_call(member, th, "exit"), expect)
        if not result.ok:
            return
        if last_with_pending:
            self.ctx.stats["exit: the last co-author left with specs pending"] += 1
        held, total = th.shares_of(member), th.total_shares()
        payout = th.treasury * held // total  # protocol 5: pro-rata part of the treasury
        assert result.one("CoauthorExited") == {
            "account": member,
            "shares": held,
            "payout": payout,
            "totalShares": total - held,
        }
        th.set_shares(member, result.timestamp, 0)
        th.set_total(result.timestamp, total - held)
        th.treasury -= payout
        self.balances[member] += payout

    @rule(data=st.data())
    def exit(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        self._exit(th, pick_mostly(data, th.coauthors(), self.ctx.actors, "member"))

    @rule(data=st.data(), everyone=st.booleans())
    def leave_a_pending_spec(self, data: st.DataObject, everyone: bool) -> None:
        """The co-authors eligible for a pending spec who have not voted on it leave (all of them, or all but one),
        once their cooldowns allow it within the spec's window: what `settleWithDepartures` and Refunded are for
        (protocol 3, r2); with no newcomer in the thread, its last co-author leaves with specs pending."""
        waiting = [(t, s) for t in self.threads for s in t.pending() if self._non_voters(t, s)]
        chosen = pick(data, waiting or [None], "spec")  # a draw of the same shape either way
        if chosen is None:
            return
        th, spec = chosen
        leavers = self._non_voters(th, spec)
        leavers = leavers if everyone else leavers[1:]
        ready_at = max((th.joined_at(a) + DAY for a in leavers), default=0)
        now = self._now()
        if ready_at > now:
            if ready_at > spec.deadline:
                return
            self._view = None
            self.ctx.chain.mine(deltatime=ready_at - now)
        for member in leavers:
            self._exit(th, member)
        self.ctx.stats[f"leave a pending spec: {'everyone' if everyone else 'all but one'}"] += 1

    @staticmethod
    def _non_voters(th: ThreadModel, spec: SpecModel) -> list[str]:
        """Co-authors now, eligible for `spec`, who have not voted on it."""
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) > 0 and a not in spec.votes]

    @rule(data=st.data(), change=st.sampled_from(["exit", "join"]), extra=st.integers(0, 3_000))
    def change_members_then_spec_in_one_second(self, data: st.DataObject, change: str, extra: int) -> None:
        """A member leaves (or a spec is settled, which may add one), then a spec arrives in the same
        second: its voters are the co-authors of the second before. Anvil can put both in one second;
        eth-tester mines every block a second later, so there the spec comes one second after."""
        th = self._draw_thread(data)
        if change == "exit":
            self._exit(th, pick_mostly(data, th.coauthors(), self.ctx.actors, "member"))
        else:
            self._settle(th, pick(data, [s.spec_id for s in th.pending()] or [0], "spec"), self.ctx.actors[0])
        author = pick(data, self._free_authors(th), "author")
        self._ensure_allowance(author, th)  # before pinning the clock: this is a transaction too
        self.ctx.transport.stay_in_this_second()
        price = th.price_at(self._now())
        self._submit(th, author, price + price * extra // 1_000, [])
