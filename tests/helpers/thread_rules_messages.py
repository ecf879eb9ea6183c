"""The stateful thread test's rules of threads and messages: the first thread (and its joiners, mostly with
rewards launched), new threads, posts, specs (some refused) and the spec paths of one step (vote and settle,
approved by all)."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from helpers.contracts import AI_PROMPTED
from helpers.thread_machine_draws import pick, pick_mostly
from helpers.thread_machine_reward_actions import RewardActions

MAX_THREADS = 3


class MessageRules(RewardActions):
    """Rules of threads and messages: creation, posts, specs."""

    # --- rules: threads and messages -----------------------------------------------------------------

    @initialize(
        creator=st.integers(0, 7),
        joiners=st.integers(0, 3),
        extras=st.lists(st.integers(0, 3_000), min_size=3, max_size=3),
        rewards_later=st.integers(0, 3),
        second=st.booleans(),
        data=st.data(),
    )
    def first_thread(
        self, creator: int, joiners: int, extras: list[int], rewards_later: int, second: bool, data: st.DataObject
    ) -> None:
        """A first thread, and up to three more co-authors who join it the ordinary way (stake, all approve,
        settle), so that votes can split and members can leave from the first step on.

        Most examples launch rewards here: at least one joiner's spec (citing the root message, which earns
        nothing, and the root of a second thread if there is one, which earns a citation share) is approved by
        the creator, and they are settled together in the launch block, the first approvals the curve meets,
        so their rewards are mostly capped. The other examples join one after another (later joiners vote on
        the next) and launch rewards later by a rule."""
        th = self._create(self.ctx.actors[creator])
        assert th is not None
        if second:  # by another account: so that specs can cite another thread from the first step on
            self._create(self.ctx.actors[(creator + 1) % len(self.ctx.actors)])
        if rewards_later != 3:  # mostly
            self.ctx.chain.mine(deltatime=1)  # voters need shares one second before the spec
            authors = [a for a in self.ctx.actors if a not in th.shares][: max(joiners, 1)]
            citations = [t.message_id(0) for t in self.threads]
            for author, extra in zip(authors, extras, strict=False):
                price = th.price_at(self._now())
                spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
                assert spec_id is not None
                for voter in self._can_vote(th, spec_id):
                    self._vote(th, spec_id, voter, True)
            self._launch_rewards(data)
            self.ctx.chain.mine(deltatime=1)
            return
        for extra in extras[:joiners]:
            self.ctx.chain.mine(deltatime=1)  # voters need shares one second before the spec
            author = next(a for a in self.ctx.actors if th.shares_of(a) == 0 and a not in th.shares)
            price = th.price_at(self._now())
            spec_id = self._submit(th, author, price + price * extra // 1_000, [])
            assert spec_id is not None
            for voter in self._can_vote(th, spec_id):
                self._vote(th, spec_id, voter, True)
            self._settle(th, spec_id, author)
        self.ctx.chain.mine(deltatime=1)

    @precondition(lambda self: len(self.threads) < MAX_THREADS)
    @rule(creator=st.integers(0, 7), wait=st.integers(0, 3), data=st.data())
    def create_thread(self, creator: int, wait: int, data: st.DataObject) -> None:
        """A new thread; mostly a second passes after it (`wait` 0-2), else new specs find no voters."""
        self._create(self.ctx.actors[creator], self._draw_author_kind(data))
        if wait != 3:
            self.ctx.chain.mine(deltatime=1)

    @rule(data=st.data())
    def post(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        author = pick_mostly(data, th.coauthors(), self.ctx.actors, "author")
        citations = self._draw_citations(data, th)
        author_kind = self._draw_author_kind(data)
        index = th.message_count

        def expect(t: int) -> set[str]:
            errors = self._citation_errors(citations)
            if th.shares_of(author) == 0:
                errors.add("NotCoauthor")
            if author_kind > AI_PROMPTED:
                errors.add("UnknownAuthorKind")
            return errors

        call = self._thread_call(author, th, "post", self._content("post"), citations, author_kind)
        result = self._send("post", *call, expect)
        if result.ok:
            posted = result.one("MessagePosted")
            assert (posted["index"], posted["author"], posted["authorKind"]) == (index, author, author_kind)
            self._record_citations(th, th.message_id(index), citations, result)
            th.message_count += 1

    @rule(data=st.data())
    def submit_spec(self, data: st.DataObject) -> None:
        th = self._draw_thread(data)
        kind = data.draw(st.sampled_from(["stake", "stake", "stake", "below price", "zero", "co-author", "second"]))
        insiders = th.coauthors()
        outsiders = [a for a in self.ctx.actors if a not in insiders]
        waiting = [s.author for s in th.pending()]  # a second spec of theirs is refused (r2)
        pool = insiders if (kind == "co-author" and insiders) or not outsiders else outsiders
        if kind == "second" and waiting:
            pool = waiting
        author = pick(data, pool, "author")
        # amounts in thousandths of the price, so the draws do not depend on the price in force
        short = data.draw(st.integers(0, 999), label="short by (thousandths)")
        extra = data.draw(st.one_of(st.integers(0, 3_000), st.just(20_000)), label="extra (thousandths)")
        citations = self._draw_citations(data, th)
        price = th.price_at(self._now())
        if kind == "below price":
            stake = price - max(1, price * short // 1_000)
        elif kind == "zero":
            stake = 0
        else:
            stake = price + price * extra // 1_000
        self._submit(th, author, stake, citations, self._draw_author_kind(data))

    @rule(
        data=st.data(),
        extra=st.integers(0, 3_000),
        votes=st.lists(st.booleans(), max_size=4),
        settle_now=st.booleans(),
    )
    def spec_round(self, data: st.DataObject, extra: int, votes: list[bool], settle_now: bool) -> None:
        """The main path in one step: a spec at the price plus `extra` thousandths, mostly citing other threads
        (its approval then rewards them), votes (approve or deny) of some of its eligible voters, and settlement
        right away or left for later."""
        th = self._draw_thread(data)
        author = pick(data, self._free_authors(th), "author")
        citations = self._draw_citations(data, th, bad=False)
        price = th.price_at(self._now())
        spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
        if spec_id is None:
            return
        for voter, approve in zip(self._can_vote(th, spec_id), votes, strict=False):
            self._vote(th, spec_id, voter, approve)
        if settle_now:
            self._settle(th, spec_id, author)

    @rule(data=st.data(), extra=st.integers(0, 3_000), settle_now=st.booleans())
    def spec_approved_by_all(self, data: st.DataObject, extra: int, settle_now: bool) -> None:
        """The path rewards follow: a spec, mostly citing other threads, that every eligible co-author
        approves; settled at once, or left ready for `settle_ready_together` or `settle`."""
        th = self._draw_thread(data)
        author = pick(data, self._free_authors(th), "author")
        citations = self._draw_citations(data, th, bad=False)
        price = th.price_at(self._now())
        spec_id = self._submit(th, author, price + price * extra // 1_000, citations)
        if spec_id is None:
            return
        for voter in self._can_vote(th, spec_id):
            self._vote(th, spec_id, voter, True)
        if settle_now:
            self._settle(th, spec_id, author)
