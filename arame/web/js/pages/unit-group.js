// One unit group: its units, each with its nodes (name, status, address);
// units are created, grown, shrunk, powered off and on, deleted; the
// group is cleaned up whole. Each of these is a parent task with one
// event per node, shown as it runs.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import {
  badge, busy, button, confirm, empty, errorBox, formDialog, loading,
  pageHeader, progress, section, showError, table, timeline, toast,
} from '../components.js';
import { go } from '../router.js';
import { isBusy, stateBadge } from './unit-groups.js';

const NODE_BUSY = new Set(['pending', 'scheduling', 'building', 'starting', 'stopping', 'shuttingdown', 'rebooting']);

async function createUnitDialog(group) {
  const [flavors, images, keyPairs] = await Promise.all([
    api.all('/v1/flavors'),
    api.all('/v1/images', { status: 'available' }),
    api.all('/v1/key_pairs'),
  ]);
  const flavorLabel = (f) => `${f.name} — ${fmt.count(f.vcpus, 'vCPU')}, ${fmt.mb(f.memory_mb)}, ${f.disk_gb} GB${f.provider === 'bm' ? ' (bare metal)' : ''}`;
  return formDialog({
    title: 'Create unit',
    description: `Identical nodes in ${group.name}, made from one spec.`,
    submitLabel: 'Create',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'worker', help: 'Its nodes are named <name>-1, <name>-2, …' },
      { name: 'flavor', label: 'Flavor', type: 'select', required: true, options: flavors.map((f) => ({ value: f.name, label: flavorLabel(f) })) },
      { name: 'image', label: 'Image', type: 'select', required: true, options: images.map((i) => ({ value: i.id, label: `${i.name} (${i.format})` })) },
      { name: 'count', label: 'Nodes', type: 'number', min: 0, value: 1, required: true, help: '0 makes an empty unit to grow later.' },
      { name: 'root_gb', label: 'Root disk (GB)', type: 'number', min: 1, placeholder: "the flavor's", help: "Larger than the flavor's disk." },
      {
        name: 'key_pairs',
        label: 'Key pairs',
        type: 'multiselect',
        options: keyPairs.map((k) => ({ value: k.id, label: k.name })),
        help: keyPairs.length ? 'Every public key goes into each node.' : 'No key pairs in this account yet.',
      },
    ],
    onSubmit(v) {
      const flavor = flavors.find((f) => f.name === v.flavor);
      const spec = { provider: flavor && flavor.provider === 'bm' ? 'bm' : 'vm', flavor: v.flavor, image: v.image };
      if (v.root_gb !== null) spec.root_gb = v.root_gb;
      if (v.key_pairs.length) spec.key_pairs = v.key_pairs;
      return api.post('/v1/units', { unit_group: group.id, name: v.name, spec, count: v.count ?? 1 });
    },
  });
}

/** The running (or last) task of the page: its progress, node by node. */
function taskPanel() {
  const body = h('div', { class: 'task-panel' });
  const el = section('Task progress', body, { id: 'task-progress' });
  el.hidden = true;
  let current = null; // {id, label, expected, task}

  function paint() {
    const { task, label, expected } = current;
    if (!task) {
      replace(body, h('p', { class: 'task-label' }, label), progress(`${label}: waiting`), loading('Waiting for the task…'));
      return;
    }
    const ended = task.events.filter((e) => e.status === 'done' || e.status === 'failed').length;
    const finished = task.status === 'done' || task.status === 'failed';
    const max = Math.max(expected || 0, ended, 1);
    const words = finished
      ? `${label}: ${task.status}`
      : expected
        ? `${label}: ${ended} of ${fmt.count(expected, 'node')} done`
        : `${label}: ${fmt.count(ended, 'node')} done`;
    replace(
      body,
      h('div', { class: 'task-head' }, h('span', { class: 'task-label' }, words), badge(task.status, { kind: 'task' }), h('span', { class: 'mono muted' }, task.id)),
      progress(label, finished ? max : ended, max),
      task.error ? h('div', { class: 'alert alert-error task-error' }, task.error.message || 'failed') : null,
      timeline(task),
    );
  }

  return {
    el,
    running: () => Boolean(current && (!current.task || !['done', 'failed'].includes(current.task.status))),
    start(id, label, expected) {
      current = { id, label, expected, task: null };
      el.hidden = false;
      paint();
    },
    async refresh() {
      if (!this.running()) return null;
      const mine = current;
      const task = await api.get(`/v1/tasks/${encodeURIComponent(mine.id)}`);
      if (mine !== current) return null;
      mine.task = task;
      paint();
      return task;
    },
  };
}

/** One unit: its state, spec, actions and nodes; update(unit) redraws in
 *  place (the table keeps the rows that did not change, and the ticks). */
