// Key pairs: the list; generate one (its private key offered once, as a
// download: the API never keeps it), import a public key, delete one.

import { h, uid } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { button, errorBox, formDialog, pageHeader, pager, showError, table, toast } from '../components.js';

/** The one chance to save a generated private key: a download link over a
 *  Blob, revoked when the dialog closes. */
function privateKeyDialog(kp) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const blob = new Blob([kp.private_key], { type: 'application/x-pem-file' });
    const url = URL.createObjectURL(blob);
    const link = h('a', { class: ['btn', 'btn-primary'], href: url, download: `${kp.name}.pem` }, 'Download private key');
    const done = button('Done', null, { type: 'submit' });
    const form = h(
      'form',
      { class: 'dialog-form', method: 'dialog' },
      h('h2', { id: titleId }, `Key pair ${kp.name} generated`),
      h(
        'div',
        { class: 'alert alert-warning', role: 'alert' },
        h('strong', null, 'Save the private key now. '),
        'It is shown this once: Arame does not keep it, and it cannot be downloaded again.',
      ),
      h('p', { class: 'dialog-description' }, `Fingerprint ${kp.fingerprint} (${kp.type}). Keep the file private (chmod 600) and use it with ssh -i ${kp.name}.pem.`),
      h('div', { class: 'dialog-actions' }, link, done),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    dialog.addEventListener('close', () => {
      URL.revokeObjectURL(url);
      dialog.remove();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

const generate = () =>
  formDialog({
    title: 'Generate key pair',
    description: 'Arame makes the pair and keeps the public key; you download the private key once.',
    submitLabel: 'Generate',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'laptop' },
      { name: 'type', label: 'Type', type: 'select', value: 'ed25519', options: [{ value: 'ed25519', label: 'ed25519' }, { value: 'rsa', label: 'RSA' }] },
    ],
    onSubmit: (v) => api.post('/v1/key_pairs', { name: v.name, type: v.type }),
  });

const importKey = () =>
  formDialog({
    title: 'Import key pair',
    description: 'An OpenSSH public key you already have (the contents of ~/.ssh/id_ed25519.pub).',
    submitLabel: 'Import',
    fields: [
      { name: 'name', label: 'Name', required: true, placeholder: 'laptop' },
      { name: 'public_key', label: 'Public key', type: 'textarea', required: true, rows: 5, placeholder: 'ssh-ed25519 AAAA… user@host' },
    ],
    onSubmit: (v) => api.post('/v1/key_pairs', { name: v.name, public_key: v.public_key.trim() }),
  });

export default {
  title: 'Key pairs',
  async render(ctx) {
    const err = errorBox(null);
    const canWrite = session.canWrite();

    async function act(btn, fn) {
      showError(err, null);
      btn.disabled = true;
      try {
        await fn();
      } catch (e) {
        showError(err, e);
      } finally {
        btn.disabled = false;
      }
      pages.reload().catch(() => {});
    }

    function remove(kp) {
      const del = button('Delete', null, { variant: 'danger-outline' });
      del.addEventListener('click', () =>
        act(del, async () => {
          const done = await formDialog({
            title: `Delete key pair ${kp.name}?`,
            description: 'Instances that have its public key keep it; new instances can no longer be given it.',
            fields: [],
            submitLabel: 'Delete key pair',
            danger: true,
            onSubmit: () => api.del(`/v1/key_pairs/${encodeURIComponent(kp.id)}`),
          });
          if (done) toast(`Deleted key pair ${kp.name}`);
        }),
      );
      return del;
    }

    const list = table({
      label: 'Key pairs',
      empty: 'No key pairs yet. Generate one or import your public key to log in to instances.',
      columns: [
        { label: 'Name', class: 'name-cell', render: (k) => [h('strong', null, k.name), h('span', { class: 'sub' }, k.id)] },
        { label: 'Type', key: 'type' },
        { label: 'Fingerprint', render: (k) => h('span', { class: 'mono' }, k.fingerprint) },
        { label: 'Created', render: (k) => h('time', { datetime: k.created_at, title: fmt.dateTime(k.created_at) }, fmt.ago(k.created_at)) },
        canWrite ? { label: 'Actions', class: 'row-actions', render: remove } : null,
      ].filter(Boolean),
    });
    list.update(null);
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/key_pairs', { marker, sort: 'name' });
          showError(err, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(err, e);
          throw e;
        }
      },
      list.update,
      { label: 'Key pair pages' },
    );
    // Key pairs change only by this user's hand: no poll, a reload after
    // each action.
    await pages.first().catch(() => {});
    if (!ctx.active) return;

    const actions = [];
    if (canWrite) {
      const gen = button('Generate key pair', null, { variant: 'primary' });
      gen.addEventListener('click', () =>
        act(gen, async () => {
          const kp = await generate();
          if (kp) await privateKeyDialog(kp);
        }),
      );
      const imp = button('Import key pair', null);
      imp.addEventListener('click', () =>
        act(imp, async () => {
          const kp = await importKey();
          if (kp) toast(`Imported key pair ${kp.name}`);
        }),
      );
      actions.push(imp, gen);
    }
    ctx.el.append(
      pageHeader('Key pairs', { subtitle: 'SSH public keys put into new instances', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Key pair list' }, list.el, pages.el),
    );
  },
};
