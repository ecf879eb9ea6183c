// The header's chain chip: the gateway's GET /health (chain, head, indexed block, indexer lag).

import { api } from "./api.js";
import { replace } from "./dom.js";
import { state } from "./state.js";

export async function updateHealth() {
  const chip = document.getElementById("health");
  try {
    const health = await api("/health");
    state.health = health;
    chip.className = `chip ${health.status === "ok" ? "good" : "warn"}`;
    chip.title = JSON.stringify(health);
    replace(
      chip,
      `chain ${health.chain_id} · head ${health.chain_head} · indexed ${health.indexed_block}`,
      health.indexer_lag ? ` (lag ${health.indexer_lag})` : "",
      health.status === "ok" ? "" : ` · ${health.status}`,
    );
  } catch (err) {
    chip.className = "chip bad";
    chip.title = err.message;
    replace(chip, `health: ${err.code}`);
  }
}
