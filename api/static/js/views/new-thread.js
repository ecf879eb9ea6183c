// Starting a thread: its root message (body, author kind). `POST /tx/createThread` with the body's keccak256, then
// the body is stored (`POST /content`) so the thread list shows its title (the body's opening words).

import { keccak256 } from "../../keccak.js";
import { h, replace } from "../dom.js";
import { UiError, errorBox } from "../errors.js";
import { AUTHOR_KINDS } from "../protocol.js";
import { sendAction, storeBody } from "../transactions.js";

/** The form (built once per list view, so refreshes keep what the user types). */
export function newThreadForm() {
  const body = h("textarea", { rows: 3, placeholder: "The thread's first message: its first words become its title", "data-testid": "new-thread-body" });
  const kind = h("select", { "data-testid": "new-thread-author-kind" }, AUTHOR_KINDS.map(([value, label]) => h("option", { value }, label)));
  const error = h("div");
  const start = async () => {
    replace(error);
    try {
      const text = body.value;
      if (!text.trim()) throw new UiError("write the thread's first message", "empty_body", "body");
      const receipt = await sendAction("createThread", { content_hash: keccak256(text), author_kind: kind.value }, `Start a thread: ${text.trim().split("\n")[0].slice(0, 60)}`);
      if (!receipt) return;
      if (await storeBody(text, receipt.transactionHash)) body.value = "";
    } catch (err) {
      replace(error, errorBox(err));
    }
  };
  return h(
    "details",
    { class: "card new-thread", "data-testid": "new-thread" },
    h("summary", {}, h("strong", {}, "Start a thread")),
    h("p", { class: "muted" }, "You become its first co-author. Others join by staking on a spec you approve."),
    body,
    h("label", {}, "Author (declared on chain) ", kind),
    h("div", { class: "buttons" }, h("button", { class: "action primary", "data-testid": "create-thread", onclick: start }, "Start thread")),
    error,
  );
}
