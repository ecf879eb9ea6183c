// `#/network`: the citation network (GET /graph) and semantic search of the stored bodies (GET /search).

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox } from "../errors.js";
import { address, authorKind, big, plural, units } from "../format.js";
import { citationGraph } from "./graph.js";

const SEARCH_K = 10;

function searchHit(hit) {
  const ref = (m, i) => [
    i ? ", " : "",
    h("a", { href: `#/thread/${m.thread_id}`, class: "ref", title: `global id ${m.global_id}` }, `${m.thread_id}:${m.index}`),
    " ",
    h("span", { class: "kind" }, m.kind),
    " ",
    address(m.author),
    " ",
    authorKind(m.author_kind),
  ];
  return h(
    "li",
    { class: "search-hit", "data-testid": "search-hit", "data-hash": hit.content_hash },
    h("div", { class: "hit-head" }, h("span", { class: "score", title: "cosine similarity to the query" }, Number(hit.score).toFixed(3)), " ", (hit.messages || []).map(ref)),
    h("div", { class: "body" }, hit.body),
  );
}

/** The search card: a query box, a status line and the hits, most similar first. */
function searchCard(isAlive) {
  const input = h("input", { type: "search", id: "search-q", placeholder: "Search message bodies by meaning, e.g. “how are stakes priced?”", maxlength: 1000, "data-testid": "search-input" });
  const results = h("ol", { class: "search-results", "data-testid": "search-results" });
  const status = h("div", { class: "muted", "data-testid": "search-status" });

  async function runSearch(event) {
    event?.preventDefault();
    const q = input.value.trim();
    if (!q) return replace(status, "type what you are looking for");
    replace(status, "searching… (the first search loads the model, about 10 s)");
    replace(results);
    try {
      const found = await api(`/search?q=${encodeURIComponent(q)}&k=${SEARCH_K}`);
      if (!isAlive()) return;
      replace(status, `${found.items.length} of ${found.searched} stored bodies, most similar first`);
      replace(results, found.items.map(searchHit));
    } catch (err) {
      if (isAlive()) replace(status, errorBox(err));
    }
  }

  return h(
    "section",
    { class: "card", id: "search" },
    h("h3", {}, "Semantic search"),
    h("form", { class: "search-form", onsubmit: runSearch }, input, h("button", { class: "primary", type: "submit", "data-testid": "search-button" }, "Search")),
    status,
    results,
  );
}

export function networkView() {
  let alive = true;
  const status = h("div", { class: "status" });
  const graphBox = h("div", { class: "graph-box" }, h("p", { class: "muted" }, "Loading…"));
  const legend = h("div", { class: "muted graph-legend" });
  const search = searchCard(() => alive);

  return {
    mount(root) {
      replace(
        root,
        h(
          "section",
          { class: "card" },
          h("div", { class: "card-head" }, h("h2", {}, "Citation network"), status),
          h(
            "p",
            { class: "muted" },
            "Threads and the citations between them, counted as the hub counts them: a post at once, a spec once approved, never a thread citing itself. Arrow width: citations; click a thread to open it.",
          ),
          graphBox,
          legend,
        ),
        search,
      );
    },
    async update() {
      try {
        const graph = await api("/graph");
        if (!alive) return;
        const links = (graph.edges || []).reduce((n, e) => n + Number(e.citations), 0);
        replace(status, `${plural(graph.nodes.length, "thread")} · ${plural(graph.edges.length, "citing pair")} · ${plural(links, "citation")}`);
        replace(graphBox, graph.nodes.length ? citationGraph(graph) : h("p", { class: "muted" }, "no threads yet"));
        const rewards = (graph.edges || []).reduce((sum, e) => sum + big(e.choir), 0n);
        replace(legend, rewards ? `${units(rewards)} CHOIR credited through citation rewards` : "no citation rewards yet");
      } catch (err) {
        if (alive) replace(graphBox, errorBox(err));
      }
    },
    unmount() {
      alive = false;
    },
  };
}
