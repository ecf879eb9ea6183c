// Amounts, addresses, times and message references as the page shows them.

import { h } from "./dom.js";
import { UiError } from "./errors.js";
import { AUTHOR_KINDS, splitMessageId } from "./protocol.js";
import { isMine } from "./state.js";

const WEI = 10n ** 18n;

/** `value` as a BigInt; 0n when it is not an integer. */
export function big(value) {
  try {
    return BigInt(value ?? 0);
  } catch {
    return 0n;
  }
}

/** Wei as CHOIR, truncated to `decimals` places, with thousands separators. */
export function units(wei, decimals = 4) {
  let v = big(wei);
  const negative = v < 0n;
  if (negative) v = -v;
  const whole = (v / WEI).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = (v % WEI).toString().padStart(18, "0").slice(0, decimals).replace(/0+$/, "");
  return (negative ? "-" : "") + whole + (frac ? "." + frac : "");
}

/** Wei as an exact decimal CHOIR string (for inputs). */
export function exactUnits(wei) {
  const v = big(wei);
  const frac = (v % WEI).toString().padStart(18, "0").replace(/0+$/, "");
  return (v / WEI).toString() + (frac ? "." + frac : "");
}

/** "12.5" CHOIR -> wei (BigInt). */
export function parseUnits(text, field) {
  const m = String(text).trim().match(/^(\d+)(?:\.(\d{0,18}))?$/);
  if (!m) throw new UiError(`"${text}" is not an amount of CHOIR (up to 18 decimals)`, "invalid_amount", field);
  return BigInt(m[1]) * WEI + BigInt((m[2] || "").padEnd(18, "0"));
}

/** An amount of CHOIR (4 decimals), its full precision on hover (title) and its exact wei in `data-wei`. */
export function choir(wei, testid) {
  const exact = String(big(wei));
  const title = `${exactUnits(wei)} CHOIR (${exact} wei)`;
  return h("span", { class: "amount", title, "data-wei": exact, "data-testid": testid }, units(wei), h("small", {}, " CHOIR"));
}

export function short(value, head = 6, tail = 4) {
  const s = String(value ?? "");
  return s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s;
}

/** -1, 0 or 1 (for sorting numbers, BigInts and strings alike). */
export function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "3 threads", "1 thread". */
export function plural(n, word) {
  return `${n} ${word}${Number(n) === 1 ? "" : "s"}`;
}

/** An account, linked to its page; "(you)" for the connected wallet's. */
export function address(addr) {
  if (!addr) return h("span", { class: "muted" }, "—");
  const mine = isMine(addr);
  return h("a", { class: mine ? "addr mine" : "addr", href: `#/account/${addr}`, title: addr }, short(addr), mine ? " (you)" : "");
}

/** A Unix timestamp as "YYYY-MM-DD hh:mm" (UTC). */
export function utcMinute(ts) {
  return new Date(Number(ts) * 1000).toISOString().slice(0, 16).replace("T", " ");
}

export function time(ts) {
  if (ts === null || ts === undefined || ts === "") return h("span", { class: "muted" }, "—");
  const iso = new Date(Number(ts) * 1000).toISOString();
  return h("time", { datetime: iso, title: iso }, utcMinute(ts) + " UTC");
}

export function duration(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s)) return "—";
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  return `${s} s`;
}

export function percent(part, total) {
  const t = big(total);
  if (t === 0n) return "—";
  const bp = (big(part) * 10000n) / t;
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, "0")} %`;
}

/** A global message id as "thread:index", linked to its thread. */
export function messageRef(globalId) {
  const [thread, index] = splitMessageId(big(globalId));
  return h("a", { href: `#/thread/${thread}`, class: "ref", title: `global id ${big(globalId)}` }, `${thread}:${index}`);
}

export function shares(value) {
  return h("span", { title: `${exactUnits(value)} shares (${big(value)} units)` }, units(value, 4));
}

/** Seconds as "2 d 3 h", "5 h 10 min", "45 s" (a wait or a window). */
export function span(seconds) {
  let s = Math.max(0, Math.round(Number(seconds)));
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d) return hh ? `${d} d ${hh} h` : `${d} d`;
  if (hh) return mm ? `${hh} h ${mm} min` : `${hh} h`;
  if (mm) return s ? `${mm} min ${s} s` : `${mm} min`;
  return `${s} s`;
}

export function authorKind(kind) {
  const label = (AUTHOR_KINDS.find(([k]) => k === kind) || [kind, kind ?? "unknown"])[1];
  return h("span", { class: `author-kind ak-${kind}`, "data-testid": "author-kind", "data-kind": kind, title: label }, kind === "ai_prompted" ? "ai·prompted" : kind);
}

/** A scored message's novelty (1 - max similarity) and weight, and its reward once its epoch's allocation paid it;
 *  nothing when neither. */
export function novelty(m) {
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
