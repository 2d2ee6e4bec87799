// One instance: its details, addresses, volumes, groups and tags, the task
// history as a timeline, the serial console and the metrics; the actions
// start, stop, reboot and delete, each confirmed first.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import {
  badge, button, confirm, details, empty, errorBox, lineChart, loading,
  pageHeader, section, showError, table, timeline, toast, toneOf,
} from '../components.js';
import { go } from '../router.js';

const NO_CONSOLE = new Set(['pending', 'scheduling', 'terminated']);
const METRICS_EVERY_MS = 15000;

const ACTIONS = [
  // [label, action, allowed from, confirmation words]
  ['Start', 'start', ['stopped'], 'The instance boots again.'],
  ['Stop', 'stop', ['running'], 'The guest is asked to shut down; it keeps its disks and addresses.'],
  ['Reboot', 'reboot', ['running'], 'The guest restarts; it is unreachable for a while.'],
];

function chips(list, empty_ = 'None') {
  if (!list || !list.length) return h('span', { class: 'muted' }, empty_);
  return h('span', { class: 'chips' }, list.map((x) => h('span', { class: 'chip' }, x)));
}

/** The tasks, newest first, the newest open; `choices` keeps what the
 *  user opened or closed (task id -> open) across redraws. */
/** A resource's name when it is known, its id in the tooltip. */
function named(map, id) {
  const name = map.get(id);
  return name ? h('span', { title: id }, name) : h('span', { class: 'mono' }, id);
}

/** Names for the ids an instance refers to (its image, networks and
 *  groups), fetched once for the page; ids stay where one is not seen. */
async function lookupNames(inst) {
  const names = { images: new Map(), networks: new Map(), groups: new Map() };
  const [image, networks, groups] = await Promise.allSettled([
    api.get(`/v1/images/${encodeURIComponent(inst.image)}`),
    api.all('/v1/networks'),
    api.all('/v1/security_groups'),
  ]);
  if (image.status === 'fulfilled') names.images.set(image.value.id, image.value.name);
  if (networks.status === 'fulfilled') for (const n of networks.value) names.networks.set(n.id, n.name);
  if (groups.status === 'fulfilled') for (const g of groups.value) names.groups.set(g.id, g.name);
  return names;
}

function tasksView(tasks, choices) {
  if (!tasks.length) return empty('No tasks for this instance yet.');
  return h(
    'div',
    { class: 'tasks' },
    tasks.map((t, i) => {
      const took = t.events.reduce((n, e) => n + (e.duration_ms || 0), 0);
      const d = h(
        'details',
        { class: 'task', open: choices.has(t.id) ? choices.get(t.id) : i === 0, dataset: { task: t.id } },
        h(
          'summary',
          null,
          h('span', { class: 'task-action' }, t.action),
          badge(t.status, { kind: 'task' }),
          h('span', { class: 'mono muted' }, t.id),
          h('span', { class: 'task-when' }, `${fmt.ago(t.created_at)}${took ? ` · ${fmt.duration(took)}` : ''}`),
        ),
        h(
          'div',
          { class: 'task-body' },
          t.error ? h('div', { class: 'alert alert-error task-error' }, `${t.error.step ? `${t.error.step}: ` : ''}${t.error.message || 'failed'}`) : null,
          timeline(t),
        ),
      );
      // Fired for the open attribute set above too: only a change from
      // the default is the user's choice.
      d.addEventListener('toggle', () => {
        if (d.open === (i === 0)) choices.delete(t.id);
        else choices.set(t.id, d.open);
      });
      return d;
    }),
  );
}

function metricsView(m) {
  if (!m.interval) return empty("This instance's host keeps no metrics.");
  const s = m.samples;
  if (!s.length) return empty('No samples yet: the host samples every ' + fmt.seconds(m.interval) + '.');
  const series = (f) => s.map((x) => [Date.parse(x.at), f(x)]);
  return h(
    'div',
    { class: 'charts' },
    lineChart({ label: 'CPU', points: series((x) => x.cpu_percent), format: (v) => `${v.toFixed(1)} %`, max: 100 }),
    lineChart({ label: 'Memory used', points: series((x) => x.memory_used_mb), format: fmt.mb, max: s[s.length - 1].memory_mb }),
    lineChart({ label: 'Disk read + write', points: series((x) => x.disk_read_bps + x.disk_write_bps), format: fmt.rate }),
    lineChart({ label: 'Network in + out', points: series((x) => x.net_rx_bps + x.net_tx_bps), format: fmt.rate }),
  );
}

