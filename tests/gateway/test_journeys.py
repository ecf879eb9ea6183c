"""Every user journey of the dashboard, each in a real browser (headless Chromium with an injected EIP-1193
wallet that sends through anvil and signs typed data with eth_account) against the gateway, an indexer following
the chain, and the devnet as the indexer tests' workload left it (tests/helpers/world.py): thread 1
has Alice alone and a governor, heidi's spec pending; thread 2 has Bob alone and no governor.

Each journey starts from that state (the chain is reverted afterwards and the gateway reads a copy of the
workload's database), moves time only with evm_increaseTime / evm_mine, waits for DOM conditions, and writes a
screenshot (its path printed) into the test's tmp folder and `.run/test-artifacts/`. docs/user-journeys.md
describes each journey step by step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers.dashboard import connect, journey, screenshot, spec_card, time_travel, wait_tx
from helpers.world import content, gid
from playwright.sync_api import Page, expect

from choir_chain import artifacts
from choir_chain.deploy import CHOIR
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World


def submit(world: World, author: LocalAccount, thread_id: int, text: str, kind: AuthorKind = AuthorKind.HUMAN) -> int:
    """A spec at the thread's price, sent without the dashboard (another person's action); its id."""
    run = world.run
    t = run.deployment.thread(thread_id)
    stake = run.deployment.hub.functions.price(thread_id).call()
    run.chain.transact(run.deployment.token.functions.approve(t.address, stake), author)
    spec_id = int(t.functions.messageCount().call())
    run.chain.transact(t.functions.submitSpec(content(text), [], stake, kind), author)
    return spec_id


def join(world: World, author: LocalAccount, thread_id: int, approver: LocalAccount, text: str) -> int:
    """`author` becomes a co-author of the thread: its spec, approved by `approver` and settled; the spec id."""
    spec_id = submit(world, author, thread_id, text)
    t = world.run.deployment.thread(thread_id)
    world.run.chain.transact(t.functions.vote(spec_id, True), approver)
    world.run.chain.transact(t.functions.settle(spec_id), approver)
    return spec_id


def refresh(page: Page) -> None:
    """Re-read the page now (after a time jump: an empty block announces nothing on the event stream)."""
    page.evaluate("window.choir.refresh()")


def balance(world: World, account: str) -> int:
    return int(world.run.deployment.token.functions.balanceOf(account).call())


def wei(page: Page, testid: str) -> int:
    return int(page.get_by_test_id(testid).first.get_attribute("data-wei") or "-1")


# ------------------------------------------------------------------------------------------------------------
# A newcomer: connect, start a thread, read a price, stake on another thread
# ------------------------------------------------------------------------------------------------------------


def test_newcomer_starts_a_thread_and_stakes_on_another(world: World, tmp_path: Path) -> None:
    run = world.run
    grace, hub = run.actors.grace, run.deployment.hub
    body = "A field guide to stake prices in Choir\nWhat a newcomer should know before staking."
    with journey(world, tmp_path) as j:
        page = j.open(grace)
        connect(page, grace.address)
        page.get_by_test_id("new-thread").locator("summary").click()
        page.get_by_test_id("new-thread-body").fill(body)
        page.get_by_test_id("new-thread-author-kind").select_option("human")
        page.get_by_test_id("create-thread").click()
        wait_tx(page, "createThread")
        wait_tx(page, "content")
        new_id = int(hub.functions.threadCount().call())
        assert run.deployment.thread(new_id).functions.isCoauthor(grace.address).call()
        # the title is the body's first line, from the stored body
        expect(page.get_by_test_id(f"thread-title-{new_id}")).to_have_text("A field guide to stake prices in Choir")
        root = page.request.get(f"{j.base}/threads/{new_id}/messages").json()["items"][0]
        assert root["body"] == body and root["content_hash"] == "0x" + keccak(text=body).hex()
        # the filter narrows the list to the matching title
        page.get_by_test_id("thread-filter").fill("field guide")
        expect(page.locator("tr.thread-row")).to_have_count(1)
        page.get_by_test_id("thread-filter").fill("")
        # the gateway's order: highest price first
        page.get_by_test_id("thread-order").select_option("price:desc")
        prices = {i: hub.functions.price(i).call() for i in range(1, new_id + 1)}
        expected = [str(i) for i in sorted(prices, key=lambda i: (-prices[i], i))]
        expect(page.locator("tr.thread-row")).to_have_count(new_id)
        page.wait_for_function(
            "(ids) => [...document.querySelectorAll('tr.thread-row')].map((r) => r.dataset.thread).join() === ids",
            arg=",".join(expected),
        )
        # the price of thread 2, exact in data-wei, in full on hover
        price = prices[2]
        expect(page.get_by_test_id("price-2")).to_have_attribute("data-wei", str(price))
        title = page.get_by_test_id("price-2").get_attribute("title") or ""
        assert title.startswith(f"{price // CHOIR}") and f"({price} wei)" in title, title
        screenshot(page, tmp_path, "journey-newcomer-threads")

        # stake on thread 2: approve the stake at its price, then submit the spec
        page.get_by_test_id("thread-link-2").click()
        expect(page.get_by_test_id("thread-price")).to_have_attribute("data-wei", str(price))
        spec_text = "Newcomer's spec: a glossary of the terms this thread uses"
        page.get_by_test_id("spec-body").fill(spec_text)
        page.get_by_test_id("approve-stake").click()
        wait_tx(page, "approve")
        page.get_by_test_id("submit-spec").click()
        wait_tx(page, "submitSpec")
        card = spec_card(page, grace.address)
        expect(card).to_contain_text(spec_text)
        spec_id = int(card.get_attribute("data-spec") or "0")
        spec = run.deployment.thread(2).functions.getSpec(spec_id).call()
        assert spec[0] == grace.address
        expect(card.locator(f'.amount[data-wei="{price}"]').first).to_be_visible()
        expect(card.get_by_test_id("vote-approve")).to_have_count(0)  # co-authors vote; the newcomer is not one
        # a second spec while the first is pending: refused, the contract's error in words (name, notice, arguments)
        page.get_by_test_id("spec-body").fill("Newcomer's second spec, too early")
        with page.expect_response(lambda r: r.url.endswith("/tx/submitSpec")) as refusal:
            page.get_by_test_id("submit-spec").click()
        assert refusal.value.status == 409, refusal.value.text()
        error = refusal.value.json()["error"]
        assert re.fullmatch(r"[A-Z]\w+", error["code"]) and error["message"].split(". ")[0][0].isupper(), error
        assert f"{error['code']}(" in error["message"], error  # the decoded arguments follow the notice
        failed = page.locator('[data-testid="tx"][data-action="submitSpec"][data-state="fail"]')
        expect(failed.locator(".error-code")).to_have_text(f"409 {error['code']}")
        expect(failed.locator(".error-message")).to_have_text(error["message"])
        screenshot(page, tmp_path, "journey-newcomer-spec")


# ------------------------------------------------------------------------------------------------------------
# A co-author: review pending specs, approve or deny, settle, claim, see equity and exit
# ------------------------------------------------------------------------------------------------------------


def test_coauthor_reviews_settles_claims_and_a_new_coauthor_exits_after_the_cooldown(
    world: World, tmp_path: Path
) -> None:
    run = world.run
    a, t2, distributor = run.actors, run.deployment.thread(2), run.deployment.distributor
    assert distributor is not None
    with journey(world, tmp_path) as j:
        good = submit(world, a.dave, 2, "dave: a careful spec", AuthorKind.AI_PROMPTED)
        weak = submit(world, a.erin, 2, "erin: a copy of an earlier spec")
        similarity = 250_000_000_000_000_000  # 0.25: novelty 0.75
        round_ = distributor.functions.lastNoveltyRound().call() + 1
        run.chain.transact(
            distributor.functions.setNoveltyScores(round_, "all-MiniLM-L6-v2", 0, [gid(2, good)], [similarity]),
            a.pricer,
        )
        stakes = {good: t2.functions.getSpec(good).call()[2], weak: t2.functions.getSpec(weak).call()[2]}

        page = j.open(a.bob, "/#/thread/2")
        connect(page, a.bob.address)
        dave_card, erin_card = spec_card(page, a.dave.address), spec_card(page, a.erin.address)
        expect(dave_card.get_by_test_id("author-kind")).to_have_attribute("data-kind", "ai_prompted")
        expect(dave_card.get_by_test_id("novelty")).to_contain_text("novelty 0.75")
        expect(dave_card.locator(f'.amount[data-wei="{stakes[good]}"]').first).to_be_visible()
        expect(erin_card.get_by_test_id("author-kind")).to_have_attribute("data-kind", "human")
        screenshot(page, tmp_path, "journey-coauthor-pending")

        dave_card.get_by_test_id("vote-approve").click()
        wait_tx(page, "vote")
        erin_card.get_by_test_id("vote-deny").click()
        wait_tx(page, "vote", count=2)
        dave_card.get_by_test_id("settle").click()
        wait_tx(page, "settle")
        erin_card.get_by_test_id("settle").click()
        wait_tx(page, "settle", count=2)
        expect(page.locator(f'[data-testid="settled-spec"][data-spec="{good}"]')).to_have_attribute(
            "data-status", "approved"
        )
        expect(page.locator(f'[data-testid="settled-spec"][data-spec="{weak}"]')).to_have_attribute(
            "data-status", "denied"
        )

        # the denied stake's curator share, claimed
        share = t2.functions.curatorRewardOf(weak, a.bob.address).call()
        claim = page.get_by_test_id("claim-curator")
        expect(claim.locator(".amount")).to_have_attribute("data-wei", str(share))
        before = balance(world, a.bob.address)
        claim.click()
        wait_tx(page, "claimCuratorRewards")
        assert balance(world, a.bob.address) == before + share
        expect(page.get_by_test_id("claimable")).to_contain_text("no curator rewards to claim")

        # equity and what an exit would pay now
        held, total = t2.functions.sharesOf(a.bob.address).call(), t2.functions.totalShares().call()
        payout = t2.functions.treasury().call() * held // total
        expect(page.get_by_test_id("exit-payout")).to_have_attribute("data-wei", str(payout))
        expect(page.get_by_test_id("my-equity")).to_contain_text(f"{held * 100 // total}.")
        screenshot(page, tmp_path, "journey-coauthor-settled")

        # dave joined just now: his exit opens after the cooldown
        dave = j.open(a.dave, "/#/thread/2")
        connect(dave, a.dave.address)
        expect(dave.get_by_test_id("exit-status")).to_have_attribute("data-open", "no")
        expect(dave.get_by_test_id("exit")).to_be_disabled()
        screenshot(dave, tmp_path, "journey-coauthor-exit-locked")
        time_travel(world, t2.functions.EXIT_COOLDOWN().call())
        refresh(dave)
        expect(dave.get_by_test_id("exit-status")).to_have_attribute("data-open", "yes")
        payout = wei(dave, "exit-payout")
        before = balance(world, a.dave.address)
        dave.get_by_test_id("exit").click()
        wait_tx(dave, "exit")
        assert payout > 0 and balance(world, a.dave.address) == before + payout
        assert not t2.functions.isCoauthor(a.dave.address).call()
        expect(dave.get_by_test_id("exit-status")).to_contain_text("not a co-author")


# ------------------------------------------------------------------------------------------------------------
# A DAO member: create the governor, propose, vote (a transaction and a signed ballot), queue, execute
# ------------------------------------------------------------------------------------------------------------


def proposal_state(page: Page, state: str) -> None:
    refresh(page)
    expect(page.get_by_test_id("proposal").first).to_have_attribute("data-state", state)


def test_dao_member_governs_a_thread_with_a_gasless_signed_vote(world: World, tmp_path: Path) -> None:
    run = world.run
    a, params, hub = run.actors, run.deployment.manifest.parameters, run.deployment.hub
    amount = 2 * CHOIR
    with journey(world, tmp_path, relayer=a.admin) as j:
        join(world, a.dave, 2, a.bob, "dave joins thread 2")
        time_travel(world, 2)  # shares count from the second after they were granted

        bob = j.open(a.bob, "/#/thread/2")
        connect(bob, a.bob.address)
        bob.get_by_test_id("create-governor").click()
        wait_tx(bob, "createGovernor")
        governor = run.chain.contract(artifacts.load("ThreadGovernor"), hub.functions.governorOf(2).call())
        expect(bob.get_by_text("no proposals")).to_be_visible()  # the page knows the governor now
        bob.locator("details.propose summary").click()
        expect(bob.locator("details.propose")).to_have_attribute("open", "")
        fields = {"description": "Pay heidi 2 CHOIR for the glossary", "to": a.heidi.address, "amount": "2"}
        for name, value in fields.items():
            bob.get_by_test_id(f"proposal-{name}").fill(value)
            expect(bob.get_by_test_id(f"proposal-{name}")).to_have_value(value)
        bob.get_by_test_id("propose").click()
        wait_tx(bob, "propose")
        card = bob.get_by_test_id("proposal").first
        expect(card).to_have_attribute("data-state", "Pending")
        proposal_id = int(card.get_attribute("data-proposal") or "0")

        time_travel(world, params["governance.voting_delay"] + 1)
        proposal_state(bob, "Active")
        bob.get_by_test_id("cast-vote-1").click()
        wait_tx(bob, "castVote")
        assert governor.functions.hasVoted(proposal_id, a.bob.address).call()

        # dave signs his ballot; the gateway's relayer sends it and pays the gas
        dave = j.open(a.dave, "/#/thread/2")
        connect(dave, a.dave.address)
        eth_before = run.chain.w3.eth.get_balance(a.dave.address)
        dave.get_by_test_id("sign-vote").click()
        wait_tx(dave, "relayVote")
        assert governor.functions.hasVoted(proposal_id, a.dave.address).call()
        assert run.chain.w3.eth.get_balance(a.dave.address) == eth_before
        against, for_, _abstain = governor.functions.proposalVotes(proposal_id).call()
        assert against == 0 and for_ == run.deployment.thread(2).functions.totalShares().call()
        screenshot(dave, tmp_path, "journey-dao-signed-vote")

        time_travel(world, params["governance.voting_period"] + 1)
        proposal_state(bob, "Succeeded")
        bob.get_by_test_id("queue").click()
        wait_tx(bob, "queue")
        proposal_state(bob, "Queued")
        eta = governor.functions.proposalEta(proposal_id).call()
        window = bob.get_by_test_id("exit-window")
        expect(window).to_contain_text("Exit window")
        expect(window.locator("time").first).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
        assert window.locator("time").first.get_attribute("title") is not None
        expect(window).to_contain_text("your exit is open now")
        screenshot(bob, tmp_path, "journey-dao-queued")
        assert eta > 0

        time_travel(world, params["governance.execution_delay"] + 1)
        refresh(bob)
        before = balance(world, a.heidi.address)
        bob.get_by_test_id("execute").click()
        wait_tx(bob, "execute")
        proposal_state(bob, "Executed")
        assert balance(world, a.heidi.address) == before + amount
        screenshot(bob, tmp_path, "journey-dao-executed")


# ------------------------------------------------------------------------------------------------------------
# A thread closing: the last co-author leaves; a pending author's stake comes back (r2 Refunded)
# ------------------------------------------------------------------------------------------------------------


def test_thread_closing_refunds_the_pending_author(world: World, tmp_path: Path) -> None:
    run = world.run
    a, t2 = run.actors, run.deployment.thread(2)
    with journey(world, tmp_path) as j:
        before = balance(world, a.grace.address)
        spec_id = submit(world, a.grace, 2, "grace: a spec nobody votes on")
        stake = t2.functions.getSpec(spec_id).call()[2]
        assert balance(world, a.grace.address) == before - stake

        bob = j.open(a.bob, "/#/thread/2")
        connect(bob, a.bob.address)
        expect(bob.get_by_test_id("exit-status")).to_have_attribute("data-open", "yes")
        bob.get_by_test_id("exit").click()
        wait_tx(bob, "exit")
        assert t2.functions.coauthorCount().call() == 0

        grace = j.open(a.grace, "/#/thread/2")
        connect(grace, a.grace.address)
        spec_card(grace, a.grace.address).get_by_test_id("settle").click()
        wait_tx(grace, "settle")
        settled = grace.locator(f'[data-testid="settled-spec"][data-spec="{spec_id}"]')
        expect(settled).to_have_attribute("data-status", "refunded")
        assert balance(world, a.grace.address) == before
        expect(grace.get_by_test_id("coauthors")).to_contain_text("none")
        screenshot(grace, tmp_path, "journey-closing-refunded")


# ------------------------------------------------------------------------------------------------------------
# Rewards: an epoch's allocation shown per message once minted
# ------------------------------------------------------------------------------------------------------------


def test_rewards_of_an_epoch_appear_per_message_once_minted(world: World, tmp_path: Path) -> None:
    run = world.run
    a, t1, distributor = run.actors, run.deployment.thread(1), run.deployment.distributor
    assert distributor is not None
    amount = 7 * CHOIR + 123
    with journey(world, tmp_path) as j:
        spec_id = submit(world, a.frank, 1, "frank: an approved spec that earns a reward")
        run.chain.transact(t1.functions.vote(spec_id, True), a.alice)
        epoch = distributor.functions.currentEpoch().call()
        run.chain.transact(t1.functions.settle(spec_id), a.alice)

        page = j.open(a.alice, "/#/thread/1")
        connect(page, a.alice.address)
        rows = page.get_by_test_id("reward-row")
        expect(page.locator(f'[data-testid="settled-spec"][data-spec="{spec_id}"]')).to_have_attribute(
            "data-status", "approved"
        )
        expect(page.locator(f'[data-testid="reward-row"][data-index="{spec_id}"]')).to_have_count(0)
        paid_before = rows.count()
        # the price history is plotted by round: one dot per round, left to right, its time on hover
        rounds = [p["round"] for p in page.request.get(f"{j.base}/threads/1/prices").json()["items"]]
        assert len(rounds) >= 2, rounds
        dots = page.locator("svg.chart-full circle.chart-dot")
        expect(dots).to_have_count(len(rounds))
        xs = [float(d.get_attribute("cx") or 0) for d in dots.all()]
        assert xs == sorted(xs) and len(set(xs)) == len(rounds), xs
        labels = [d.locator("title").text_content() or "" for d in dots.all()]
        assert all(re.match(rf"round {r}: .* UTC \(block \d+\)$", t) for r, t in zip(rounds, labels, strict=True))
        expect(page.locator("svg.chart-full .chart-axes text").last).to_have_text(f"round {rounds[-1]}")

        # the epoch closes; the oracle scores the spec and allocates the epoch's rewards
        time_travel(
            world,
            int(distributor.functions.epochStart(epoch + 1).call()) - t1.w3.eth.get_block("latest")["timestamp"] + 1,
        )
        round_ = distributor.functions.lastNoveltyRound().call() + 1
        run.chain.transact(
            distributor.functions.setNoveltyScores(round_, "all-MiniLM-L6-v2", 0, [gid(1, spec_id)], [0]), a.pricer
        )
        run.chain.transact(distributor.functions.allocate(epoch, [gid(1, spec_id)], [amount]), a.pricer)

        row = page.locator(f'[data-testid="reward-row"][data-index="{spec_id}"]')
        expect(row).to_have_attribute("data-epoch", str(epoch))
        expect(row.locator(".amount")).to_have_attribute("data-wei", str(amount))
        assert rows.count() == paid_before + 1
        head = page.locator(f'[data-testid="reward-epoch"][data-epoch="{epoch}"]')
        expect(head).to_contain_text(f"Epoch {epoch}")
        message = page.locator(f'.message[data-index="{spec_id}"]')
        expect(message.get_by_test_id("reward").locator(".amount")).to_have_attribute("data-wei", str(amount))
        screenshot(page, tmp_path, "journey-rewards")


def test_journeys_are_documented() -> None:
    """docs/user-journeys.md names every journey test of this file."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "user-journeys.md").read_text()
    names = [n for n in globals() if n.startswith("test_") and n != "test_journeys_are_documented"]
    missing = [n for n in names if n not in doc]
    assert not missing, missing
