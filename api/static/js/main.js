// The Choir dashboard: threads with live prices, a page per thread, the citation network with semantic search, and
// wallet actions (EIP-1193) through the gateway's unsigned transactions. ES modules served as they are; the one
// library, @noble/hashes (keccak256), is copied from npm into vendor/ by `make setup`. Nothing is fetched from
// anywhere but the gateway.

import { keccak256 } from "../keccak.js";
import { updateHealth } from "./health.js";
import { POLL_MS, followEvents, renderEvents, renderLive } from "./live.js";
import { refresh, setRefreshPass } from "./refresh.js";
import { state } from "./state.js";
import { accountView } from "./views/account.js";
import { networkView } from "./views/network.js";
import { threadView } from "./views/thread.js";
import { threadsView } from "./views/threads.js";
import { listenToWallet, renderWallet } from "./wallet.js";

const SAFETY_POLL_MS = 15000; // refresh period with the event stream (live prices also change with time)

/** The view of the location's hash: `#/thread/{id}`, `#/account/{address}`, `#/network`, else the threads. */
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
  state.view.mount(document.getElementById("view"));
  window.scrollTo(0, 0);
  refresh();
}

function start() {
  setRefreshPass(() => Promise.all([updateHealth().then(renderWallet), state.view ? state.view.update() : null]));
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
