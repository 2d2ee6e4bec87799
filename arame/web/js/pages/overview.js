// Overview: the account's quota usage, its instances by state and the
// recent tasks; for an admin, the hosts up and down and the capacity used.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, errorBox, loading, meter, pageHeader, section, showError, table, toneOf } from '../components.js';

const STATE_GROUPS = [
  ['Running', (s) => s === 'running'],
  ['Stopped', (s) => s === 'stopped'],
  ['In progress', (s) => toneOf(s) === 'busy'],
  ['Error', (s) => s === 'error'],
];

function stateTiles(instances) {
  const total = instances.length;
  return h(
    'div',
    { class: 'stats' },
    h('a', { class: 'stat stat-link', href: '#/instances' }, h('div', { class: 'stat-value' }, total), h('div', { class: 'stat-label' }, 'Instances')),
    STATE_GROUPS.map(([label, test]) =>
      h(
        'div',
        { class: 'stat' },
        h('div', { class: 'stat-value' }, instances.filter((i) => test(i.status)).length),
        h('div', { class: 'stat-label' }, label),
      ),
    ),
  );
}

function quotaMeters(q) {
  const { limits, in_use: used } = q;
  return h(
    'div',
    { class: 'meters' },
    meter('Instances', used.instances, limits.instances),
    meter('vCPUs', used.vcpus, limits.vcpus),
    meter('Memory', used.memory_mb, limits.memory_mb, { format: fmt.mb }),
    meter('Volumes', used.volumes, limits.volumes),
    meter('Storage', used.storage_gb, limits.storage_gb, { format: (n) => `${n} GB` }),
  );
}

function sum(hosts, field) {
  return hosts.reduce((n, x) => n + (x[field] || 0), 0);
}

function hostsCard(hosts, hostTable) {
  const up = hosts.filter((x) => x.state === 'up');
  const down = hosts.length - up.length;
  hostTable.update(hosts);
  return [
    h(
      'div',
      { class: 'stats' },
      h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, up.length), h('div', { class: 'stat-label' }, badge('up'), 'hosts')),
      h('div', { class: 'stat' }, h('div', { class: 'stat-value' }, down), h('div', { class: 'stat-label' }, badge('down'), 'hosts')),
    ),
    h(
      'div',
      { class: 'meters spaced' },
      meter('vCPUs allocated', sum(up, 'vcpus_used'), sum(up, 'vcpus')),
      meter('Memory allocated', sum(up, 'memory_mb_used'), sum(up, 'memory_mb'), { format: fmt.mb }),
      meter('Disk allocated', sum(up, 'disk_gb_used'), sum(up, 'disk_gb'), { format: (n) => `${n} GB` }),
    ),
    hostTable.el,
  ];
}

function resourceLink(task) {
  if (task.resource_type === 'instance') return h('a', { href: `#/instances/${task.resource_id}` }, task.resource_id);
  return h('span', { class: 'mono' }, task.resource_id);
}

export default {
  title: 'Overview',
  async render(ctx) {
    const s = session.load();
    const admin = session.isAdmin();
    const err = errorBox(null);
    const tiles = h('div', null, loading());
    const quota = h('div', null, loading());
    const hostsBody = h('div', null, loading());
    const tasks = table({
      label: 'Recent tasks',
      empty: 'No tasks yet: launch an instance to see its task here.',
      columns: [
        { label: 'Action', render: (t) => h('span', { class: 'task-action' }, t.action) },
        { label: 'Resource', render: resourceLink },
        { label: 'Status', render: (t) => badge(t.status, { kind: 'task' }) },
        { label: 'Step', render: (t) => (t.step ? h('span', { class: 'mono' }, t.step) : null) },
        { label: 'Started', render: (t) => h('time', { datetime: t.created_at, title: fmt.dateTime(t.created_at) }, fmt.ago(t.created_at)) },
      ],
    });
    tasks.update(null);
    const hostTable = table({
      label: 'Hosts',
      key: (x) => x.name,
      columns: [
        { label: 'Host', render: (x) => h('strong', null, x.name) },
        { label: 'State', render: (x) => badge(x.state) },
        { label: 'Provider', key: 'provider' },
        { label: 'Instances', class: 'num', key: 'instances' },
        { label: 'Heartbeat', class: 'num', render: (x) => fmt.seconds(x.heartbeat_age_s) },
      ],
    });

    ctx.el.append(
      pageHeader('Overview', { subtitle: `Account ${s.account_id}` }),
      err,
      tiles,
      h(
        'div',
        { class: 'grid grid-2' },
        section('Quota usage', quota),
        section('Recent tasks', tasks.el, { aside: h('span', null, 'newest first') }),
      ),
      admin ? section('Hosts', hostsBody, { aside: h('span', null, 'the whole cloud') }) : null,
    );

    const instanceQuery = admin ? { account_id: s.account_id, limit: 1000 } : { limit: 1000 };
    const refresh = async () => {
      const calls = [
        api.get('/v1/instances', instanceQuery),
        api.get(`/v1/quotas/${encodeURIComponent(s.account_id)}`),
        api.get('/v1/tasks', { limit: 8 }),
        admin ? api.get('/v1/hosts', { limit: 1000 }) : null,
      ];
      const [inst, q, t, hosts] = await Promise.allSettled(calls);
      if (!ctx.active) return;
      const failed = [inst, q, t, hosts].find((r) => r.status === 'rejected');
      showError(err, failed ? failed.reason : null);
      if (inst.status === 'fulfilled') replace(tiles, stateTiles(inst.value.items));
      if (q.status === 'fulfilled') replace(quota, quotaMeters(q.value));
      if (t.status === 'fulfilled') tasks.update(t.value.items);
      if (admin && hosts.status === 'fulfilled' && hosts.value) replace(hostsBody, hostsCard(hosts.value.items, hostTable));
    };
    const poller = api.poll(refresh, 5000);
    ctx.onLeave(poller.stop);
  },
};
