// Admin > Bare-metal nodes: enroll a machine by its BMC, then manage it
// (the agent checks the BMC and reads the power state), provide it (it
// becomes available to bm flavors), take it out for maintenance and back.
// A node a claim holds (deploying, active, cleaning) takes no action.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';
import { button, confirm, errorBox, formDialog, section, showError, table, toast } from '../components.js';
import { rowActions, rowButton } from './admin-common.js';

// A node's provision states are steady unless a flow runs, so they get
// their own colours (the shared badge reads "manageable" as busy).
const NODE_TONES = {
  available: 'ok',
  active: 'ok',
  manageable: 'off',
  enroll: 'off',
  deploying: 'busy',
  cleaning: 'busy',
  error: 'bad',
};
const BUSY = new Set(['deploying', 'active', 'cleaning']);
const CAN = {
  manage: new Set(['enroll', 'manageable', 'error']),
  provide: new Set(['manageable']),
};

function toneBadge(text, tone, title) {
  return h(
    'span',
    { class: ['badge', `badge-${tone}`], title: title || null },
    tone === 'busy' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    text,
  );
}

function stateBadge(state, running) {
  if (running) return toneBadge(`${running}…`, 'busy', `${running} in progress`);
  return toneBadge(state, NODE_TONES[state] || 'off');
}

function powerBadge(power) {
  if (!power) return '—';
  return toneBadge(power, power === 'on' ? 'ok' : 'off', `power ${power}`);
}

function parseMacs(text) {
  return (text || '')
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
}

const NODE_FIELDS = [
  { name: 'name', label: 'Name', required: true, placeholder: 'rack1-node07' },
  { name: 'resource_class', label: 'Resource class', help: 'The bm flavor it serves; empty: any it fits.' },
  { name: 'bmc_address', label: 'BMC address', required: true, placeholder: '10.0.0.21' },
  { name: 'bmc_port', label: 'BMC port', type: 'number', min: 1, max: 65535, value: 623, required: true },
  { name: 'bmc_username', label: 'BMC username', required: true },
  { name: 'bmc_password', label: 'BMC password', type: 'password', required: true, autocomplete: 'new-password', help: 'Kept encrypted; never shown again.' },
  {
    name: 'bmc_interface',
    label: 'BMC interface',
    type: 'select',
    value: 'lanplus',
    options: [
      { value: 'lanplus', label: 'lanplus (IPMI 2.0)' },
      { value: 'lan', label: 'lan (IPMI 1.5)' },
    ],
  },
  { name: 'cpus', label: 'CPUs', type: 'number', min: 1, required: true },
  { name: 'memory_mb', label: 'Memory (MB)', type: 'number', min: 1, required: true },
  { name: 'disk_gb', label: 'Disk (GB)', type: 'number', min: 1, required: true },
  {
    name: 'macs',
    label: 'MAC addresses',
    type: 'textarea',
    rows: 2,
    required: true,
    placeholder: '52:54:00:12:34:56',
    help: 'One per line; the first is the one it PXE-boots from.',
  },
];

function nodeBody(v, { editing } = {}) {
  const body = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null) continue; // an update leaves it as it is
    body[k] = k === 'macs' ? parseMacs(val) : val;
  }
  if (editing && !body.bmc_password) delete body.bmc_password;
  return body;
}

