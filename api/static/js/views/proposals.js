// A thread's governance: its governor's proposals (GET /threads/{id}/proposals) with their state and votes.

import { h } from "../dom.js";
import { shares, short, time } from "../format.js";

const HEADINGS = ["Proposal", "Description", "State", "For", "Against", "Abstain", "Voting ends", "ETA"];

function proposalRow(p) {
  return h(
    "tr",
    {},
    h("td", { title: p.proposal_id }, short(p.proposal_id, 6, 4)),
    h("td", {}, p.description),
    h("td", {}, h("span", { class: `status ${String(p.state).toLowerCase()}` }, p.state)),
    h("td", { class: "num" }, shares(p.votes_for)),
    h("td", { class: "num" }, shares(p.votes_against)),
    h("td", { class: "num" }, shares(p.votes_abstain)),
    h("td", {}, time(p.deadline)),
    h("td", {}, time(p.eta)),
  );
}

/** The proposals table of a thread (`thread`: its detail once read, to say when it has no governor yet). */
export function proposalsTable(list, thread) {
  if (list.length === 0) return h("p", { class: "muted" }, thread && !thread.governor ? "no governor yet" : "no proposals");
  return h(
    "table",
    { class: "small", "data-testid": "proposals" },
    h("thead", {}, h("tr", {}, HEADINGS.map((x) => h("th", {}, x)))),
    h("tbody", {}, list.map(proposalRow)),
  );
}
