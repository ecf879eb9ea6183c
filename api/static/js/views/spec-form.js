// A thread's spec form: the body (its keccak256 shown as typed), the stake, citations and author kind, and the
// approve / submit / post actions. Built once per thread page, so live refreshes never clear what the user types.

import { keccak256 } from "../../keccak.js";
import { h, replace } from "../dom.js";
import { UiError, errorBox } from "../errors.js";
import { exactUnits, parseUnits, units } from "../format.js";
import { AUTHOR_KINDS, messageId } from "../protocol.js";
import { sendAction, storeBody } from "../transactions.js";

/** "1:0, 2:0" (thread:index) or global ids -> global ids as decimal strings. */
function parseCitations(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((c) => {
      const pair = c.match(/^(\d+):(\d+)$/);
      if (pair) return messageId(pair[1], pair[2]).toString();
      if (/^\d+$/.test(c)) return c;
      throw new UiError(`"${c}" is not a message id (thread:index or a global id)`, "invalid_citation", "citations");
    });
}

/** The form of thread `threadId`: `node` to mount, `showPrice(thread)` to default the stake to its price. */
export function specForm(threadId) {
  let stakeTouched = false;
  const bodyInput = h("textarea", { id: "spec-body", rows: 5, placeholder: "Your message", "data-testid": "spec-body" });
  const stakeInput = h("input", { id: "spec-stake", inputmode: "decimal", "data-testid": "spec-stake", oninput: () => (stakeTouched = true) });
  const citationsInput = h("input", { id: "spec-citations", placeholder: "e.g. 1:0, 2:0 (thread:index) or global ids", "data-testid": "spec-citations" });
  const kindInput = h(
    "select",
    { id: "spec-author-kind", "data-testid": "spec-author-kind" },
    AUTHOR_KINDS.map(([value, label]) => h("option", { value }, label)),
  );
  const hashOut = h("code", { "data-testid": "spec-hash" }, keccak256(""));
  bodyInput.addEventListener("input", () => (hashOut.textContent = keccak256(bodyInput.value)));
  const formError = h("div");

  const stakeWei = () => parseUnits(stakeInput.value, "stake");

  async function guarded(fn) {
    replace(formError);
    try {
      await fn();
    } catch (err) {
      replace(formError, errorBox(err));
    }
  }

  /** The message's fields (`stake`: a spec's, read after the body is checked), or a UiError. */
  function message(stake) {
    const body = bodyInput.value;
    if (!body.trim()) throw new UiError("write the message first", "empty_body", "body");
    const staked = stake ? { stake: stake() } : {};
    const fields = { thread_id: threadId, content_hash: keccak256(body), citations: parseCitations(citationsInput.value), ...staked, author_kind: kindInput.value };
    return { body, fields };
  }

  /** Send `action` for the body, then store the body (cleared once stored). */
  async function publish(action, label, stake) {
    const { body, fields } = message(stake);
    const receipt = await sendAction(action, fields, label);
    if (!receipt) return;
    const stored = await storeBody(body, receipt.transactionHash);
    if (stored) bodyInput.value = "";
  }

  const approveStake = () =>
    guarded(async () => {
      const amount = stakeWei().toString();
      await sendAction("approve", { thread_id: threadId, amount }, `Approve ${units(amount)} CHOIR for thread ${threadId}`);
    });
  const submitSpec = () => guarded(() => publish("submitSpec", `Submit spec to thread ${threadId}`, () => stakeWei().toString()));
  // A co-author's post: no stake, no vote; the same body, citations and author kind fields.
  const postMessage = () => guarded(() => publish("post", `Post to thread ${threadId}`));

  const node = h(
    "section",
    { class: "card", id: "submit-spec" },
    h("h3", {}, "Submit a spec"),
    h("p", { class: "muted" }, "Non-co-authors stake at least the thread's price; co-authors approve or deny. Approve the stake first, then submit. Co-authors post directly."),
    h("label", { for: "spec-body" }, "Message"),
    bodyInput,
    h("div", { class: "hash" }, "keccak256: ", hashOut),
    h("div", { class: "row" }, h("label", { for: "spec-stake" }, "Stake (CHOIR)", stakeInput), h("label", { for: "spec-citations" }, "Citations", citationsInput)),
    h("label", { for: "spec-author-kind" }, "Author (declared on chain)", kindInput),
    h(
      "div",
      { class: "row buttons" },
      h("button", { class: "action", "data-testid": "approve-stake", onclick: approveStake }, "1. Approve stake"),
      h("button", { class: "action primary", "data-testid": "submit-spec", onclick: submitSpec }, "2. Submit spec"),
      h("button", { class: "action", "data-testid": "post-message", title: "Co-authors post without a stake", onclick: postMessage }, "Post as co-author"),
    ),
    formError,
  );

  return {
    node,
    showPrice(thread) {
      if (!stakeTouched && !stakeInput.value) stakeInput.value = exactUnits(thread.price);
    },
  };
}