export async function render(el, ctx) {
  const err = errorBox(null);
  // node id -> the action whose task is running; the list polls fast
  // only while one is.
  const running = new Map();

  const nodes = table({
    label: 'Bare-metal nodes',
    empty: 'No node enrolled yet. Enroll one by its BMC.',
    columns: [
      { label: 'Name', render: (n) => h('span', { class: 'name-cell' }, h('strong', null, n.name), h('span', { class: 'sub' }, n.id)) },
      {
        label: 'Provision state',
        render: (n) =>
          h(
            'div',
            { class: 'node-state' },
            stateBadge(n.provision_state, n.running),
            n.maintenance ? toneBadge('maintenance', 'warn', n.maintenance_reason) : null,
            n.status_reason ? h('span', { class: 'sub node-reason' }, n.status_reason) : null,
          ),
      },
      { label: 'Power', render: (n) => powerBadge(n.power_state) },
      {
        label: 'BMC',
        render: (n) =>
          h(
            'span',
            null,
            h('span', { class: 'mono' }, `${n.bmc_address}:${n.bmc_port}`),
            h('span', { class: 'sub' }, n.bma_host ? `via ${n.bma_host}` : 'no agent yet'),
          ),
      },
      {
        label: 'Hardware',
        render: (n) =>
          h(
            'span',
            null,
            `${fmt.count(n.cpus, 'CPU')} · ${fmt.mb(n.memory_mb)} · ${n.disk_gb} GB`,
            h('span', { class: 'sub' }, n.macs.join(' ')),
          ),
      },
      { label: 'Actions', class: 'admin-actions-cell', render: actions },
    ],
  });

  function actions(n) {
    if (n.running) return h('span', { class: 'muted' }, 'working…');
    if (BUSY.has(n.provision_state) || n.instance_id) return h('span', { class: 'muted' }, n.instance_id ? `holds ${n.instance_id}` : 'busy');
    const list = [];
    if (CAN.manage.has(n.provision_state)) list.push(rowButton('Manage', n.name, () => act(n, { action: 'manage' })));
    if (CAN.provide.has(n.provision_state)) list.push(rowButton('Provide', n.name, () => act(n, { action: 'provide' })));
    list.push(
      n.maintenance
        ? rowButton('End maintenance', n.name, () => act(n, { action: 'maintenance', on: false }))
        : rowButton('Maintenance', n.name, () => maintenance(n)),
      rowButton('Edit', n.name, () => edit(n)),
      rowButton('Delete', n.name, () => remove(n), { variant: 'danger-outline' }),
    );
    return rowActions(list);
  }

  async function act(n, body) {
    const answer = await api.post(`/v1/baremetal/nodes/${encodeURIComponent(n.id)}/actions`, body);
    if (answer.task_id) {
      running.set(n.id, { action: body.action, task: answer.task_id });
      toast(`${body.action} ${n.name}: started`);
    } else {
      toast(`${n.name}: maintenance ${body.on ? 'on' : 'off'}`);
    }
    await poller.refresh();
  }

  function maintenance(n) {
    return formDialog({
      title: `Maintenance for ${n.name}`,
      description: 'A node in maintenance is never chosen for a new instance.',
      fields: [{ name: 'reason', label: 'Reason', placeholder: 'replacing a disk' }],
      submitLabel: 'Start maintenance',
      onSubmit: (v) => act(n, { action: 'maintenance', on: true, reason: v.reason }),
    });
  }

  function enroll() {
    return formDialog({
      title: 'Enroll node',
      description: 'The node starts in "enroll"; Manage then checks its BMC.',
      fields: NODE_FIELDS,
      submitLabel: 'Enroll',
      onSubmit: async (v) => {
        const n = await api.post('/v1/baremetal/nodes', nodeBody(v));
        toast(`${n.name} enrolled`);
        await poller.refresh();
        return n;
      },
    });
  }

  function edit(n) {
    const fields = NODE_FIELDS.map((f) => {
      const value = f.name === 'macs' ? n.macs.join('\n') : f.name === 'bmc_password' ? null : n[f.name];
      return {
        ...f,
        value,
        required: f.name === 'bmc_password' || f.name === 'resource_class' ? false : f.required,
        help: f.name === 'bmc_password' ? 'Leave empty to keep the current one.' : f.help,
      };
    });
    return formDialog({
      title: `Edit ${n.name}`,
      fields,
      submitLabel: 'Save',
      onSubmit: async (v) => {
        await api.patch(`/v1/baremetal/nodes/${encodeURIComponent(n.id)}`, nodeBody(v, { editing: true }));
        toast(`${v.name || n.name} saved`);
        await poller.refresh();
      },
    });
  }

  async function remove(n) {
    const ok = await confirm({
      title: `Delete node ${n.name}?`,
      message: 'The node leaves the cloud; the machine itself is not touched. This cannot be undone.',
      confirmLabel: 'Delete',
    });
    if (!ok) return;
    await api.del(`/v1/baremetal/nodes/${encodeURIComponent(n.id)}`);
    toast(`${n.name} deleted`);
    await poller.refresh();
  }

  async function settle() {
    for (const [id, r] of [...running]) {
      const task = await api.get(`/v1/tasks/${encodeURIComponent(r.task)}`);
      if (task.status === 'done') running.delete(id);
      if (task.status === 'failed') {
        running.delete(id);
        const why = (task.error && task.error.message) || 'see the node\u2019s reason';
        toast(`${r.action} failed: ${why}`, 'error');
      }
    }
  }

  async function refresh() {
    try {
      await settle();
      const items = await api.all('/v1/baremetal/nodes');
      if (!ctx.active) return;
      nodes.update(items.map((n) => ({ ...n, running: running.has(n.id) ? running.get(n.id).action : null })));
      showError(err, null);
    } catch (e) {
      showError(err, e);
      throw e;
    }
  }

  nodes.update(null);
  el.append(
    err,
    section('Bare-metal nodes', [nodes.el], { aside: button('Enroll node', enroll, { variant: 'primary' }) }),
  );
  const poller = api.poll(refresh, () => (running.size ? 1000 : 10000));
  ctx.onLeave(poller.stop);
}