function unitView(unit, { writer, run, onDeleted, imageName }) {
  const selected = new Set();
  let current = unit;
  const badgeSlot = h('span', { class: 'unit-state' });
  const specLine = h('p', { class: 'unit-spec' });
  const errors = h('div');
  const delSel = button('Delete selected nodes', null, { variant: 'danger', disabled: true });

  const tick = (n) => {
    const box = h('input', { type: 'checkbox', 'aria-label': `Select ${n.name}`, checked: selected.has(n.id) });
    box.addEventListener('change', () => {
      if (box.checked) selected.add(n.id);
      else selected.delete(n.id);
      delSel.disabled = selected.size === 0;
    });
    return box;
  };
  const nodes = table({
    label: `Nodes of ${unit.name}`,
    empty: 'No nodes: add some.',
    columns: [
      writer ? { label: 'Select', class: 'select-cell', render: tick } : null,
      { label: 'Name', render: (n) => h('span', { class: 'node-name' }, n.name, h('span', { class: 'sub mono' }, n.id)) },
      { label: 'Status', render: (n) => badge(n.status, { title: n.status_reason || null }) },
      { label: 'IP address', render: (n) => (n.ip_address ? h('span', { class: 'mono' }, n.ip_address) : null) },
      session.isAdmin() ? { label: 'Host', key: 'host' } : null,
      { label: 'Created', render: (n) => h('time', { datetime: n.created_at, title: fmt.dateTime(n.created_at) }, fmt.ago(n.created_at)) },
    ].filter(Boolean),
  });

  const path = () => `/v1/units/${encodeURIComponent(current.id)}`;
  const act = (body, label, expected) => run(() => api.post(`${path()}/actions`, body), label, expected);

  async function addNodes() {
    const v = await formDialog({
      title: `Add nodes to ${current.name}`,
      submitLabel: 'Add',
      fields: [{ name: 'count', label: 'Nodes to add', type: 'number', min: 1, value: 1, required: true }],
      onSubmit: (x) => x,
    });
    if (v) await act({ action: 'add_nodes', count: v.count }, `Adding ${fmt.count(v.count, 'node')} to ${current.name}`, v.count);
  }

  async function deleteSelected() {
    const ids = [...selected];
    const names = current.nodes.filter((n) => selected.has(n.id)).map((n) => n.name);
    const ok = await confirm({
      title: `Delete ${fmt.count(ids.length, 'node')}?`,
      message: `${names.join(', ')} will be deleted with their disks; this cannot be undone.`,
      confirmLabel: 'Delete',
    });
    if (!ok) return;
    selected.clear();
    delSel.disabled = true;
    await act({ action: 'delete_nodes', node_ids: ids }, `Deleting ${names.join(', ')}`, ids.length);
  }

  async function power(action) {
    const on = action === 'power_on';
    const ok = await confirm({
      title: `Power ${on ? 'on' : 'off'} ${current.name}?`,
      message: on ? 'Every node of the unit boots.' : 'Every node of the unit is shut down; they keep their disks and addresses.',
      confirmLabel: on ? 'Power on' : 'Power off',
      danger: !on,
    });
    if (ok) await act({ action }, `Powering ${on ? 'on' : 'off'} ${current.name}`, current.node_count);
  }

  async function deleteUnit() {
    const ok = await confirm({
      title: `Delete ${current.name}?`,
      message: `The unit and its ${fmt.count(current.node_count, 'node')} are deleted; this cannot be undone.`,
      confirmLabel: 'Delete',
    });
    if (!ok) return;
    await run(() => api.del(path()), `Deleting ${current.name}`, current.node_count);
    onDeleted(current.id);
  }

  const toolbar = writer
    ? h(
        'div',
        { class: 'unit-actions', role: 'toolbar', 'aria-label': `Actions on ${unit.name}` },
        button('Add nodes', addNodes),
        delSel,
        button('Power on', () => power('power_on')),
        button('Power off', () => power('power_off')),
        button('Delete unit', deleteUnit, { variant: 'danger' }),
      )
    : null;
  delSel.addEventListener('click', deleteSelected);

  const el = section(unit.name, [specLine, errors, toolbar, nodes.el], { aside: badgeSlot });
  el.classList.add('unit-card');

  function update(u) {
    current = u;
    replace(badgeSlot, stateBadge(u.state), h('span', { class: 'muted' }, fmt.count(u.node_count, 'node')));
    const s = u.spec || {};
    replace(
      specLine,
      h('span', null, s.provider === 'bm' ? 'bare metal' : 'VM'),
      h('span', null, `flavor ${s.flavor}`),
      h('span', null, `image ${imageName(s.image)}`),
      s.root_gb ? h('span', null, `root ${s.root_gb} GB`) : null,
      s.key_pairs && s.key_pairs.length ? h('span', null, fmt.count(s.key_pairs.length, 'key pair')) : null,
      h('span', { class: 'mono' }, u.id),
    );
    replace(errors, u.errors.length ? h('div', { class: 'alert alert-error' }, u.errors.map((e) => h('div', null, `${e.name}: ${e.reason || 'error'}`))) : null);
    // Ticks of nodes that are gone go too.
    for (const id of [...selected]) if (!u.nodes.some((n) => n.id === id)) selected.delete(id);
    delSel.disabled = selected.size === 0;
    nodes.update(u.nodes);
  }
  update(unit);
  return { el, update };
}

