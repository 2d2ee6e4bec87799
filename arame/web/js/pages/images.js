// Images: the list; upload one from a file (POST /v1/images, then its
// bytes streamed with a progress bar), send the bytes again to an image
// left pending, delete one (the API's 409 names what still uses it).

import { h, uid } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { badge, button, errorBox, formDialog, pageHeader, pager, progress, showError, table, toast, toneOf } from '../components.js';
import { sha256, upload } from './image-upload.js';

const FORMATS = ['raw', 'qcow2', 'kernel'];

function field(label, control, { help, optional } = {}) {
  const helpId = help ? uid('help') : null;
  if (helpId) control.setAttribute('aria-describedby', helpId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
    control,
    help ? h('p', { class: 'help', id: helpId }, help) : null,
  );
}

/** A name the API takes, from a file name: "Debian 12.qcow2" -> "Debian-12". */
function nameFrom(fileName) {
  return fileName.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
}

/**
 * The upload dialog. Without `image`: a new image (name, format,
 * visibility) then its bytes; with it: the bytes again for an image left
 * pending. Resolves to the image once available, null when cancelled.
 * The dialog stays open through the upload, with its progress bar; Cancel
 * aborts it (the image stays pending).
 */
export function uploadDialog({ image } = {}) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const err = errorBox(null);
    const file = h('input', { id: uid('field'), type: 'file', required: true });
    const name = h('input', { id: uid('field'), type: 'text', required: !image, placeholder: 'debian-12', autocomplete: 'off' });
    const format = h('select', { id: uid('field') }, FORMATS.map((f) => h('option', { value: f }, f)));
    const visibility = h('select', { id: uid('field') }, h('option', { value: 'private' }, 'private (this account)'), h('option', { value: 'public' }, 'public (every account)'));
    const sum = h('input', { id: uid('field'), type: 'text', placeholder: '64 hex digits', autocomplete: 'off', spellcheck: 'false', pattern: '[0-9a-f]{64}' });
    if (image && image.sha256) sum.value = image.sha256;

    file.addEventListener('change', () => {
      const f = file.files[0];
      if (!f || image) return;
      if (!name.value.trim()) name.value = nameFrom(f.name);
      if (/\.qcow2$/i.test(f.name)) format.value = 'qcow2';
    });

    const stage = h('p', { class: 'upload-stage' });
    const bar = progress('Upload progress', 0, 100);
    const status = h('div', { class: 'upload-status', hidden: true }, stage, bar);
    const submit = button(image ? 'Upload' : 'Create and upload', null, { variant: 'primary', type: 'submit' });
    let current = null; // the running upload, for Cancel
    let closed = false;
    const cancel = button('Cancel', () => {
      if (current) current.abort();
      close(null);
    });

    const fields = image
      ? [field('File', file, { help: `The bytes of ${image.name} (${image.format}).` })]
      : [
          field('File', file, { help: 'raw, qcow2 or a kernel; streamed to a storage node.' }),
          field('Name', name),
          field('Format', format),
          session.isAdmin() ? field('Visibility', visibility) : null,
        ];
    fields.push(field('SHA-256', sum, { optional: true, help: 'Checked by the storage node; left empty, the browser computes it.' }));

    const form = h(
      'form',
      { class: 'dialog-form' },
      h('h2', { id: titleId }, image ? `Upload ${image.name}` : 'Upload image'),
      h('p', { class: 'dialog-description' }, image ? 'The image is pending: send its bytes again.' : 'A new image from a file on this computer.'),
      err,
      h('div', { class: 'fields' }, fields),
      status,
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    const dialog = h('dialog', { class: ['dialog', 'upload-dialog'], 'aria-labelledby': titleId }, form);

    function close(result) {
      if (closed) return;
      closed = true;
      dialog.close();
      dialog.remove();
      resolve(result);
    }
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      if (current) current.abort();
      close(null);
    });

    function show(words, value, max) {
      status.hidden = false;
      stage.textContent = words;
      bar.max = max;
      if (value === null) bar.removeAttribute('value');
      else bar.value = value;
    }

    let made = image || null;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(err, null);
      const f = file.files[0];
      if (!f) return;
      submit.disabled = true;
      try {
        let sha = sum.value.trim() || null;
        if (!sha) {
          show(`Computing the checksum of ${f.name}…`, null, 100);
          sha = await sha256(f);
          if (!sha) throw new Error('This browser cannot compute a SHA-256 here (no WebCrypto on plain http): give it in the SHA-256 field.');
        }
        if (!made) {
          made = await api.post('/v1/images', {
            name: name.value.trim(),
            format: format.value,
            visibility: session.isAdmin() ? visibility.value : 'private',
            size_bytes: f.size,
            sha256: sha,
          });
          // From here on a retry sends the bytes to the same image.
          name.disabled = true;
          format.disabled = true;
          visibility.disabled = true;
        }
        show(`Uploading ${f.name}: 0 of ${fmt.bytes(f.size)}`, 0, f.size || 1);
        current = upload(made.id, f, {
          sha256: sha,
          onProgress: (loaded, total) => {
            const pct = total ? Math.floor((loaded / total) * 100) : 100;
            show(`Uploading ${f.name}: ${fmt.bytes(loaded)} of ${fmt.bytes(total)} (${pct} %)`, loaded, total || 1);
          },
        });
        const done = await current.done;
        current = null;
        close(done);
      } catch (ex) {
        current = null;
        if (closed) return;
        status.hidden = true;
        showError(err, made && !image ? new Error(`${ex.message} — image ${made.name} stays pending; upload again or delete it.`) : ex);
      } finally {
        submit.disabled = false;
      }
    });

    document.body.append(dialog);
    dialog.showModal();
  });
}

