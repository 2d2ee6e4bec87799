// The REST API, as the SDK calls it: JSON in and out, the bearer token of
// the session, errors as the API words them. Pages call nothing else.

import * as session from './session.js';

/** An error answer: `message` is the API's own words
 *  ({"error": {"code", "message", "details"}}); status 0 when the API
 *  could not be reached at all. */
export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = (error && error.code) || 'error';
    this.details = (error && error.details) || {};
  }
}

let unauthorized = () => {};

/** What to do when a request with a token answers 401 (the token expired
 *  or was revoked): main.js sends the user back to sign in. */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** '?a=1&tag=x&tag=y': arrays repeat their key; empty values are left
 *  out, so a filter form can pass every field. */
export function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === null || v === undefined || v === '') continue;
      params.append(key, String(v));
    }
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** request('GET', '/v1/instances', {query, body}) -> the decoded answer
 *  (null for an empty one); throws ApiError. */
export async function request(method, path, { query, body, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  const s = auth ? session.load() : null;
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, {
      code: 'unreachable',
      message: 'The API cannot be reached; check that arame-api runs.',
    });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && data.error);
    if (res.status === 401 && s) {
      session.clear();
      unauthorized(err);
    }
    throw err;
  }
  return data;
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, body, query) => request('POST', path, { body, query });
export const put = (path, body) => request('PUT', path, { body });
export const patch = (path, body) => request('PATCH', path, { body });
export const del = (path) => request('DELETE', path);

/** One page of a list: {items, next_marker}; pass next_marker back as
 *  `marker` for the next one. */
export function page(path, { limit = 20, marker, ...filters } = {}) {
  return get(path, { ...filters, limit, marker });
}

/** Every item of a list, page by page (for a form's choices: flavors,
 *  images, networks); stops after `maxPages` pages. */
export async function all(path, query = {}, maxPages = 20) {
  const items = [];
  let marker;
  for (let i = 0; i < maxPages; i += 1) {
    const p = await page(path, { ...query, limit: 1000, marker });
    items.push(...p.items);
    if (!p.next_marker) break;
    marker = p.next_marker;
  }
  return items;
}

/** Sign in: the token answer, kept in the session. The API's 401 words
 *  ("invalid username or password") come back as the ApiError. */
export async function signIn(username, password) {
  const answer = await request('POST', '/v1/auth/tokens', {
    body: { username, password },
    auth: false,
  });
  session.save(answer);
  return answer;
}

/**
 * Run `fn` now and then every `interval` ms (a number, or a function
 * returning one, read before each wait; never under 1000) until stopped.
 * Nothing runs while the tab is hidden: the wait resumes, with a run at
 * once, when it shows again. One run at a time: the next wait starts when
 * a run ends. fn's errors are its own to show; they do not stop the loop,
 * except a 401 (the session is over).
 * -> {stop(), refresh()}: refresh runs fn now (after an action).
 */
export function poll(fn, interval = 2000, { immediate = true } = {}) {
  let timer = null;
  let running = false;
  let stopped = false;
  const every = () =>
    Math.max(1000, typeof interval === 'function' ? interval() : interval);

  const schedule = () => {
    if (stopped || running || timer || document.hidden) return;
    timer = setTimeout(run, every());
  };

  async function run() {
    timer = null;
    if (stopped || running || document.hidden) return;
    running = true;
    try {
      await fn();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) stopped = true;
    } finally {
      running = false;
    }
    schedule();
  }

  const onVisibility = () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer && !running) {
      run();
    }
  };
  document.addEventListener('visibilitychange', onVisibility);

  if (immediate) run();
  else schedule();

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = null;
      document.removeEventListener('visibilitychange', onVisibility);
    },
    refresh() {
      clearTimeout(timer);
      timer = null;
      return run();
    },
  };
}

/** The task of a 202, once it is done or failed (for flows a page waits
 *  on): long polls of GET /v1/tasks/{id}?wait=, which the API answers as
 *  soon as the task changes; a second apart only if an answer came at once
 *  with nothing new (a server that does not hold the request). */
export async function waitTask(taskId, { timeoutMs = 120000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const path = `/v1/tasks/${encodeURIComponent(taskId)}`;
  let seen = null;
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    const asked = Date.now();
    const task = await get(path, { wait: Math.max(1, Math.min(25, left)) });
    if (task.status === 'done' || task.status === 'failed') return task;
    if (Date.now() > deadline) return task;
    const key = `${task.status}|${task.step}|${task.updated_at}`;
    if (key === seen && Date.now() - asked < 500) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    seen = key;
  }
}
