// Instances: the list with live status badges, filtered by name, status
// and tag, paged by marker; `Launch instance` for those who may write.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, errorBox, formDialog, pageHeader, pager, showError, table, toast, toneOf } from '../components.js';

const STATUSES = [
  'pending', 'scheduling', 'starting', 'running', 'stopping', 'stopped',
  'rebooting', 'evacuating', 'shuttingdown', 'error', 'terminated',
];
const PAGE_SIZE = 20;

function firstAddress(i) {
  const a = (i.addresses || [])[0];
  return a ? h('span', { class: 'mono' }, a.ip_address) : null;
}

/** The launch dialog's choices, fetched when it opens. */
async function launchChoices() {
  const [flavors, images, networks, keyPairs, groups] = await Promise.all([
    api.all('/v1/flavors'),
    api.all('/v1/images', { status: 'available' }),
    api.all('/v1/networks'),
    api.all('/v1/key_pairs'),
    api.all('/v1/security_groups'),
  ]);
  // An instance is made in the caller's own account and may use only its
  // keys and groups: an admin's lists hold every account's.
  const own = (r) => r.account_id === session.account();
  return { flavors, images, networks, keyPairs: keyPairs.filter(own), groups: groups.filter(own) };
}

export async function launchDialog() {
  const c = await launchChoices();
  const flavorLabel = (f) => `${f.name} · ${fmt.count(f.vcpus, 'vCPU')} · ${fmt.mb(f.memory_mb)} · ${f.disk_gb} GB${f.provider === 'bm' ? ' · bare metal' : ''}`;
  return formDialog({
    title: 'Launch instance',
    description: 'A new instance from an image, sized by a flavor.',
    submitLabel: 'Launch',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'web1', help: 'Letters, digits, ".", "_" or "-".' },
      { name: 'flavor', label: 'Flavor', type: 'select', required: true, options: c.flavors.map((f) => ({ value: f.name, label: flavorLabel(f) })) },
      { name: 'image', label: 'Image', type: 'select', required: true, options: c.images.map((i) => ({ value: i.id, label: `${i.name} (${i.format})` })) },
      {
        name: 'network',
        label: 'Network',
        type: 'select',
        options: [{ value: '', label: 'The default network' }, ...c.networks.map((n) => ({ value: n.id, label: `${n.name} (${n.cidr})` }))],
      },
      { name: 'ip_address', label: 'IP address', placeholder: 'any free address', help: 'A fixed address on the network.' },
      { name: 'root_gb', label: 'Root disk (GB)', type: 'number', min: 1, placeholder: "the flavor's", help: "Larger than the flavor's disk." },
      {
        name: 'key_pairs',
        label: 'Key pairs',
        type: 'multiselect',
        options: c.keyPairs.map((k) => ({ value: k.id, label: k.name })),
        emptyText: 'No key pairs in this account yet',
        help: 'Every public key goes into the config drive.',
      },
      {
        name: 'security_groups',
        label: 'Security groups',
        type: 'multiselect',
        options: c.groups.map((g) => ({ value: g.id, label: g.name })),
        help: 'None chosen: the group named default.',
      },
      { name: 'user_data', label: 'User data', type: 'textarea', rows: 4, placeholder: '#!/bin/sh', help: 'A script or cloud-config the guest reads at boot.' },
    ],
    async onSubmit(v) {
      const body = { name: v.name, flavor: v.flavor, image: v.image };
      if (v.network) body.network = v.network;
      if (v.ip_address) body.ip_address = v.ip_address;
      if (v.root_gb !== null) body.root_gb = v.root_gb;
      if (v.key_pairs.length) body.key_pairs = v.key_pairs;
      if (v.security_groups.length) body.security_groups = v.security_groups;
      if (v.user_data) body.user_data = v.user_data;
      return api.post('/v1/instances', body);
    },
  });
}

export default {
  title: 'Instances',
  async render(ctx) {
    const admin = session.isAdmin();
    const err = errorBox(null);
    const filters = { name: '', status: '', tag: '' };
    let items = [];

    const list = table({
      label: 'Instances',
      empty: 'No instances match. Launch one to get started.',
      columns: [
        {
          label: 'Name',
          class: 'name-cell',
          render: (i) => [h('a', { href: `#/instances/${i.id}` }, i.name), h('span', { class: 'sub' }, i.id)],
        },
        { label: 'Status', render: (i) => badge(i.status, { title: i.status_reason || null }) },
        { label: 'Flavor', key: 'flavor' },
        { label: 'Address', render: firstAddress },
        admin ? { label: 'Host', key: 'host' } : null,
        { label: 'Tags', render: (i) => (i.tags.length ? h('span', { class: 'chips' }, i.tags.map((t) => h('span', { class: 'chip' }, t))) : null) },
        { label: 'Created', render: (i) => h('time', { datetime: i.created_at, title: fmt.dateTime(i.created_at) }, fmt.ago(i.created_at)) },
      ].filter(Boolean),
    });
    list.update(null);

    const query = (marker) => {
      const name = filters.name;
      return {
        limit: PAGE_SIZE,
        marker,
        sort: 'name',
        // A bare word finds names containing it; a glob is sent as typed.
        name: name && !name.includes('*') ? `*${name}*` : name,
        status: filters.status,
        tag: filters.tag ? filters.tag.split(',').map((t) => t.trim()).filter(Boolean) : [],
      };
    };
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/instances', query(marker));
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
      { label: 'Instance pages' },
    );

    // Live badges: every second while something changes, else every 5 s.
    const poller = api.poll(() => pages.reload(), () => (items.some((i) => toneOf(i.status) === 'busy') ? 1000 : 5000));
    ctx.onLeave(poller.stop);

    let typing = null;
    const onFilter = (key) => (e) => {
      filters[key] = e.target.value.trim();
      clearTimeout(typing);
      typing = setTimeout(() => pages.first().catch(() => {}), key === 'status' ? 0 : 300);
    };
    const filterBar = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter instances', onSubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'filter-name' }, 'Search by name'), h('input', { id: 'filter-name', type: 'search', placeholder: 'part of a name, or web*', onInput: onFilter('name') })),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'filter-status' }, 'Status'),
        h('select', { id: 'filter-status', onChange: onFilter('status') }, h('option', { value: '' }, 'Any status'), STATUSES.map((s) => h('option', { value: s }, s))),
      ),
      h('div', { class: 'field' }, h('label', { for: 'filter-tag' }, 'Tag'), h('input', { id: 'filter-tag', type: 'search', placeholder: 'tag1, tag2', onInput: onFilter('tag') })),
    );

    const actions = [];
    if (session.canWrite()) {
      const launch = button('Launch instance', null, { variant: 'primary' });
      launch.addEventListener('click', async () => {
        let made;
        try {
          launch.disabled = true;
          made = await launchDialog();
        } catch (e) {
          showError(err, e);
          return;
        } finally {
          launch.disabled = false;
        }
        if (made) {
          toast(`Launching ${made.name} (task ${made.task_id})`);
          poller.refresh();
        }
      });
      actions.push(launch);
    }

    ctx.el.append(
      pageHeader('Instances', { subtitle: 'Virtual machines and bare-metal servers of the account', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Instance list' }, filterBar, list.el, pages.el),
    );
  },
};
