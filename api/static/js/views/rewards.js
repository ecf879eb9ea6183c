// A thread's rewards by epoch: what each epoch's allocation minted to each of its messages (the messages' `reward`
// and `reward_epoch`, once the allocation is indexed).

import { h } from "../dom.js";
import { choir, novelty } from "../format.js";

/** The rewarded messages among `messages`, grouped by epoch (newest epoch first). */
export function rewardsByEpoch(messages, threadId) {
  const paid = messages.filter((m) => m.reward !== null && m.reward !== undefined);
  if (paid.length === 0) return h("p", { class: "muted" }, "no rewards minted to the messages shown yet");
  const epochs = new Map();
  for (const m of paid) {
    const key = Number(m.reward_epoch);
    if (!epochs.has(key)) epochs.set(key, []);
    epochs.get(key).push(m);
  }
  const rows = [];
  for (const epoch of [...epochs.keys()].sort((a, b) => b - a)) {
    const list = epochs.get(epoch);
    const total = list.reduce((sum, m) => sum + BigInt(m.reward), 0n);
    rows.push(h("tr", { class: "epoch", "data-testid": "reward-epoch", "data-epoch": epoch }, h("th", {}, `Epoch ${epoch}`), h("th", {}, `${list.length} message${list.length === 1 ? "" : "s"}`), h("th", { class: "num" }, choir(total))));
    for (const m of list) {
      rows.push(
        h(
          "tr",
          { "data-testid": "reward-row", "data-epoch": epoch, "data-index": m.index },
          h("td", {}, h("a", { href: `#/thread/${threadId}` }, `${threadId}:${m.index}`)),
          h("td", { class: "muted" }, novelty({ ...m, reward: null }) || "not scored"),
          h("td", { class: "num" }, choir(m.reward)),
        ),
      );
    }
  }
  return h("table", { class: "small", "data-testid": "rewards" }, h("tbody", {}, rows));
}
