// Admin: the cloud's hosts, its accounts and users, their quotas and the
// bare-metal nodes. Each section is a module of its own (admin-*.js),
// chosen by the hash's ?tab=; the API refuses all of it to non-admins, so
// the page does not even try for them.

import { h } from '../dom.js';
import * as session from '../session.js';
import { pageHeader } from '../components.js';

const TABS = [
  { id: 'hosts', label: 'Hosts', load: () => import('./admin-hosts.js') },
  { id: 'identity', label: 'Accounts and users', load: () => import('./admin-identity.js') },
  { id: 'quotas', label: 'Quotas', load: () => import('./admin-quotas.js') },
  { id: 'baremetal', label: 'Bare-metal nodes', load: () => import('./admin-baremetal.js') },
];

function adminsOnly(ctx) {
  ctx.el.append(
    pageHeader('Admin'),
    h(
      'div',
      { class: 'alert alert-info admin-refused', role: 'alert' },
      h('strong', null, 'This page is for admins only.'),
      ' Your role does not let you see the hosts, accounts, quotas or bare-metal nodes; ask an admin of the cloud. ',
      h('a', { href: '#/overview' }, 'Back to the overview'),
    ),
  );
}

function tabBar(current) {
  return h(
    'nav',
    { class: 'admin-tabs', 'aria-label': 'Admin sections' },
    TABS.map((t) =>
      h(
        'a',
        {
          href: `#/admin?tab=${t.id}`,
          class: 'admin-tab',
          'aria-current': t.id === current.id ? 'page' : null,
        },
        t.label,
      ),
    ),
  );
}

export default {
  title: 'Admin',
  async render(ctx) {
    if (!session.isAdmin()) {
      adminsOnly(ctx);
      return;
    }
    const tab = TABS.find((t) => t.id === ctx.query.tab) || TABS[0];
    const body = h('div', { class: 'admin-body' });
    ctx.el.append(
      pageHeader('Admin', { subtitle: 'The whole cloud: hosts, accounts and users, quotas, bare-metal nodes.' }),
      tabBar(tab),
      body,
    );
    const mod = await tab.load();
    if (!ctx.active) return;
    await mod.render(body, ctx);
  },
};
