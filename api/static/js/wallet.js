// The wallet (EIP-1193, `window.ethereum`): connecting, following account and chain changes, the header's chip.

import { h, replace } from "./dom.js";
import { UiError, errorBox } from "./errors.js";
import { address } from "./format.js";
import { refresh } from "./refresh.js";
import { state } from "./state.js";

export function provider() {
  if (!window.ethereum || typeof window.ethereum.request !== "function") {
    throw new UiError("no EIP-1193 wallet found (window.ethereum): install or unlock a wallet", "no_wallet");
  }
  return window.ethereum;
}

/** EIP-1193's provider error codes, in words. */
const WALLET_CODES = {
  4001: "you rejected the request in the wallet",
  4100: "the wallet has not authorized this account or method",
  4200: "the wallet does not support this request",
  4900: "the wallet is disconnected from every chain",
  4901: "the wallet is not connected to this chain",
};

/** A wallet's error as a UiError with code `wallet_<its code>`, its standard meaning first. */
export function walletError(err) {
  if (err instanceof UiError) return err;
  const code = err?.code !== undefined ? `wallet_${err.code}` : "wallet_error";
  const meaning = WALLET_CODES[err?.code];
  const message = err?.message ?? String(err);
  return new UiError(meaning ? `${meaning} (${message})` : message, code);
}

export async function connectWallet() {
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

export function listenToWallet() {
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

/** The header's wallet box: a connect button, or the account and its chain (flagged when not the gateway's). */
export function renderWallet() {
  const box = document.getElementById("wallet");
  const { account, chainId } = state.wallet;
  if (!account) {
    const connect = () => connectWallet().catch((err) => showWalletError(err));
    replace(box, h("button", { id: "connect", class: "primary", "data-testid": "connect", onclick: connect }, "Connect wallet"));
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