export default {
  title: 'Unit group',
  async render(ctx) {
    const id = ctx.params.id;
    const path = `/v1/unit_groups/${encodeURIComponent(id)}`;
    const writer = session.canWrite();
    let group;
    try {
      group = await api.get(path);
    } catch (e) {
      if (e.status === 401) throw e;
      ctx.el.append(pageHeader(id, { back: { href: '#/unit-groups', label: 'Unit groups' } }), errorBox(e));
      return;
    }
    if (!ctx.active) return;

    const err = errorBox(null);
    const header = h('div');
    const unitsEl = h('div', { class: 'units' });
    const task = taskPanel();
    const views = new Map();
    let units = [];
    let cleaning = false;

    async function run(call, label, expected) {
      try {
        const answer = await call();
        showError(err, null);
        task.start(answer.task_id, label, expected);
        poller.refresh();
        return answer;
      } catch (e) {
        showError(err, e);
        return null;
      }
    }

    const onDeleted = () => poller.refresh();
    // A spec names its image as it was given (an id, usually): shown by
    // name when the image is still listed.
    const images = new Map();
    api.all('/v1/images').then((list) => list.forEach((i) => images.set(i.id, i.name)), () => {});
    const imageName = (ref) => images.get(ref) || ref;

    // Built once (a poll must not take the focus off its buttons); the
    // state and the counts are updated in place.
    const stateSlot = h('span', { class: 'title-badge' });
    const subtitle = h('span');
    function buildHeader() {
      const actions = [];
      if (writer) {
        actions.push(button('Create unit', createUnit, { variant: 'primary' }));
        actions.push(button('Clean up group', cleanup, { variant: 'danger' }));
      }
      const head = pageHeader(group.name, {
        subtitle: ' ',
        back: { href: '#/unit-groups', label: 'Unit groups' },
        actions,
      });
      head.querySelector('h1').append(' ', stateSlot);
      replace(head.querySelector('.subtitle'), subtitle);
      replace(header, head);
    }

    function paintHeader() {
      document.title = `${group.name} · Unit groups · Arame`;
      replace(stateSlot, stateBadge(group.state));
      subtitle.textContent = `${group.id} · ${fmt.count(group.units.length, 'unit')}, ${fmt.count(group.node_count, 'node')}`;
    }

    function paintUnits() {
      if (!units.length) {
        views.clear();
        replace(unitsEl, section('Units', empty(writer ? 'No units yet: create one.' : 'No units yet.')));
        return;
      }
      const seen = new Set();
      for (const u of units) {
        seen.add(u.id);
        const v = views.get(u.id);
        if (v) v.update(u);
        else views.set(u.id, unitView(u, { writer, run, onDeleted, imageName }));
      }
      for (const k of [...views.keys()]) if (!seen.has(k)) views.delete(k);
      const wanted = units.map((u) => views.get(u.id).el);
      if (wanted.length !== unitsEl.children.length || wanted.some((e, i) => unitsEl.children[i] !== e)) {
        unitsEl.replaceChildren(...wanted);
      }
    }

    async function refresh() {
      try {
        const [g, us] = await Promise.all([api.get(path), api.all('/v1/units', { unit_group: group.id })]);
        if (!ctx.active) return;
        group = g;
        units = us;
        await task.refresh();
        paintHeader();
        paintUnits();
        showError(err, null);
      } catch (e) {
        if (e.status === 404 && cleaning) {
          poller.stop();
          toast(`${group.name} cleaned up`);
          go('/unit-groups');
          return;
        }
        if (ctx.active) showError(err, e);
        throw e;
      }
    }

    async function createUnit(e) {
      const btn = e.currentTarget;
      let made;
      try {
        made = await busy(btn, () => createUnitDialog(group));
      } catch (ex) {
        showError(err, ex);
        return;
      }
      if (!made) return;
      task.start(made.task_id, `Creating ${made.name}`, made.node_count);
      toast(`Creating ${made.name} (${fmt.count(made.node_count, 'node')})`);
      poller.refresh();
    }

    async function cleanup() {
      const ok = await confirm({
        title: `Clean up ${group.name}?`,
        message: `Every node of every unit (${fmt.count(group.node_count, 'node')}), the units and the group are deleted; this cannot be undone.`,
        confirmLabel: 'Clean up',
      });
      if (!ok) return;
      const answer = await run(() => api.del(path), `Cleaning up ${group.name}`, group.node_count);
      if (answer) cleaning = true;
    }

    const someBusy = () =>
      cleaning || task.running() || isBusy(group.state) || units.some((u) => isBusy(u.state) || u.nodes.some((n) => NODE_BUSY.has(n.status)));
    const poller = api.poll(refresh, () => (someBusy() ? 1000 : 5000), { immediate: false });
    ctx.onLeave(poller.stop);

    buildHeader();
    paintHeader();
    replace(unitsEl, loading());
    ctx.el.append(header, err, task.el, unitsEl);
    await refresh().catch(() => {});
  },
};
