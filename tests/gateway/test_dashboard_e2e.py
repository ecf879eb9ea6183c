"""The dashboard in a real browser against a real gateway, devnet, indexer and pricer.

The gateway runs under uvicorn on a loopback port in a background thread, an indexer follows the chain into the
gateway's database in another, and headless Chromium (Debian's, driven by Playwright) opens the dashboard with an
injected EIP-1193 provider that forwards JSON-RPC to anvil, whose dev accounts are unlocked. Grace (not a
co-author of thread 1) approves her stake and submits a spec through the dashboard, declared as written by an AI on
her prompt and citing thread 2's root; the gateway stores its body; Alice (thread 1's co-author) approves and
settles it from a second browser context with her own provider; one pricer pass then moves thread 1's price, and
the new price, equal to `hub.price(1)`, appears on the page. The network view then draws a node per thread and an
arrow per citing pair of threads, weighted as the hub's `CitationRecorded` logs count them (Grace's approved spec
included), and a semantic search finds Grace's body.

Screenshots go to the test's tmp folder and to `.run/test-artifacts/` (git-ignored); their paths are printed.
The shared fixtures (gateway, indexer, pricer pass, browser wallet) are in `tests/helpers/dashboard.py`.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from helpers.dashboard import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    WAIT_MS,
    chromium_executable,
    connect,
    following,
    price_once,
    serving,
    spec_card,
    wait_tx,
    wallet_context,
)
from playwright.sync_api import expect, sync_playwright

from api.eventstream import SOURCES
from choir_chain import artifacts
from choir_chain.paths import PROJECT_ROOT
from choir_chain.protocol import split_message_id
from choir_chain.protocol.author_kind import AuthorKind

if TYPE_CHECKING:
    from conftest import World

    from choir_chain.semantics.embedder import Embedder

EVENT_NAMES_JS = PROJECT_ROOT / "api" / "static" / "js" / "event-names.js"
THREAD = 1

KECCAK_VECTORS = ["", "abc", "a" * 135, "a" * 136, "a" * 137, "b" * 300, "héllo wörld ✓ 🎶 " * 12]
"""Empty input, a short one, both sides of the 136-byte block edge, several blocks, multi-byte UTF-8."""


# ------------------------------------------------------------------------------------------------------------
# The scenario
# ------------------------------------------------------------------------------------------------------------


def counted_links(world: World) -> dict[tuple[int, int], int]:
    """(citing thread, cited thread) -> citations the hub counted, from its `CitationRecorded` logs."""
    out: dict[tuple[int, int], int] = {}
    for entry in world.run.deployment.hub.events.CitationRecorded().get_logs(from_block=0, to_block="latest"):
        pair = (split_message_id(entry["args"]["citingMessageId"])[0], entry["args"]["citedThreadId"])
        out[pair] = out.get(pair, 0) + 1
    return out


def test_live_feed_listens_to_every_event_the_stream_sends() -> None:
    """An EventSource hands `event: <name>` only to a listener of that name: the dashboard's list of names must be
    the events of every contract GET /events decodes."""
    listed = re.findall(r'"(\w+)"', EVENT_NAMES_JS.read_text().split("EVENT_NAMES = [", 1)[1])
    sent = {e["name"] for name in SOURCES.values() for e in artifacts.load(name).abi if e["type"] == "event"}
    assert sorted(listed) == sorted(sent)


def test_dashboard_spec_lifecycle_and_live_price(world: World, tmp_path: Path, embedder: Embedder) -> None:
    """`embedder`: the model is loaded before the browser starts, so the search's wait is not the model's load."""
    started = time.monotonic()
    executable = chromium_executable()
    run = world.run
    hub, grace, alice = run.deployment.hub, run.actors.grace, run.actors.alice
    dao = run.deployment.thread(THREAD)
    assert not dao.functions.isCoauthor(grace.address).call() and dao.functions.isCoauthor(alice.address).call()
    price_before = hub.functions.price(THREAD).call()
    body = f"Grace's spec for thread {THREAD}: a dashboard end-to-end check ✓ — {time.time_ns()}"
    problems: list[str] = []
    shots: list[Path] = []

    with following(world), serving(world.settings) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            grace_context, page = wallet_context(browser, run.rpc_url, grace, problems)
            page.goto(base + "/")

            # keccak256 in the browser equals eth_utils' on known vectors (block edges, UTF-8)
            hashes = page.evaluate(
                "async (inputs) => { const k = await import('/keccak.js'); return inputs.map((s) => k.keccak256(s)); }",
                KECCAK_VECTORS,
            )
            assert hashes[0] == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
            assert hashes == ["0x" + keccak(text=s).hex() for s in KECCAK_VECTORS]

            # the threads list shows thread 1 with its live price and a price-history chart
            expect(page.get_by_test_id(f"price-{THREAD}")).to_have_attribute("data-wei", str(price_before))
            assert page.locator(f'tr[data-thread="{THREAD}"] svg.chart').count() == 1
            page.locator('button[data-sort="price"]').click()  # sortable; thread 1 stays listed
            expect(page.get_by_test_id(f"price-{THREAD}")).to_be_visible()

            # thread 1's page
            page.get_by_test_id(f"thread-link-{THREAD}").click()
            expect(page.get_by_test_id("thread-price")).to_have_attribute("data-wei", str(price_before))
            expect(page.get_by_test_id("messages")).to_contain_text("body not stored")
            connect(page, grace.address)
            page.get_by_test_id("spec-body").fill(body)
            page.get_by_test_id("spec-citations").fill("2:0")
            page.get_by_test_id("spec-author-kind").select_option("ai_prompted")
            expect(page.get_by_test_id("spec-hash")).to_have_text("0x" + keccak(text=body).hex())

            # submitting before the allowance: the gateway refuses, and the page shows its error verbatim
            with page.expect_response(lambda r: r.url.endswith("/tx/submitSpec")) as refusal:
                page.get_by_test_id("submit-spec").click()
            assert refusal.value.status == 409, refusal.value.text()
            error = refusal.value.json()["error"]
            failed = page.locator('[data-testid="tx"][data-action="submitSpec"][data-state="fail"]')
            expect(failed.locator(".error-message")).to_have_text(error["message"])
            expect(failed.locator(".error-code")).to_contain_text(error["code"])

            # approve the stake, then submit: both mined; the body is stored at once with the transaction's hash
            # (the gateway checks it on chain), one request, no waiting for the indexer
            page.get_by_test_id("approve-stake").click()
            wait_tx(page, "approve")
            with page.expect_request(lambda r: r.url.endswith("/content") and r.method == "POST") as content_post:
                page.get_by_test_id("submit-spec").click()
                wait_tx(page, "submitSpec", count=2)
            wait_tx(page, "content")
            sent = content_post.value.post_data_json
            assert isinstance(sent, dict) and sent["body"] == body
            assert run.chain.w3.eth.get_transaction_receipt(sent["tx_hash"])["status"] == 1
            card = spec_card(page, grace.address)
            expect(card).to_contain_text(body)
            spec_id = int(card.get_attribute("data-spec") or "0")
            assert dao.functions.getSpec(spec_id).call()[0] == grace.address
            (submitted,) = dao.events.SpecSubmitted().get_logs(from_block=0, argument_filters={"specId": spec_id})
            assert submitted["args"]["authorKind"] == AuthorKind.AI_PROMPTED
            assert list(submitted["args"]["citations"]) == [2 << 64]
            expect(card.get_by_test_id("author-kind")).to_have_attribute("data-kind", "ai_prompted")
            print(f"\nspec {spec_id} submitted through the dashboard after {time.monotonic() - started:.1f}s")

            # Alice, a co-author, approves and settles it from her own browser context and wallet; her event
            # stream is cut off, so her page lives on polling
            alice_context, alice_page = wallet_context(browser, run.rpc_url, alice, problems)
            alice_context.route("**/events*", lambda route: route.fulfill(status=503, body="no stream here"))
            alice_page.goto(f"{base}/#/thread/{THREAD}")
            expect(alice_page.locator("#live")).to_have_attribute("data-live", "polling")
            connect(alice_page, alice.address)
            spec_card(alice_page, grace.address).get_by_test_id("vote-approve").click()
            wait_tx(alice_page, "vote")
            expect(spec_card(alice_page, grace.address)).to_contain_text("1 approve")
            spec_card(alice_page, grace.address).get_by_test_id("settle").click()
            wait_tx(alice_page, "settle")
            alice_context.close()

            # Grace's page follows through the event stream: the spec is settled as approved, Grace holds equity
            expect(page.locator("#live")).to_have_attribute("data-live", "sse")
            settled = page.locator(f'[data-testid="settled-spec"][data-spec="{spec_id}"]')
            expect(settled).to_have_attribute("data-status", "approved")
            expect(page.get_by_test_id("coauthors")).to_contain_text("(you)")
            assert dao.functions.isCoauthor(grace.address).call()

            # one pricer pass: the new price reaches the page without a reload
            rounds = [e for e in price_once(world, f"sqlite:///{tmp_path / 'pricer.db'}") if e.get("event") == "round"]
            price_after = hub.functions.price(THREAD).call()
            assert rounds and price_after != price_before, (rounds, price_before, price_after)
            expect(page.get_by_test_id("thread-price")).to_have_attribute("data-wei", str(price_after))
            # ... and once the indexer has the round, its history (chart, last round) too
            expect(page.get_by_test_id("last-round")).to_have_text(str(hub.functions.lastRound().call()))
            assert dao.functions.approvalThreshold().call() == 10_000  # the thread's rule, as the page states it
            expect(page.get_by_test_id("approval-threshold")).to_have_text("unanimity of the votes cast")
            expect(page.locator(".pushed")).to_contain_text(f"pushed in round {hub.functions.lastRound().call()}")
            shots.append(tmp_path / "thread.png")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots[-1]), full_page=True)

            page.locator("a.back").first.click()
            expect(page.get_by_test_id(f"price-{THREAD}")).to_have_attribute("data-wei", str(price_after))
            shots.insert(0, tmp_path / "dashboard.png")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots[0]), full_page=True)

            # the network view: a node per thread, an arrow per citing pair weighted by the hub's count (Grace's
            # approved spec adds one citation of thread 2 to the workload's three)
            page.get_by_test_id("nav-network").click()
            links = counted_links(world)
            assert links[(THREAD, 2)] == 4, links
            nodes, edges = page.get_by_test_id("graph-node"), page.get_by_test_id("graph-edge")
            expect(nodes).to_have_count(hub.functions.threadCount().call())
            expect(edges).to_have_count(len(links))
            drawn = {
                (int(e.get_attribute("data-source") or 0), int(e.get_attribute("data-target") or 0)): int(
                    e.get_attribute("data-weight") or 0
                )
                for e in edges.all()
            }
            assert drawn == links
            assert all(float(e.get_attribute("stroke-width") or 0) > 0 for e in edges.all())

            # a search finds Grace's spec by meaning (not by its exact words) among the stored bodies, linked to
            # its message
            for other in ("root 1", "root 2", "alice post", "carol spec", "dave spec", "alice cites a denied spec"):
                stored = page.request.post(base + "/content", data={"body": other})
                assert stored.status == 201, stored.text()
            page.get_by_test_id("search-input").fill("an end to end test of the web dashboard")
            page.get_by_test_id("search-button").click()
            first_hit = page.get_by_test_id("search-hit").first
            expect(first_hit).to_contain_text(body)
            expect(first_hit.locator(f'a[href="#/thread/{THREAD}"]')).to_have_text(f"{THREAD}:{spec_id}")
            expect(first_hit.get_by_test_id("author-kind")).to_have_attribute("data-kind", "ai_prompted")
            expect(page.get_by_test_id("search-hit")).to_have_count(7)  # k=10 > 7 stored bodies
            expect(page.get_by_test_id("search-status")).to_have_text("7 of 7 stored bodies, most similar first")
            shots.append(tmp_path / "network.png")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shots[-1]), full_page=True)

            # clicking a thread's node opens it
            page.locator('[data-testid="graph-node"][data-thread="2"]').click()
            expect(page.get_by_test_id("thread-citations")).to_contain_text("Cited by (4)")
            assert page.evaluate("location.hash") == "#/thread/2"
            grace_context.close()
        finally:
            browser.close()

    assert not problems, problems
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        copy = ARTIFACTS / shot.name
        shutil.copyfile(shot, copy)
        print(f"screenshot: {shot} (copy: {copy})")
    print(
        f"thread {THREAD} price {price_before / 10**18:g} -> {price_after / 10**18:g} CHOIR in {len(rounds)} "
        f"pricer round(s); test body {time.monotonic() - started:.1f}s"
    )


class FirstStreamEnds:
    """An ASGI wrapper of the gateway: the first `GET /events` is answered with `canned` and ends there; later ones
    go to the gateway, their `Last-Event-ID` headers noted in `seen` (None when absent)."""

    def __init__(self, app: Any, canned: str) -> None:
        self.app, self.canned, self.seen = app, canned.encode(), list[str | None]()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/events":
            last_id = dict(scope["headers"]).get(b"last-event-id")
            self.seen.append(last_id.decode() if last_id is not None else None)
            if len(self.seen) == 1:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
                )
                await send({"type": "http.response.body", "body": self.canned})
                return
        await self.app(scope, receive, send)


def test_live_feed_resumes_after_the_last_event_seen(world: World) -> None:
    """The live feed's EventSource reconnects by itself when its stream ends, after the server's `retry:`, sending
    `Last-Event-ID`, and the gateway accepts it: the first stream is one canned event (after every event mined so
    far, so the gateway has nothing to replay) and its end, the second the gateway's own."""
    head = world.run.deployment.hub.w3.eth.block_number
    last_id = f"{head}-999999"
    canned = (
        f"retry: 200\nid: {last_id}\nevent: Transfer\n"
        f'data: {{"event":"Transfer","source":"token","block":{head},"args":{{"value":"1"}}}}\n\n'
    )
    wrapper: FirstStreamEnds | None = None

    def wrap(app: Any) -> Any:
        nonlocal wrapper
        wrapper = FirstStreamEnds(app, canned)
        return wrapper

    problems: list[str] = []
    with serving(world.settings, wrap) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.goto(base + "/")
            expect(page.locator("#events")).to_contain_text(f"Transfer token block {head} value=1")
            deadline = time.monotonic() + WAIT_MS / 1000
            while wrapper is not None and len(wrapper.seen) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            expect(page.locator("#live")).to_have_attribute("data-live", "sse")  # the gateway's stream is open
        finally:
            browser.close()
    assert not problems, problems
    assert wrapper is not None and wrapper.seen[:2] == [None, last_id], wrapper and wrapper.seen
