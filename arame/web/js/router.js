// Hash routing: '#/instances/i-3k9x2m0q?status=running' -> the page
// registered for '/instances/:id', with params {id} and the query.
// A page is a module whose default export is {title, render(ctx)}; it is
// imported on first visit, so the sign-in page loads only what it needs.

const routes = [];
let current = null; // {cleanups: [...]}
let renderPage = null;

/** route('/instances/:id', () => import('./pages/instance.js')) */
export function route(pattern, load) {
  const keys = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        keys.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  routes.push({ pattern, regex: new RegExp(`^${source}/?$`), keys, load });
}

/** Where the hash points: {path, params, query, route}. */
export function resolve(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs));
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]);
      });
      return { path, params, query, route: r };
    }
  }
  return { path, params: {}, query, route: null };
}

/** Go to a path ('/instances'); the hashchange renders it. */
export function go(path) {
  if (location.hash === `#${path}`) {
    render();
  } else {
    location.hash = `#${path}`;
  }
}

/** Stop the current page's pollers and timers (before another renders). */
export function leave() {
  if (!current) return;
  for (const fn of current.cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // a cleanup's failure must not keep the next page from showing
    }
  }
  current = null;
}

/** ctx handed to a page's render(). */
export function context(where) {
  const cleanups = [];
  current = { cleanups };
  return {
    params: where.params,
    query: where.query,
    path: where.path,
    /** Run fn when the user leaves the page (stop a poll). */
    onLeave(fn) {
      cleanups.push(fn);
    },
    /** Whether the user is still on this page (after an await). */
    get active() {
      return current !== null && current.cleanups === cleanups;
    },
  };
}

export function render() {
  if (renderPage) renderPage(resolve());
}

/** Start routing: renderFn(where) draws each location. */
export function start(renderFn) {
  renderPage = renderFn;
  window.addEventListener('hashchange', render);
  render();
}
