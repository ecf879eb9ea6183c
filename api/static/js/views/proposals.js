// A thread's governance: create its governor, propose (treasury transfers, a new approval window or threshold),
// vote (a transaction, or a signed ballot the gateway relays so the voter pays no gas), queue and execute; each proposal's
// state, deadlines and the exit window before it executes (GET /threads/{id}/proposals and the account's position).

import { h, replace } from "../dom.js";
import { UiError, errorBox } from "../errors.js";
import { choir, duration, parseUnits, shares, short, span, time, units } from "../format.js";
import { state } from "../state.js";
import { relaySignedVote, sendAction } from "../transactions.js";

const SUPPORT = [
  [1, "For"],
  [0, "Against"],
  [2, "Abstain"],
];

/** What a person must know before the proposal executes: until when a co-author who disagrees can leave with its
 * pro-rata share (the execution delay is at least the exit cooldown), and when this account's own exit opens. */
function exitWindow(p, position, now) {
  if (p.state !== "Queued" || !p.eta) return null;
  const eta = Number(p.eta);
  const parts = ["Exit window: a co-author who disagrees can exit with its share of the treasury before this executes, which it may from ", time(eta), now < eta ? ` (in ${span(eta - now)})` : " (now)"];
  if (position && position.exit_available_at !== null) {
    const opens = Number(position.exit_available_at);
    parts.push(opens <= now ? " · your exit is open now" : [" · your exit opens ", time(opens), opens < eta ? " (before it executes)" : " (after it may execute)"]);
  }
  return h("div", { class: "exit-window", "data-testid": "exit-window" }, parts);
}

function proposalActions(threadId, p, now) {
  const id = p.proposal_id;
  const label = (what) => `${what} proposal ${short(id, 6, 4)}`;
  const buttons = [];
  if (p.state === "Active") {
    for (const [support, name] of SUPPORT) {
      buttons.push(h("button", { class: "action", "data-testid": `cast-vote-${support}`, onclick: () => sendAction("castVote", { thread_id: threadId, proposal_id: id, support }, label(`Vote ${name} on`)) }, `Vote ${name.toLowerCase()}`));
    }
    buttons.push(h("button", { class: "action", "data-testid": "sign-vote", title: "Sign an EIP-712 ballot (For); the gateway relays it and pays the gas", onclick: () => relaySignedVote(threadId, id, 1, label("Signed vote For on")) }, "Sign vote for (no gas)"));
  }
  if (p.state === "Succeeded") buttons.push(h("button", { class: "action primary", "data-testid": "queue", onclick: () => sendAction("queue", { thread_id: threadId, proposal_id: id }, label("Queue")) }, "Queue"));
  if (p.state === "Queued") {
    const early = p.eta && now < Number(p.eta);
    buttons.push(h("button", { class: "action primary", "data-testid": "execute", title: early ? "the execution delay has not passed" : "", onclick: () => sendAction("execute", { thread_id: threadId, proposal_id: id }, label("Execute")) }, "Execute"));
  }
  return buttons.length ? h("div", { class: "buttons" }, buttons) : null;
}

function proposalCard(threadId, p, position, now) {
  const when = (label, ts) => [h("dt", {}, label), h("dd", {}, time(ts), ts && now < Number(ts) ? h("span", { class: "muted" }, ` (in ${span(Number(ts) - now)})`) : null)];
  return h(
    "article",
    { class: "proposal", "data-testid": "proposal", "data-proposal": p.proposal_id, "data-state": p.state },
    h("header", {}, h("strong", { title: p.proposal_id }, `Proposal ${short(p.proposal_id, 6, 4)}`), " ", h("span", { class: `status ${String(p.state).toLowerCase()}`, "data-testid": "proposal-state" }, p.state), " · ", p.description),
    h(
      "dl",
      { class: "stats small" },
      when("Voting opens", p.snapshot),
      when("Voting ends", p.deadline),
      when("Executes from (ETA)", p.eta),
      h("dt", {}, "For / against / abstain"),
      h("dd", { "data-testid": "proposal-votes" }, shares(p.votes_for), " / ", shares(p.votes_against), " / ", shares(p.votes_abstain)),
    ),
    exitWindow(p, position, now),
    proposalActions(threadId, p, now),
  );
}

