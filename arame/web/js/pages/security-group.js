// One security group: its rules as a table (add one, remove one) and as
// Wakame's text (one rule per line), saved whole; a line the API refuses
// is marked in the gutter and named under the text, with the caret on it.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import {
  button, busy, confirm, errorBox, pageHeader, section, showError, table, toast,
} from '../components.js';
import { go } from '../router.js';
import { RULES_HELP } from './security-groups.js';

function source(r) {
  return r.group_id ? r.group_id : `ip4:${r.cidr}`;
}

function ruleKey(r) {
  return `${r.protocol}:${r.from_port},${r.to_port},${source(r)}`;
}

function ports(r) {
  if (r.protocol === 'icmp') {
    const any = (v) => (v === -1 ? 'any' : String(v));
    return `type ${any(r.from_port)}, code ${any(r.to_port)}`;
  }
  return r.from_port === r.to_port ? String(r.from_port) : `${r.from_port}–${r.to_port}`;
}

// The JSON form of a rule as the API takes it back (no null keys).
function ruleBody(r) {
  const b = { protocol: r.protocol, from_port: r.from_port, to_port: r.to_port };
  if (r.group_id) b.group_id = r.group_id;
  else b.cidr = r.cidr;
  return b;
}

/** The text editor: a numbered gutter beside a textarea, and where the
 *  API's error points. -> {el, textarea, set(text), markError(e), clear()} */
function rulesEditor({ readOnly }) {
  const gutter = h('div', { class: 'rules-gutter' });
  const ta = h('textarea', {
    id: 'rules-text',
    class: 'rules-text',
    wrap: 'off',
    spellcheck: 'false',
    autocomplete: 'off',
    readonly: readOnly,
    'aria-describedby': 'rules-help rules-error',
  });
  const message = h('div', { id: 'rules-error', class: 'rules-error', role: 'alert', hidden: true });
  let badLine = null;

  function paint() {
    const n = ta.value.split('\n').length;
    ta.rows = Math.max(n + 1, 6);
    replace(
      gutter,
      Array.from({ length: Math.max(n, 1) }, (_, i) => {
        const line = i + 1;
        const bad = line === badLine;
        return h(
          'div',
          { class: ['gutter-line', bad ? 'gutter-bad' : null] },
          bad ? h('span', { class: 'gutter-marker', role: 'img', 'aria-label': `Error on line ${line}` }, '!') : null,
          h('span', { 'aria-hidden': 'true' }, String(line)),
        );
      }),
    );
  }

  function clear() {
    badLine = null;
    message.hidden = true;
    ta.removeAttribute('aria-invalid');
    paint();
  }

  function markError(e) {
    const d = e.details || {};
    if (!d.line) {
      clear();
      replace(message, e.message);
      message.hidden = false;
      return;
    }
    badLine = d.line;
    const col = d.column || 1;
    replace(message, h('strong', null, `Line ${d.line}, column ${col}`), h('span', null, ` — ${e.message}`));
    message.hidden = false;
    ta.setAttribute('aria-invalid', 'true');
    paint();
    // The caret on the faulty spot, that line selected from there.
    const lines = ta.value.split('\n');
    const start = lines.slice(0, d.line - 1).reduce((n, l) => n + l.length + 1, 0);
    const lineText = lines[d.line - 1] || '';
    ta.focus();
    ta.setSelectionRange(start + Math.min(col - 1, lineText.length), start + lineText.length);
  }

  ta.addEventListener('input', () => {
    // Editing the faulty line keeps its marker until the next save.
    paint();
  });

  const el = h(
    'div',
    { class: 'field rules-field' },
    h('label', { for: 'rules-text' }, 'Rules text'),
    h('div', { class: 'rules-editor' }, gutter, ta),
    message,
    h('p', { class: 'help', id: 'rules-help' }, RULES_HELP),
  );
  return {
    el,
    textarea: ta,
    set(text) {
      ta.value = text;
      clear();
    },
    markError,
    clear,
  };
}

