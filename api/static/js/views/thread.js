// `#/thread/{id}`: a thread's price and figures, its price history, pending specs with the spec form, equity,
// citations, proposals, settled specs and messages. Each section is read on its own: one failing shows its error.

import { api, apiAll, apiPage, itemsOf, pageSize } from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { chart, history } from "../history.js";
import { refresh } from "../refresh.js";
import { state } from "../state.js";
import { positionPart } from "./position.js";
import { governance, proposeForm } from "./proposals.js";
import { rewardsByEpoch } from "./rewards.js";
import { specForm } from "./spec-form.js";
import { pendingSpecs, settledSpecs } from "./specs.js";
import { citationLists, coauthorsTable, messageList, pushedText, threadHead, threadStats } from "./thread-parts.js";

const HISTORY_PAGES = 5;

/** Everything the page reads of thread `threadId` (settled promises); `messageOffset` null: the newest page. */
function readThread(threadId, messageOffset) {
  const messages = async () => {
    const path = `/threads/${threadId}/messages`;
    if (messageOffset !== null) return apiPage(path, messageOffset);
    const first = await apiPage(path, 0);
    const total = Number(first.total ?? 0);
    return total > pageSize ? apiPage(path, total - pageSize) : first;
  };
  return Promise.allSettled([
    api(`/threads/${threadId}`),
    messages(),
    apiAll(`/threads/${threadId}/specs`),
    api(`/threads/${threadId}/proposals`).then(itemsOf),
    api("/prices").then(itemsOf),
    api(`/threads/${threadId}/graph`),
    state.wallet.account ? api(`/threads/${threadId}/positions/${state.wallet.account}`) : Promise.resolve(null),
  ]);
}

/** The page's cards: the head, the price history, pending specs and the form beside the side cards, messages. */
function layout(root, sections, formNode) {
  const card = (title, section) => h("section", { class: "card" }, h("h3", {}, title), section);
  const side = [
    card("Your position", sections.position),
    card("Equity", sections.coauthors),
    card("Governance", sections.proposals),
    card("Settled specs", sections.settled),
    card("Rewards by epoch", sections.rewards),
    card("Citations", sections.citations),
  ];
  replace(
    root,
    h("section", { class: "card" }, sections.head, sections.stats),
    card("Price history", sections.chart),
    h("div", { class: "columns" }, h("div", {}, card("Pending specs", sections.pending), formNode), h("div", {}, side)),
    card("Messages", sections.messages),
  );
}

export function threadView(threadId) {
  let alive = true;
  let thread = null;
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
    position: h("div", { "data-testid": "position" }),
    rewards: h("div", { class: "table-wrap" }),
  };
  const propose = proposeForm(threadId);
  const form = specForm(threadId);
  const pushedNote = h("div", { class: "muted pushed" });
  const goTo = (offset) => {
    messageOffset = offset;
    refresh();
  };

  /** The head, figures and co-authors of the thread's detail. */
  function showThread(t) {
    thread = t;
    replace(sections.head, threadHead(t, pushedNote));
    replace(sections.stats, threadStats(t));
    form.showPrice(t);
    replace(sections.coauthors, coauthorsTable(t));
  }

  /** The price history (the last HISTORY_PAGES pages) and where the live price comes from. */
  async function showHistory(t, prices) {
    try {
      const points = await history(threadId, t.last_price_round, HISTORY_PAGES);
      if (!alive) return;
      const onchain = prices.status === "fulfilled" ? prices.value.find((p) => Number(p.thread_id) === threadId) : undefined;
      const pushed = pushedText(t, points, onchain);
      state.indexBehind = pushed.indexBehind;
      replace(pushedNote, pushed.text);
      const options = { width: 1200, height: 260, now: Number(t.last_activity) || undefined, title: `thread ${threadId} price history` };
      replace(sections.chart, chart(points, options));
    } catch (err) {
      replace(sections.chart, errorBox(err));
    }
  }

  /** `section` shows `render(value)` of a fulfilled read, or the read's error. */
  function show(section, read, render) {
    replace(section, read.status === "fulfilled" ? render(read.value) : errorBox(read.reason));
  }

  return {
    mount(root) {
      layout(root, sections, form.node);
    },
    async update() {
      const [t, page, specs, proposals, prices, graph, position] = await readThread(threadId, messageOffset);
      if (!alive) return;
      if (t.status === "rejected") {
        replace(sections.head, h("div", {}, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", {}, `Thread #${threadId}`)), errorBox(t.reason));
        return;
      }
      showThread(t.value);
      await showHistory(t.value, prices);
      let messages = [];
      show(sections.messages, page, (value) => {
        const list = messageList(value, goTo);
        messages = list.messages;
        return list.nodes;
      });
      show(sections.pending, specs, (value) => pendingSpecs(threadId, value, messages, thread));
      show(sections.settled, specs, settledSpecs);
      const mine = position.status === "fulfilled" ? position.value : null;
      const now = mine ? Number(mine.now) : Math.floor(Date.now() / 1000);
      show(sections.position, position, (value) => positionPart(threadId, value));
      show(sections.proposals, proposals, (value) => governance(threadId, value, thread, mine, now, propose));
      show(sections.rewards, page, () => rewardsByEpoch(messages, threadId));
      show(sections.citations, graph, (value) => citationLists(value, threadId));
    },
    unmount() {
      alive = false;
    },
  };
}
