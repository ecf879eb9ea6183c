// What the page knows between refreshes: the wallet, the gateway's health, the live feed, caches, the view shown.

export const state = {
  wallet: { account: null, chainId: null },
  health: null,
  live: "connecting", // "sse" | "polling" | "connecting"
  events: [],
  history: new Map(), // `${thread id}/${pages}` -> { round, points }
  lastPrices: new Map(), // thread id -> last shown live price (to flash changes)
  sort: { key: "thread_id", dir: "asc" },
  busy: false,
  view: null,
  indexBehind: false, // the page saw a price round on chain that the index does not have yet
};

/** Whether `addr` is the connected wallet's account. */
export function isMine(addr) {
  return Boolean(state.wallet.account && addr && addr.toLowerCase() === state.wallet.account.toLowerCase());
}