function deleteImage(img) {
  return formDialog({
    title: `Delete image ${img.name}?`,
    description: `Image ${img.id} leaves the catalog and its bytes are removed from every node. This cannot be undone.`,
    fields: [],
    submitLabel: 'Delete image',
    danger: true,
    onSubmit: () => api.del(`/v1/images/${encodeURIComponent(img.id)}`),
  });
}

export default {
  title: 'Images',
  async render(ctx) {
    const err = errorBox(null);
    const canWrite = session.canWrite();
    const me = (session.load() || {}).account_id;
    const mine = (img) => session.isAdmin() || img.account_id === me;
    let items = [];

    async function act(btn, fn) {
      showError(err, null);
      btn.disabled = true;
      try {
        if (await fn()) poller.refresh();
      } catch (e) {
        showError(err, e);
      } finally {
        btn.disabled = false;
      }
    }

    function rowActions(img) {
      if (!canWrite || !mine(img) || img.status === 'deleting') return null;
      const out = [];
      if (img.status === 'pending') {
        const again = button('Upload', null, { variant: 'small', title: 'Send the bytes of this pending image' });
        again.addEventListener('click', () =>
          act(again, async () => {
            const done = await uploadDialog({ image: img });
            if (done) toast(`Uploaded ${img.name}`);
            return done;
          }),
        );
        out.push(again);
      }
      const del = button('Delete', null, { variant: 'danger-outline' });
      del.addEventListener('click', () =>
        act(del, async () => {
          const done = await deleteImage(img);
          if (done) toast(`Deleted image ${img.name}`);
          return done;
        }),
      );
      out.push(del);
      return h('span', { class: 'row-buttons' }, out);
    }

    const list = table({
      label: 'Images',
      empty: 'No images yet. Upload a disk image to launch instances from it.',
      columns: [
        { label: 'Name', class: 'name-cell', render: (i) => [h('strong', null, i.name), h('span', { class: 'sub' }, i.id)] },
        { label: 'Status', render: (i) => badge(i.status, { title: i.status_reason || (i.status === 'pending' ? 'waiting for its bytes' : null) }) },
        { label: 'Format', key: 'format' },
        { label: 'Size', class: 'num', render: (i) => fmt.bytes(i.size_bytes) },
        { label: 'Visibility', render: (i) => h('span', { class: ['chip', `vis-${i.visibility}`] }, i.visibility) },
        { label: 'Created', render: (i) => h('time', { datetime: i.created_at, title: fmt.dateTime(i.created_at) }, fmt.ago(i.created_at)) },
        canWrite ? { label: 'Actions', class: 'row-actions', render: rowActions } : null,
      ].filter(Boolean),
    });
    list.update(null);
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/images', { marker, sort: 'name' });
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
      { label: 'Image pages' },
    );
    // 'pending' is an image waiting for its bytes, not work under way: only
    // an upload or a delete polls fast.
    const changing = () => items.some((i) => i.status !== 'pending' && toneOf(i.status) === 'busy');
    const poller = api.poll(() => pages.reload(), () => (changing() ? 1000 : 5000));
    ctx.onLeave(poller.stop);

    const actions = [];
    if (canWrite) {
      const add = button('Upload image', null, { variant: 'primary' });
      add.addEventListener('click', () =>
        act(add, async () => {
          const img = await uploadDialog();
          if (img) toast(`Uploaded ${img.name}: ${img.status}`);
          return img;
        }),
      );
      actions.push(add);
    }
    ctx.el.append(
      pageHeader('Images', { subtitle: 'Disk images instances and volumes start from', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Image list' }, list.el, pages.el),
    );
  },
};
