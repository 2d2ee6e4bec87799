// One volume: its details, where it is attached, its snapshots; the
// actions attach, detach, snapshot and delete. The buttons follow the
// status, and what the API still refuses (409) shows in its own words.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, details, errorBox, formDialog, pageHeader, section, showError, toast, toneOf } from '../components.js';
import { attachedTo, snapshotTable } from './volumes.js';

/** Instances a volume may go to: virtual machines, running or stopped. */
async function attachChoices() {
  const [instances, flavors] = await Promise.all([api.all('/v1/instances'), api.all('/v1/flavors')]);
  const bm = new Set(flavors.filter((f) => f.provider === 'bm').map((f) => f.name));
  return instances.filter((i) => (i.status === 'running' || i.status === 'stopped') && !bm.has(i.flavor));
}

export default {
  title: 'Volume',
  async render(ctx) {
    const id = ctx.params.id;
    const path = `/v1/volumes/${encodeURIComponent(id)}`;
    const back = { href: '#/volumes', label: 'Volumes' };
    const err = errorBox(null);
    let vol;
    try {
      vol = await api.get(path);
    } catch (e) {
      if (e.status === 401) throw e;
      ctx.el.append(pageHeader(id, { back }), errorBox(e));
      return;
    }
    if (!ctx.active) return;
    document.title = `${vol.name} · Volumes · Arame`;

    const header = h('div');
    const info = h('div');
    let snaps = [];
    const snapList = snapshotTable({ onChange: () => poller.refresh(), label: 'Snapshots of this volume', showVolume: false });
    const canWrite = session.canWrite();

    const act = (body, words) => async () => {
      await api.post(`${path}/actions`, body);
      toast(words);
      poller.refresh();
    };

    async function run(btn, fn) {
      showError(err, null);
      btn.disabled = true;
      try {
        await fn();
      } catch (e) {
        showError(err, e);
      } finally {
        btn.disabled = false;
      }
    }

    function actions(v) {
      if (!canWrite || v.root_of || v.status === 'deleted') return [];
      const out = [];
      if (v.status === 'available') {
        const attach = button('Attach', null, { variant: 'primary' });
        attach.addEventListener('click', () =>
          run(attach, async () => {
            const choices = await attachChoices();
            const done = await formDialog({
              title: `Attach ${v.name}`,
              description: 'The volume shows in the guest as its next disk (vdb, vdc...).',
              submitLabel: 'Attach',
              fields: [
                {
                  name: 'instance_id',
                  label: 'Instance',
                  type: 'select',
                  required: true,
                  options: choices.map((i) => ({ value: i.id, label: `${i.name} (${i.status})` })),
                  help: choices.length ? 'Virtual machines that are running or stopped.' : 'No running or stopped virtual machine.',
                },
              ],
              onSubmit: (f) => api.post(`${path}/actions`, { action: 'attach', instance_id: f.instance_id }),
            });
            if (done) {
              toast(`Attaching ${v.name}`);
              poller.refresh();
            }
          }),
        );
        out.push(attach);
      }
      if (v.status === 'attached') {
        const detach = button('Detach', null);
        detach.addEventListener('click', () => run(detach, act({ action: 'detach' }, `Detaching ${v.name}`)));
        out.push(detach);
      }
      const snap = button('Create snapshot', null);
      snap.addEventListener('click', () =>
        run(snap, async () => {
          const made = await formDialog({
            title: `Snapshot ${v.name}`,
            description: 'A point-in-time copy on the same storage node; the volume must be available (detached).',
            submitLabel: 'Create snapshot',
            fields: [{ name: 'name', label: 'Name', required: true, value: `${v.name}-snap` }],
            onSubmit: (f) => api.post('/v1/snapshots', { name: f.name, volume_id: v.id }),
          });
          if (made) {
            toast(`Creating snapshot ${made.name}`);
            poller.refresh();
          }
        }),
      );
      out.push(snap);
      const del = button('Delete', null, { variant: 'danger-outline' });
      del.addEventListener('click', () =>
        run(del, async () => {
          const done = await formDialog({
            title: `Delete volume ${v.name}?`,
            description: `Its data on ${v.storage_node || 'the storage node'} is destroyed. This cannot be undone.`,
            fields: [],
            submitLabel: 'Delete volume',
            danger: true,
            onSubmit: () => api.del(path),
          });
          if (done) {
            // The list is where its going shows (deleting, then gone).
            toast(`Deleting ${v.name}`);
            location.hash = '#/volumes';
          }
        }),
      );
      out.push(del);
      return out;
    }

    let shown = '';
    function draw(v) {
      // Redraw the buttons only when what they depend on changed, so a poll
      // does not take the keyboard focus away.
      const sig = JSON.stringify(v);
      if (sig === shown) return;
      shown = sig;
      replace(
        header,
        pageHeader(v.name, {
          back,
          subtitle: h('span', null, badge(v.status, { title: v.status_reason || null }), ' ', h('span', { class: 'mono muted' }, v.id)),
          actions: actions(v),
        }),
      );
      replace(
        info,
        details([
          ['Status', badge(v.status)],
          ['Reason', v.status_reason],
          ['Size', `${v.size_gb} GB`],
          ['Attached to', attachedTo(v)],
          ['Device', v.device],
          ['Image', v.image ? h('span', { class: 'mono' }, v.image) : null],
          ['Snapshot', v.snapshot ? h('span', { class: 'mono' }, v.snapshot) : null],
          session.isAdmin() ? ['Storage node', v.storage_node] : null,
          ['Tags', v.tags.length ? v.tags.join(', ') : null],
          ['Created', fmt.dateTime(v.created_at)],
          ['Updated', fmt.dateTime(v.updated_at)],
        ].filter(Boolean)),
      );
    }

    async function refresh() {
      try {
        const [v, s] = await Promise.all([api.get(path), api.page('/v1/snapshots', { volume_id: id, limit: 100, sort: 'name' })]);
        if (!ctx.active) return;
        vol = v;
        snaps = s.items;
        draw(v);
        snapList.update(snaps);
      } catch (e) {
        if (e.status === 404) {
          // Deleted: the list is where it is no longer.
          toast(`Volume ${vol.name} is deleted`);
          location.hash = '#/volumes';
          return;
        }
        if (ctx.active) showError(err, e);
        throw e;
      }
    }

    draw(vol);
    snapList.update(null);
    const busyNow = () => toneOf(vol.status) === 'busy' || snaps.some((s) => toneOf(s.status) === 'busy');
    const poller = api.poll(refresh, () => (busyNow() ? 1000 : 5000));
    ctx.onLeave(poller.stop);

    ctx.el.append(header, err, section('Details', info), section('Snapshots', snapList.el));
  },
};