export default {
  title: 'Security group',
  async render(ctx) {
    const id = ctx.params.id;
    const path = `/v1/security_groups/${encodeURIComponent(id)}`;
    const writer = session.canWrite();
    let group;
    try {
      group = await api.get(path);
    } catch (e) {
      if (e.status === 401) throw e;
      ctx.el.append(pageHeader(id, { back: { href: '#/security-groups', label: 'Security groups' } }), errorBox(e));
      return;
    }
    if (!ctx.active) return;

    const err = errorBox(null);
    const header = h('div');
    const editor = rulesEditor({ readOnly: !writer });
    let loadedText = ''; // the text last shown from the API

    async function patch(body) {
      const updated = await api.patch(path, body);
      show(updated);
      toast(`Rules of ${updated.name} saved; applying them on the hosts (task ${updated.task_id})`);
      return updated;
    }

    async function removeRule(r) {
      // By value: a kept row's rule may be from an earlier answer.
      const rules = group.rules.filter((x) => ruleKey(x) !== ruleKey(r)).map(ruleBody);
      try {
        await patch({ rules });
        showError(err, null);
      } catch (e) {
        showError(err, e);
      }
    }

    const rulesTable = table({
      label: 'Rules',
      key: ruleKey,
      empty: 'No rules: nothing reaches the members from outside the group.',
      columns: [
        { label: 'Protocol', render: (r) => h('span', { class: 'mono' }, r.protocol) },
        { label: 'Ports', render: ports },
        { label: 'Source', render: (r) => (r.group_id ? h('a', { class: 'mono', href: `#/security-groups/${r.group_id}` }, r.group_id) : h('span', { class: 'mono' }, r.cidr)) },
        writer
          ? {
              label: 'Actions',
              render: (r) => {
                const b = button('Remove', null, { title: `Remove ${ruleKey(r)}` });
                b.setAttribute('aria-label', `Remove ${ruleKey(r)}`);
                b.addEventListener('click', () => busy(b, () => removeRule(r)));
                return b;
              },
            }
          : null,
      ].filter(Boolean),
    });

    function show(g) {
      group = g;
      document.title = `${g.name} · Security groups · Arame`;
      replace(
        header,
        pageHeader(g.name, {
          subtitle: g.description || g.id,
          back: { href: '#/security-groups', label: 'Security groups' },
          actions: writer ? [button('Delete group', deleteGroup, { variant: 'danger' })] : [],
        }),
      );
      rulesTable.update(g.rules);
      // Unsaved edits stay; otherwise the text follows what was saved.
      if (editor.textarea.value === loadedText) editor.set(g.rules_text);
      loadedText = g.rules_text;
    }

    async function deleteGroup() {
      const ok = await confirm({
        title: `Delete ${group.name}?`,
        message: 'The group and its rules are deleted; this cannot be undone. A group that instances still use cannot be deleted.',
        confirmLabel: 'Delete',
      });
      if (!ok) return;
      try {
        await api.del(path);
        toast(`Deleted ${group.name}`);
        go('/security-groups');
      } catch (e) {
        showError(err, e);
      }
    }

    // Add one rule: its line goes at the end of the text, so the text's
    // comments stay as written.
    const addErr = errorBox(null);
    const proto = h('select', { id: 'rule-protocol' }, ['tcp', 'udp', 'icmp'].map((p) => h('option', { value: p }, p)));
    const fromPort = h('input', { id: 'rule-from', type: 'text', inputmode: 'numeric', placeholder: '22', required: true });
    const toPort = h('input', { id: 'rule-to', type: 'text', inputmode: 'numeric', placeholder: '22' });
    const src = h('input', { id: 'rule-source', type: 'text', placeholder: 'ip4:0.0.0.0/0 or sg-…', required: true });
    const addBtn = button('Add rule', null, { variant: 'primary', type: 'submit' });
    const addForm = h(
      'form',
      { class: 'rule-add', 'aria-label': 'Add a rule' },
      h('div', { class: 'field' }, h('label', { for: 'rule-protocol' }, 'Protocol'), proto),
      h('div', { class: 'field' }, h('label', { for: 'rule-from' }, 'From port'), fromPort),
      h('div', { class: 'field' }, h('label', { for: 'rule-to' }, 'To port'), toPort),
      h('div', { class: 'field field-wide' }, h('label', { for: 'rule-source' }, 'Source'), src),
      h('div', { class: 'field field-button' }, addBtn),
    );
    addForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const from = fromPort.value.trim();
      const to = toPort.value.trim() || from;
      const line = `${proto.value}:${from},${to},${src.value.trim()}`;
      const text = group.rules_text.replace(/\s+$/, '');
      await busy(addBtn, async () => {
        try {
          await patch({ rules_text: text ? `${text}\n${line}` : line });
          showError(addErr, null);
          fromPort.value = '';
          toPort.value = '';
          src.value = '';
        } catch (ex) {
          // The line is the last one: the API's reason is about it.
          showError(addErr, ex);
        }
      });
    });

    const save = button('Save rules', null, { variant: 'primary' });
    save.addEventListener('click', () =>
      busy(save, async () => {
        try {
          loadedText = editor.textarea.value;
          await patch({ rules_text: editor.textarea.value });
          editor.clear();
        } catch (e) {
          loadedText = group.rules_text;
          editor.markError(e);
        }
      }),
    );
    const revert = button('Revert', () => editor.set(group.rules_text));

    show(group);
    ctx.el.append(
      header,
      err,
      section('Rules', [rulesTable.el, writer ? h('div', { class: 'rule-add-wrap' }, addErr, addForm) : null], {
        aside: h('span', { class: 'muted' }, 'Inbound, allowed; members always reach each other'),
      }),
      section('Rules as text', [editor.el, writer ? h('div', { class: 'editor-actions' }, revert, save) : null]),
    );
  },
};