export default {
  title: 'Instance',
  async render(ctx) {
    const id = ctx.params.id;
    const path = `/v1/instances/${encodeURIComponent(id)}`;
    const err = errorBox(null);
    let inst;
    try {
      inst = await api.get(path);
    } catch (e) {
      if (e.status === 401) throw e;
      ctx.el.append(
        pageHeader(id, { back: { href: '#/instances', label: 'Instances' } }),
        errorBox(e),
      );
      return;
    }
    const names = await lookupNames(inst);
    if (!ctx.active) return;
    document.title = `${inst.name} · Instances · Arame`;

    const header = h('div');
    const info = h('div');
    const net = h('div');
    const tasksBody = h('div', null, loading());
    const consoleOut = h('pre', { class: 'console', tabindex: '0', 'aria-label': 'Console output' }, 'Loading…');
    const consoleNote = h('span');
    const metricsBody = h('div', null, loading());
    const openTasks = new Map();
    const addresses = table({
      label: 'Addresses',
      key: (a) => a.mac_address,
      empty: 'No network interfaces.',
      columns: [
        {
          label: 'IP address',
          class: 'nowrap',
          // Its floating IP under it, where the API gives one (a line,
          // not a column: the card is half the page wide).
          render: (a) => [
            h('span', { class: 'mono' }, a.ip_address),
            a.floating_ip ? h('a', { class: 'sub', href: '#/floating-ips' }, `floating IP ${a.floating_ip}`) : null,
          ],
        },
        { label: 'Network', class: 'nowrap', render: (a) => named(names.networks, a.network_id) },
        { label: 'MAC', class: 'nowrap', render: (a) => h('span', { class: 'mono' }, a.mac_address) },
      ],
    });
    const volumes = table({
      label: 'Volumes',
      empty: 'No data volumes attached.',
      columns: [
        { label: 'Volume', render: (v) => h('span', { class: 'mono' }, v.id) },
        { label: 'Device', key: 'device' },
      ],
    });

    let poller = null;
    async function act(label, action, words) {
      const ok = await confirm({
        title: `${label} ${inst.name}?`,
        message: words,
        confirmLabel: label,
        danger: action !== 'start',
      });
      if (!ok) return;
      try {
        const r = action === 'delete' ? await api.del(path) : await api.post(`${path}/actions`, { action });
        toast(`${label}: ${inst.name} (task ${r.task_id})`);
        if (action === 'delete') {
          go('/instances');
          return;
        }
        poller.refresh();
      } catch (e) {
        showError(err, e);
      }
    }

    function drawHeader() {
      const actions = [];
      if (session.canWrite() && inst.status !== 'terminated') {
        const busy = toneOf(inst.status) === 'busy';
        for (const [label, action, from, words] of ACTIONS) {
          actions.push(button(label, () => act(label, action, words), { disabled: busy || !from.includes(inst.status) }));
        }
        const del = button('Delete', () => act('Delete', 'delete', 'The instance and its root disk are deleted; this cannot be undone.'), {
          variant: 'danger-outline',
          disabled: inst.status === 'shuttingdown',
        });
        actions.push(del);
      }
      replace(
        header,
        pageHeader([inst.name, ' ', badge(inst.status)], {
          subtitle: `${inst.id} · ${inst.hostname}${inst.status_reason ? ` · ${inst.status_reason}` : ''}`,
          actions,
          back: { href: '#/instances', label: 'Instances' },
        }),
      );
    }

    function drawInfo() {
      replace(
        info,
        details([
          ['Status', badge(inst.status)],
          ['Power', inst.power_state],
          ['Flavor', inst.flavor],
          ['Image', named(names.images, inst.image)],
          ['Root disk', inst.root_gb ? `${inst.root_gb} GB` : "the flavor's"],
          ['Host', inst.host],
          ['Key pairs', chips(inst.key_pairs)],
          ['Unit', inst.unit ? `${inst.unit}${inst.unit_group ? ` (group ${inst.unit_group})` : ''}` : null],
          ['High availability', inst.ha_enabled ? 'restarted elsewhere if its host fails' : 'off'],
          ['Created', fmt.dateTime(inst.created_at)],
          ['Updated', fmt.dateTime(inst.updated_at)],
        ]),
      );
      addresses.update(inst.addresses);
      volumes.update(inst.volumes);
      replace(
        net,
        h('h3', { class: 'subhead' }, 'Addresses'),
        addresses.el,
        h('h3', { class: 'subhead' }, 'Volumes'),
        volumes.el,
        h('h3', { class: 'subhead' }, 'Security groups'),
        chips(inst.security_groups.map((g) => names.groups.get(g) || g)),
        h('h3', { class: 'subhead' }, 'Tags'),
        chips(inst.tags, 'No tags'),
      );
    }

    let infoSig = '';
    let tasksSig = '';
    let metricsAt = 0;

    async function refreshConsole() {
      if (NO_CONSOLE.has(inst.status) || !inst.host) {
        consoleOut.textContent = `No console: the instance is ${inst.status}.`;
        consoleNote.textContent = '';
        return;
      }
      try {
        const c = await api.get(`${path}/console`);
        const atBottom = consoleOut.scrollHeight - consoleOut.scrollTop - consoleOut.clientHeight < 24;
        consoleOut.textContent = c.output || '(nothing printed yet)';
        if (atBottom) consoleOut.scrollTop = consoleOut.scrollHeight;
        consoleNote.textContent = c.truncated ? 'the last part of the log' : 'refreshing';
      } catch (e) {
        if (e.status === 401) throw e;
        consoleOut.textContent = e.message;
      }
    }

    async function refreshMetrics() {
      metricsAt = Date.now() + METRICS_EVERY_MS;
      try {
        const m = await api.get(`${path}/metrics`, { since: 3600 });
        // No sample yet (a new guest): ask again after one interval.
        if (!m.samples.length && m.interval) metricsAt = Date.now() + Math.max(m.interval * 1000, 2000);
        replace(metricsBody, metricsView(m));
      } catch (e) {
        if (e.status === 401) throw e;
        replace(metricsBody, empty(e.message));
      }
    }

    async function tick() {
      const [i, t] = await Promise.all([api.get(path), api.get('/v1/tasks', { resource_id: id, limit: 10 })]);
      if (!ctx.active) return;
      inst = i;
      showError(err, null);
      const sig = JSON.stringify(inst);
      if (sig !== infoSig) {
        infoSig = sig;
        drawHeader();
        drawInfo();
      }
      const tsig = JSON.stringify(t.items);
      if (tsig !== tasksSig) {
        tasksSig = tsig;
        replace(tasksBody, tasksView(t.items, openTasks));
      }
      const more = [refreshConsole()];
      if (Date.now() >= metricsAt) more.push(refreshMetrics());
      await Promise.all(more);
    }

    drawHeader();
    drawInfo();
    infoSig = JSON.stringify(inst);
    ctx.el.append(
      header,
      err,
      h('div', { class: 'grid grid-2' }, section('Details', info), section('Network and storage', net)),
      section('Metrics', metricsBody, { aside: h('span', null, 'the last hour') }),
      h(
        'div',
        { class: 'grid grid-2' },
        section('Task history', tasksBody, { aside: h('span', null, 'newest first') }),
        section('Console', consoleOut, { aside: consoleNote }),
      ),
    );
    // Every second while a task changes the instance, else every 3 s.
    poller = api.poll(async () => {
      try {
        await tick();
      } catch (e) {
        if (ctx.active && e.status !== 401) showError(err, e);
        throw e;
      }
    }, () => (toneOf(inst.status) === 'busy' ? 1000 : 3000));
    ctx.onLeave(() => poller.stop());
  },
};
