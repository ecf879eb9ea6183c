// Re-reading what the page shows: on demand, coalesced, again shortly after an event (the indexer writes what an
// event announces just after it is mined), and each second while the index trails the chain.

import { state } from "./state.js";

let pass = async () => {};
let refreshing = null;
let refreshAgain = false;
let catchUpTimer = null;
let followUps = false;

/** What one refresh does (set once at start-up: the header's health and wallet, then the view). */
export function setRefreshPass(fn) {
  pass = fn;
}

/** Re-read what the page shows; concurrent calls coalesce into one more pass. */
export function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        await pass();
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

/** While the index trails the chain (what an event announced is not in the database yet), look again each second. */
function catchUp() {
  const lag = Number(state.health?.indexer_lag ?? 0) > 0 || state.indexBehind;
  if (!lag || catchUpTimer) return;
  catchUpTimer = setTimeout(() => {
    catchUpTimer = null;
    refresh();
  }, 1000);
}

/** Now, and again a little later (the indexer writes what an event announces shortly after it is mined); a burst
 * of events shares the later passes. */
export function refreshSoon() {
  refresh();
  if (followUps) return;
  followUps = true;
  setTimeout(refresh, 1200);
  setTimeout(() => {
    followUps = false;
    refresh();
  }, 3500);
}
