// The public API, called with the API key kept in this tab's
// sessionStorage (gone when the tab closes; never in localStorage or a
// cookie).

const keyName = 'zeroloss.apiKey';

/** The signed-in key, or null. */
export function apiKey() {
  return sessionStorage.getItem(keyName);
}

/** Keeps key for this tab. */
export function signIn(key) {
  sessionStorage.setItem(keyName, key);
}

/** Forgets the key. */
export function signOut() {
  sessionStorage.removeItem(keyName);
}

/** An answer other than 2xx, with the problem+json the gateway sent. */
export class ApiError extends Error {
  constructor(status, problem) {
    const title = (problem && problem.title) || `HTTP ${status}`;
    const detail = problem && problem.detail ? `: ${problem.detail}` : '';
    super(title + detail);
    this.status = status;
    this.problem = problem || {};
  }
}

/**
 * Calls method path (under the gateway's origin) with body as JSON and
 * returns the decoded answer (null for 204). A 401 signs out and reloads
 * to the sign-in form.
 */
export async function call(method, path, body, key = apiKey()) {
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** GET path with the query parameters that are set. */
export function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const qs = q.toString();
  return call('GET', qs ? `${path}?${qs}` : path);
}

/** POST path. */
export function post(path, body) {
  return call('POST', path, body);
}

/** Every page of a list endpoint, up to max items. */
export async function all(path, params = {}, max = 1000) {
  const items = [];
  let cursor;
  do {
    const page = await get(path, { ...params, limit: 500, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}
