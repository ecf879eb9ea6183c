"""Shared fixtures of the dashboard's browser tests: the gateway under uvicorn, an indexer following the chain,
one pricer pass, headless Chromium with an injected EIP-1193 wallet per account, and the page helpers.

The wallet forwards JSON-RPC to anvil (whose dev accounts are unlocked) and signs EIP-712 typed data
(`eth_signTypedData_v4`) in Python with eth_account, through a Playwright binding: the page never sees a key.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from eth_account.signers.local import LocalAccount
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pydantic import SecretStr

from api.app import create_app
from api.settings import GatewaySettings
from choir_chain.chain.rpc import RetryPolicy
from choir_chain.devnet import rpc_call
from choir_chain.indexer import Indexer
from choir_chain.indexer.follower import IndexFollower
from choir_chain.paths import PROJECT_ROOT
from choir_chain.pricer import Pricer, PricerConfig

if TYPE_CHECKING:
    from conftest import World

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / ".run" / "test-artifacts"
"""Screenshots are copied here (git-ignored: `.run/`)."""
WAIT_MS = 30_000
"""How long a DOM condition may take (generous: the machine may be loaded)."""
expect.set_options(timeout=WAIT_MS)

PROVIDER = """
(() => {
  const RPC = %(rpc)s, ACCOUNT = %(account)s;
  let id = 0;
  const listeners = {};
  window.ethereum = {
    isChoirTestWallet: true,
    async request({ method, params }) {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [ACCOUNT];
      if (method === "eth_sendTransaction" && params[0].from.toLowerCase() !== ACCOUNT.toLowerCase()) {
        throw Object.assign(new Error("the wallet cannot sign for " + params[0].from), { code: 4100 });
      }
      if (method === "eth_signTypedData_v4") {
        if (String(params[0]).toLowerCase() !== ACCOUNT.toLowerCase()) {
          throw Object.assign(new Error("the wallet cannot sign for " + params[0]), { code: 4100 });
        }
        return window.choirWalletSignTypedData(ACCOUNT, String(params[1]));
      }
      const reply = await fetch(RPC, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
      }).then((r) => r.json());
      if (reply.error) {
        throw Object.assign(new Error(reply.error.message), { code: reply.error.code, data: reply.error.data });
      }
      return reply.result;
    },
    on(event, fn) { (listeners[event] ||= []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
})();
"""


def chromium_executable() -> str:
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Chromium not found at /usr/bin/chromium: run `make setup` (tools/chromium/ensure.sh installs Debian's "
            "chromium package)",
            pytrace=False,
        )
    return found


# ------------------------------------------------------------------------------------------------------------
# Background services: the gateway under uvicorn, the indexer following the chain, one pricer pass
# ------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(settings: GatewaySettings, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The gateway (its app wrapped by `wrap` if given) on a free loopback port (port 0: the OS picks it); yields
    its base URL."""
    app = create_app(settings)
    config = uvicorn.Config(
        wrap(app) if wrap else app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start (see the log above)")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the gateway did not stop"


@contextlib.contextmanager
def following(world: World, database_url: str | None = None) -> Iterator[None]:
    """An indexer following the chain into the gateway's database (or `database_url`) until the block ends."""
    indexer = Indexer(
        world.run.rpc_url,
        world.run.deployment.manifest,
        database_url or world.database_url,
        poll_interval=0.2,
        retry=RetryPolicy(initial=0.05, maximum=0.5),
    )
    with IndexFollower(indexer):
        yield


def price_once(world: World, database_url: str) -> list[dict[str, Any]]:
    """One pricer pass (`run(once=True)`: every round due now) over a database of its own, which an indexer
    follows."""
    events: list[dict[str, Any]] = []
    config = PricerConfig(retry=RetryPolicy(initial=0.001, maximum=0.01), poll_interval=0.01)
    run = world.run
    manifest = run.deployment.manifest
    with (
        following(world, database_url),
        Pricer(run.rpc_url, manifest, run.actors.pricer, database_url, config=config, emit=events.append) as pricer,
    ):
        pricer.run(once=True)
    return events


def time_travel(world: World, seconds: int) -> None:
    """Move the devnet's clock forward and mine a block at the new time (never a sleep)."""
    rpc_call(world.run.rpc_url, "evm_increaseTime", [seconds])
    rpc_call(world.run.rpc_url, "evm_mine", [])


# ------------------------------------------------------------------------------------------------------------
# Browser helpers
# ------------------------------------------------------------------------------------------------------------


def wallet_context(
    browser: Browser, rpc_url: str, account: LocalAccount, problems: list[str]
) -> tuple[BrowserContext, Page]:
    """A browser context whose pages have `window.ethereum` for `account` before any page script runs: it sends
    transactions through anvil (unlocked dev accounts) and signs typed data with `account`'s key."""

    def sign_typed_data(signer: str, typed: str) -> str:
        assert signer.lower() == account.address.lower(), (signer, account.address)
        return "0x" + bytes(account.sign_typed_data(full_message=json.loads(typed)).signature).hex()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.expose_function("choirWalletSignTypedData", sign_typed_data)
    context.add_init_script(PROVIDER % {"rpc": json.dumps(rpc_url), "account": json.dumps(account.address)})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("pageerror", lambda err: problems.append(f"{account.address[:8]} page error: {err}"))
    return context, page


def connect(page: Page, account: str) -> None:
    page.get_by_test_id("connect").click()
    expect(page.get_by_test_id("wallet-account")).to_have_attribute("data-account", account)


def wait_tx(page: Page, action: str, count: int = 1) -> None:
    """Wait until the `count`-th entry of `action` in the activity log has finished, and require success."""
    entries = page.locator(f'[data-testid="tx"][data-action="{action}"]')
    try:
        expect(entries).to_have_count(count)
    except AssertionError as exc:
        shown = [e.inner_text() for e in page.get_by_test_id("error").all()]
        raise AssertionError(f"no {count}-th {action} in the activity log; errors shown: {shown}") from exc
    latest = entries.first  # newest first
    expect(latest).not_to_have_attribute("data-state", "pending")
    state = latest.get_attribute("data-state")
    assert state == "ok", f"{action} failed in the dashboard: {latest.inner_text()}"


def spec_card(page: Page, author: str) -> Locator:
    return page.locator(f'[data-testid="spec"][data-author="{author}" i]')


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's tmp folder, copied to `.run/test-artifacts/`; both paths printed."""
    shot = tmp_path / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    copy = ARTIFACTS / shot.name
    shutil.copyfile(shot, copy)
    print(f"screenshot: {shot} (copy: {copy})")
    return shot


# ------------------------------------------------------------------------------------------------------------
# A journey: the chain as the workload left it, a database of its own, the gateway, the indexer, Chromium
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Journey:
    """One browser journey's services; `open(account)` gives a page with `account`'s wallet."""

    world: World
    base: str
    browser: Browser
    database_url: str
    problems: list[str] = field(default_factory=list)

    def open(self, account: LocalAccount, path: str = "/") -> Page:
        _context, page = wallet_context(self.browser, self.world.run.rpc_url, account, self.problems)
        page.goto(self.base + path)
        return page


@contextlib.contextmanager
def journey(world: World, tmp_path: Path, relayer: LocalAccount | None = None) -> Iterator[Journey]:
    """The chain reverted to the workload's end afterwards; the gateway over a copy of the workload's database
    (so each journey's rows are its own), which an indexer follows; Chromium. `relayer`: the gateway's account
    for gasless votes."""
    from playwright.sync_api import sync_playwright

    source = Path(world.database_url.removeprefix("sqlite:///"))
    copy = tmp_path / "journey.db"
    shutil.copyfile(source, copy)
    database_url = f"sqlite:///{copy}"
    settings = world.settings.model_copy(
        update={
            "database_url": database_url,
            "relayer_key": None if relayer is None else SecretStr("0x" + bytes(relayer.key).hex()),
        }
    )
    snapshot = rpc_call(world.run.rpc_url, "evm_snapshot", [])
    try:
        with following(world, database_url), serving(settings) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
            )
            try:
                j = Journey(world, base, browser, database_url)
                yield j
            finally:
                browser.close()
        assert not j.problems, j.problems
    finally:
        rpc_call(world.run.rpc_url, "evm_revert", [snapshot])
