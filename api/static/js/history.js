// A thread's price history (GET /threads/{id}/prices), cached per last round, and its chart.

import { apiPage, itemsOf, pageSize } from "./api.js";
import { priceChart } from "./chart.js";
import { big, units, utcMinute } from "./format.js";
import { state } from "./state.js";

/** The newest `pages` pages of a thread's price rounds (oldest first), re-read only when its last round changes. */
export async function history(threadId, round, pages = 1) {
  const key = `${threadId}/${pages}`;
  const cached = state.history.get(key);
  if (cached && cached.round === round) return cached.points;
  const path = `/threads/${threadId}/prices`;
  const first = await apiPage(path, 0);
  let points = itemsOf(first);
  const total = Number(first?.total ?? points.length);
  if (total > points.length) {
    points = [];
    for (let offset = Math.max(0, total - pageSize * pages); offset < total; offset += pageSize) {
      points.push(...itemsOf(await apiPage(path, offset)));
    }
  }
  state.history.set(key, { round, points });
  return points;
}

/** The price rounds `points` as an SVG chart, one step per round (several rounds can share a second, so the x axis
 * is the round; each dot's title gives its time). options: see priceChart (`now` is ignored: x is not time). */
export function chart(points, options) {
  const data = points.map((p) => ({
    x: Number(p.round),
    y: Number(big(p.price)) / 1e18,
    label: `round ${p.round}: ${units(p.price, 6)} CHOIR at ${utcMinute(p.timestamp)} UTC (block ${p.block})`,
  }));
  const rest = { ...options };
  delete rest.now;
  return priceChart(data, {
    formatY: (y) => y.toLocaleString(undefined, { maximumFractionDigits: 2 }),
    formatX: (x) => `round ${x}`,
    ...rest,
  });
}
