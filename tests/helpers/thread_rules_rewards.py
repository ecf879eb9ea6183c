"""The stateful thread test's reward rules: launch rewards, allocate a closed epoch (paid, over budget, twice,
another epoch's message, an open epoch, an intruder), intruders minting or crediting, and several ready specs
settled in one block."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from helpers.contracts import CHOIR, DAY
from helpers.thread_machine_draws import pick, pick_many
from helpers.thread_machine_reward_actions import RewardActions
from helpers.thread_model_arithmetic import (
    WAD,
)


class RewardRules(RewardActions):
    """Rules of rewards: launch, allocation, intruders, settlements in one block."""

    @precondition(lambda self: self.rewards is None)
    @rule(data=st.data())
    def launch_rewards(self, data: st.DataObject) -> None:
        self._launch_rewards(data)

    @precondition(lambda self: self.rewards is not None and self.rewards.wired)
    @rule(
        data=st.data(),
        mode=st.sampled_from(["pay"] * 5 + ["over budget", "twice", "other epoch", "open epoch", "intruder"]),
        similarities=st.lists(
            st.sampled_from([0, 8 * WAD // 10, 9 * WAD // 10, 99 * WAD // 100]), min_size=4, max_size=4
        ),
        shares=st.lists(st.integers(1, 1_000), min_size=4, max_size=4),
        scale=st.sampled_from([1, 1_000, 10**15, 10**18]),
    )
    def allocate(self, data: st.DataObject, mode: str, similarities: list[int], shares: list[int], scale: int) -> None:
        """The oracle scores the specs approved during a closed epoch, then pays them a share of the epoch's
        budget (protocol 7, r2); over the budget, a message twice or from another epoch, an epoch still open, or by
        someone else, it is refused and nothing changes."""
        rewards = self.rewards
        assert rewards is not None
        now = self._now()

        def unpaid_epochs(t: int) -> list[int]:
            """Epochs (open or closed) holding approvals not yet paid, at time `t`."""
            certain = [
                (th.message_id(s.spec_id), self._certain_at(th, s, t)) for th in self.threads for s in th.specs.values()
            ]
            return sorted({rewards.epoch_at(c) for m, c in certain if c >= rewards.launch and m not in rewards.paid})

        current = rewards.epoch_at(now)
        if mode != "open epoch" and unpaid_epochs(now) and max(unpaid_epochs(now)) >= current:
            # the latest approvals' epoch is still open: close it (the oracle allocates after the epoch)
            self._view = None
            self.ctx.chain.mine(deltatime=rewards.epoch_start(current + 1) - now)
            now = self._now()
            current = rewards.epoch_at(now)
        closed = [e for e in unpaid_epochs(now) if e < current]
        epoch = pick(data, closed or [max(current - 1, 0)], "epoch")
        intruder = pick(data, self.ctx.actors, "intruder")
        candidates = [
            (th, s) for th, s in self._approved_in(epoch, now) if th.message_id(s.spec_id) not in rewards.paid
        ]
        chosen = candidates[:4]
        if chosen:
            ids = [th.message_id(s.spec_id) for th, s in chosen]
            self._run(self._score_tx(ids, similarities[: len(ids)]))
        budget = self._emission_cap(rewards.epoch_start(epoch) + DAY) - self._emission_cap(rewards.epoch_start(epoch))
        left = budget - rewards.allocated.get(epoch, 0)
        weighted = [(th, s) for th, s in chosen if rewards.weighted.get(th.message_id(s.spec_id), False)]
        amounts = [min(share * scale, max(left // 8, 1)) for share in shares[: len(weighted)]]
        items = [(th, s.spec_id, a) for (th, s), a in zip(weighted, amounts, strict=True)]
        sender = self.ctx.pricer
        if mode == "over budget" and items:
            items[-1] = (items[-1][0], items[-1][1], left - sum(a for _, _, a in items[:-1]) + 1)
        elif mode == "twice":
            paid = [
                (th, s.spec_id, 1)
                for th in self.threads
                for s in th.specs.values()
                if th.message_id(s.spec_id) in rewards.paid
            ]
            items = items + paid[:1] + items[:1]
        elif mode == "other epoch":
            others = [(th, s.spec_id, 1) for e in closed if e != epoch for th, s in self._approved_in(e, now)]
            items = items + others[:1]
        elif mode == "open epoch":
            epoch = current
        elif mode == "intruder":
            sender = intruder
        self._run(self._allocate_tx(sender, epoch, items))
        self.ctx.stats[f"allocate: {mode}"] += 1

    @rule(
        data=st.data(),
        what=st.sampled_from(["creditReward", "allocate", "recordCitations", "setRewardsDistributor", "mint"]),
        amount=st.integers(1, 1_000 * CHOIR),
    )
    def intrude(self, data: st.DataObject, what: str, amount: int) -> None:
        """Someone other than the distributor, a thread, the oracle or the admin tries to mint, credit a treasury,
        count citations, allocate an epoch or rewire rewards: refused, nothing changes (the invariants check the
        ledgers after it)."""
        ctx = self.ctx
        intruder = pick(data, [ctx.pricer, *ctx.actors], "intruder")
        th = self._draw_thread(data)
        message = th.message_id(pick(data, list(range(th.message_count)), "message"))
        other = pick(data, self.threads, "cited thread").message_id(0)
        codec = ctx.codec
        if what == "allocate" and self.rewards is None:
            what = "creditReward"  # no distributor yet
        if what == "allocate" and self.rewards is not None:  # (for mypy: the line above)
            intruder = intruder if intruder != ctx.pricer else ctx.actors[0]  # the pricer is the oracle
            to, call = self.rewards.address, codec.encode("distributor", "allocate", 0, [message], [amount])
            errors = {"AccessControlUnauthorizedAccount"}
        elif what == "recordCitations":
            to, call, errors = ctx.hub, codec.encode("hub", "recordCitations", message, [other]), {"NotThread"}
        elif what == "setRewardsDistributor":
            call = codec.encode("hub", "setRewardsDistributor", intruder)
            to, errors = ctx.hub, {"AccessControlUnauthorizedAccount"}
        elif what == "mint":
            to, call = ctx.token, codec.encode("token", "mint", intruder, amount)
            errors = {"AccessControlUnauthorizedAccount"}
        else:
            to, call = th.address, codec.encode("thread", "creditReward", message, amount)
            errors = {"OnlyRewardsDistributor"}
        self._send(f"{what} by an intruder", intruder, to, call, lambda t: errors)

    @rule(data=st.data())
    def settle_ready_together(self, data: st.DataObject) -> None:
        """Up to four specs that are ready settled in one block (one second on anvil): several approvals meet
        the same cap and the same epoch's reward, and shares change more than once in a second."""
        now = self._now()
        ready = [(th, s.spec_id) for th in self.threads for s in th.pending() if self._settleable(th, s, now)]
        chosen = pick_many(data, ready, 4, "ready specs", min_size=1)
        self._run_together([self._settle_tx(th, i, th.specs[i].author) for th, i in chosen])
