// Unit groups: each group of units with its state and node count; a new
// group from a name.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { button, errorBox, formDialog, pageHeader, pager, showError, table, toast } from '../components.js';
import { go } from '../router.js';

// A group's or a unit's state, in the badge's tones: booting and deleting
// are work in progress, power_off is at rest.
const STATE_TONES = { running: 'ok', booting: 'busy', deleting: 'busy', error: 'bad', power_off: 'off' };

export function stateBadge(state, title) {
  const tone = STATE_TONES[state] || 'off';
  return h(
    'span',
    { class: ['badge', `badge-${tone}`], title: title || null },
    tone === 'busy' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    state === 'power_off' ? 'powered off' : state || 'unknown',
  );
}

export const isBusy = (state) => STATE_TONES[state] === 'busy';

export default {
  title: 'Unit groups',
  async render(ctx) {
    const err = errorBox(null);
    let items = [];
    const list = table({
      label: 'Unit groups',
      empty: 'No unit groups yet. A group holds units: sets of identical nodes.',
      columns: [
        {
          label: 'Name',
          class: 'name-cell',
          render: (g) => [h('a', { href: `#/unit-groups/${g.id}` }, g.name), h('span', { class: 'sub' }, g.id)],
        },
        { label: 'State', render: (g) => stateBadge(g.state) },
        { label: 'Units', class: 'num', render: (g) => String(g.units.length) },
        { label: 'Nodes', class: 'num', render: (g) => String(g.node_count) },
        { label: 'Created', render: (g) => h('time', { datetime: g.created_at, title: fmt.dateTime(g.created_at) }, fmt.ago(g.created_at)) },
      ],
    });
    list.update(null);
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/unit_groups', { marker, limit: 50 });
          showError(err, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(err, e);
          throw e;
        }
      },
      (shown) => {
        items = shown;
        list.update(items);
      },
      { label: 'Unit group pages' },
    );
    const poller = api.poll(() => pages.reload(), () => (items.some((g) => isBusy(g.state)) ? 1000 : 5000));
    ctx.onLeave(poller.stop);

    const actions = [];
    if (session.canWrite()) {
      const create = button('Create unit group', null, { variant: 'primary' });
      create.addEventListener('click', async () => {
        const made = await formDialog({
          title: 'Create unit group',
          description: 'A group holds units; cleaning it up deletes every node of every unit.',
          submitLabel: 'Create',
          fields: [{ name: 'name', label: 'Name', required: true, placeholder: 'hadoop', help: 'Unique in the account.' }],
          onSubmit: (v) => api.post('/v1/unit_groups', { name: v.name }),
        });
        if (made) {
          toast(`Created ${made.name}`);
          go(`/unit-groups/${made.id}`);
        }
      });
      actions.push(create);
    }
    ctx.el.append(
      pageHeader('Unit groups', { subtitle: 'Groups of units: sets of identical nodes managed together', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Unit group list' }, list.el, pages.el),
    );
  },
};