/** The proposal form: a description, a treasury transfer and/or a new approval window or approval threshold. */
export function proposeForm(threadId) {
  const description = h("input", { "data-testid": "proposal-description", placeholder: "What and why" });
  const to = h("input", { "data-testid": "proposal-to", placeholder: "0x… recipient" });
  const amount = h("input", { "data-testid": "proposal-amount", inputmode: "decimal", placeholder: "CHOIR" });
  const windowDays = h("input", { "data-testid": "proposal-window", inputmode: "decimal", placeholder: "days" });
  const thresholdPercent = h("input", { "data-testid": "proposal-threshold", inputmode: "decimal", placeholder: "50.01 to 100" });
  const error = h("div");
  const propose = async () => {
    replace(error);
    try {
      const fields = { thread_id: threadId, description: description.value.trim(), transfers: [] };
      if (!fields.description) throw new UiError("describe the proposal", "empty_description", "description");
      if (to.value.trim() || amount.value.trim()) fields.transfers.push({ to: to.value.trim(), amount: parseUnits(amount.value, "amount").toString() });
      if (windowDays.value.trim()) fields.approval_window = String(Math.round(Number(windowDays.value) * 86400));
      if (thresholdPercent.value.trim()) fields.approval_threshold = String(Math.round(Number(thresholdPercent.value) * 100));
      const what = [
        fields.transfers.length ? `transfer ${units(fields.transfers[0].amount)} CHOIR` : null,
        fields.approval_window ? `approval window ${duration(fields.approval_window)}` : null,
        fields.approval_threshold ? `approval threshold ${Number(fields.approval_threshold) / 100}%` : null,
      ].filter(Boolean).join(", ");
      if (await sendAction("propose", fields, `Propose ${what || "an action"}`)) for (const input of [description, to, amount, windowDays, thresholdPercent]) input.value = "";
    } catch (err) {
      replace(error, errorBox(err));
    }
  };
  return h(
    "details",
    { class: "propose" },
    h("summary", {}, "New proposal"),
    h("label", {}, "Description", description),
    h("div", { class: "row" }, h("label", {}, "Treasury transfer to", to), h("label", {}, "Amount (CHOIR)", amount)),
    h("label", {}, "and/or a new approval window (days)", windowDays),
    h("label", {}, "and/or a new approval threshold (% of the votes cast)", thresholdPercent),
    h("div", { class: "buttons" }, h("button", { class: "action primary", "data-testid": "propose", onclick: propose }, "Propose")),
    error,
  );
}

/** The governance card of a thread (`thread`: its detail; `position`: the connected account's, or null; `now`: the
 * chain's time). The propose form is built once per page (`form`), so refreshes keep what the user types. */
export function governance(threadId, list, thread, position, now, form) {
  const outsider = position !== null && position !== undefined && BigInt(position.shares) === 0n;
  if (thread && !thread.governor) {
    const create = () => sendAction("createGovernor", { thread_id: threadId }, `Create the governor of thread ${threadId}`);
    return [
      h("p", { class: "muted" }, "no governor yet: its co-authors vote on treasury transfers and the approval window once it exists"),
      outsider ? h("p", { class: "muted" }, "a co-author creates it") : h("button", { class: "action primary", "data-testid": "create-governor", onclick: create }, "Create governor"),
    ];
  }
  const cards = [...list].reverse().map((p) => proposalCard(threadId, p, position, now));
  const treasury = thread ? h("p", { class: "muted" }, "Treasury ", choir(thread.treasury), " · approval window ", duration(thread.approval_window)) : null;
  return [treasury, cards.length ? h("div", { "data-testid": "proposals" }, cards) : h("p", { class: "muted" }, "no proposals"), state.wallet.account && !outsider ? form : null];
}
