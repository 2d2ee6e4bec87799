// Routers: the account's networks joined to each other and, through a
// gateway on an external network, to the outside (SNAT). Create one; on
// its row add or remove a network, set or clear the gateway, delete it.
// Every change is a task on the router's L3 host: the status badge shows
// it building until the host has applied it.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, confirm, errorBox, formDialog, pageHeader, pager, showError, table, toast, toneOf } from '../components.js';

const path = (r) => `/v1/routers/${encodeURIComponent(r.id)}`;

/** The networks a router may name: the external ones (its way out) and
 *  the account's own private ones (the API refuses shared ones). */
async function loadNetworks() {
  const me = session.account();
  const all = await api.all('/v1/networks');
  return {
    byId: new Map(all.map((n) => [n.id, n])),
    external: all.filter((n) => n.external),
    own: all.filter((n) => !n.external && !n.shared && n.account_id === me),
  };
}

export const NO_EXTERNAL = 'There is no external network yet: an admin creates one (Networks, External).';

const netLabel = (n) => `${n.name} (${n.cidr})`;

function routerDialog(nets) {
  return formDialog({
    title: 'Create router',
    description: 'Joins networks of the account to each other, and to an external network for their way out.',
    submitLabel: 'Create',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'edge', help: 'Letters, digits, ".", "_" or "-".' },
      {
        name: 'external_network',
        label: 'External network',
        type: 'select',
        value: '',
        options: [{ value: '', label: 'None (the networks only reach each other)' }, ...nets.external.map((n) => ({ value: n.id, label: netLabel(n) }))],
        help: "The router's gateway: its instances reach the outside through an address of this network.",
      },
      {
        name: 'networks',
        label: 'Networks',
        type: 'multiselect',
        options: nets.own.map((n) => ({ value: n.id, label: netLabel(n) })),
        emptyText: 'The account has no network of its own',
        help: 'A network joins one router at most; its gateway address becomes the router’s.',
      },
    ],
    onSubmit: (v) => {
      const body = { name: v.name, networks: v.networks };
      if (v.external_network) body.external_network = v.external_network;
      return api.post('/v1/routers', body);
    },
  });
}

