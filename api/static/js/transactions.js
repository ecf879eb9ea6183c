// Wallet actions through the gateway's unsigned transactions (POST /tx/<action>), message bodies through
// POST /content, and the activity log that shows each of them.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { UiError, errorBox } from "./errors.js";
import { short } from "./format.js";
import { refreshSoon } from "./refresh.js";
import { state } from "./state.js";
import { connectWallet, provider, walletError } from "./wallet.js";

const RECEIPT_TIMEOUT_MS = 180000;

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
  document.getElementById("activity-log").prepend(row);
  document.getElementById("activity").hidden = false;
  const finish = (ok, text) => {
    row.className = `tx ${ok ? "ok" : "fail"}`;
    row.dataset.state = ok ? "ok" : "fail";
    status.textContent = text;
  };
  return {
    step(text) {
      status.textContent = text;
    },
    done(ok, text, extra) {
      finish(ok, text);
      if (extra) replace(detail, extra);
    },
    fail(err) {
      finish(false, "failed:");
      replace(detail, errorBox(err));
    },
  };
}

/** The gateway's unsigned transaction for `action`, checked against the wallet's chain. */
async function prepare(action, fields) {
  const tx = await api(`/tx/${action}`, { method: "POST", body: { from: state.wallet.account, ...fields } });
  const txChain = tx.chainId !== undefined && tx.chainId !== null ? Number(BigInt(tx.chainId)) : null;
  if (txChain !== null && state.wallet.chainId !== null && txChain !== state.wallet.chainId) {
    throw new UiError(`the wallet is on chain ${state.wallet.chainId} but this gateway serves chain ${txChain}: switch networks in the wallet`, "wrong_chain");
  }
  return tx;
}

/** Ask the gateway for the unsigned transaction of `action`, have the wallet send it, wait for the receipt.
 * Returns the receipt of a successful transaction, else null (the activity log shows why). */
export async function sendAction(action, fields, label) {
  const entry = logEntry(label, action);
  setBusy(true);
  try {
    if (!state.wallet.account) await connectWallet();
    entry.step("preparing the transaction…");
    const tx = await prepare(action, fields);
    entry.step("waiting for the wallet…");
    let hash;
    try {
      hash = await provider().request({ method: "eth_sendTransaction", params: [walletTx(tx)] });
    } catch (err) {
      throw walletError(err);
    }
    entry.step(`sent ${short(hash, 10, 6)}, waiting for the receipt…`);
    return await settled(entry, hash, "success", "");
  } catch (err) {
    entry.fail(err);
    return null;
  } finally {
    setBusy(false);
  }
}

/** Wait for `hash`'s receipt and close the log `entry` with its outcome ("<success> in block N<suffix>"); the
 * receipt when it succeeded, else null. */
async function settled(entry, hash, success, suffix) {
  const receipt = await waitForReceipt(hash);
  const ok = receipt.status === "0x1" || receipt.status === 1 || receipt.status === "1";
  const block = Number(BigInt(receipt.blockNumber));
  entry.done(ok, `${ok ? success : "reverted"} in block ${block}${suffix}`, h("code", { title: hash }, short(hash, 10, 6)));
  refreshSoon();
  return ok ? receipt : null;
}

/** A governance vote signed with EIP-712 (`eth_signTypedData_v4`) and relayed by the gateway, which pays the gas:
 * the gateway's ballot (domain and nonce), the wallet's signature, `POST /tx/relayVote`, then the receipt. */
export async function relaySignedVote(threadId, proposalId, support, label) {
  const entry = logEntry(label, "relayVote");
  setBusy(true);
  try {
    if (!state.wallet.account) await connectWallet();
    const voter = state.wallet.account;
    entry.step("preparing the ballot…");
    const fields = { from: voter, thread_id: threadId, proposal_id: String(proposalId), support };
    const typed = await api("/tx/ballot", { method: "POST", body: fields });
    entry.step("waiting for the wallet's signature…");
    let signature;
    try {
      signature = await provider().request({ method: "eth_signTypedData_v4", params: [voter, JSON.stringify(typed)] });
    } catch (err) {
      throw walletError(err);
    }
    entry.step("relaying…");
    const { tx_hash: hash } = await api("/tx/relayVote", { method: "POST", body: { ...fields, signature } });
    entry.step(`relayed ${short(hash, 10, 6)}, waiting for the receipt…`);
    return await settled(entry, hash, "counted", ", gas paid by the gateway");
  } catch (err) {
    entry.fail(err);
    return null;
  } finally {
    setBusy(false);
  }
}

/** Store a message body right after its transaction's receipt: `txHash` (the receipt's transaction hash) lets
 * the gateway check the message on chain before the indexer has seen it (POST /content with `tx_hash`). */
export async function storeBody(body, txHash) {
  const entry = logEntry("Store message body", "content");
  try {
    const stored = await api("/content", { method: "POST", body: txHash ? { body, tx_hash: txHash } : { body } });
    entry.done(true, "stored", h("code", { title: stored.content_hash }, short(stored.content_hash, 10, 6)));
    refreshSoon();
    return stored;
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
