// `#/`: every thread with its live price, sortable by any column, each with a price-history sparkline.

import { api, apiAll, itemsOf } from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { address, big, choir, compare, plural, short, time } from "../format.js";
import { chart, history } from "../history.js";
import { state } from "../state.js";
import { newThreadForm } from "./new-thread.js";

/** The orders the gateway sorts threads by (GET /threads?sort=&order=): [sort, order, label]. */
const SERVER_SORTS = [
  ["created", "asc", "oldest first"],
  ["created", "desc", "newest first"],
  ["price", "desc", "highest price"],
  ["price", "asc", "lowest price"],
  ["activity", "desc", "recently active"],
];

const COLUMNS = [
  { key: "thread_id", label: "#", num: true, get: (t) => Number(t.thread_id) },
  { key: "title", label: "Thread", get: (t) => String(t.title ?? "").toLowerCase() || "\uffff" },
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

/** One thread's row (`changed`: its price differs from the one shown before, so it flashes). */
function threadRow({ thread: t, points, changed }) {
  const open = (e) => {
    if (!e.target.closest("a")) location.hash = `#/thread/${t.thread_id}`;
  };
  const spark = points
    ? chart(points, { compact: true, width: 140, height: 32, now: Number(t.last_activity) || undefined, title: `thread ${t.thread_id} price history` })
    : h("span", { class: "muted" }, "…");
  return h(
    "tr",
    { class: "thread-row", "data-thread": t.thread_id, onclick: open },
    h("td", { class: "num" }, h("a", { href: `#/thread/${t.thread_id}`, "data-testid": `thread-link-${t.thread_id}` }, t.thread_id)),
    h(
      "td",
      { class: "title" },
      h("a", { href: `#/thread/${t.thread_id}`, title: t.title ? `${t.title} (${t.address})` : t.address, "data-testid": `thread-title-${t.thread_id}` }, t.title ?? h("span", { class: "muted" }, `untitled · ${short(t.address)}`)),
    ),
    h("td", {}, address(t.creator)),
    h("td", { class: "num" }, t.message_count),
    h("td", { class: "num" }, t.coauthor_count),
    h("td", { class: "num" }, choir(t.treasury)),
    h("td", { class: `num price ${changed ? "flash" : ""}` }, choir(t.price, `price-${t.thread_id}`)),
    h("td", { class: "num" }, t.last_price_round ?? "—"),
    h("td", { class: "num" }, t.citations_received ?? 0),
    h("td", {}, time(t.last_activity)),
    h("td", {}, time(t.created_timestamp)),
    h("td", { class: "spark" }, spark),
  );
}

/** A thread with its live price (GET /prices) and price history; `changed` when the price moved since last shown. */
async function threadRowData(t, live) {
  const p = live.get(String(t.thread_id));
  const thread = p ? { ...t, price: p.price, last_price_round: p.last_round ?? t.last_price_round } : t;
  const points = await history(thread.thread_id, thread.last_price_round).catch(() => null);
  const before = state.lastPrices.get(String(thread.thread_id));
  const changed = before !== undefined && before !== String(thread.price);
  state.lastPrices.set(String(thread.thread_id), String(thread.price));
  return { thread, points, changed };
}

export function threadsView() {
  let alive = true;
  const head = h("thead");
  const body = h("tbody", { "data-testid": "threads" });
  const status = h("div", { class: "status" });
  const form = newThreadForm();
  const filter = h("input", { type: "search", placeholder: "filter by title or creator", "data-testid": "thread-filter", oninput: () => renderRows() });
  const order = h(
    "select",
    { "data-testid": "thread-order", title: "the gateway's order (GET /threads?sort=&order=)", onchange: () => ((state.sort = { key: "server", dir: "asc" }), renderHead(), update()) },
    SERVER_SORTS.map(([sort, dir, label]) => h("option", { value: `${sort}:${dir}` }, label)),
  );
  let rows = [];

  function renderHead() {
    const cell = (c) => {
      const active = state.sort.key === c.key;
      const arrow = active ? (state.sort.dir === "asc" ? " ▲" : " ▼") : "";
      return h(
        "th",
        { class: c.num ? "num" : "", "aria-sort": active ? (state.sort.dir === "asc" ? "ascending" : "descending") : "none" },
        h("button", { class: "sort", "data-sort": c.key, onclick: () => sortBy(c.key, c.num) }, c.label + arrow),
      );
    };
    replace(head, h("tr", {}, COLUMNS.map(cell), h("th", {}, "Price history")));
  }

  function sortBy(key, numeric) {
    const { sort } = state;
    state.sort = sort.key === key ? { key, dir: sort.dir === "asc" ? "desc" : "asc" } : { key, dir: numeric && key !== "thread_id" ? "desc" : "asc" };
    renderHead();
    renderRows();
  }

  function renderRows() {
    const needle = filter.value.trim().toLowerCase();
    const shown = needle ? rows.filter(({ thread: t }) => `${t.title ?? ""} ${t.creator} ${t.thread_id}`.toLowerCase().includes(needle)) : rows;
    const column = COLUMNS.find((c) => c.key === state.sort.key);
    const sign = state.sort.dir === "asc" ? 1 : -1;
    const byId = (a, b) => compare(Number(a.thread.thread_id), Number(b.thread.thread_id));
    // "server" (or no column): the gateway's order as read
    const sorted = column ? [...shown].sort((a, b) => sign * compare(column.get(a.thread), column.get(b.thread)) || byId(a, b)) : shown;
    const empty = rows.length === 0 ? "no threads yet" : "no thread matches the filter";
    replace(body, sorted.length === 0 ? h("tr", {}, h("td", { colspan: COLUMNS.length + 1, class: "muted" }, empty)) : sorted.map(threadRow));
  }

  async function update() {
    try {
      const [sort, dir] = order.value.split(":");
      const [threads, prices] = await Promise.all([apiAll(`/threads?sort=${sort}&order=${dir}`), api("/prices").then(itemsOf, () => [])]);
      const live = new Map(prices.map((p) => [String(p.thread_id), p]));
      const next = await Promise.all(threads.map((t) => threadRowData(t, live)));
      if (!alive) return;
      rows = next;
      replace(status, plural(rows.length, "thread"));
      renderRows();
    } catch (err) {
      if (alive) replace(status, errorBox(err));
    }
  }

  return {
    mount(root) {
      renderHead();
      const table = h("div", { class: "table-wrap" }, h("table", { class: "threads" }, head, body));
      const tools = h("div", { class: "buttons list-tools" }, h("label", {}, "Order ", order), filter);
      replace(root, form, h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "Threads"), tools, status), table));
    },
    update,
    unmount() {
      alive = false;
    },
  };
}
