// The connected account's position in a thread (GET /threads/{id}/positions/{address}): its equity, what an exit
// would pay now and when it may leave, and the curator shares of denied or split specs it may claim.

import { h } from "../dom.js";
import { choir, percent, shares, span, time, units } from "../format.js";
import { sendAction } from "../transactions.js";

function claims(threadId, position) {
  const list = position.claimable || [];
  if (list.length === 0) return h("p", { class: "muted", "data-testid": "claimable" }, "no curator rewards to claim");
  const total = list.reduce((sum, c) => sum + BigInt(c.amount), 0n);
  const claim = () => sendAction("claimCuratorRewards", { thread_id: threadId, spec_ids: list.map((c) => c.spec_id) }, `Claim ${units(total)} CHOIR of curator rewards`);
  return h(
    "div",
    { "data-testid": "claimable" },
    h("p", {}, "Curator rewards (your share of specs you denied): ", list.map((c, i) => [i ? ", " : "", `spec ${c.spec_id} `, choir(c.amount)])),
    h("button", { class: "action primary", "data-testid": "claim-curator", onclick: claim }, "Claim ", choir(total)),
  );
}

function exitPart(threadId, p) {
  if (p.exit_available_at === null) return h("p", { class: "muted", "data-testid": "exit-status" }, "not a co-author of this thread");
  const now = Number(p.now), opens = Number(p.exit_available_at);
  const open = now >= opens;
  const leave = () => sendAction("exit", { thread_id: threadId }, `Exit thread ${threadId}`);
  return h(
    "div",
    {},
    h(
      "p",
      { "data-testid": "exit-status", "data-open": open ? "yes" : "no" },
      open ? "You may exit now: " : ["Your exit opens ", time(opens), ` (in ${span(opens - now)}, the ${span(p.exit_cooldown)} cooldown after your shares last changed); it would pay `],
      choir(p.exit_payout, "exit-payout"),
      " (your share of the treasury ",
      choir(p.treasury),
      ").",
    ),
    h("button", { class: "action", "data-testid": "exit", disabled: !open, title: open ? "" : "the exit cooldown has not passed", onclick: leave }, "Exit with ", choir(p.exit_payout)),
  );
}

/** The position card's content (`position`: the account's, or null when no wallet is connected). */
export function positionPart(threadId, position) {
  if (!position) return h("p", { class: "muted" }, "connect a wallet to see your equity, exit and curator rewards");
  const p = position;
  return [
    h("dl", { class: "stats small" }, h("dt", {}, "Your shares"), h("dd", { "data-testid": "my-shares" }, shares(p.shares)), h("dt", {}, "Your equity"), h("dd", { "data-testid": "my-equity" }, BigInt(p.shares) === 0n ? "none" : percent(p.shares, p.total_shares))),
    exitPart(threadId, p),
    claims(threadId, p),
  ];
}
