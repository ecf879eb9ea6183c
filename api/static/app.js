// The Choir dashboard: threads with live prices, a page per thread, the citation network with semantic search, and
// wallet actions (EIP-1193) through the gateway's unsigned transactions. Plain ES modules, no dependencies, nothing
// fetched from anywhere but the gateway.

import { priceChart } from "./chart.js";
import { keccak256 } from "./keccak.js";

const POLL_MS = 2000; // refresh period when the event stream is unavailable
const SAFETY_POLL_MS = 15000; // refresh period with the event stream (live prices also change with time)
const SSE_RETRY_MS = 10000;
const RECEIPT_TIMEOUT_MS = 180000;
const CONTENT_WAIT_MS = 45000; // how long to wait for the indexer to see a new spec before storing its body
const WEI = 10n ** 18n;
const INDEX_MASK = (1n << 64n) - 1n;
const SVG_NS = "http://www.w3.org/2000/svg";
const AUTHOR_KINDS = [
  ["human", "Human (ugc)"],
  ["ai", "AI (aigc)"],
  ["ai_prompted", "AI on a person's prompt (aiugc)"],
];

// ------------------------------------------------------------------------------------------------------------
// DOM and formatting helpers
// ------------------------------------------------------------------------------------------------------------

/** Create an element: attrs (class, data-*, on<event> handlers, properties like value/disabled), children. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "value" || key === "disabled" || key === "checked") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Create an SVG element: attributes as given (event handlers as on<event>), children appended. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  return append(node, children);
}

class UiError extends Error {
  constructor(message, code = "error", field = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

class ApiError extends UiError {
  constructor(status, code, message, field) {
    super(message, code, field);
    this.status = status;
  }
}

/** The error as shown to the user: the API's (or wallet's) code, its message verbatim, the field if any. */
function errorBox(err) {
  const code = err?.code ?? "error";
  const status = err instanceof ApiError && err.status ? `${err.status} ` : "";
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error" },
    h("span", { class: "error-code" }, `${status}${code}`),
    " ",
    h("span", { class: "error-message" }, err?.message ?? String(err)),
    err?.field ? h("span", { class: "error-field" }, ` (field: ${err.field})`) : null,
  );
}

function big(value) {
  try {
    return BigInt(value ?? 0);
  } catch {
    return 0n;
  }
}

/** Wei as CHOIR, truncated to `decimals` places, with thousands separators. */
function units(wei, decimals = 4) {
  let v = big(wei);
  const negative = v < 0n;
  if (negative) v = -v;
  const whole = (v / WEI).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (v % WEI).toString().padStart(18, "0").slice(0, decimals).replace(/0+$/, "");
  return (negative ? "-" : "") + whole + (frac ? "." + frac : "");
}

/** Wei as an exact decimal CHOIR string (for inputs). */
function exactUnits(wei) {
  const v = big(wei);
  const frac = (v % WEI).toString().padStart(18, "0").replace(/0+$/, "");
  return (v / WEI).toString() + (frac ? "." + frac : "");
}

/** "12.5" CHOIR -> wei (BigInt). */
function parseUnits(text, field) {
  const m = String(text).trim().match(/^(\d+)(?:\.(\d{0,18}))?$/);
  if (!m) throw new UiError(`"${text}" is not an amount of CHOIR (up to 18 decimals)`, "invalid_amount", field);
  return BigInt(m[1]) * WEI + BigInt((m[2] || "").padEnd(18, "0"));
}

function choir(wei, testid) {
  return h("span", { class: "amount", title: `${big(wei)} wei`, "data-wei": String(big(wei)), "data-testid": testid }, units(wei), h("small", {}, " CHOIR"));
}

function short(value, head = 6, tail = 4) {
  const s = String(value ?? "");
  return s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s;
}

function address(addr) {
  if (!addr) return h("span", { class: "muted" }, "—");
  const mine = state.wallet.account && addr.toLowerCase() === state.wallet.account.toLowerCase();
  return h("a", { class: mine ? "addr mine" : "addr", href: `#/account/${addr}`, title: addr }, short(addr), mine ? " (you)" : "");
}

function time(ts) {
  if (ts === null || ts === undefined || ts === "") return h("span", { class: "muted" }, "—");
  const d = new Date(Number(ts) * 1000);
  return h("time", { datetime: d.toISOString(), title: d.toISOString() }, d.toISOString().slice(0, 16).replace("T", " ") + " UTC");
}

function duration(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s)) return "—";
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  return `${s} s`;
}

function percent(part, total) {
  const t = big(total);
  if (t === 0n) return "—";
  const bp = (big(part) * 10000n) / t;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, "0")} %`;
}

function messageRef(globalId) {
  const g = big(globalId);
  const thread = g >> 64n, index = g & INDEX_MASK;
  return h("a", { href: `#/thread/${thread}`, class: "ref", title: `global id ${g}` }, `${thread}:${index}`);
}

function shares(value) {
  return h("span", { title: `${big(value)}` }, units(value, 4));
}

function authorKind(kind) {
  const label = (AUTHOR_KINDS.find(([k]) => k === kind) || [kind, kind ?? "unknown"])[1];
  return h("span", { class: `author-kind ak-${kind}`, "data-testid": "author-kind", "data-kind": kind, title: label }, kind === "ai_prompted" ? "ai·prompted" : kind);
}

/** A scored message's novelty (1 - max similarity) and weight, and its reward once its epoch's allocation paid it;
 *  nothing when neither. */
function novelty(m) {
  const scored = !(m.novelty === null || m.novelty === undefined);
  const paid = !(m.reward === null || m.reward === undefined);
  if (!scored && !paid) return null;
  const parts = [];
  if (scored) {
    const weight = Number(m.novelty_weight ?? 0);
    parts.push(`novelty ${Number(m.novelty).toFixed(2)} · weight ${weight.toLocaleString(undefined, { maximumFractionDigits: weight < 1 ? 3 : 2 })}`);
  }
  const title = scored ? `max similarity ${Number(m.max_similarity).toFixed(3)} to earlier messages` : "";
  return h(
    "span",
    { class: "novelty", "data-testid": "novelty", title },
    parts.join(""),
    paid ? h("span", { "data-testid": "reward", title: `paid by epoch ${m.reward_epoch}'s allocation` }, parts.length ? " · reward " : "reward ", choir(m.reward)) : null,
  );
}

// ------------------------------------------------------------------------------------------------------------
// The gateway
// ------------------------------------------------------------------------------------------------------------

async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network_error", `the gateway is unreachable (${err.message})`, null);
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const e = payload && payload.error;
    if (e) throw new ApiError(response.status, e.code, e.message, e.field ?? null);
    throw new ApiError(response.status, `http_${response.status}`, text.slice(0, 300) || response.statusText, null);
  }
  return payload;
}

let pageSize = 100; // lowered to the gateway's default page if it refuses 100 (its `page_size_limit`)

