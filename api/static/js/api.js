// The gateway's JSON API: one request, one page of a list, every page of a list. Errors are ApiErrors carrying
// the gateway's code, message and field verbatim.

import { ApiError } from "./errors.js";

/** Items per page asked for; lowered to the gateway's default page if it refuses 100 (its `page_size_limit`). */
export let pageSize = 100;

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network_error", `the gateway is unreachable (${err.message})`, null);
  }
  const text = await response.text();
  let payload;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const e = payload && payload.error;
    if (e) throw new ApiError(response.status, e.code, e.message, e.field ?? null);
    throw new ApiError(response.status, `http_${response.status}`, text.slice(0, 300) || response.statusText, null);
  }
  return payload;
}

/** One page of a list endpoint, `pageSize` items from `offset`. */
export async function apiPage(path, offset = 0) {
  const sep = path.includes("?") ? "&" : "?";
  try {
    return await api(`${path}${sep}limit=${pageSize}&offset=${offset}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.field === "limit" && pageSize > 20)) throw err;
    pageSize = 20;
    return api(`${path}${sep}limit=${pageSize}&offset=${offset}`);
  }
}

/** Every item of a paginated list endpoint. */
export async function apiAll(path) {
  const items = [];
  for (let offset = 0; ; ) {
    const page = await apiPage(path, offset);
    const got = itemsOf(page);
    items.push(...got);
    offset += got.length;
    const total = Array.isArray(page) ? got.length : page.total ?? got.length;
    if (got.length === 0 || items.length >= total) return items;
  }
}

/** The items of a list answer (a bare array or a page `{items, total, ...}`). */
export function itemsOf(payload) {
  return Array.isArray(payload) ? payload : payload?.items ?? [];
}
