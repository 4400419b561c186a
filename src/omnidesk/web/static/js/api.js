// Calls to /api/v1 with the session cookie; unsafe methods repeat the session's CSRF token.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(typeof body === "object" && body ? String(body.detail ?? status) : String(body || status));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  /** {field: code} for a refused change; FastAPI's 422 list becomes the same shape. */
  get errors() {
    const body = this.body;
    if (body && body.errors && typeof body.errors === "object") return body.errors;
    if (body && Array.isArray(body.detail)) {
      const out = {};
      for (const item of body.detail) {
        const field = item.loc?.[item.loc.length - 1] ?? "base";
        out[field] = out[field] ?? item.type ?? "invalid";
      }
      return out;
    }
    return { base: String(body?.detail ?? this.status) };
  }
}

export function setCsrf(token) {
  csrfToken = token;
}

export function whenSignedOut(fn) {
  onSignedOut = fn;
}

function urlOf(path, query) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === "" || value === false) continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(key, one);
  }
  return url;
}

/** One API call: the parsed JSON (or null for 204); ApiError for any non-2xx answer. */
export async function api(path, { method = "GET", body, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(urlOf(path, query), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 401 && !path.endsWith("/auth/login")) onSignedOut();
  if (!response.ok) throw new ApiError(response.status, data, response.headers);
  return data;
}