/** One page of a list endpoint, `pageSize` items from `offset`. */
async function apiPage(path, offset = 0) {
  const sep = path.includes("?") ? "&" : "?";
  try {
    return await api(`${path}${sep}limit=${pageSize}&offset=${offset}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.field === "limit" && pageSize > 20)) throw err;
    pageSize = 20;
    return api(`${path}${sep}limit=${pageSize}&offset=${offset}`);
  }
}

/** Every item of a paginated list endpoint. */
async function apiAll(path) {
  const items = [];
  for (let offset = 0; ; ) {
    const page = await apiPage(path, offset);
    const got = itemsOf(page);
    items.push(...got);
    offset += got.length;
    const total = Array.isArray(page) ? got.length : page.total ?? got.length;
    if (got.length === 0 || items.length >= total) return items;
  }
}

function itemsOf(payload) {
  return Array.isArray(payload) ? payload : payload?.items ?? [];
}

// ------------------------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------------------------

const state = {
  wallet: { account: null, chainId: null },
  health: null,
  live: "connecting", // "sse" | "polling" | "connecting"
  events: [],
  history: new Map(), // thread id -> { round, points }
  lastPrices: new Map(), // thread id -> last shown live price (to flash changes)
  sort: { key: "thread_id", dir: "asc" },
  busy: false,
  view: null,
  indexBehind: false, // the page saw a price round on chain that the index does not have yet
};

// ------------------------------------------------------------------------------------------------------------
// Wallet (EIP-1193) and transactions
// ------------------------------------------------------------------------------------------------------------

function provider() {
  if (!window.ethereum || typeof window.ethereum.request !== "function") {
    throw new UiError("no EIP-1193 wallet found (window.ethereum): install or unlock a wallet", "no_wallet");
  }
  return window.ethereum;
}

function walletError(err) {
  if (err instanceof UiError) return err;
  const code = err?.code !== undefined ? `wallet_${err.code}` : "wallet_error";
  return new UiError(err?.message ?? String(err), code);
}

async function connectWallet() {
  const eth = provider();
  try {
    const accounts = await eth.request({ method: "eth_requestAccounts" });
    const chainId = await eth.request({ method: "eth_chainId" });
    if (!accounts || accounts.length === 0) throw new UiError("the wallet shared no account", "no_account");
    state.wallet = { account: accounts[0], chainId: Number(BigInt(chainId)) };
  } catch (err) {
    throw walletError(err);
  }
  renderWallet();
  refresh();
}

function listenToWallet() {
  const eth = window.ethereum;
  if (!eth || typeof eth.on !== "function") return;
  eth.on("accountsChanged", (accounts) => {
    state.wallet.account = accounts && accounts.length ? accounts[0] : null;
    renderWallet();
    refresh();
  });
  eth.on("chainChanged", (chainId) => {
    state.wallet.chainId = Number(BigInt(chainId));
    renderWallet();
  });
}

function quantity(value) {
  if (value === null || value === undefined) return undefined;
  const s = String(value);
  return s.startsWith("0x") ? s : "0x" + BigInt(s).toString(16);
}

/** The gateway's unsigned transaction in the shape `eth_sendTransaction` takes (hex quantities). */
function walletTx(tx) {
  const out = { from: tx.from, to: tx.to, data: tx.data, value: quantity(tx.value ?? "0") };
  if (tx.gas !== undefined && tx.gas !== null) out.gas = quantity(tx.gas);
  if (tx.chainId !== undefined && tx.chainId !== null) out.chainId = quantity(tx.chainId);
  return out;
}

async function waitForReceipt(hash) {
  const eth = provider();
  const started = Date.now();
  let delay = 250;
  while (Date.now() - started < RECEIPT_TIMEOUT_MS) {
    const receipt = await eth.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) return receipt;
    await sleep(delay);
    delay = Math.min(delay * 2, 2000);
  }
  throw new UiError(`no receipt for ${hash} after ${RECEIPT_TIMEOUT_MS / 1000} s`, "receipt_timeout");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One line of the activity log: updated while an action runs; keeps its final state. */
function logEntry(label, action) {
  const status = h("span", { class: "tx-status" }, "starting…");
  const detail = h("span", { class: "tx-detail" });
  const row = h("li", { class: "tx pending", "data-testid": "tx", "data-action": action, "data-state": "pending" }, h("strong", {}, label), " ", status, " ", detail);
  const log = document.getElementById("activity-log");
  log.prepend(row);
  document.getElementById("activity").hidden = false;
  return {
    step(text) {
      status.textContent = text;
    },
    done(ok, text, extra) {
      row.className = `tx ${ok ? "ok" : "fail"}`;
      row.dataset.state = ok ? "ok" : "fail";
      status.textContent = text;
      if (extra) replace(detail, extra);
    },
    fail(err) {
      row.className = "tx fail";
      row.dataset.state = "fail";
      status.textContent = "failed:";
      replace(detail, errorBox(err));
    },
  };
}

/** Ask the gateway for the unsigned transaction of `action`, have the wallet send it, wait for the receipt. */
async function sendAction(action, fields, label) {
  const entry = logEntry(label, action);
  setBusy(true);
  try {
    if (!state.wallet.account) await connectWallet();
    entry.step("preparing the transaction…");
    const tx = await api(`/tx/${action}`, { method: "POST", body: { from: state.wallet.account, ...fields } });
    const txChain = tx.chainId !== undefined && tx.chainId !== null ? Number(BigInt(tx.chainId)) : null;
    if (txChain !== null && state.wallet.chainId !== null && txChain !== state.wallet.chainId) {
      throw new UiError(`the wallet is on chain ${state.wallet.chainId} but this gateway serves chain ${txChain}: switch networks in the wallet`, "wrong_chain");
    }
    entry.step("waiting for the wallet…");
    let hash;
    try {
      hash = await provider().request({ method: "eth_sendTransaction", params: [walletTx(tx)] });
    } catch (err) {
      throw walletError(err);
    }
    entry.step(`sent ${short(hash, 10, 6)}, waiting for the receipt…`);
    const receipt = await waitForReceipt(hash);
    const ok = receipt.status === "0x1" || receipt.status === 1 || receipt.status === "1";
    const block = Number(BigInt(receipt.blockNumber));
    entry.done(ok, `${ok ? "success" : "reverted"} in block ${block}`, h("code", { title: hash }, short(hash, 10, 6)));
    refreshSoon();
    return ok ? receipt : null;
  } catch (err) {
    entry.fail(err);
    return null;
  } finally {
    setBusy(false);
  }
}

/** Store a message body once the indexer has seen the message whose hash it is (404 unknown_content until then). */
async function storeBody(body) {
  const entry = logEntry("Store message body", "content");
  const started = Date.now();
  try {
    for (;;) {
      try {
        const stored = await api("/content", { method: "POST", body: { body } });
        entry.done(true, "stored", h("code", { title: stored.content_hash }, short(stored.content_hash, 10, 6)));
        refreshSoon();
        return stored;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === "unknown_content") || Date.now() - started > CONTENT_WAIT_MS) throw err;
        entry.step("waiting for the indexer to see the message…");
        await sleep(1000);
      }
    }
  } catch (err) {
    entry.fail(err);
    return null;
  }
}

function setBusy(busy) {
  state.busy = busy;
  document.body.classList.toggle("busy", busy);
  for (const button of document.querySelectorAll("button.action")) button.disabled = busy;
}

// ------------------------------------------------------------------------------------------------------------
// Header: health, live status, wallet
// ------------------------------------------------------------------------------------------------------------

function renderWallet() {
  const box = document.getElementById("wallet");
  const { account, chainId } = state.wallet;
  if (!account) {
    replace(
      box,
      h("button", { id: "connect", class: "primary", "data-testid": "connect", onclick: () => connectWallet().catch((err) => showWalletError(err)) }, "Connect wallet"),
    );
    return;
  }
  const expected = state.health?.chain_id;
  const wrong = expected !== undefined && expected !== null && chainId !== null && Number(expected) !== chainId;
  replace(
    box,
    h("span", { class: `chip ${wrong ? "bad" : "good"}`, "data-testid": "wallet-account", "data-account": account, title: account }, address(account), ` · chain ${chainId}`),
    wrong ? h("span", { class: "chip bad" }, `gateway is on chain ${expected}`) : null,
  );
}

function showWalletError(err) {
  const box = document.getElementById("wallet-error");
  replace(box, errorBox(err));
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 15000);
}

async function updateHealth() {
  const chip = document.getElementById("health");
  try {
    const health = await api("/health");
    state.health = health;
    chip.className = `chip ${health.status === "ok" ? "good" : "warn"}`;
    chip.title = JSON.stringify(health);
    replace(chip, `chain ${health.chain_id} · head ${health.chain_head} · indexed ${health.indexed_block}`, health.indexer_lag ? ` (lag ${health.indexer_lag})` : "", health.status === "ok" ? "" : ` · ${health.status}`);
  } catch (err) {
    chip.className = "chip bad";
    chip.title = err.message;
    replace(chip, `health: ${err.code}`);
  }
}

function renderLive() {
  const chip = document.getElementById("live");
  const text = { sse: "live: event stream", polling: `live: polling every ${POLL_MS / 1000} s`, connecting: "live: connecting…" }[state.live];
  chip.className = `chip ${state.live === "sse" ? "good" : "warn"}`;
  chip.dataset.live = state.live;
  replace(chip, text, h("small", { id: "updated" }, ""));
}

function renderEvents() {
  const list = document.getElementById("events");
  replace(
    list,
    state.events.length === 0
      ? h("li", { class: "muted" }, state.live === "sse" ? "waiting for events…" : "no event stream: polling")
      : state.events.map((e) =>
          h("li", {}, h("strong", {}, e.event ?? e.name), " ", h("span", { class: "muted" }, `${e.source ?? ""} block ${e.block ?? "?"}`), " ", h("code", { class: "args" }, summarizeArgs(e.args))),
        ),
  );
}

function arg(v) {
  if (typeof v === "string" && v.startsWith("0x") && v.length > 14) return short(v);
  if (v !== null && typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function summarizeArgs(args) {
  if (!args || typeof args !== "object") return "";
  const text = Object.entries(args)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.map(arg).join(", ")}]` : arg(v)}`)
    .join(" ");
  return text.length > 90 ? text.slice(0, 89) + "…" : text;
}

// ------------------------------------------------------------------------------------------------------------
// Live updates: the gateway's event stream (read with fetch, so every event name and a missing route are seen),
// polling every 2 s while it is unavailable.
// ------------------------------------------------------------------------------------------------------------

async function followEvents() {
  try {
    const response = await fetch("/events", { headers: { Accept: "text/event-stream" }, cache: "no-store" });
    const type = response.headers.get("content-type") || "";
    if (!response.ok || !type.includes("text/event-stream") || !response.body) {
      response.body?.cancel().catch(() => {});
      throw new Error(`GET /events answered ${response.status} ${type}`);
    }
    state.live = "sse";
    renderLive();
    renderEvents();
    refresh();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + value).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        onServerEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (err) {
    console.info("event stream unavailable, polling:", err.message);
  }
  state.live = "polling";
  renderLive();
  renderEvents();
  setTimeout(followEvents, SSE_RETRY_MS);
}

function onServerEvent(raw) {
  let name = "message";
  const data = [];
  for (const line of raw.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return;
  let payload;
  try {
    payload = JSON.parse(data.join("\n"));
  } catch {
    payload = { event: name, args: { data: data.join("\n") } };
  }
  state.events.unshift({ name, ...payload });
  state.events.length = Math.min(state.events.length, 10);
  renderEvents();
  refreshSoon();
}

let refreshing = null;
let refreshAgain = false;

/** Re-read what the page shows; concurrent calls coalesce into one more pass. */
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await Promise.all([updateHealth().then(renderWallet), state.view ? state.view.update() : null]);
        const stamp = document.getElementById("updated");
        if (stamp) stamp.textContent = ` · updated ${new Date().toLocaleTimeString()}`;
      } while (refreshAgain);
    } catch (err) {
      console.error(err);
    } finally {
      refreshing = null;
      catchUp();
    }
  })();
  return refreshing;
}

let catchUpTimer = null;

/** While the index trails the chain (what an event announced is not in the database yet), look again each second. */
function catchUp() {
  const lag = Number(state.health?.indexer_lag ?? 0) > 0 || state.indexBehind;
  if (!lag || catchUpTimer) return;
  catchUpTimer = setTimeout(() => {
    catchUpTimer = null;
    refresh();
  }, 1000);
}

let followUps = false;

/** Now, and again a little later (the indexer writes what an event announces shortly after it is mined); a burst
 * of events shares the later passes. */
function refreshSoon() {
  refresh();
  if (followUps) return;
  followUps = true;
  setTimeout(refresh, 1200);
  setTimeout(() => {
    followUps = false;
    refresh();
  }, 3500);
}

// ------------------------------------------------------------------------------------------------------------
// Price history
// ------------------------------------------------------------------------------------------------------------

/** The newest `pages` pages of a thread's price rounds (oldest first), re-read only when its last round changes. */
async function history(threadId, round, pages = 1) {
  const key = `${threadId}/${pages}`;
  const cached = state.history.get(key);
  if (cached && cached.round === round) return cached.points;
  const path = `/threads/${threadId}/prices`;
  const first = await apiPage(path, 0);
  let points = itemsOf(first);
  const total = Number(first?.total ?? points.length);
  if (total > points.length) {
    points = [];
    for (let offset = Math.max(0, total - pageSize * pages); offset < total; offset += pageSize) {
      points.push(...itemsOf(await apiPage(path, offset)));
    }
  }
  state.history.set(key, { round, points });
  return points;
}

function chart(points, options) {
  const data = points.map((p) => ({
    x: Number(p.timestamp ?? p.block ?? 0),
    y: Number(big(p.price)) / 1e18,
    label: `round ${p.round}: ${units(p.price, 6)} CHOIR at ${new Date(Number(p.timestamp) * 1000).toISOString().slice(0, 16).replace("T", " ")} (block ${p.block})`,
  }));
  return priceChart(data, {
    formatY: (y) => y.toLocaleString(undefined, { maximumFractionDigits: 2 }),
    formatX: (x) => new Date(x * 1000).toISOString().slice(0, 10),
    ...options,
  });
}

// ------------------------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------------------------

const COLUMNS = [
  { key: "thread_id", label: "#", num: true, get: (t) => Number(t.thread_id) },
  { key: "address", label: "Thread", get: (t) => String(t.address).toLowerCase() },
  { key: "creator", label: "Creator", get: (t) => String(t.creator).toLowerCase() },
  { key: "message_count", label: "Messages", num: true, get: (t) => Number(t.message_count) },
  { key: "coauthor_count", label: "Co-authors", num: true, get: (t) => Number(t.coauthor_count) },
  { key: "treasury", label: "Treasury", num: true, get: (t) => big(t.treasury) },
  { key: "price", label: "Price", num: true, get: (t) => big(t.price) },
  { key: "last_price_round", label: "Round", num: true, get: (t) => Number(t.last_price_round ?? -1) },
  { key: "citations_received", label: "Cited", num: true, get: (t) => Number(t.citations_received ?? 0) },
  { key: "last_activity", label: "Last activity", num: true, get: (t) => Number(t.last_activity ?? 0) },
  { key: "created_timestamp", label: "Created", num: true, get: (t) => Number(t.created_timestamp ?? 0) },
];

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function threadsView() {
  let alive = true;
  const head = h("thead");
  const body = h("tbody", { "data-testid": "threads" });
  const status = h("div", { class: "status" });
  let rows = [];

  function renderHead() {
    replace(
      head,
      h(
        "tr",
        {},
        COLUMNS.map((c) => {
          const active = state.sort.key === c.key;
          const arrow = active ? (state.sort.dir === "asc" ? " ▲" : " ▼") : "";
          return h(
            "th",
            { class: c.num ? "num" : "", "aria-sort": active ? (state.sort.dir === "asc" ? "ascending" : "descending") : "none" },
            h("button", { class: "sort", "data-sort": c.key, onclick: () => sortBy(c.key, c.num) }, c.label + arrow),
          );
        }),
        h("th", {}, "Price history"),
      ),
    );
  }

  function sortBy(key, numeric) {
    state.sort = state.sort.key === key ? { key, dir: state.sort.dir === "asc" ? "desc" : "asc" } : { key, dir: numeric && key !== "thread_id" ? "desc" : "asc" };
    renderHead();
    renderRows();
  }

  function renderRows() {
    const column = COLUMNS.find((c) => c.key === state.sort.key) || COLUMNS[0];
    const sign = state.sort.dir === "asc" ? 1 : -1;
    const sorted = [...rows].sort((a, b) => sign * compare(column.get(a.thread), column.get(b.thread)) || compare(Number(a.thread.thread_id), Number(b.thread.thread_id)));
    replace(
      body,
      sorted.length === 0
        ? h("tr", {}, h("td", { colspan: COLUMNS.length + 1, class: "muted" }, "no threads yet"))
        : sorted.map(({ thread: t, points, changed }) =>
            h(
              "tr",
              { class: "thread-row", "data-thread": t.thread_id, onclick: (e) => { if (!e.target.closest("a")) location.hash = `#/thread/${t.thread_id}`; } },
              h("td", { class: "num" }, h("a", { href: `#/thread/${t.thread_id}`, "data-testid": `thread-link-${t.thread_id}` }, t.thread_id)),
              h("td", {}, h("a", { href: `#/thread/${t.thread_id}`, title: t.address }, short(t.address))),
              h("td", {}, address(t.creator)),
              h("td", { class: "num" }, t.message_count),
              h("td", { class: "num" }, t.coauthor_count),
              h("td", { class: "num" }, choir(t.treasury)),
              h("td", { class: `num price ${changed ? "flash" : ""}` }, choir(t.price, `price-${t.thread_id}`)),
              h("td", { class: "num" }, t.last_price_round ?? "—"),
              h("td", { class: "num" }, t.citations_received ?? 0),
              h("td", {}, time(t.last_activity)),
              h("td", {}, time(t.created_timestamp)),
              h("td", { class: "spark" }, points ? chart(points, { compact: true, width: 140, height: 32, now: Number(t.last_activity) || undefined, title: `thread ${t.thread_id} price history` }) : h("span", { class: "muted" }, "…")),
            ),
          ),
    );
  }

  return {
    mount(root) {
      renderHead();
      replace(
        root,
        h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Threads"), status), h("div", { class: "table-wrap" }, h("table", { class: "threads" }, head, body))),
      );
    },
    async update() {
      try {
        const [threads, prices] = await Promise.all([apiAll("/threads"), api("/prices").then(itemsOf, () => [])]);
        const live = new Map(prices.map((p) => [String(p.thread_id), p]));
        const next = await Promise.all(
          threads.map(async (t) => {
            const p = live.get(String(t.thread_id));
            const thread = p ? { ...t, price: p.price, last_price_round: p.last_round ?? t.last_price_round } : t;
            const points = await history(thread.thread_id, thread.last_price_round).catch(() => null);
            const before = state.lastPrices.get(String(thread.thread_id));
            const changed = before !== undefined && before !== String(thread.price);
            state.lastPrices.set(String(thread.thread_id), String(thread.price));
            return { thread, points, changed };
          }),
        );
        if (!alive) return;
        rows = next;
        replace(status, `${rows.length} thread${rows.length === 1 ? "" : "s"}`);
        renderRows();
      } catch (err) {
        if (alive) replace(status, errorBox(err));
      }
    },
    unmount() {
      alive = false;
    },
  };
}

