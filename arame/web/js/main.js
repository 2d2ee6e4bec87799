// The dashboard's entry point: the sign-in screen or the shell (left nav,
// top bar, the page), and which page the hash names.

import * as api from './api.js';
import * as session from './session.js';
import * as router from './router.js';
import { h, replace } from './dom.js';
import { icon } from './icons.js';
import { errorBox, loading } from './components.js';
import { NAV, ROUTES } from './pages/index.js';
import { renderSignIn } from './pages/signin.js';

const app = document.getElementById('app');
let shell = null; // {main, links}
let notice = null; // shown once on the sign-in screen
let afterSignIn = '/overview';

for (const [pattern, load] of ROUTES) router.route(pattern, load);

// A 401 on any call: the token expired or was revoked. Back to sign in,
// then back to where the user was.
api.onUnauthorized(() => {
  const where = router.resolve();
  // Several calls in flight may all answer 401: the first one acts.
  if (where.path === '/signin') return;
  afterSignIn = where.path;
  notice = 'Your session has ended. Sign in again.';
  router.go('/signin');
});

function signOut() {
  session.clear();
  shell = null;
  afterSignIn = '/overview';
  notice = 'You have signed out.';
  router.go('/signin');
}

function buildShell() {
  const s = session.load();
  const admin = session.isAdmin();
  const links = new Map();
  const items = NAV.filter((n) => !n.admin || admin).map((n) => {
    const a = h('a', { href: `#${n.path}`, class: 'nav-link' }, icon(n.icon), h('span', null, n.label));
    links.set(n.path, a);
    return h('li', null, a);
  });
  const main = h('main', { id: 'main', class: 'content', tabindex: '-1' });
  const role = (s.roles || []).join(', ');
  const root = h(
    'div',
    { class: 'shell' },
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h(
      'aside',
      { class: 'sidebar' },
      h(
        'div',
        { class: 'sidebar-inner' },
        h('a', { class: 'brand', href: '#/overview' }, h('img', { src: 'favicon.svg', alt: '', width: 28, height: 28 }), h('span', null, 'Arame')),
        h('nav', { 'aria-label': 'Main' }, h('ul', { class: 'nav' }, items)),
      ),
    ),
    h(
      'div',
      { class: 'workspace' },
      h(
        'header',
        { class: 'topbar' },
        h('div', { class: 'topbar-account' }, h('span', { class: 'muted' }, 'Account '), h('strong', null, s.account_id)),
        h(
          'div',
          { class: 'topbar-user' },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, (s.user.username || '?').slice(0, 1).toUpperCase()),
          h('span', { class: 'user-name' }, s.user.username),
          h('span', { class: 'role-chip' }, role),
          h('button', { type: 'button', class: 'btn btn-plain btn-small', onClick: signOut }, icon('signout'), 'Sign out'),
        ),
      ),
      main,
    ),
  );
  replace(app, root);
  return { main, links, user: s.user.id };
}

function highlight(path) {
  for (const [p, a] of shell.links) {
    const on = path === p || path.startsWith(`${p}/`);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function draw(where) {
  router.leave();
  app.removeAttribute('aria-busy');
  const s = session.load();
  if (where.path === '/signin' || !s) {
    if (where.path !== '/signin' && where.path !== '/') afterSignIn = where.path;
    shell = null;
    document.title = 'Sign in · Arame';
    const shown = notice;
    notice = null;
    renderSignIn(app, {
      notice: shown,
      onSignedIn: () => router.go(afterSignIn),
    });
    if (where.path !== '/signin') history.replaceState(null, '', '#/signin');
    return;
  }
  if (where.path === '/') {
    router.go('/overview');
    return;
  }
  if (!shell || !shell.main.isConnected || shell.user !== s.user.id) shell = buildShell();
  highlight(where.path);
  const ctx = router.context(where);
  const el = h('div', { class: 'page' });
  ctx.el = el;
  replace(shell.main, loading());
  if (!where.route) {
    document.title = 'Not found · Arame';
    replace(shell.main, h('div', { class: 'page' }, h('h1', null, 'No such page'), h('p', null, h('a', { href: '#/overview' }, 'Back to the overview'))));
    return;
  }
  try {
    const mod = await where.route.load();
    if (!ctx.active) return;
    document.title = `${mod.default.title} · Arame`;
    replace(shell.main, el);
    await mod.default.render(ctx);
  } catch (e) {
    if (!ctx.active) return;
    if (e instanceof api.ApiError && e.status === 401) return;
    replace(shell.main, h('div', { class: 'page' }, errorBox(e)));
  }
}

router.start(draw);
