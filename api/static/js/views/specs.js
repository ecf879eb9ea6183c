// A thread's specs: the pending ones as cards (body, votes, vote and settle buttons) and the settled ones as a table.

import { h } from "../dom.js";
import { address, authorKind, choir, novelty, time } from "../format.js";
import { state } from "../state.js";
import { sendAction } from "../transactions.js";

function bodyOf(messages, index) {
  const m = messages.find((x) => Number(x.index) === Number(index));
  return m ? m.body : null;
}

/** Vote buttons for co-authors (and before a wallet is connected: voting connects it); settle for anyone. */
function specButtons(threadId, s, mine, coauthor) {
  const spec_id = Number(s.spec_id);
  const vote = (approve) => () => sendAction("vote", { thread_id: threadId, spec_id, approve }, `${approve ? "Approve" : "Deny"} spec ${s.spec_id}`);
  const settle = () => sendAction("settle", { thread_id: threadId, spec_id }, `Settle spec ${s.spec_id}`);
  return h(
    "div",
    { class: "buttons" },
    mine ? h("span", { class: "muted" }, `you voted ${mine.approve ? "approve" : "deny"}`) : null,
    coauthor === false ? h("span", { class: "muted" }, "co-authors vote; anyone may settle") : null,
    coauthor !== false ? h("button", { class: "action yes", "data-testid": "vote-approve", disabled: state.busy, onclick: vote(true) }, "Approve") : null,
    coauthor !== false ? h("button", { class: "action no", "data-testid": "vote-deny", disabled: state.busy, onclick: vote(false) }, "Deny") : null,
    h("button", { class: "action", "data-testid": "settle", disabled: state.busy, onclick: settle }, "Settle"),
  );
}

/** A pending spec's card; `messages`: the thread's messages shown (a spec's body is its message's); `coauthor`:
 * whether the connected account is a co-author (null: unknown, no wallet or thread yet). */
function specCard(threadId, s, messages, coauthor) {
  const body = bodyOf(messages, s.spec_id);
  const me = state.wallet.account?.toLowerCase();
  const mine = (s.votes || []).find((v) => v.voter.toLowerCase() === me);
  const head = h(
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
  );
  const votes = h(
    "div",
    { class: "votes" },
    h("span", { class: "tally", "data-testid": "tally" }, `${s.approvals} approve · ${s.denials} deny · ${s.eligible} eligible`),
    (s.votes || []).map((v) => h("span", { class: `vote ${v.approve ? "yes" : "no"}` }, address(v.voter), v.approve ? " ✓" : " ✗")),
  );
  return h(
    "article",
    { class: "spec", "data-testid": "spec", "data-spec": s.spec_id, "data-author": s.author },
    head,
    body !== null && body !== undefined ? h("blockquote", { class: "body" }, body) : h("p", { class: "muted" }, "body not stored"),
    votes,
    specButtons(threadId, s, mine, coauthor),
  );
}

export function pendingSpecs(threadId, specs, messages, thread) {
  const pending = specs.filter((s) => s.status === "pending");
  const me = state.wallet.account?.toLowerCase();
  const coauthor = me && thread ? (thread.coauthors || []).some((c) => c.account.toLowerCase() === me) : null;
  return pending.length === 0 ? h("p", { class: "muted" }, "no pending specs") : pending.map((s) => specCard(threadId, s, messages, coauthor));
}

export function settledSpecs(specs) {
  const settled = specs.filter((s) => s.status !== "pending").sort((a, b) => Number(b.spec_id) - Number(a.spec_id));
  if (settled.length === 0) return h("p", { class: "muted" }, "none yet");
  const row = (s) =>
    h(
      "tr",
      { "data-testid": "settled-spec", "data-spec": s.spec_id, "data-status": s.status },
      h("td", {}, s.spec_id),
      h("td", {}, address(s.author)),
      h("td", { class: "num" }, choir(s.stake)),
      h("td", {}, h("span", { class: `status ${s.status}` }, s.status)),
      h("td", {}, `${s.approvals} ✓ / ${s.denials} ✗`),
    );
  return h(
    "table",
    { class: "small" },
    h("thead", {}, h("tr", {}, ["Spec", "Author", "Stake", "Outcome", "Votes"].map((x) => h("th", {}, x)))),
    h("tbody", {}, settled.map(row)),
  );
}
