"""The stateful thread test's thread actions: create a thread, submit a spec, vote, settle (with or without
departures) and apply a settlement to the model, each sending one transaction and checking it against the
model; and what the model derives from its specs (when one is settleable, when an approval became certain,
who may vote)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from choir_chain.protocol.approval import UNANIMOUS_BPS
from helpers.contracts import AI_PROMPTED, HUB_DEFAULTS, HUMAN
from helpers.thread_machine_base import ThreadMachineBase, Tx
from helpers.thread_model import SpecModel, ThreadModel
from helpers.thread_model_arithmetic import (
    APPROVED,
    PENDING,
    REFUNDED,
    STATUS_NAMES,
    WAD,
    divide,
    equity_without_floor,
    new_shares,
)
from helpers.thread_transport import TxResult


class ThreadActions(ThreadMachineBase):
    """Thread actions checked against the model, for the rules to compose."""

    # --- actions: each sends one transaction and checks it against the model ------------------------

    def _create(self, creator: str, author_kind: int = HUMAN) -> ThreadModel | None:
        """A new thread whose root message declares `author_kind`; None if the hub refused the kind."""
        data = self.ctx.codec.encode("hub", "createThread", self._content("root"), author_kind)
        expected = {"UnknownAuthorKind"} if author_kind > AI_PROMPTED else set()
        result = self._send("createThread", creator, self.ctx.hub, data, lambda t: expected)
        if not result.ok:
            return None
        event = result.one("ThreadCreated")
        thread_id = self.base_thread_id + len(self.threads) + 1
        assert event["threadId"] == thread_id and event["creator"] == creator
        root = result.one("MessagePosted")
        assert (root["index"], root["author"], root["authorKind"]) == (0, creator, author_kind)
        (address,) = self._read([("hub", self.ctx.hub, "threadAddress", thread_id)])
        assert to_checksum_address(address) == event["thread"]
        th = ThreadModel(thread_id, event["thread"], HUB_DEFAULTS["approvalWindow"])
        (threshold,) = self._read([("thread", th.address, "approvalThreshold")])
        assert threshold == th.threshold == UNANIMOUS_BPS, "a new thread decides by unanimity"
        th.set_shares(creator, result.timestamp, WAD)  # protocol 2: the creator holds 1e18 shares
        th.set_total(result.timestamp, WAD)
        self.threads.append(th)
        return th

    def _submit(
        self, th: ThreadModel, author: str, stake: int, citations: list[int], author_kind: int = HUMAN
    ) -> int | None:
        """Stake on a spec; its id, or None if the protocol refused it (as the model expected)."""
        self._ensure_allowance(author, th)
        spec_id = th.message_count

        def expect(t: int) -> set[str]:
            errors = set()
            if stake == 0:
                errors.add("ZeroStake")
            if th.shares_of(author) > 0:
                errors.add("AlreadyCoauthor")
            if th.has_pending_spec(author):
                errors.add("PendingSpecExists")  # protocol 3 (r2): one pending spec per author per thread
            # Nobody held shares one second before, or nobody holds any now: nobody could decide the spec.
            if th.coauthors_at(t - 1) == 0 or not th.coauthors():
                errors.add("NoEligibleVoters")
            if stake < th.price_at(t):
                errors.add("StakeBelowPrice")
            errors |= self._citation_errors(citations)
            if stake > self.balances[author]:
                errors.add("ERC20InsufficientBalance")
            if author_kind > AI_PROMPTED:
                errors.add("UnknownAuthorKind")
            return errors

        call = self._thread_call(author, th, "submitSpec", self._content("spec"), citations, stake, author_kind)
        result = self._send("submitSpec", *call, expect)
        if not result.ok:
            return None
        t = result.timestamp
        event = result.one("SpecSubmitted")
        assert (event["specId"], event["author"], event["stake"]) == (spec_id, author, stake)
        assert event["price"] == th.price_at(t), "the spec records the price in force at submission"
        assert event["deadline"] == t + th.window
        assert list(event["citations"]) == citations
        assert event["authorKind"] == author_kind
        assert not result.all("CitationRecorded"), "a spec's citations count only once it is approved"
        assert not result.all("MessagePosted"), "a spec's message is its SpecSubmitted"
        th.specs[spec_id] = SpecModel(
            spec_id,
            author,
            stake,
            th.price_at(t),
            t,
            t + th.window,
            eligible=th.coauthors_at(t - 1),
            citations=citations,
        )
        th.message_count += 1
        th.locked += stake
        self.balances[author] -= stake
        return spec_id

    def _vote(self, th: ThreadModel, spec_id: int, voter: str, approve: bool) -> None:
        spec = th.specs.get(spec_id)

        def expect(t: int) -> set[str]:
            if spec is None:
                return {"UnknownSpec"}
            if spec.status != PENDING:
                return {"SpecNotPending"}
            errors = set()
            if t > spec.deadline:
                errors.add("VotingClosed")
            if th.shares_of(voter) == 0:
                errors.add("NotCoauthor")
            elif th.shares_at(voter, spec.submitted - 1) == 0:  # joined after the snapshot
                errors.add("NotEligibleForSpec")
            if voter in spec.votes:
                errors.add("AlreadyVoted")
            return errors

        result = self._send("vote", *self._thread_call(voter, th, "vote", spec_id, approve), expect)
        if result.ok:
            assert spec is not None and result.one("VoteCast") == {
                "specId": spec_id,
                "voter": voter,
                "approve": approve,
            }
            spec.votes[voter] = approve
            needed = th.threshold * spec.eligible
            crossed = spec.approvals * UNANIMOUS_BPS >= needed > (spec.approvals - 1) * UNANIMOUS_BPS
            everyone = spec.approvals == spec.eligible and spec.denials == 0  # certain under any threshold
            if approve and (crossed or everyone):
                # the approvals reached the threshold of the eligible (under unanimity: every eligible co-author
                # approved): certain now (r2); under a lower threshold the last approvals of the second it became
                # certain in repeat the event for that same second
                spec.deadline = result.timestamp
                assert result.all("ApprovalCertain"), f"spec {spec_id}: no ApprovalCertain"
            else:
                assert not result.all("ApprovalCertain"), f"spec {spec_id}: ApprovalCertain at an uncertain vote"

    def _settle(self, th: ThreadModel, spec_id: int, caller: str, departed: list[str] | None = None) -> None:
        self._run(self._settle_tx(th, spec_id, caller, departed))

    @staticmethod
    def _settleable(th: ThreadModel, spec: SpecModel, t: int, departed: int = 0) -> bool:
        """protocol 3 (r2): a pending spec settles once every eligible co-author voted or left (`departed` of them
        shown to have left without voting), at once when the thread has no co-author, else after its deadline."""
        decided = not th.coauthors() or len(spec.votes) + departed >= spec.eligible
        return spec.status == PENDING and (decided or t > spec.deadline)

    def _departures_error(self, th: ThreadModel, spec: SpecModel | None, departed: list[str]) -> str | None:
        """The first error `settleWithDepartures` meets in its list: out of order (or repeated), or an account
        that was not eligible for the spec, holds shares now, or voted on it."""
        previous = 0
        for account in departed:
            if int(account, 16) <= previous:
                return "DeparturesNotSorted"
            previous = int(account, 16)
            eligible = spec is not None and th.shares_at(account, spec.submitted - 1) > 0
            if th.shares_of(account) != 0 or not eligible or (spec is not None and account in spec.votes):
                return "NotDeparted"
        return None

    def _settle_tx(self, th: ThreadModel, spec_id: int, caller: str, departed: list[str] | None = None) -> Tx:
        """`settle(specId)`, or `settleWithDepartures(specId, departed)` when `departed` is given."""
        spec = th.specs.get(spec_id)

        def expect(t: int) -> set[str]:
            error = self._departures_error(th, spec, departed or [])
            if error is not None:
                return {error}
            if spec is None:
                return {"UnknownSpec"}
            if spec.status != PENDING:
                return {"SpecNotPending"}
            # Either way the contract counts every departed non-voter itself (from its exit log) when the votes
            # alone do not decide, so the outcome never depends on the list a caller gave.
            if not self._settleable(th, spec, t, len(th.departed(spec))):
                return {"SettleTooEarly"}
            return set()

        def apply(result: TxResult) -> None:
            assert spec is not None
            self._apply_settlement(th, spec, result, len(th.departed(spec)))

        if departed is None:
            return Tx("settle", *self._thread_call(caller, th, "settle", spec_id), expect, apply)
        call = self._thread_call(caller, th, "settleWithDepartures", spec_id, departed)
        return Tx("settleWithDepartures", *call, expect, apply)

    def _apply_settlement(self, th: ThreadModel, spec: SpecModel, result: TxResult, departed: int) -> None:
        spec_id = spec.spec_id
        t = result.timestamp
        empty = not th.coauthors()  # the thread had no co-author when it settled
        all_left = not spec.votes and len(th.departed(spec)) >= spec.eligible
        if not spec.votes and (empty or departed >= spec.eligible):
            # protocol 3 (r2): nobody voted and nobody eligible is left to: the stake goes back to its author
            outcome, gain, per = REFUNDED, 0, 0
        else:
            outcome, gain, per = divide(spec.stake, spec.approvals, spec.denials, th.threshold)
        event = result.one("SpecSettled")
        assert not result.all("MessagePosted"), "settling emits no MessagePosted: SpecSubmitted carried the message"
        refunds = [
            e.args["value"]
            for e in result.events
            if e.name == "Transfer" and (e.args["from"], e.args["to"]) == (th.address, spec.author)
        ]
        self.settlements.append((th, spec_id, event, (outcome, gain, per), spec.stake, sum(refunds)))
        spec.status, spec.per_denier = outcome, per
        if outcome == REFUNDED:
            assert refunds == [spec.stake], f"spec {spec_id}: refund transfers {refunds}, stake {spec.stake}"
            th.locked -= spec.stake
            self.balances[spec.author] += spec.stake
        else:
            assert not refunds, f"spec {spec_id}: {STATUS_NAMES[outcome]} sent {refunds} back to its author"
        treasury_before = th.treasury
        th.locked -= gain  # the deniers' payouts stay locked until claimed
        th.treasury += gain
        if outcome == APPROVED:
            held = th.shares_of(spec.author)
            others = len([a for a in th.coauthors() if a != spec.author])
            total = th.total_shares()
            added = new_shares(spec.stake, spec.price, others, treasury_before, total)
            floor = spec.stake * WAD // (treasury_before + spec.stake)
            if total and floor < equity_without_floor(spec.stake, spec.price, others):
                self.ctx.stats["NAV floor bound the equity of a join"] += 1
            if added:
                joined = result.one("CoauthorJoined")
                assert joined == {
                    "account": spec.author,
                    "specId": spec_id,
                    "sharesAdded": added,
                    "totalShares": total + added,
                }
                th.set_shares(spec.author, t, held + added)
                th.set_total(t, total + added)
                self.joins.append((th, spec_id, spec.stake, added, total + added, th.treasury, total))
            else:  # MAX_TOTAL_SHARES reached: approved, no equity (practically never)
                assert not result.all("CoauthorJoined")
            self._reward_approval(th, spec, result)
        else:
            for name in ("CoauthorJoined", "CitationRecorded", "CitingThreadCounted"):
                assert not result.all(name), f"only an approved spec emits {name}"
        for name in ("MessageRewarded", "CitationRewarded", "RewardCredited"):
            assert not result.all(name), f"settle emitted {name}: settlement pays no reward (r2)"
        # protocol 7 (r2): only an approved spec keeps its citations (the allocation splits its reward by them)
        (kept,) = self._read([("thread", th.address, "specCitations", spec_id)])
        assert list(kept) == (spec.citations if outcome == APPROVED else []), f"spec {spec_id}: specCitations"
        if th.total_shares() == 0 and gain:
            self.ctx.stats["note: stake went to a treasury nobody holds shares in"] += 1
        if departed:
            self.ctx.stats[f"settled with {departed} departure(s)"] += 1
        if all_left and outcome != REFUNDED:  # plain `settle` after the deadline: see the report
            self.ctx.stats[f"note: settled {STATUS_NAMES[outcome]} although every eligible co-author had left"] += 1
        if empty:
            self.ctx.stats[f"settled {STATUS_NAMES[outcome]} in a thread without co-authors"] += 1
        self.ctx.stats[f"settled {STATUS_NAMES[outcome]}"] += 1

    def _emission_cap(self, timestamp: int) -> int:
        """F at `timestamp`, from the contract (the curve itself is tested against Python elsewhere)."""
        assert self.rewards is not None
        if timestamp not in self._caps:
            (self._caps[timestamp],) = self._read([("distributor", self.rewards.address, "emissionCap", timestamp)])
        return self._caps[timestamp]

    def _thread_by_id(self, thread_id: int) -> ThreadModel:
        th = next((t for t in self.threads if t.thread_id == thread_id), None)
        assert th is not None, f"thread {thread_id} is not in the model"
        return th

    def _reward_approval(self, th: ThreadModel, spec: SpecModel, result: TxResult) -> None:
        """protocol 7: the approved spec's citations are counted; nothing is minted (rewards come with the epoch's
        allocation, after the epoch closed)."""
        self._record_citations(th, th.message_id(spec.spec_id), spec.citations, result)
        self.ctx.stats["reward: approvals settled (nothing minted)"] += 1

    def _certain_at(self, th: ThreadModel, spec: SpecModel, t: int) -> int:
        """When the approval of `spec` became certain at time `t` (0: not approved, or not yet certain)."""
        if spec.status == APPROVED:
            return spec.deadline
        if spec.status != PENDING or spec.approvals == 0:
            return 0
        approvals = spec.approvals * UNANIMOUS_BPS
        if approvals >= th.threshold * spec.eligible:  # `vote` moved the deadline to that vote's second
            return spec.deadline
        return spec.deadline if t > spec.deadline and approvals >= th.threshold * len(spec.votes) else 0

    @staticmethod
    def _joined_after(th: ThreadModel, spec: SpecModel) -> list[str]:
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) == 0]

    def _can_vote(self, th: ThreadModel, spec_id: int) -> list[str]:
        spec = th.specs.get(spec_id)
        if spec is None or spec.status != PENDING:
            return []
        return [a for a in th.coauthors() if th.shares_at(a, spec.submitted - 1) > 0 and a not in spec.votes]
