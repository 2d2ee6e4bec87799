// Floating IPs: addresses of an external network's pool held by the
// account. Allocate one, associate it with an instance's address (the
// instance's network must be on a router whose gateway is that external
// network), disassociate it, release it.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, confirm, errorBox, formDialog, pageHeader, pager, showError, table, toast } from '../components.js';
import { NO_EXTERNAL } from './routers.js';

const when = (iso) => h('time', { datetime: iso, title: fmt.dateTime(iso) }, fmt.ago(iso));
const path = (f) => `/v1/floating_ips/${encodeURIComponent(f.id)}`;

/** `down` is a floating IP at rest (held, not associated), not a fault:
 *  shown grey, not red. */
function status(f) {
  if (f.status === 'down') return h('span', { class: ['badge', 'badge-off'], title: 'Not associated with an instance' }, 'down');
  return badge(f.status);
}

function allocateDialog(external) {
  return formDialog({
    title: 'Allocate floating IP',
    description: "An address of an external network's pool, held by the account until it is released.",
    submitLabel: 'Allocate',
    fields: [
      {
        name: 'network',
        label: 'External network',
        type: 'select',
        required: true,
        options: external.map((n) => ({ value: n.id, label: `${n.name} (${n.cidr})` })),
      },
      { name: 'address', label: 'Address', placeholder: '203.0.113.20', help: 'A given address of the pool; empty: a free one.' },
    ],
    onSubmit: (v) => {
      const body = { network: v.network };
      if (v.address) body.address = v.address;
      return api.post('/v1/floating_ips', body);
    },
  });
}

function associateDialog(f, instances) {
  const live = instances.filter((i) => i.status !== 'terminated' && i.addresses.length);
  return formDialog({
    title: `Associate ${f.address}`,
    description: "Traffic to the address goes to the instance's address. Its network must be on a router whose gateway is this floating IP's network.",
    submitLabel: 'Associate',
    fields: [
      {
        name: 'instance',
        label: 'Instance',
        type: 'select',
        required: true,
        options: live.map((i) => ({ value: i.id, label: `${i.name} (${i.addresses.map((a) => a.ip_address).join(', ')})` })),
      },
      { name: 'ip_address', label: 'IP address', placeholder: '10.0.0.5', help: 'Which of its addresses; empty: its first.' },
    ],
    onSubmit: (v) => {
      const associate = { instance: v.instance };
      if (v.ip_address) associate.ip_address = v.ip_address;
      return api.post(`${path(f)}/actions`, { associate });
    },
  });
}

export default {
  title: 'Floating IPs',
  async render(ctx) {
    // An action's refusal stays until the next action; the list's own
    // trouble goes with the next answer.
    const err = errorBox(null);
    const listErr = errorBox(null);
    const writer = session.canWrite();
    const networks = new Map();
    const instances = new Map();

    async function loadNetworks() {
      for (const n of await api.all('/v1/networks')) networks.set(n.id, n);
    }
    async function loadInstances() {
      const all = await api.all('/v1/instances');
      for (const i of all) instances.set(i.id, i);
      return all;
    }
    await Promise.allSettled([loadNetworks(), loadInstances()]);
    if (!ctx.active) return;

    const named = (map, id, href) => {
      const x = map.get(id);
      const label = x ? h('span', { title: id }, x.name) : h('span', { class: 'mono' }, id);
      return href ? h('a', { href }, label) : label;
    };

    /** An action from a row; its refusal in the API's words above the
     *  list. */
    async function act(fn, done) {
      try {
        await fn();
        showError(err, null);
        if (done) toast(done);
      } catch (e) {
        showError(err, e);
      }
      poller.refresh();
    }

    async function associate(f) {
      let all;
      try {
        all = await loadInstances();
      } catch (e) {
        showError(err, e);
        return;
      }
      const done = await associateDialog(f, all);
      if (done) {
        showError(err, null);
        toast(`Associating ${f.address}`);
        poller.refresh();
      }
    }

    async function disassociate(f) {
      const ok = await confirm({
        title: `Disassociate ${f.address}?`,
        message: `The address no longer reaches ${f.fixed_address || 'the instance'}; the account keeps it.`,
        confirmLabel: 'Disassociate',
      });
      if (ok) await act(() => api.post(`${path(f)}/actions`, { disassociate: {} }), `Disassociating ${f.address}`);
    }

    async function release(f) {
      const ok = await confirm({
        title: `Release ${f.address}?`,
        message: f.instance_id
          ? `It is disassociated from ${f.fixed_address} first, then goes back to the pool; another account may get it.`
          : 'The address goes back to the pool; another account may get it.',
        confirmLabel: 'Release',
      });
      if (ok) await act(() => api.del(path(f)), `Released ${f.address}`);
    }

    const list = table({
      label: 'Floating IPs',
      empty: 'No floating IPs yet. Allocate one to reach an instance from outside.',
      columns: [
        { label: 'Address', class: 'name-cell', render: (f) => [h('strong', { class: 'mono' }, f.address), h('span', { class: 'sub' }, f.id)] },
        { label: 'External network', render: (f) => named(networks, f.network_id) },
        { label: 'Instance', render: (f) => (f.instance_id ? named(instances, f.instance_id, `#/instances/${f.instance_id}`) : null) },
        { label: 'Fixed address', render: (f) => (f.fixed_address ? h('span', { class: 'mono' }, f.fixed_address) : null) },
        { label: 'Status', render: status },
        { label: 'Allocated', render: (f) => when(f.created_at) },
        writer
          ? {
              label: 'Actions',
              class: 'row-actions',
              render: (f) =>
                h(
                  'span',
                  { class: 'row-buttons' },
                  f.instance_id
                    ? button('Disassociate', () => disassociate(f), { variant: 'small' })
                    : button('Associate', () => associate(f), { variant: 'small' }),
                  button('Release', () => release(f), { variant: 'danger-outline' }),
                ),
            }
          : null,
      ].filter(Boolean),
    });
    list.update(null);

    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/floating_ips', { marker, limit: 50, sort: 'address' });
          // Names for what appeared since the page opened.
          const missing = p.items.some((f) => !networks.has(f.network_id) || (f.instance_id && !instances.has(f.instance_id)));
          if (missing) await Promise.allSettled([loadNetworks(), loadInstances()]);
          showError(listErr, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(listErr, e);
          throw e;
        }
      },
      list.update,
      { label: 'Floating IP pages' },
    );
    const poller = api.poll(() => pages.reload(), 5000);
    ctx.onLeave(poller.stop);

    const actions = [];
    if (writer) {
      const allocate = button('Allocate', null, { variant: 'primary' });
      allocate.addEventListener('click', async () => {
        let made;
        try {
          allocate.disabled = true;
          await loadNetworks();
          const external = [...networks.values()].filter((n) => n.external);
          if (!external.length) throw new Error(NO_EXTERNAL);
          made = await allocateDialog(external);
        } catch (e) {
          showError(err, e);
          return;
        } finally {
          allocate.disabled = false;
        }
        if (made) {
          showError(err, null);
          toast(`Allocated ${made.address}`);
          poller.refresh();
        }
      });
      actions.push(allocate);
    }
    ctx.el.append(
      pageHeader('Floating IPs', { subtitle: 'Addresses of external networks, each reaching one instance', actions }),
      err,
      listErr,
      h('section', { class: 'card', 'aria-label': 'Floating IP list' }, list.el, pages.el),
    );
  },
};
