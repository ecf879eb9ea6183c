// `#/account/{address}`: an account's balance, equity, open stakes and votes (GET /accounts/{address}).

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { choir, percent } from "../format.js";

/** A heading and a list of `items` (each shown by `item`), or "none". */
function listing(title, items, item) {
  return [h("h3", {}, title), (items || []).length === 0 ? h("p", { class: "muted" }, "none") : h("ul", {}, items.map((x) => h("li", {}, item(x))))];
}

const threadLink = (id) => h("a", { href: `#/thread/${id}` }, `thread ${id}`);

export function accountView(account) {
  let alive = true;
  const box = h("div");
  return {
    mount(root) {
      replace(root, h("section", { class: "card" }, h("a", { href: "#/", class: "back" }, "← all threads"), h("h2", {}, "Account"), h("div", { class: "muted" }, account), box));
    },
    async update() {
      try {
        const a = await api(`/accounts/${account}`);
        if (!alive) return;
        replace(
          box,
          h("dl", { class: "stats" }, h("dt", {}, "Balance"), h("dd", {}, choir(a.balance, "account-balance"))),
          listing("Equity", a.equity, (e) => [threadLink(e.thread_id), `: ${percent(e.shares, e.total_shares)}`]),
          listing("Open stakes", a.open_stakes, (s) => [threadLink(s.thread_id), ` spec ${s.spec_id}: `, choir(s.stake)]),
          listing("Votes", a.votes, (v) => [threadLink(v.thread_id), ` spec ${v.spec_id}: ${v.approve ? "approve" : "deny"}`]),
        );
      } catch (err) {
        if (alive) replace(box, errorBox(err));
      }
    },
    unmount() {
      alive = false;
    },
  };
}
