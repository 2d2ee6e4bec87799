// Networks: the account's networks and the shared ones (marked), created
// from a name, a CIDR and a DNS domain, deleted after a confirmation.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { button, confirm, errorBox, formDialog, pageHeader, pager, showError, table, toast } from '../components.js';

function createDialog() {
  const fields = [
    { name: 'name', label: 'Name', required: true, placeholder: 'backend', help: 'Letters, digits, ".", "_" or "-".' },
    { name: 'cidr', label: 'CIDR', required: true, placeholder: '10.20.0.0/24', help: 'An IPv4 network, /16 to /29.' },
    { name: 'dns_domain', label: 'DNS domain', required: true, placeholder: 'backend.internal', help: "The instances' hostnames end with it." },
    {
      name: 'segmentation',
      label: 'Segmentation',
      type: 'select',
      required: true,
      value: 'vxlan',
      options: [
        { value: 'vxlan', label: 'VXLAN (an overlay between hosts)' },
        { value: 'vlan', label: 'VLAN (tagged on the physical network)' },
      ],
    },
  ];
  // Only an admin may make a network every account can use, or an
  // external one (the routers' way out; its DHCP ranges are the floating
  // IP pool, on a physical network of the L3 hosts, flat or a VLAN).
  if (session.isAdmin()) {
    fields[3].options.push({ value: 'flat', label: 'Flat (external networks only)' });
    fields.push(
      { name: 'shared', label: 'Shared with every account', type: 'checkbox' },
      { name: 'external', label: 'External', type: 'checkbox', help: "Routers' way out: its addresses are the floating IP pool." },
      { name: 'physical_network', label: 'Physical network', placeholder: 'public', help: 'External networks: the name the L3 hosts map to a device.' },
    );
  }
  return formDialog({
    title: 'Create network',
    description: 'A private network; instances get their addresses from it by DHCP.',
    submitLabel: 'Create',
    fields,
    onSubmit: (v) => {
      const body = { name: v.name, cidr: v.cidr, dns_domain: v.dns_domain, segmentation: v.segmentation };
      if (v.shared) body.shared = true;
      if (v.external) body.external = true;
      if (v.physical_network) body.physical_network = v.physical_network;
      return api.post('/v1/networks', body);
    },
  });
}

export default {
  title: 'Networks',
  async render(ctx) {
    const err = errorBox(null);
    const me = (session.load() || {}).account_id;
    const writer = session.canWrite();
    // A shared network belongs to the admins' account: others may use it,
    // not delete it.
    const mayDelete = (n) => writer && (session.isAdmin() || n.account_id === me);

    async function remove(n) {
      const ok = await confirm({
        title: `Delete ${n.name}?`,
        message: `The network ${n.cidr} is deleted; this cannot be undone.`,
        confirmLabel: 'Delete',
      });
      if (!ok) return;
      try {
        await api.del(`/v1/networks/${encodeURIComponent(n.id)}`);
        showError(err, null);
        toast(`Deleted ${n.name}`);
      } catch (e) {
        showError(err, e);
      }
      await poller.refresh();
    }

    const list = table({
      label: 'Networks',
      empty: 'No networks yet.',
      columns: [
        {
          label: 'Name',
          class: 'name-cell',
          render: (n) => [
            h(
              'span',
              { class: 'net-name' },
              n.name,
              n.shared ? h('span', { class: 'chip chip-shared', title: 'Usable by every account' }, 'shared') : null,
              n.external ? h('span', { class: 'chip chip-external', title: "Routers' way out; its pool gives floating IPs" }, 'external') : null,
            ),
            h('span', { class: 'sub' }, n.id),
          ],
        },
        { label: 'CIDR', render: (n) => h('span', { class: 'mono' }, n.cidr) },
        { label: 'Gateway', render: (n) => h('span', { class: 'mono' }, n.gateway) },
        { label: 'DNS domain', render: (n) => h('span', { class: 'mono' }, n.dns_domain) },
        { label: 'Segment', render: (n) => (n.segment_id === null ? n.segmentation : `${n.segmentation} ${n.segment_id}`) },
        { label: 'MTU', class: 'num', key: 'mtu' },
        { label: 'Created', render: (n) => h('time', { datetime: n.created_at, title: fmt.dateTime(n.created_at) }, fmt.ago(n.created_at)) },
        writer
          ? {
              label: 'Actions',
              render: (n) => (mayDelete(n) ? button('Delete', () => remove(n), { variant: 'danger', title: `Delete ${n.name}` }) : null),
            }
          : null,
      ].filter(Boolean),
    });
    list.update(null);

    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/networks', { marker, limit: 50 });
          showError(err, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(err, e);
          throw e;
        }
      },
      list.update,
      { label: 'Network pages' },
    );
    const poller = api.poll(() => pages.reload(), 10000);
    ctx.onLeave(poller.stop);

    const actions = [];
    if (writer) {
      const create = button('Create network', null, { variant: 'primary' });
      create.addEventListener('click', async () => {
        const made = await createDialog();
        if (made) {
          toast(`Created ${made.name}`);
          poller.refresh();
        }
      });
      actions.push(create);
    }
    ctx.el.append(
      pageHeader('Networks', { subtitle: 'Private networks of the account, and the shared ones', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Network list' }, list.el, pages.el),
    );
  },
};
