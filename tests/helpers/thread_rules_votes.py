"""The stateful thread test's rules of votes and settlement: votes (some ineligible, twice, late), votes in a
row, settlements (some too early), `settleWithDepartures` (its list now and then short, unsorted or naming
an account that did not depart) and curator claims."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import rule

from helpers.thread_machine_actions import ThreadActions
from helpers.thread_machine_draws import pick, pick_many, pick_mostly
from helpers.thread_model import ThreadModel
from helpers.thread_model_arithmetic import (
    PENDING,
)


class VoteRules(ThreadActions):
    """Rules of votes, settlement and curator claims."""

    # --- rules: votes and settlement -----------------------------------------------------------------

    def _draw_spec(self, data: st.DataObject) -> tuple[ThreadModel, int]:
        """Mostly a pending spec; else a settled one, a message that is no spec, or an unknown id."""
        pending = [(t, s.spec_id) for t in self.threads for s in t.pending()]
        others = [
            (t, i)
            for t in self.threads
            for i in [*range(t.message_count), t.message_count + 3]
            if i not in t.specs or t.specs[i].status != PENDING
        ]
        return pick_mostly(data, pending, pending + others, "spec")

    @rule(data=st.data())
    def vote(self, data: st.DataObject) -> None:
        th, spec_id = self._draw_spec(data)
        who = data.draw(st.sampled_from(["eligible"] * 5 + ["joined later", "co-author", "anyone"]))
        # a pending spec with a co-author who joined after its submission, and so may not vote on it
        late = [(t, s.spec_id, a) for t in self.threads for s in t.pending() for a in self._joined_after(t, s)]
        late_pick = pick(data, late or [None], "joined later")
        pools = {"eligible": self._can_vote(th, spec_id), "co-author": th.coauthors()}
        voter = pick(data, pools.get(who) or self.ctx.actors, "voter")  # drawn either way: the same shape
        if who == "joined later" and late_pick:
            th, spec_id, voter = late_pick
        approve = data.draw(st.booleans(), label="approve")
        self._vote(th, spec_id, voter, approve)

    @rule(data=st.data(), approvals=st.lists(st.booleans(), min_size=4, max_size=4))
    def votes_in_a_row(self, data: st.DataObject, approvals: list[bool]) -> None:
        """Several co-authors vote on one spec back to back (within one second, on anvil)."""
        th, spec_id = self._draw_spec(data)
        voters = pick_many(data, self._can_vote(th, spec_id), 4, "voters", min_size=1)
        for voter, approve in zip(voters, approvals, strict=False):
            self._vote(th, spec_id, voter, approve)

    @rule(data=st.data(), caller=st.integers(0, 7))
    def settle(self, data: st.DataObject, caller: int) -> None:
        th, spec_id = self._draw_spec(data)
        self._settle(th, spec_id, self.ctx.actors[caller])

    @rule(
        data=st.data(),
        mode=st.sampled_from(["departed"] * 4 + ["some", "unsorted", "not departed"]),
        caller=st.integers(0, 7),
    )
    def settle_with_departures(self, data: st.DataObject, mode: str, caller: int) -> None:
        """protocol 3 (r2): settle a spec without waiting for its eligible co-authors who left without voting,
        listed in increasing address order (Refunded when they all left and nobody voted). Now and then the list
        leaves some out (early only once the others voted), is out of order or repeats one
        (`DeparturesNotSorted`), or names an account that did not depart (`NotDeparted`: a co-author now, a voter,
        or not eligible)."""
        with_departures = [(t, s.spec_id) for t in self.threads for s in t.pending() if t.departed(s)]
        drawn = self._draw_spec(data)  # both draws every time: the same shape whatever the state
        th, spec_id = pick(data, with_departures or [drawn], "spec with departures")
        spec = th.specs.get(spec_id)
        departed = th.departed(spec) if spec is not None else []
        if mode == "some":
            departed = departed[:-1]
        elif mode == "unsorted":
            departed = departed[::-1] if len(departed) > 1 else [*departed, *departed] or self.ctx.actors[:1] * 2
        elif mode == "not departed":
            stray = pick(data, [a for a in self.ctx.actors if a not in departed] or self.ctx.actors, "not departed")
            departed = sorted([*departed, stray], key=lambda a: int(a, 16))
        self._settle(th, spec_id, self.ctx.actors[caller], departed)
        self.ctx.stats[f"settleWithDepartures: {mode}"] += 1

    @rule(data=st.data())
    def claim_curator_rewards(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        claimable = {a: [s.spec_id for s in th.specs.values() if a in s.unclaimed()] for a in self.ctx.actors}
        curators = [a for a in self.ctx.actors if claimable[a]]
        curator = pick_mostly(data, curators, self.ctx.actors, "curator")
        ids = pick_many(data, claimable[curator], 3, "spec ids")
        # now and then a spec it cannot claim from (pending, approved, not denied by it, or claimed just now)
        bad = data.draw(st.integers(0, 4), label="bad id") == 4
        wrong = pick(data, [*sorted(th.specs), th.message_count], "unclaimable id")
        if bad:
            ids = [*ids, wrong]

        def expect(t: int) -> set[str]:
            taken: set[int] = set()
            for spec_id in ids:
                spec = th.specs.get(spec_id)
                if spec is None or spec_id in taken or curator not in spec.unclaimed():
                    return {"NoCuratorReward"}
                taken.add(spec_id)
            return set()

        result = self._send("claimCuratorRewards", *self._thread_call(curator, th, "claimCuratorRewards", ids), expect)
        if not result.ok:
            return
        paid = result.all("CuratorRewardClaimed")
        assert [(e["specId"], e["curator"], e["amount"]) for e in paid] == [
            (i, curator, th.specs[i].per_denier) for i in ids
        ]
        amount = sum(th.specs[i].per_denier for i in ids)
        for spec_id in ids:
            th.specs[spec_id].claimed.add(curator)
        th.locked -= amount
        self.balances[curator] += amount
