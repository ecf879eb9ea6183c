// Errors the page shows: its own (UiError) and the gateway's (ApiError, with the HTTP status), and how they look.

import { h } from "./dom.js";

export class UiError extends Error {
  constructor(message, code = "error", field = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

export class ApiError extends UiError {
  constructor(status, code, message, field) {
    super(message, code, field);
    this.status = status;
  }
}

/** The error as shown to the user: the API's (or wallet's) code, its message verbatim, the field if any. */
export function errorBox(err) {
  const code = err?.code ?? "error";
  const status = err instanceof ApiError && err.status ? `${err.status} ` : "";
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error" },
    h("span", { class: "error-code" }, `${status}${code}`),
    " ",
    h("span", { class: "error-message" }, err?.message ?? String(err)),
    err?.field ? h("span", { class: "error-field" }, ` (field: ${err.field})`) : null,
  );
}
