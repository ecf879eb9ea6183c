// The parts of a thread's page: its head and figures, where its price comes from, its co-authors, its messages
// and the citations in and out.

import { pageSize, itemsOf } from "../api.js";
import { h } from "../dom.js";
import { address, authorKind, big, choir, compare, duration, messageRef, novelty, percent, plural, shares, short, time, units, utcMinute } from "../format.js";

export function threadHead(t, pushedNote) {
  return [
    h("div", {}, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", { "data-testid": "thread-title" }, `Thread #${t.thread_id}`, t.title ? `: ${t.title}` : ""), h("div", { class: "muted", title: t.address }, t.address)),
    h("div", { class: "big-price" }, h("div", { class: "muted" }, "stake price (live)"), choir(t.price, "thread-price"), pushedNote),
  ];
}

/** A thread's approval threshold in basis points, as a reader says it: unanimity, or a share of the votes cast. */
export function threshold(bps) {
  if (bps == null) return "—";
  return bps >= 10000 ? "unanimity of the votes cast" : `${bps / 100}% of the votes cast`;
}

export function threadStats(t) {
  const stat = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  return [
    stat("Treasury", choir(t.treasury, "treasury")),
    stat("Locked stakes", choir(t.locked)),
    stat("Last price round (indexed)", h("span", { "data-testid": "last-round" }, t.last_price_round ?? "—")),
    stat("Messages", t.message_count),
    stat("Co-authors", t.coauthor_count),
    stat("Total shares", shares(t.total_shares)),
    stat("Citations received", t.citations_received ?? 0),
    stat("Approval window", t.approval_window ? duration(t.approval_window) : "—"),
    stat("Approval threshold", h("span", { "data-testid": "approval-threshold" }, threshold(t.approval_threshold))),
    stat("Creator", address(t.creator)),
    stat("Created", time(t.created_timestamp)),
    stat("Last activity", time(t.last_activity)),
    stat("Governor", t.governor ? h("span", { title: t.governor }, short(t.governor)) : "none"),
  ];
}

/** Where the live price comes from: the last pushed round (`onchain`: this thread's entry of GET /prices).
 * Returns { text, indexBehind } (indexBehind: the chain has a round the index does not have yet). */
export function pushedText(t, points, onchain) {
  const last = points[points.length - 1];
  const round = Number(onchain?.last_round ?? 0);
  if (round && (!last || round > Number(last.round))) return { text: `price pushed in round ${round}; the index is catching up`, indexBehind: true };
  if (!last) return { text: "no price pushed yet: the hub answers its fallback price", indexBehind: false };
  const when = utcMinute(last.timestamp);
  const stale = String(last.price) !== String(t.price);
  const text = stale
    ? `last pushed ${units(last.price)} CHOIR (round ${last.round}, ${when} UTC) is stale: the hub answers the larger of it and its fallback price`
    : `pushed in round ${last.round}, ${when} UTC`;
  return { text, indexBehind: false };
}

export function coauthorsTable(t) {
  const list = [...(t.coauthors || [])].sort((a, b) => compare(big(b.shares), big(a.shares)));
  const bar = (c) => h("span", { class: "bar", style: `--w:${Number((big(c.shares) * 1000n) / (big(t.total_shares) || 1n)) / 10}%` });
  const row = (c) =>
    h(
      "tr",
      {},
      h("td", {}, address(c.account)),
      h("td", { class: "num" }, shares(c.shares)),
      h("td", { class: "num" }, bar(c), percent(c.shares, t.total_shares)),
      h("td", {}, time(c.joined_timestamp)),
    );
  return h(
    "table",
    { class: "small", "data-testid": "coauthors" },
    h("thead", {}, h("tr", {}, h("th", {}, "Co-author"), h("th", { class: "num" }, "Shares"), h("th", { class: "num" }, "Equity"), h("th", {}, "Joined"))),
    h("tbody", {}, list.length === 0 ? h("tr", {}, h("td", { colspan: 4, class: "muted" }, "none")) : list.map(row)),
  );
}

function messageItem(m) {
  const head = h(
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
  );
  const body =
    m.body !== null && m.body !== undefined
      ? h("div", { class: "body" }, m.body)
      : h("div", { class: "muted hashline", title: m.content_hash }, "body not stored · ", h("code", {}, short(m.content_hash, 10, 8)));
  return h("li", { class: `message kind-${m.kind}`, "data-index": m.index }, head, body);
}

/** One page of a thread's messages with a pager; `goTo(offset)` shows another page (null: the newest).
 * Returns { nodes, messages }. */
export function messageList(page, goTo) {
  const messages = itemsOf(page);
  const total = Number(page.total ?? messages.length);
  const offset = Number(page.offset ?? 0);
  const size = Number(page.limit ?? pageSize);
  const pager =
    total > size
      ? h(
          "div",
          { class: "pager" },
          h("button", { disabled: offset === 0, onclick: () => goTo(Math.max(0, offset - size)) }, "← older"),
          ` ${offset + 1}–${offset + messages.length} of ${total} `,
          h("button", { disabled: offset + messages.length >= total, onclick: () => goTo(offset + size >= total - size ? null : offset + size) }, "newer →"),
        )
      : null;
  const list = messages.length === 0 ? h("p", { class: "muted" }, "no messages") : h("ol", { class: "messages", "data-testid": "messages" }, messages.map(messageItem));
  return { nodes: [pager, list], messages };
}

/** The threads `threadId` cites and is cited by, from its citation graph (GET /threads/{id}/graph). */
export function citationLists(graph, threadId) {
  const edgesOf = (out) => graph.edges.filter((e) => Number(out ? e.source : e.target) === threadId);
  const line = (e, out) => {
    const other = out ? e.target : e.source;
    const reward = big(e.choir);
    return h("li", {}, h("a", { href: `#/thread/${other}` }, `thread ${other}`), ` · ${plural(e.citations, "citation")}`, reward ? [" · ", choir(reward)] : null);
  };
  const list = (out) => {
    const found = edgesOf(out);
    return found.length ? h("ul", {}, found.map((e) => line(e, out))) : h("p", { class: "muted" }, "none");
  };
  return [
    h("h4", {}, `Cites (${graph.citations_out})`),
    list(true),
    h("h4", {}, `Cited by (${graph.citations_in})`),
    list(false),
    h("a", { href: "#/network" }, "the whole network →"),
  ];
}
