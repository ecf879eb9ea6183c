"""The stateful thread test's reward actions (protocol 1 and 7, r2): launch a fresh rewards distributor and wire
it in one block, score novelty, and allocate a closed epoch's budget, each checked against the model."""

from __future__ import annotations

from eth_abi import encode as abi_encode
from hypothesis import strategies as st

from helpers.contracts import DAY
from helpers.thread_machine_actions import ThreadActions
from helpers.thread_machine_base import Tx
from helpers.thread_model import RewardsModel, SpecModel, ThreadModel
from helpers.thread_model_arithmetic import (
    EMISSION_END,
    MODEL_ID,
    WAD,
    split_reward,
)
from helpers.thread_transport import TxResult


class RewardActions(ThreadActions):
    """Reward actions checked against the model, for the rules to compose."""

    # --- rewards ---------------------------------------------------------------------------------------

    def _launch_rewards(self, data: st.DataObject) -> None:
        """Deploy a fresh distributor (its curve starting at deployment, or a little earlier, or a day or the
        whole curve minus two seconds earlier), then in one block (one second on anvil), at once or a second
        later: give it the minter role and the pricer its oracle role, wire it into the hub, and settle every
        spec that is ready (which mints nothing)."""
        ctx = self.ctx
        # mostly at deployment (where the cap binds), else earlier: by 0 s (the latest block), 5 s, or two seconds
        # before the first epoch ends or before the curve's end
        starts: list[int | None] = [None] * 6 + [0, 5, DAY - 2, EMISSION_END - 2]
        ago = starts[data.draw(st.integers(0, len(starts) - 1), label="launch: curve started seconds ago")]
        # wired in the next block (eth-tester: a second later) or the same second (anvil), else a little later
        delay = int(data.draw(st.integers(0, 2), label="launch: wired later") == 2)
        now = self._now()
        launch_arg = 0 if ago is None else now - ago
        code = ctx.distributor_code + abi_encode(ctx.distributor_args, [ctx.token, ctx.hub, ctx.admin, launch_arg])
        result = self._send("deploy RewardsDistributor", ctx.admin, None, code, lambda t: set())
        address = result.contract_address
        assert address is not None
        launch, minter_role, oracle_role = self._read(
            [
                ("distributor", address, "launchTime"),
                ("token", ctx.token, "MINTER_ROLE"),
                ("distributor", address, "ORACLE_ROLE"),
            ]
        )
        assert launch == (result.timestamp if ago is None else launch_arg), "launchTime"
        rewards = RewardsModel(address, launch)
        self.rewards = rewards
        ctx.stats[f"launch: {'at deployment' if ago is None else f'{ago} s before deployment'}"] += 1
        if delay:
            ctx.chain.mine(deltatime=delay)

        def wired(result: TxResult) -> None:
            assert result.one("RewardsDistributorSet") == {"distributor": address}
            rewards.wired = True

        codec = ctx.codec
        txs = [
            Tx(
                "grant MINTER_ROLE",
                ctx.admin,
                ctx.token,
                codec.encode("token", "grantRole", minter_role, address),
                lambda t: set(),
            ),
            Tx(
                "grant ORACLE_ROLE",
                ctx.admin,
                address,
                codec.encode("distributor", "grantRole", oracle_role, ctx.pricer),
                lambda t: set(),
            ),
            Tx(
                "setRewardsDistributor",
                ctx.admin,
                ctx.hub,
                codec.encode("hub", "setRewardsDistributor", address),
                lambda t: set(),
                wired,
            ),
        ]
        now = self._now()
        ready = [(th, s) for th in self.threads for s in th.pending() if self._settleable(th, s, now)]
        txs += [self._settle_tx(th, s.spec_id, s.author) for th, s in ready]
        self._run_together(txs)

    def _score_tx(self, ids: list[int], similarities: list[int]) -> Tx:
        rewards = self.rewards
        assert rewards is not None
        round_ = rewards.last_round + 1

        def apply(result: TxResult) -> None:
            event = result.one("NoveltyScoresSet")
            assert (event["round"], event["modelId"], list(event["messageIds"])) == (round_, MODEL_ID, ids)
            rewards.last_round = round_
            for message_id, similarity in zip(ids, similarities, strict=True):
                rewards.weighted[message_id] = similarity <= 95 * WAD // 100

        data = self.ctx.codec.encode("distributor", "setNoveltyScores", round_, MODEL_ID, 1, ids, similarities)
        return Tx("setNoveltyScores", self.ctx.pricer, rewards.address, data, lambda t: set(), apply)

    def _approved_in(self, epoch: int, t: int) -> list[tuple[ThreadModel, SpecModel]]:
        """Specs whose approval became certain during `epoch`, as the model sees them at time `t`."""
        rewards = self.rewards
        assert rewards is not None
        start = rewards.epoch_start(epoch)
        return [
            (th, spec)
            for th in self.threads
            for spec in th.specs.values()
            if start <= self._certain_at(th, spec, t) < start + DAY
        ]

    def _allocate_tx(self, sender: str, epoch: int, items: list[tuple[ThreadModel, int, int]]) -> Tx:
        """`allocate(epoch, ids, amounts)` and what the model makes of it (`items`: thread, spec id, amount)."""
        rewards = self.rewards
        assert rewards is not None
        ids = [th.message_id(spec_id) for th, spec_id, _ in items]
        amounts = [amount for _, _, amount in items]

        def expect(t: int) -> set[str]:
            if sender != self.ctx.pricer:
                return {"AccessControlUnauthorizedAccount"}
            if epoch >= rewards.epoch_at(t):
                return {"EpochNotClosed"}
            start, errors, seen = rewards.epoch_start(epoch), set(), set()
            for (th, spec_id, amount), message_id in zip(items, ids, strict=True):
                spec = th.specs.get(spec_id)
                certain = self._certain_at(th, spec, t) if spec is not None else 0
                if amount == 0:
                    errors.add("ZeroAmount")
                elif not start <= certain < start + DAY:
                    errors.add("NotApprovedInEpoch")
                elif message_id in rewards.paid or message_id in seen:
                    errors.add("AlreadyPaid")
                elif not rewards.weighted.get(message_id, False):
                    errors.add("NoNoveltyWeight")
                seen.add(message_id)
                if errors:
                    return errors  # the contract stops at the first bad message
            budget = self._emission_cap(start + DAY) - self._emission_cap(start)
            if rewards.allocated.get(epoch, 0) + sum(amounts) > budget:
                return {"BudgetExceeded"}
            if rewards.minted + sum(amounts) > self._emission_cap(t):
                return {"EmissionCapExceeded"}
            return set()

        def apply(result: TxResult) -> None:
            total = sum(amounts)
            batch = result.one("EpochAllocated")
            assert (batch["epoch"], batch["messages"], batch["amount"]) == (epoch, len(ids), total)
            rewards.allocated[epoch] = rewards.allocated.get(epoch, 0) + total
            assert batch["allocated"] == rewards.allocated[epoch]
            expected_rewarded, expected_cited, expected_credits = [], [], []
            for (th, _, amount), message_id in zip(items, ids, strict=True):
                spec = th.specs[message_id & (2**64 - 1)]
                cited = [
                    c
                    for c in dict.fromkeys(c >> 64 for c in spec.citations if c >> 64 != th.thread_id)
                    if self._thread_by_id(c).coauthors()
                ]
                per, to_thread = split_reward(amount, len(cited))
                expected_rewarded.append((message_id, epoch, amount, to_thread))
                expected_credits.append((th.address, message_id, to_thread))
                th.treasury += to_thread
                if per:
                    for c in cited:
                        expected_cited.append((c, message_id, per))
                        expected_credits.append((self._thread_by_id(c).address, message_id, per))
                        self._thread_by_id(c).treasury += per
                    self.ctx.stats["reward: citation credits"] += len(cited)
                rewards.paid.add(message_id)
            rewarded = [(e["messageId"], e["epoch"], e["amount"], e["toThread"]) for e in result.all("MessageRewarded")]
            assert rewarded == expected_rewarded, "MessageRewarded"
            assert [(e["threadId"], e["messageId"], e["amount"]) for e in result.all("CitationRewarded")] == (
                expected_cited
            )
            credited = [
                (e.address, e.args["messageId"], e.args["amount"]) for e in result.events if e.name == "RewardCredited"
            ]
            assert credited == expected_credits, "RewardCredited"
            rewards.minted += total
            self.ctx.stats["reward: rewarded messages"] += len(ids)

        data = self.ctx.codec.encode("distributor", "allocate", epoch, ids, amounts)
        return Tx("allocate", sender, rewards.address, data, expect, apply)
