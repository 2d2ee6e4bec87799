// Volumes and their snapshots: the lists with live status badges; create
// a volume (blank, from an image or from a snapshot), delete a snapshot.
// A volume's own actions (attach, detach, snapshot, delete) are on its
// page, volume.js.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, errorBox, formDialog, pageHeader, pager, section, showError, table, toast, toneOf } from '../components.js';

const when = (iso) => h('time', { datetime: iso, title: fmt.dateTime(iso) }, fmt.ago(iso));

/** Where a volume is: the instance it is attached to, or whose root it
 *  is. */
export function attachedTo(v) {
  if (v.root_of) return [h('a', { href: `#/instances/${v.root_of}` }, v.root_of), h('span', { class: 'sub' }, 'root disk')];
  if (v.instance_id) return [h('a', { href: `#/instances/${v.instance_id}` }, v.instance_id), v.device ? h('span', { class: 'sub' }, v.device) : null];
  return null;
}

function source(v) {
  if (v.image) return h('span', { class: 'mono' }, v.image);
  if (v.snapshot) return h('span', { class: 'mono' }, v.snapshot);
  return h('span', { class: 'muted' }, 'blank');
}

/** The create dialog: a blank volume of a size, a copy of a raw image or
 *  a clone of a snapshot. `snapshot` preselects one. */
export async function createVolumeDialog({ snapshot } = {}) {
  const [images, snapshots] = await Promise.all([
    api.all('/v1/images', { status: 'available' }),
    api.all('/v1/snapshots', { status: 'available' }),
  ]);
  const raw = images.filter((i) => i.format === 'raw');
  const options = [
    { value: '', label: 'Blank' },
    ...raw.map((i) => ({ value: `image:${i.id}`, label: `Image ${i.name} (${fmt.bytes(i.size_bytes)})` })),
    ...snapshots.map((s) => ({ value: `snapshot:${s.id}`, label: `Snapshot ${s.name} (${s.size_gb} GB)` })),
  ];
  return formDialog({
    title: 'Create volume',
    description: 'A block device to attach to a virtual machine.',
    submitLabel: 'Create',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'data1' },
      { name: 'source', label: 'Source', type: 'select', options, value: snapshot ? `snapshot:${snapshot}` : '' },
      { name: 'size_gb', label: 'Size (GB)', type: 'number', min: 1, help: 'Required for a blank volume; from an image or a snapshot, the smallest that holds it.' },
    ],
    async onSubmit(v) {
      const body = { name: v.name };
      if (v.size_gb !== null) body.size_gb = v.size_gb;
      if (v.source) {
        const [kind, id] = v.source.split(':');
        body[kind] = id;
      }
      return api.post('/v1/volumes', body);
    },
  });
}

/** Delete a snapshot, confirmed; the API's refusal shows in the dialog. */
export function deleteSnapshot(s) {
  return formDialog({
    title: `Delete snapshot ${s.name}?`,
    description: `Snapshot ${s.id} of volume ${s.volume_id} is removed from its storage node. This cannot be undone.`,
    fields: [],
    submitLabel: 'Delete snapshot',
    danger: true,
    onSubmit: () => api.del(`/v1/snapshots/${encodeURIComponent(s.id)}`),
  });
}

/** The snapshots table (on this page and on a volume's); `onChange` after
 *  a delete. */
export function snapshotTable({ onChange, label = 'Snapshots', showVolume = true }) {
  const canWrite = session.canWrite();
  return table({
    label,
    empty: 'No snapshots.',
    columns: [
      { label: 'Name', class: 'name-cell', render: (s) => [h('strong', null, s.name), h('span', { class: 'sub' }, s.id)] },
      { label: 'Status', render: (s) => badge(s.status, { title: s.status_reason || null }) },
      { label: 'Size', class: 'num', render: (s) => `${s.size_gb} GB` },
      showVolume ? { label: 'Volume', render: (s) => h('a', { href: `#/volumes/${s.volume_id}` }, s.volume_id) } : null,
      { label: 'Created', render: (s) => when(s.created_at) },
      canWrite
        ? {
            label: 'Actions',
            class: 'row-actions',
            render: (s) =>
              s.status === 'deleting'
                ? null
                : h(
                    'span',
                    { class: 'row-buttons' },
                    button('New volume', async () => {
                      const made = await createVolumeDialog({ snapshot: s.id }).catch((e) => toast(e.message, 'error'));
                      if (made) {
                        toast(`Creating volume ${made.name}`);
                        location.hash = `#/volumes/${made.id}`;
                      }
                    }, { variant: 'small', title: 'A new volume, a clone of this snapshot' }),
                    button('Delete', async () => {
                      if (await deleteSnapshot(s)) {
                        toast(`Deleting snapshot ${s.name}`);
                        onChange();
                      }
                    }, { variant: 'danger-outline' }),
                  ),
          }
        : null,
    ].filter(Boolean),
  });
}

export default {
  title: 'Volumes',
  async render(ctx) {
    const err = errorBox(null);
    let vols = [];
    let snaps = [];
    const list = table({
      label: 'Volumes',
      empty: 'No volumes yet. Create one to give an instance more disk.',
      columns: [
        { label: 'Name', class: 'name-cell', render: (v) => [h('a', { href: `#/volumes/${v.id}` }, v.name), h('span', { class: 'sub' }, v.id)] },
        { label: 'Status', render: (v) => badge(v.status, { title: v.status_reason || null }) },
        { label: 'Size', class: 'num', render: (v) => `${v.size_gb} GB` },
        { label: 'Attached to', render: attachedTo },
        { label: 'Source', render: source },
        { label: 'Created', render: (v) => when(v.created_at) },
      ],
    });
    list.update(null);
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/volumes', { marker, sort: 'name' });
          showError(err, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(err, e);
          throw e;
        }
      },
      (items) => {
        vols = items;
        list.update(items);
      },
      { label: 'Volume pages' },
    );
    const snapList = snapshotTable({ onChange: () => snapPoller.refresh() });
    snapList.update(null);
    const snapPages = pager(
      (marker) => api.page('/v1/snapshots', { marker, sort: 'name' }),
      (items) => {
        snaps = items;
        snapList.update(items);
      },
      { label: 'Snapshot pages' },
    );

    // Faster while something changes (a create, an attach, a delete).
    const busyNow = (items) => items.some((x) => toneOf(x.status) === 'busy');
    const poller = api.poll(() => pages.reload(), () => (busyNow(vols) ? 1000 : 5000));
    const snapPoller = api.poll(() => snapPages.reload(), () => (busyNow(snaps) ? 1000 : 5000));
    ctx.onLeave(() => {
      poller.stop();
      snapPoller.stop();
    });

    const actions = [];
    if (session.canWrite()) {
      const create = button('Create volume', null, { variant: 'primary' });
      create.addEventListener('click', async () => {
        let made;
        try {
          create.disabled = true;
          made = await createVolumeDialog();
        } catch (e) {
          showError(err, e);
          return;
        } finally {
          create.disabled = false;
        }
        if (made) {
          toast(`Creating volume ${made.name}`);
          poller.refresh();
        }
      });
      actions.push(create);
    }

    ctx.el.append(
      pageHeader('Volumes', { subtitle: 'Block storage for virtual machines, and its snapshots', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Volume list' }, list.el, pages.el),
      section('Snapshots', [snapList.el, snapPages.el], { aside: 'Point-in-time copies of available volumes' }),
    );
  },
};