function threadView(threadId) {
  let alive = true;
  let thread = null;
  let stakeTouched = false;
  let messageOffset = null; // null: the newest page
  const sections = {
    head: h("div", { class: "thread-head" }),
    stats: h("dl", { class: "stats" }),
    chart: h("div", { class: "chart-box" }),
    pending: h("div", { "data-testid": "pending-specs" }),
    coauthors: h("div", { class: "table-wrap" }),
    proposals: h("div", { class: "table-wrap" }),
    messages: h("div"),
    settled: h("div", { class: "table-wrap" }),
    citations: h("div", { "data-testid": "thread-citations" }),
  };

  // The spec form is built once, so live refreshes never clear what the user types.
  const bodyInput = h("textarea", { id: "spec-body", rows: 5, placeholder: "Your message", "data-testid": "spec-body" });
  const stakeInput = h("input", { id: "spec-stake", inputmode: "decimal", "data-testid": "spec-stake", oninput: () => (stakeTouched = true) });
  const citationsInput = h("input", { id: "spec-citations", placeholder: "e.g. 1:0, 2:0 (thread:index) or global ids", "data-testid": "spec-citations" });
  const kindInput = h(
    "select",
    { id: "spec-author-kind", "data-testid": "spec-author-kind" },
    AUTHOR_KINDS.map(([value, label]) => h("option", { value }, label)),
  );
  const hashOut = h("code", { "data-testid": "spec-hash" }, keccak256(""));
  bodyInput.addEventListener("input", () => (hashOut.textContent = keccak256(bodyInput.value)));
  const formError = h("div");

  function stakeWei() {
    return parseUnits(stakeInput.value, "stake");
  }

  function citations() {
    return citationsInput.value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((c) => {
        const pair = c.match(/^(\d+):(\d+)$/);
        if (pair) return ((BigInt(pair[1]) << 64n) | BigInt(pair[2])).toString();
        if (/^\d+$/.test(c)) return c;
        throw new UiError(`"${c}" is not a message id (thread:index or a global id)`, "invalid_citation", "citations");
      });
  }

  async function guarded(fn) {
    replace(formError);
    try {
      await fn();
    } catch (err) {
      replace(formError, errorBox(err));
    }
  }

  async function approveStake() {
    await guarded(async () => {
      const amount = stakeWei().toString();
      await sendAction("approve", { thread_id: threadId, amount }, `Approve ${units(amount)} CHOIR for thread ${threadId}`);
    });
  }

  async function submitSpec() {
    await guarded(async () => {
      const body = bodyInput.value;
      if (!body.trim()) throw new UiError("write the message first", "empty_body", "body");
      const stake = stakeWei().toString();
      const content_hash = keccak256(body);
      const fields = { thread_id: threadId, content_hash, citations: citations(), stake, author_kind: kindInput.value };
      const receipt = await sendAction("submitSpec", fields, `Submit spec to thread ${threadId}`);
      if (!receipt) return;
      const stored = await storeBody(body);
      if (stored) bodyInput.value = "";
    });
  }

  /** A co-author's post: no stake, no vote; the same body, citations and author kind fields. */
  async function postMessage() {
    await guarded(async () => {
      const body = bodyInput.value;
      if (!body.trim()) throw new UiError("write the message first", "empty_body", "body");
      const fields = { thread_id: threadId, content_hash: keccak256(body), citations: citations(), author_kind: kindInput.value };
      const receipt = await sendAction("post", fields, `Post to thread ${threadId}`);
      if (!receipt) return;
      const stored = await storeBody(body);
      if (stored) bodyInput.value = "";
    });
  }

  const form = h(
    "section",
    { class: "card", id: "submit-spec" },
    h("h3", {}, "Submit a spec"),
    h("p", { class: "muted" }, "Non-co-authors stake at least the thread's price; co-authors approve or deny. Approve the stake first, then submit. Co-authors post directly."),
    h("label", { for: "spec-body" }, "Message"),
    bodyInput,
    h("div", { class: "hash" }, "keccak256: ", hashOut),
    h("div", { class: "row" }, h("label", { for: "spec-stake" }, "Stake (CHOIR)", stakeInput), h("label", { for: "spec-citations" }, "Citations", citationsInput)),
    h("label", { for: "spec-author-kind" }, "Author (declared on chain)", kindInput),
    h(
      "div",
      { class: "row buttons" },
      h("button", { class: "action", "data-testid": "approve-stake", onclick: approveStake }, "1. Approve stake"),
      h("button", { class: "action primary", "data-testid": "submit-spec", onclick: submitSpec }, "2. Submit spec"),
      h("button", { class: "action", "data-testid": "post-message", title: "Co-authors post without a stake", onclick: postMessage }, "Post as co-author"),
    ),
    formError,
  );

  const pushedNote = h("div", { class: "muted pushed" });

  /** Where the live price comes from: the last pushed round (`onchain`: this thread's entry of GET /prices). */
  function renderPushed(t, points, onchain) {
    const last = points[points.length - 1];
    const round = Number(onchain?.last_round ?? 0);
    state.indexBehind = Boolean(round && (!last || round > Number(last.round)));
    if (state.indexBehind) return replace(pushedNote, `price pushed in round ${round}; the index is catching up`);
    if (!last) return replace(pushedNote, "no price pushed yet: the hub answers its fallback price");
    const when = new Date(Number(last.timestamp) * 1000).toISOString().slice(0, 16).replace("T", " ");
    const stale = String(last.price) !== String(t.price);
    replace(
      pushedNote,
      stale ? `last pushed ${units(last.price)} CHOIR (round ${last.round}, ${when} UTC) is stale: the hub answers the larger of it and its fallback price` : `pushed in round ${last.round}, ${when} UTC`,
    );
  }

  function renderHead(t) {
    replace(
      sections.head,
      h("div", {}, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", {}, `Thread #${t.thread_id}`), h("div", { class: "muted", title: t.address }, t.address)),
      h("div", { class: "big-price" }, h("div", { class: "muted" }, "stake price (live)"), choir(t.price, "thread-price"), pushedNote),
    );
    const stat = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
    replace(
      sections.stats,
      stat("Treasury", choir(t.treasury, "treasury")),
      stat("Locked stakes", choir(t.locked)),
      stat("Last price round (indexed)", h("span", { "data-testid": "last-round" }, t.last_price_round ?? "—")),
      stat("Messages", t.message_count),
      stat("Co-authors", t.coauthor_count),
      stat("Total shares", shares(t.total_shares)),
      stat("Citations received", t.citations_received ?? 0),
      stat("Approval window", t.approval_window ? duration(t.approval_window) : "—"),
      stat("Creator", address(t.creator)),
      stat("Created", time(t.created_timestamp)),
      stat("Last activity", time(t.last_activity)),
      stat("Governor", t.governor ? h("span", { title: t.governor }, short(t.governor)) : "none"),
    );
    if (!stakeTouched && !stakeInput.value) stakeInput.value = exactUnits(t.price);
  }

  function renderCoauthors(t) {
    const list = [...(t.coauthors || [])].sort((a, b) => compare(big(b.shares), big(a.shares)));
    replace(
      sections.coauthors,
      h(
        "table",
        { class: "small", "data-testid": "coauthors" },
        h("thead", {}, h("tr", {}, h("th", {}, "Co-author"), h("th", { class: "num" }, "Shares"), h("th", { class: "num" }, "Equity"), h("th", {}, "Joined"))),
        h(
          "tbody",
          {},
          list.length === 0
            ? h("tr", {}, h("td", { colspan: 4, class: "muted" }, "none"))
            : list.map((c) =>
                h(
                  "tr",
                  {},
                  h("td", {}, address(c.account)),
                  h("td", { class: "num" }, shares(c.shares)),
                  h("td", { class: "num" }, h("span", { class: "bar", style: `--w:${Number((big(c.shares) * 1000n) / (big(t.total_shares) || 1n)) / 10}%` }), percent(c.shares, t.total_shares)),
                  h("td", {}, time(c.joined_timestamp)),
                ),
              ),
        ),
      ),
    );
  }

  function bodyOf(messages, index) {
    const m = messages.find((x) => Number(x.index) === Number(index));
    return m ? m.body : null;
  }

  function renderPending(specs, messages) {
    const pending = specs.filter((s) => s.status === "pending");
    const me = state.wallet.account?.toLowerCase();
    replace(
      sections.pending,
      pending.length === 0
        ? h("p", { class: "muted" }, "no pending specs")
        : pending.map((s) => {
            const body = bodyOf(messages, s.spec_id);
            const mine = (s.votes || []).find((v) => v.voter.toLowerCase() === me);
            return h(
              "article",
              { class: "spec", "data-testid": "spec", "data-spec": s.spec_id, "data-author": s.author },
              h(
                "header",
                {},
                h("strong", {}, `Spec ${s.spec_id}`),
                " by ",
                address(s.author),
                " ",
                authorKind(s.author_kind),
                " · stake ",
                choir(s.stake),
                " · price then ",
                choir(s.price),
                " · deadline ",
                time(s.deadline),
                novelty(s) ? [" · ", novelty(s)] : null,
              ),
              body !== null && body !== undefined ? h("blockquote", { class: "body" }, body) : h("p", { class: "muted" }, "body not stored"),
              h(
                "div",
                { class: "votes" },
                h("span", { class: "tally", "data-testid": "tally" }, `${s.approvals} approve · ${s.denials} deny · ${s.eligible} eligible`),
                (s.votes || []).map((v) => h("span", { class: `vote ${v.approve ? "yes" : "no"}` }, address(v.voter), v.approve ? " ✓" : " ✗")),
              ),
              h(
                "div",
                { class: "buttons" },
                mine ? h("span", { class: "muted" }, `you voted ${mine.approve ? "approve" : "deny"}`) : null,
                h("button", { class: "action yes", "data-testid": "vote-approve", disabled: state.busy, onclick: () => sendAction("vote", { thread_id: threadId, spec_id: Number(s.spec_id), approve: true }, `Approve spec ${s.spec_id}`) }, "Approve"),
                h("button", { class: "action no", "data-testid": "vote-deny", disabled: state.busy, onclick: () => sendAction("vote", { thread_id: threadId, spec_id: Number(s.spec_id), approve: false }, `Deny spec ${s.spec_id}`) }, "Deny"),
                h("button", { class: "action", "data-testid": "settle", disabled: state.busy, onclick: () => sendAction("settle", { thread_id: threadId, spec_id: Number(s.spec_id) }, `Settle spec ${s.spec_id}`) }, "Settle"),
              ),
            );
          }),
    );
  }

  function renderSettled(specs) {
    const settled = specs.filter((s) => s.status !== "pending").sort((a, b) => Number(b.spec_id) - Number(a.spec_id));
    replace(
      sections.settled,
      settled.length === 0
        ? h("p", { class: "muted" }, "none yet")
        : h(
            "table",
            { class: "small" },
            h("thead", {}, h("tr", {}, ["Spec", "Author", "Stake", "Outcome", "Votes"].map((x) => h("th", {}, x)))),
            h(
              "tbody",
              {},
              settled.map((s) =>
                h(
                  "tr",
                  { "data-testid": "settled-spec", "data-spec": s.spec_id, "data-status": s.status },
                  h("td", {}, s.spec_id),
                  h("td", {}, address(s.author)),
                  h("td", { class: "num" }, choir(s.stake)),
                  h("td", {}, h("span", { class: `status ${s.status}` }, s.status)),
                  h("td", {}, `${s.approvals} ✓ / ${s.denials} ✗`),
                ),
              ),
            ),
          ),
    );
  }

  function renderMessages(page) {
    const messages = itemsOf(page);
    const total = Number(page.total ?? messages.length);
    const offset = Number(page.offset ?? 0);
    const size = Number(page.limit ?? pageSize);
    const pager =
      total > size
        ? h(
            "div",
            { class: "pager" },
            h("button", { disabled: offset === 0, onclick: () => { messageOffset = Math.max(0, offset - size); refresh(); } }, "← older"),
            ` ${offset + 1}–${offset + messages.length} of ${total} `,
            h("button", { disabled: offset + messages.length >= total, onclick: () => { messageOffset = offset + size >= total - size ? null : offset + size; refresh(); } }, "newer →"),
          )
        : null;
    replace(
      sections.messages,
      pager,
      messages.length === 0
        ? h("p", { class: "muted" }, "no messages")
        : h(
            "ol",
            { class: "messages", "data-testid": "messages" },
            messages.map((m) =>
              h(
                "li",
                { class: `message kind-${m.kind}`, "data-index": m.index },
                h(
                  "header",
                  {},
                  h("strong", {}, `#${m.index}`),
                  " ",
                  h("span", { class: "kind" }, m.kind),
                  " ",
                  address(m.author),
                  " ",
                  authorKind(m.author_kind),
                  " · ",
                  time(m.timestamp),
                  novelty(m) ? [" · ", novelty(m)] : null,
                  m.citations && m.citations.length ? [" · cites ", m.citations.map((c, i) => [i ? ", " : "", messageRef(c)])] : null,
                ),
                m.body !== null && m.body !== undefined ? h("div", { class: "body" }, m.body) : h("div", { class: "muted hashline", title: m.content_hash }, "body not stored · ", h("code", {}, short(m.content_hash, 10, 8))),
              ),
            ),
          ),
    );
    return messages;
  }

  function renderProposals(list) {
    replace(
      sections.proposals,
      list.length === 0
        ? h("p", { class: "muted" }, thread && !thread.governor ? "no governor yet" : "no proposals")
        : h(
            "table",
            { class: "small", "data-testid": "proposals" },
            h("thead", {}, h("tr", {}, ["Proposal", "Description", "State", "For", "Against", "Abstain", "Voting ends", "ETA"].map((x) => h("th", {}, x)))),
            h(
              "tbody",
              {},
              list.map((p) =>
                h(
                  "tr",
                  {},
                  h("td", { title: p.proposal_id }, short(p.proposal_id, 6, 4)),
                  h("td", {}, p.description),
                  h("td", {}, h("span", { class: `status ${String(p.state).toLowerCase()}` }, p.state)),
                  h("td", { class: "num" }, shares(p.votes_for)),
                  h("td", { class: "num" }, shares(p.votes_against)),
                  h("td", { class: "num" }, shares(p.votes_abstain)),
                  h("td", {}, time(p.deadline)),
                  h("td", {}, time(p.eta)),
                ),
              ),
            ),
          ),
    );
  }

  function renderCitations(graph) {
    const edgesOf = (out) => graph.edges.filter((e) => Number(out ? e.source : e.target) === threadId);
    const line = (e, out) => {
      const other = out ? e.target : e.source;
      const reward = big(e.choir);
      return h("li", {}, h("a", { href: `#/thread/${other}` }, `thread ${other}`), ` · ${e.citations} citation${Number(e.citations) === 1 ? "" : "s"}`, reward ? [" · ", choir(reward)] : null);
    };
    const list = (out) => {
      const found = edgesOf(out);
      return found.length ? h("ul", {}, found.map((e) => line(e, out))) : h("p", { class: "muted" }, "none");
    };
    replace(sections.citations, h("h4", {}, `Cites (${graph.citations_out})`), list(true), h("h4", {}, `Cited by (${graph.citations_in})`), list(false), h("a", { href: "#/network" }, "the whole network →"));
  }

  function sectionError(node, err) {
    replace(node, errorBox(err));
  }

  return {
    mount(root) {
      replace(
        root,
        h("section", { class: "card" }, sections.head, sections.stats),
        h("section", { class: "card" }, h("h3", {}, "Price history"), sections.chart),
        h(
          "div",
          { class: "columns" },
          h("div", {}, h("section", { class: "card" }, h("h3", {}, "Pending specs"), sections.pending), form),
          h("div", {}, h("section", { class: "card" }, h("h3", {}, "Equity"), sections.coauthors), h("section", { class: "card" }, h("h3", {}, "Citations"), sections.citations), h("section", { class: "card" }, h("h3", {}, "Proposals"), sections.proposals), h("section", { class: "card" }, h("h3", {}, "Settled specs"), sections.settled)),
        ),
        h("section", { class: "card" }, h("h3", {}, "Messages"), sections.messages),
      );
    },
    async update() {
      const messagesPath = async () => {
        const path = `/threads/${threadId}/messages`;
        if (messageOffset !== null) return apiPage(path, messageOffset);
        const first = await apiPage(path, 0);
        const total = Number(first.total ?? 0);
        return total > pageSize ? apiPage(path, total - pageSize) : first;
      };
      const [t, page, specs, proposals, prices, graph] = await Promise.allSettled([
        api(`/threads/${threadId}`),
        messagesPath(),
        apiAll(`/threads/${threadId}/specs`),
        api(`/threads/${threadId}/proposals`).then(itemsOf),
        api("/prices").then(itemsOf),
        api(`/threads/${threadId}/graph`),
      ]);
      if (!alive) return;
      if (t.status === "rejected") {
        replace(sections.head, h("div", {}, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", {}, `Thread #${threadId}`)), errorBox(t.reason));
        return;
      }
      thread = t.value;
      renderHead(thread);
      renderCoauthors(thread);
      try {
        const points = await history(threadId, thread.last_price_round, 5);
        const onchain = prices.status === "fulfilled" ? prices.value.find((p) => Number(p.thread_id) === threadId) : undefined;
        if (alive) renderPushed(thread, points, onchain);
        if (alive) replace(sections.chart, chart(points, { width: 1200, height: 260, now: Number(thread.last_activity) || undefined, title: `thread ${threadId} price history` }));
      } catch (err) {
        sectionError(sections.chart, err);
      }
      const messages = page.status === "fulfilled" ? renderMessages(page.value) : (sectionError(sections.messages, page.reason), []);
      if (specs.status === "fulfilled") {
        renderPending(specs.value, messages);
        renderSettled(specs.value);
      } else {
        sectionError(sections.pending, specs.reason);
        sectionError(sections.settled, specs.reason);
      }
      if (proposals.status === "fulfilled") renderProposals(proposals.value);
      else sectionError(sections.proposals, proposals.reason);
      if (graph.status === "fulfilled") renderCitations(graph.value);
      else sectionError(sections.citations, graph.reason);
    },
    unmount() {
      alive = false;
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// The knowledge network: the citation graph and semantic search
// ------------------------------------------------------------------------------------------------------------

const GRAPH_SIZE = 640;

/** Node positions on a circle (thread 1 at the top, clockwise by thread id): deterministic, no overlaps. */
function circleLayout(nodes, size) {
  const center = size / 2;
  const radius = nodes.length > 1 ? size / 2 - 70 : 0;
  const at = new Map();
  nodes.forEach((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    at.set(Number(n.thread_id), { x: center + radius * Math.cos(angle), y: center + radius * Math.sin(angle) });
  });
  return at;
}

function nodeRadius(n) {
  return 14 + 4 * Math.sqrt(Number(n.citations_received ?? 0));
}

/** The citation graph as SVG: a circle per thread (size by citations received), an arrow per citing pair of
 * threads (width by counted citations); clicking a thread opens it. */
function citationGraph(graph) {
  const nodes = [...(graph.nodes || [])].sort((a, b) => Number(a.thread_id) - Number(b.thread_id));
  const edges = graph.edges || [];
  const at = circleLayout(nodes, GRAPH_SIZE);
  const byId = new Map(nodes.map((n) => [Number(n.thread_id), n]));
  const heaviest = Math.max(1, ...edges.map((e) => Number(e.citations)));
  const arrow = svg("marker", { id: "graph-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: "graph-arrowhead" }));
  const lines = edges.map((e) => {
    const from = at.get(Number(e.source)), to = at.get(Number(e.target));
    if (!from || !to) return null;
    const dx = to.x - from.x, dy = to.y - from.y;
    const length = Math.hypot(dx, dy) || 1;
    const startGap = nodeRadius(byId.get(Number(e.source))) + 2, endGap = nodeRadius(byId.get(Number(e.target))) + 4;
    // a pair citing each other gets two parallel arrows, offset to either side
    const offset = edges.some((o) => Number(o.source) === Number(e.target) && Number(o.target) === Number(e.source)) ? 6 : 0;
    const ox = (-dy / length) * offset, oy = (dx / length) * offset;
    const width = 1.5 + (6 * Number(e.citations)) / heaviest;
    const reward = big(e.choir);
    return svg(
      "line",
      {
        class: "graph-edge",
        "data-testid": "graph-edge",
        "data-source": e.source,
        "data-target": e.target,
        "data-weight": e.citations,
        "data-choir": String(reward),
        x1: (from.x + (dx / length) * startGap + ox).toFixed(1),
        y1: (from.y + (dy / length) * startGap + oy).toFixed(1),
        x2: (to.x - (dx / length) * endGap + ox).toFixed(1),
        y2: (to.y - (dy / length) * endGap + oy).toFixed(1),
        "stroke-width": width.toFixed(2),
        "marker-end": "url(#graph-arrow)",
      },
      svg("title", {}, `thread ${e.source} cites thread ${e.target}: ${e.citations} counted citation${Number(e.citations) === 1 ? "" : "s"}${reward ? `, ${units(reward)} CHOIR in citation rewards` : ""}`),
    );
  });
  const circles = nodes.map((n) => {
    const p = at.get(Number(n.thread_id));
    const open = () => (location.hash = `#/thread/${n.thread_id}`);
    return svg(
      "g",
      {
        class: "graph-node",
        "data-testid": "graph-node",
        "data-thread": n.thread_id,
        tabindex: 0,
        role: "link",
        onclick: open,
        onkeydown: (event) => { if (event.key === "Enter") open(); },
      },
      svg("circle", { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: nodeRadius(n).toFixed(1) }),
      svg("text", { x: p.x.toFixed(1), y: (p.y + 4).toFixed(1), "text-anchor": "middle", class: "graph-id" }, `#${n.thread_id}`),
      n.title ? svg("text", { x: p.x.toFixed(1), y: (p.y + nodeRadius(n) + 14).toFixed(1), "text-anchor": "middle", class: "graph-title" }, n.title.length > 28 ? n.title.slice(0, 27) + "…" : n.title) : null,
      svg("title", {}, `thread ${n.thread_id}${n.title ? `: ${n.title}` : ""} · ${n.message_count} messages · cited ${n.citations_received}× · cites ${n.citations_made}×`),
    );
  });
  return svg(
    "svg",
    { class: "graph", "data-testid": "graph", viewBox: `0 0 ${GRAPH_SIZE} ${GRAPH_SIZE}`, width: GRAPH_SIZE, height: GRAPH_SIZE, role: "img", "aria-label": "citation graph of the threads" },
    svg("defs", {}, arrow),
    svg("g", { class: "graph-edges" }, lines),
    svg("g", { class: "graph-nodes" }, circles),
  );
}

function searchHit(hit) {
  return h(
    "li",
    { class: "search-hit", "data-testid": "search-hit", "data-hash": hit.content_hash },
    h("div", { class: "hit-head" }, h("span", { class: "score", title: "cosine similarity to the query" }, Number(hit.score).toFixed(3)), " ", (hit.messages || []).map((m, i) => [i ? ", " : "", h("a", { href: `#/thread/${m.thread_id}`, class: "ref", title: `global id ${m.global_id}` }, `${m.thread_id}:${m.index}`), " ", h("span", { class: "kind" }, m.kind), " ", address(m.author), " ", authorKind(m.author_kind)])),
    h("div", { class: "body" }, hit.body),
  );
}

function networkView() {
  let alive = true;
  const status = h("div", { class: "status" });
  const graphBox = h("div", { class: "graph-box" }, h("p", { class: "muted" }, "Loading…"));
  const legend = h("div", { class: "muted graph-legend" });
  const input = h("input", { type: "search", id: "search-q", placeholder: "Search message bodies by meaning, e.g. “how are stakes priced?”", maxlength: 1000, "data-testid": "search-input" });
  const results = h("ol", { class: "search-results", "data-testid": "search-results" });
  const searchStatus = h("div", { class: "muted", "data-testid": "search-status" });

  async function runSearch(event) {
    event?.preventDefault();
    const q = input.value.trim();
    if (!q) return replace(searchStatus, "type what you are looking for");
    replace(searchStatus, "searching… (the first search loads the model, about 10 s)");
    replace(results);
    try {
      const found = await api(`/search?q=${encodeURIComponent(q)}&k=10`);
      if (!alive) return;
      replace(searchStatus, `${found.items.length} of ${found.searched} stored bodies, most similar first`);
      replace(results, found.items.map(searchHit));
    } catch (err) {
      if (alive) replace(searchStatus, errorBox(err));
    }
  }

  return {
    mount(root) {
      replace(
        root,
        h(
          "section",
          { class: "card" },
          h("div", { class: "card-head" }, h("h2", {}, "Citation network"), status),
          h("p", { class: "muted" }, "Threads and the citations between them, counted as the hub counts them: a post at once, a spec once approved, never a thread citing itself. Arrow width: citations; click a thread to open it."),
          graphBox,
          legend,
        ),
        h(
          "section",
          { class: "card", id: "search" },
          h("h3", {}, "Semantic search"),
          h("form", { class: "search-form", onsubmit: runSearch }, input, h("button", { class: "primary", type: "submit", "data-testid": "search-button" }, "Search")),
          searchStatus,
          results,
        ),
      );
    },
    async update() {
      try {
        const graph = await api("/graph");
        if (!alive) return;
        const links = (graph.edges || []).reduce((n, e) => n + Number(e.citations), 0);
        const plural = (n, word) => `${n} ${word}${Number(n) === 1 ? "" : "s"}`;
        replace(status, `${plural(graph.nodes.length, "thread")} · ${plural(graph.edges.length, "citing pair")} · ${plural(links, "citation")}`);
        replace(graphBox, graph.nodes.length ? citationGraph(graph) : h("p", { class: "muted" }, "no threads yet"));
        const rewards = (graph.edges || []).reduce((sum, e) => sum + big(e.choir), 0n);
        replace(legend, rewards ? `${units(rewards)} CHOIR credited through citation rewards` : "no citation rewards yet");
      } catch (err) {
        if (alive) replace(graphBox, errorBox(err));
      }
    },
    unmount() {
      alive = false;
    },
  };
}

function accountView(account) {
  let alive = true;
  const box = h("div");
  return {
    mount(root) {
      replace(root, h("section", { class: "card" }, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", {}, "Account"), h("div", { class: "muted" }, account), box));
    },
    async update() {
      try {
        const a = await api(`/accounts/${account}`);
        if (!alive) return;
        replace(
          box,
          h("dl", { class: "stats" }, h("dt", {}, "Balance"), h("dd", {}, choir(a.balance, "account-balance"))),
          h("h3", {}, "Equity"),
          (a.equity || []).length === 0
            ? h("p", { class: "muted" }, "none")
            : h("ul", {}, a.equity.map((e) => h("li", {}, h("a", { href: `#/thread/${e.thread_id}` }, `thread ${e.thread_id}`), `: ${percent(e.shares, e.total_shares)}`))),
          h("h3", {}, "Open stakes"),
          (a.open_stakes || []).length === 0
            ? h("p", { class: "muted" }, "none")
            : h("ul", {}, a.open_stakes.map((s) => h("li", {}, h("a", { href: `#/thread/${s.thread_id}` }, `thread ${s.thread_id}`), ` spec ${s.spec_id}: `, choir(s.stake)))),
          h("h3", {}, "Votes"),
          (a.votes || []).length === 0
            ? h("p", { class: "muted" }, "none")
            : h("ul", {}, a.votes.map((v) => h("li", {}, h("a", { href: `#/thread/${v.thread_id}` }, `thread ${v.thread_id}`), ` spec ${v.spec_id}: ${v.approve ? "approve" : "deny"}`))),
        );
      } catch (err) {
        if (alive) replace(box, errorBox(err));
      }
    },
    unmount() {
      alive = false;
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// Routing and start-up
// ------------------------------------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  let m;
  if ((m = hash.match(/^#\/thread\/(\d+)\/?$/))) return threadView(Number(m[1]));
  if ((m = hash.match(/^#\/account\/(0x[0-9a-fA-F]{40})\/?$/))) return accountView(m[1]);
  if (/^#\/network\/?$/.test(hash)) return networkView();
  return threadsView();
}

function render() {
  if (state.view) state.view.unmount();
  state.indexBehind = false;
  state.view = route();
  const root = document.getElementById("view");
  state.view.mount(root);
  window.scrollTo(0, 0);
  refresh();
}

function start() {
  window.addEventListener("hashchange", render);
  renderWallet();
  renderLive();
  renderEvents();
  listenToWallet();
  render();
  followEvents();
  setInterval(() => {
    if (state.live !== "sse") refresh();
  }, POLL_MS);
  setInterval(refresh, SAFETY_POLL_MS);
}

start();

// For scripted checks (the end-to-end test) and the console.
window.choir = { keccak256, refresh, state };