export default {
  title: 'Routers',
  async render(ctx) {
    // Two boxes: an action's refusal stays until the next action; the
    // list's own trouble goes with the next answer.
    const err = errorBox(null);
    const listErr = errorBox(null);
    const writer = session.canWrite();
    let nets = { byId: new Map(), external: [], own: [] };
    let routers = [];
    try {
      nets = await loadNetworks();
    } catch (e) {
      if (e.status === 401) throw e;
      showError(err, e);
    }
    if (!ctx.active) return;

    const netName = (id) => {
      const n = nets.byId.get(id);
      return n ? h('span', { title: id }, n.name) : h('span', { class: 'mono' }, id);
    };

    /** A PATCH from a row's dialog: the API's refusal stays in the
     *  dialog; done, the poll shows the router building. */
    async function change(r, body) {
      const out = await api.patch(path(r), body);
      showError(err, null);
      poller.refresh();
      return out;
    }

    async function addNetwork(r) {
      nets = await loadNetworks().catch(() => nets);
      const mine = new Set(r.networks.map((n) => n.id));
      const choices = nets.own.filter((n) => !mine.has(n.id));
      const done = await formDialog({
        title: `Add a network to ${r.name}`,
        description: 'The network routes to the router’s other networks (and out through its gateway).',
        submitLabel: 'Add network',
        fields: [
          {
            name: 'network',
            label: 'Network',
            type: 'select',
            required: true,
            options: choices.map((n) => ({ value: n.id, label: netLabel(n) })),
          },
        ],
        onSubmit: (v) => change(r, { networks: [...mine, v.network] }),
      });
      if (done) toast(`Adding the network to ${r.name}`);
    }

    async function removeNetwork(r) {
      const done = await formDialog({
        title: `Remove a network from ${r.name}`,
        description: 'The network no longer reaches the others, nor the outside; its instances keep their addresses.',
        submitLabel: 'Remove network',
        danger: true,
        fields: [
          {
            name: 'network',
            label: 'Network',
            type: 'select',
            required: true,
            options: r.networks.map((n) => ({ value: n.id, label: `${nets.byId.get(n.id)?.name || n.id} (${n.cidr})` })),
          },
        ],
        onSubmit: (v) => change(r, { networks: r.networks.map((n) => n.id).filter((id) => id !== v.network) }),
      });
      if (done) toast(`Removing the network from ${r.name}`);
    }

    async function setGateway(r) {
      nets = await loadNetworks().catch(() => nets);
      if (!nets.external.length) {
        showError(err, new Error(NO_EXTERNAL));
        return;
      }
      const done = await formDialog({
        title: `Set the gateway of ${r.name}`,
        description: 'The router takes an address of the external network; its networks reach the outside through it.',
        submitLabel: 'Set gateway',
        fields: [
          {
            name: 'external_network',
            label: 'External network',
            type: 'select',
            required: true,
            value: r.external_network || '',
            options: nets.external.map((n) => ({ value: n.id, label: netLabel(n) })),
          },
        ],
        onSubmit: (v) => change(r, { external_network: v.external_network }),
      });
      if (done) toast(`Setting the gateway of ${r.name}`);
    }

    async function clearGateway(r) {
      const done = await formDialog({
        title: `Clear the gateway of ${r.name}?`,
        description: `The router gives back ${r.external_address || 'its external address'}; its networks no longer reach the outside.`,
        submitLabel: 'Clear gateway',
        danger: true,
        fields: [],
        onSubmit: () => change(r, { external_network: null }),
      });
      if (done) toast(`Clearing the gateway of ${r.name}`);
    }

    async function remove(r) {
      const ok = await confirm({
        title: `Delete ${r.name}?`,
        message: 'Its networks stop reaching each other and the outside; the networks themselves stay.',
        confirmLabel: 'Delete',
      });
      if (!ok) return;
      try {
        await api.del(path(r));
        showError(err, null);
        toast(`Deleting ${r.name}`);
      } catch (e) {
        showError(err, e);
      }
      poller.refresh();
    }

    function rowActions(r) {
      if (r.status === 'deleting') return null;
      return h(
        'span',
        { class: ['row-buttons', 'router-buttons'] },
        button('Add network', () => addNetwork(r).catch((e) => showError(err, e)), { variant: 'small' }),
        r.networks.length ? button('Remove network', () => removeNetwork(r), { variant: 'small' }) : null,
        r.external_network
          ? button('Clear gateway', () => clearGateway(r), { variant: 'small' })
          : button('Set gateway', () => setGateway(r).catch((e) => showError(err, e)), { variant: 'small' }),
        button('Delete', () => remove(r), { variant: 'danger-outline' }),
      );
    }

    const list = table({
      label: 'Routers',
      empty: 'No routers yet. Create one to join networks and reach the outside.',
      columns: [
        {
          label: 'Name',
          class: ['name-cell', 'nowrap'],
          render: (r) => [h('strong', { title: `created ${fmt.dateTime(r.created_at)}` }, r.name), h('span', { class: 'sub' }, r.id)],
        },
        // Why a router is in error, in words (the host's or the flow's).
        { label: 'Status', render: (r) => [badge(r.status, { title: r.error || null }), r.error ? h('span', { class: 'router-error' }, r.error) : null] },
        {
          label: 'External network',
          render: (r) =>
            r.external_network
              ? [netName(r.external_network), r.external_address ? h('span', { class: 'sub' }, r.external_address) : null]
              : h('span', { class: 'muted' }, 'none'),
        },
        {
          label: 'Networks',
          render: (r) =>
            r.networks.length
              ? h(
                  'ul',
                  { class: 'router-nets' },
                  r.networks.map((n) => h('li', null, netName(n.id), h('span', { class: 'mono muted' }, ` ${n.address}`))),
                )
              : h('span', { class: 'muted' }, 'none'),
        },
        { label: 'Floating IPs', class: 'num', render: (r) => String(r.floating_ips) },
        writer ? { label: 'Actions', class: 'row-actions', render: rowActions } : null,
      ].filter(Boolean),
    });
    list.update(null);

    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/routers', { marker, limit: 50, sort: 'name' });
          showError(listErr, null);
          // A network made since the page opened: its name, not its id.
          if (p.items.some((r) => r.networks.some((n) => !nets.byId.has(n.id)) || (r.external_network && !nets.byId.has(r.external_network)))) {
            nets = await loadNetworks().catch(() => nets);
          }
          return p;
        } catch (e) {
          if (ctx.active) showError(listErr, e);
          throw e;
        }
      },
      (items) => {
        routers = items;
        list.update(items);
      },
      { label: 'Router pages' },
    );
    // Every second while a router is building or deleting.
    const poller = api.poll(() => pages.reload(), () => (routers.some((r) => toneOf(r.status) === 'busy') ? 1000 : 5000));
    ctx.onLeave(poller.stop);

    const actions = [];
    if (writer) {
      const create = button('Create router', null, { variant: 'primary' });
      create.addEventListener('click', async () => {
        let made;
        try {
          create.disabled = true;
          nets = await loadNetworks();
          made = await routerDialog(nets);
        } catch (e) {
          showError(err, e);
          return;
        } finally {
          create.disabled = false;
        }
        if (made) {
          toast(`Creating router ${made.name}`);
          poller.refresh();
        }
      });
      actions.push(create);
    }
    ctx.el.append(
      pageHeader('Routers', { subtitle: "The account's networks joined to each other and to an external network", actions }),
      err,
      listErr,
      h('section', { class: 'card', 'aria-label': 'Router list' }, list.el, pages.el),
    );
  },
};
