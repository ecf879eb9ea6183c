// The live feed: the gateway's event stream (GET /events, Server-Sent Events) through the browser's EventSource,
// the header's live chip and the list of the latest events. Each event refreshes the page; while the stream is
// unavailable the page polls (main.js).
//
// Reconnection: after a dropped connection the browser reconnects by itself after the server's `retry:` delay and
// sends `Last-Event-ID` (the `id: <block>-<log index>` of the last event seen), so the gateway resumes right after
// it. A refused stream (an error status or another content type: no such route, a proxy's 503) closes the
// EventSource for good; a new one is opened after SSE_RETRY_MS.

import { h, replace } from "./dom.js";
import { EVENT_NAMES } from "./event-names.js";
import { short } from "./format.js";
import { refresh, refreshSoon } from "./refresh.js";
import { state } from "./state.js";

export const POLL_MS = 2000; // refresh period when the event stream is unavailable
const SSE_RETRY_MS = 10000;
const SHOWN = 10;

export function followEvents() {
  const source = new EventSource("/events");
  source.addEventListener("open", () => {
    setLive("sse");
    refresh();
  });
  source.addEventListener("error", () => {
    setLive("polling");
    if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects, with Last-Event-ID
    console.info("event stream unavailable, polling");
    setTimeout(followEvents, SSE_RETRY_MS);
  });
  source.addEventListener("message", onServerEvent); // an event without a name (none expected)
  for (const name of EVENT_NAMES) source.addEventListener(name, onServerEvent);
}

function setLive(live) {
  if (state.live === live) return;
  state.live = live;
  renderLive();
  renderEvents();
}

function onServerEvent(message) {
  let payload;
  try {
    payload = JSON.parse(message.data);
  } catch {
    payload = { event: message.type, args: { data: message.data } };
  }
  state.events.unshift({ name: message.type, ...payload });
  state.events.length = Math.min(state.events.length, SHOWN);
  renderEvents();
  refreshSoon();
}

/** The header's live chip: `data-live` is "sse", "polling" or "connecting". */
export function renderLive() {
  const chip = document.getElementById("live");
  const text = { sse: "live: event stream", polling: `live: polling every ${POLL_MS / 1000} s`, connecting: "live: connecting…" }[state.live];
  chip.className = `chip ${state.live === "sse" ? "good" : "warn"}`;
  chip.dataset.live = state.live;
  replace(chip, text, h("small", { id: "updated" }, ""));
}

export function renderEvents() {
  const list = document.getElementById("events");
  replace(
    list,
    state.events.length === 0
      ? h("li", { class: "muted" }, state.live === "sse" ? "waiting for events…" : "no event stream: polling")
      : state.events.map((e) =>
          h("li", {}, h("strong", {}, e.event ?? e.name), " ", h("span", { class: "muted" }, `${e.source ?? ""} block ${e.block ?? "?"}`), " ", h("code", { class: "args" }, summarizeArgs(e.args))),
        ),
  );
}

function arg(v) {
  if (typeof v === "string" && v.startsWith("0x") && v.length > 14) return short(v);
  if (v !== null && typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function summarizeArgs(args) {
  if (!args || typeof args !== "object") return "";
  const text = Object.entries(args)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.map(arg).join(", ")}]` : arg(v)}`)
    .join(" ");
  return text.length > 90 ? text.slice(0, 89) + "…" : text;
}
