// The citation graph as SVG: a circle per thread on a ring (size by citations received), an arrow per citing pair
// of threads (width by counted citations); clicking a thread opens it.

import { svg } from "../dom.js";
import { big, units } from "../format.js";

const GRAPH_SIZE = 640;

/** Node positions on a circle (thread 1 at the top, clockwise by thread id): deterministic, no overlaps. */
function circleLayout(nodes, size) {
  const center = size / 2;
  const radius = nodes.length > 1 ? size / 2 - 70 : 0;
  const at = new Map();
  nodes.forEach((n, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    at.set(Number(n.thread_id), { x: center + radius * Math.cos(angle), y: center + radius * Math.sin(angle) });
  });
  return at;
}

function nodeRadius(n) {
  return 14 + 4 * Math.sqrt(Number(n.citations_received ?? 0));
}

/** The arrow of edge `e` between its threads' circles (`layout`: { at, byId, edges, heaviest }). */
function edgeLine(e, { at, byId, edges, heaviest }) {
  const from = at.get(Number(e.source)), to = at.get(Number(e.target));
  if (!from || !to) return null;
  const dx = to.x - from.x, dy = to.y - from.y;
  const length = Math.hypot(dx, dy) || 1;
  const startGap = nodeRadius(byId.get(Number(e.source))) + 2, endGap = nodeRadius(byId.get(Number(e.target))) + 4;
  // a pair citing each other gets two parallel arrows, offset to either side
  const offset = edges.some((o) => Number(o.source) === Number(e.target) && Number(o.target) === Number(e.source)) ? 6 : 0;
  const ox = (-dy / length) * offset, oy = (dx / length) * offset;
  const width = 1.5 + (6 * Number(e.citations)) / heaviest;
  const reward = big(e.choir);
  const title = `thread ${e.source} cites thread ${e.target}: ${e.citations} counted citation${Number(e.citations) === 1 ? "" : "s"}${reward ? `, ${units(reward)} CHOIR in citation rewards` : ""}`;
  return svg(
    "line",
    {
      class: "graph-edge",
      "data-testid": "graph-edge",
      "data-source": e.source,
      "data-target": e.target,
      "data-weight": e.citations,
      "data-choir": String(reward),
      x1: (from.x + (dx / length) * startGap + ox).toFixed(1),
      y1: (from.y + (dy / length) * startGap + oy).toFixed(1),
      x2: (to.x - (dx / length) * endGap + ox).toFixed(1),
      y2: (to.y - (dy / length) * endGap + oy).toFixed(1),
      "stroke-width": width.toFixed(2),
      "marker-end": "url(#graph-arrow)",
    },
    svg("title", {}, title),
  );
}

/** Thread `n`'s circle at `p`, with its id and title; a click (or Enter) opens the thread. */
function nodeCircle(n, p) {
  const open = () => (location.hash = `#/thread/${n.thread_id}`);
  const x = p.x.toFixed(1), r = nodeRadius(n);
  const title = n.title ? svg("text", { x, y: (p.y + r + 14).toFixed(1), "text-anchor": "middle", class: "graph-title" }, n.title.length > 28 ? n.title.slice(0, 27) + "…" : n.title) : null;
  return svg(
    "g",
    {
      class: "graph-node",
      "data-testid": "graph-node",
      "data-thread": n.thread_id,
      tabindex: 0,
      role: "link",
      onclick: open,
      onkeydown: (event) => {
        if (event.key === "Enter") open();
      },
    },
    svg("circle", { cx: x, cy: p.y.toFixed(1), r: r.toFixed(1) }),
    svg("text", { x, y: (p.y + 4).toFixed(1), "text-anchor": "middle", class: "graph-id" }, `#${n.thread_id}`),
    title,
    svg("title", {}, `thread ${n.thread_id}${n.title ? `: ${n.title}` : ""} · ${n.message_count} messages · cited ${n.citations_received}× · cites ${n.citations_made}×`),
  );
}

/** The citation graph of GET /graph as an <svg>. */
export function citationGraph(graph) {
  const nodes = [...(graph.nodes || [])].sort((a, b) => Number(a.thread_id) - Number(b.thread_id));
  const edges = graph.edges || [];
  const layout = {
    at: circleLayout(nodes, GRAPH_SIZE),
    byId: new Map(nodes.map((n) => [Number(n.thread_id), n])),
    edges,
    heaviest: Math.max(1, ...edges.map((e) => Number(e.citations))),
  };
  const arrow = svg(
    "marker",
    { id: "graph-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z", class: "graph-arrowhead" }),
  );
  return svg(
    "svg",
    { class: "graph", "data-testid": "graph", viewBox: `0 0 ${GRAPH_SIZE} ${GRAPH_SIZE}`, width: GRAPH_SIZE, height: GRAPH_SIZE, role: "img", "aria-label": "citation graph of the threads" },
    svg("defs", {}, arrow),
    svg("g", { class: "graph-edges" }, edges.map((e) => edgeLine(e, layout))),
    svg("g", { class: "graph-nodes" }, nodes.map((n) => nodeCircle(n, layout.at.get(Number(n.thread_id))))),
  );
}
