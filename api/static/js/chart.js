// Price-history charts as inline SVG: a step line (a price holds until the next round), one dot per round, and in
// the full form axes with the lowest and highest price and the first and last date. No dependencies.

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * An <svg> chart of `points` ([{x: number, y: number, label: string}], x ascending).
 * options: width, height, compact (sparkline: no axes or labels), formatY(y) and formatX(x) for axis labels,
 * now (an x to extend the last price to), title (accessible name).
 */
export function priceChart(points, options = {}) {
  const { width = 640, height = 220, compact = false, formatY = String, formatX = String, now, title = "" } = options;
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    class: compact ? "chart chart-compact" : "chart chart-full",
    role: "img",
    "aria-label": title || "price history",
  });
  if (title) svg.append(el("title", {}, title));
  if (points.length === 0) {
    if (!compact) svg.append(el("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" }, "no price rounds yet"));
    else svg.append(el("line", { x1: 2, x2: width - 2, y1: height / 2, y2: height / 2, class: "chart-none" }));
    return svg;
  }
  const pad = compact ? { l: 2, r: 2, t: 3, b: 3 } : { l: 64, r: 16, t: 14, b: 28 };
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  let xMin = Math.min(...xs), xMax = Math.max(...xs, now ?? -Infinity);
  let yMin = Math.min(...ys), yMax = Math.max(...ys);
  if (xMax === xMin) { xMin -= 1; xMax += 1; }
  if (yMax === yMin) { const d = Math.abs(yMax) * 0.1 || 1; yMin -= d; yMax += d; }
  else { const d = (yMax - yMin) * 0.08; yMin -= d; yMax += d; }
  const px = (x) => pad.l + ((x - xMin) / (xMax - xMin)) * (width - pad.l - pad.r);
  const py = (y) => height - pad.b - ((y - yMin) / (yMax - yMin)) * (height - pad.t - pad.b);

  if (!compact) {
    const axes = el("g", { class: "chart-axes" });
    axes.append(el("line", { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b }));
    axes.append(el("line", { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b }));
    for (const y of [Math.min(...ys), Math.max(...ys)]) {
      axes.append(el("line", { x1: pad.l, x2: width - pad.r, y1: py(y), y2: py(y), class: "chart-grid" }));
      axes.append(el("text", { x: pad.l - 6, y: py(y) + 4, "text-anchor": "end" }, formatY(y)));
    }
    const first = Math.min(...xs), lastX = Math.max(...xs, now ?? -Infinity);
    axes.append(el("text", { x: px(first), y: height - 8, "text-anchor": first === xMin ? "start" : "middle" }, formatX(first)));
    if (lastX !== first) axes.append(el("text", { x: px(lastX), y: height - 8, "text-anchor": lastX === xMax ? "end" : "middle" }, formatX(lastX)));
    svg.append(axes);
  }

  // Step path: horizontal to the next point's x, then vertical to its y.
  let d = `M${px(points[0].x).toFixed(1)},${py(points[0].y).toFixed(1)}`;
  for (let i = 1; i < points.length; i++) {
    d += ` H${px(points[i].x).toFixed(1)} V${py(points[i].y).toFixed(1)}`;
  }
  const last = points[points.length - 1];
  const end = now !== undefined && now > last.x ? now : points.length === 1 ? xMax : last.x;
  d += ` H${px(end).toFixed(1)}`;
  const bottom = height - pad.b;
  svg.append(el("path", { d: `${d} V${bottom} H${px(points[0].x).toFixed(1)} Z`, class: "chart-area" }));
  svg.append(el("path", { d, class: "chart-line" }));
  if (!compact || points.length <= 40) {
    for (const p of points) {
      const dot = el("circle", { cx: px(p.x).toFixed(1), cy: py(p.y).toFixed(1), r: compact ? 1.6 : 3.5, class: "chart-dot" });
      if (p.label) dot.append(el("title", {}, p.label));
      svg.append(dot);
    }
  }
  return svg;
}
