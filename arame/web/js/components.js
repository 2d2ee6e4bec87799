// The dashboard's building blocks. Every page is made of these, so the
// look, the words and the accessibility (labels, roles, names) stay the
// same everywhere; see doc/source/contributor/dashboard.rst.

import { h, replace, svg, uid } from './dom.js';
import * as fmt from './format.js';

// ---------------------------------------------------------------- status

const TONES = {
  ok: [
    'running', 'up', 'active', 'available', 'done', 'in-use', 'attached',
    'enabled', 'ready', 'allocated', 'deployed',
  ],
  busy: [
    'pending', 'scheduling', 'starting', 'stopping', 'rebooting', 'evacuating',
    'shuttingdown', 'queued', 'creating', 'deleting', 'attaching',
    'detaching', 'uploading', 'saving', 'building', 'cleaning', 'deploying',
    'enrolling', 'inspecting', 'restoring', 'booting',
  ],
  bad: ['error', 'failed', 'down', 'unreachable'],
  // A bare-metal node `manageable` is at rest, waiting to be provided.
  off: [
    'stopped', 'terminated', 'deleted', 'disabled', 'inactive', 'unknown',
    'power_off', 'manageable',
  ],
};
const TONE_OF = new Map(
  Object.entries(TONES).flatMap(([tone, words]) => words.map((w) => [w, tone])),
);

/** The colour family of a status word: ok, busy, bad, off. A task's
 *  `running` is work in progress, an instance's is its steady state. */
export function toneOf(status, kind = 'resource') {
  if (kind === 'task' && status === 'running') return 'busy';
  return TONE_OF.get(status) || 'off';
}

/** A status shown in words, coloured by state (the colour is never the
 *  only cue). */
export function badge(status, { kind = 'resource', title } = {}) {
  const tone = toneOf(status, kind);
  return h(
    'span',
    { class: ['badge', `badge-${tone}`], title: title || null },
    tone === 'busy' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    status || 'unknown',
  );
}

// --------------------------------------------------------------- layout

/** The heading row of a page: its title and its action buttons. */
export function pageHeader(title, { subtitle, actions = [], back } = {}) {
  return h(
    'header',
    { class: 'page-header' },
    h(
      'div',
      { class: 'page-title' },
      back ? h('a', { class: 'back-link', href: back.href }, `← ${back.label}`) : null,
      h('h1', null, title),
      subtitle ? h('p', { class: 'subtitle' }, subtitle) : null,
    ),
    h('div', { class: 'page-actions' }, actions),
  );
}

/** A titled card; `aside` goes to the right of the title. */
export function section(title, children, { aside, id } = {}) {
  const headingId = uid('section');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': headingId, id: id || null },
    h(
      'div',
      { class: 'card-header' },
      h('h2', { id: headingId }, title),
      aside ? h('div', { class: 'card-aside' }, aside) : null,
    ),
    h('div', { class: 'card-body' }, children),
  );
}

/** A definition list of [label, value] pairs. */
export function details(pairs) {
  return h(
    'dl',
    { class: 'details' },
    pairs.flatMap(([label, value]) => [
      h('dt', null, label),
      h('dd', null, value === null || value === undefined || value === '' ? '—' : value),
    ]),
  );
}

export function empty(text) {
  return h('p', { class: 'empty-state' }, text);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** An error as the API worded it, announced to screen readers. */
export function errorBox(err) {
  const box = h('div', { class: 'alert alert-error', role: 'alert' });
  if (err) box.append(err.message || String(err));
  else box.hidden = true;
  return box;
}

/** Set (or clear, with null) the message of an errorBox. */
export function showError(box, err) {
  replace(box, err ? err.message || String(err) : '');
  box.hidden = !err;
}

/** A button; `variant`: primary, danger, or plain (the default). */
export function button(label, onClick, { variant = 'plain', disabled, title, type = 'button' } = {}) {
  return h(
    'button',
    {
      type,
      class: ['btn', `btn-${variant}`],
      onClick: onClick || null,
      disabled: disabled || false,
      title: title || null,
    },
    label,
  );
}

/** Run an async action with `btn` disabled and marked busy meanwhile. */
export async function busy(btn, fn) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

// -------------------------------------------------------------- toasts

let toastRegion = null;

/** A short message in the corner (announced politely), gone after a few
 *  seconds: "Launching web1". */
export function toast(text, tone = 'ok') {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastRegion);
  }
  const t = h('div', { class: ['toast', `toast-${tone}`] }, text);
  toastRegion.append(t);
  setTimeout(() => t.remove(), tone === 'error' ? 8000 : 4000);
}

// --------------------------------------------------------------- table

/**
 * A table of items, updated in place: table({columns, key, empty, label})
 * -> {el, update(items)}. columns: [{label, render(item) | key, class}].
 * update(null) shows a loading row. Rows whose item did not change are
 * kept as they are (a poll does not steal the keyboard focus).
 */
export function table({ columns, key = (item) => item.id, empty: emptyText = 'Nothing here yet.', label }) {
  const tbody = h('tbody');
  const el = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', 'aria-label': label || null },
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class || null }, c.label)))),
      tbody,
    ),
  );
  let rows = new Map(); // key -> {tr, sig}
  let order = [];

  const cells = (item) =>
    columns.map((c) => {
      let v = c.render ? c.render(item) : item[c.key];
      if (v === null || v === undefined || v === '') v = '—';
      return h('td', { class: c.class || null, 'data-label': c.label }, v);
    });

  function message(text, cls) {
    rows = new Map();
    order = [];
    replace(tbody, h('tr', { class: cls }, h('td', { colspan: columns.length }, text)));
  }

  function update(items) {
    if (items === null) return message('Loading…', 'row-message');
    if (!items.length) return message(emptyText, 'row-message');
    const keys = items.map(key);
    const sameOrder = keys.length === order.length && keys.every((k, i) => k === order[i]);
    const next = new Map();
    items.forEach((item, i) => {
      const k = keys[i];
      const sig = JSON.stringify(item);
      const old = rows.get(k);
      if (old && old.sig === sig) {
        next.set(k, old);
      } else if (old && sameOrder) {
        old.tr.replaceChildren(...cells(item));
        next.set(k, { tr: old.tr, sig });
      } else {
        next.set(k, { tr: h('tr', { dataset: { key: k } }, cells(item)), sig });
      }
    });
    if (!sameOrder) tbody.replaceChildren(...keys.map((k) => next.get(k).tr));
    rows = next;
    order = keys;
  }

  return { el, update };
}

/**
 * Previous/Next over a list paged by markers: pager(fetchPage, show)
 * where fetchPage(marker) answers a page ({items, next_marker}) and
 * show(items) draws it. Only the newest request is shown (a poll and a
 * filter change may cross). -> {el, first(), reload()}.
 */
export function pager(fetchPage, show, { label = 'Pages' } = {}) {
  const stack = []; // the markers of the pages before this one
  let marker = null;
  let next = null;
  let seq = 0;
  const prevBtn = button('Previous', () => go(stack.pop() ?? null));
  const nextBtn = button('Next', () => {
    stack.push(marker);
    go(next);
  });
  const where = h('span', { class: 'pager-where' });
  const el = h('nav', { class: 'pager', 'aria-label': label }, prevBtn, where, nextBtn);

  function paint() {
    prevBtn.disabled = stack.length === 0;
    nextBtn.disabled = !next;
    where.textContent = `Page ${stack.length + 1}`;
    el.hidden = stack.length === 0 && !next;
  }

  async function go(m) {
    seq += 1;
    const mine = seq;
    const p = await fetchPage(m);
    if (mine !== seq) return;
    marker = m;
    next = p.next_marker;
    show(p.items);
    paint();
  }

  paint();
  return {
    el,
    /** Back to the first page (after the filters changed). */
    first() {
      stack.length = 0;
      return go(null);
    },
    /** This page again (a poll). */
    reload() {
      return go(marker);
    },
  };
}

// -------------------------------------------------------------- dialog

function fieldControl(f, id, describedBy) {
  const common = {
    id,
    name: f.name,
    required: f.required || false,
    'aria-describedby': describedBy || null,
    autocomplete: f.autocomplete || 'off',
  };
  if (f.type === 'select' || f.type === 'multiselect') {
    const multiple = f.type === 'multiselect';
    const options = f.options || [];
    if (multiple && !options.length) {
      // Nothing to choose: say so in the box rather than show it empty.
      return h('select', { ...common, multiple, size: 2, disabled: true, class: 'select-empty' }, h('option', { disabled: true }, f.emptyText || 'None available'));
    }
    const sel = h(
      'select',
      {
        ...common,
        multiple,
        size: multiple ? Math.min(Math.max(options.length, 2), 5) : null,
      },
      options.map((o) =>
        h('option', { value: o.value, selected: multiple ? (f.value || []).includes(o.value) : o.value === f.value }, o.label),
      ),
    );
    return sel;
  }
  if (f.type === 'textarea') {
    const ta = h('textarea', { ...common, rows: f.rows || 4, placeholder: f.placeholder || null, spellcheck: 'false' });
    ta.value = f.value || '';
    return ta;
  }
  const input = h('input', {
    ...common,
    type: f.type || 'text',
    placeholder: f.placeholder || null,
    min: f.min ?? null,
    max: f.max ?? null,
    step: f.step ?? null,
  });
  if (f.value !== undefined && f.value !== null) input.value = f.value;
  return input;
}

function fieldValue(f, control) {
  if (f.type === 'multiselect') return [...control.selectedOptions].map((o) => o.value);
  if (f.type === 'checkbox') return control.checked;
  const raw = control.value;
  if (f.type === 'number') return raw === '' ? null : Number(raw);
  if (f.type === 'textarea' || f.type === 'password') return raw === '' ? null : raw;
  const v = raw.trim();
  return v === '' ? null : v;
}

/**
 * A modal form: formDialog({title, fields, submitLabel, onSubmit}) ->
 * Promise of onSubmit's result, or null when cancelled. Each field is
 * {name, label, type (text, number, password, textarea, select,
 * multiselect, checkbox), options: [{value, label}], value, required,
 * help, placeholder}. onSubmit(values) may throw an ApiError: its message
 * shows in the dialog (and at the field a 422 names); the dialog stays.
 */
export function formDialog({ title, description, fields, submitLabel = 'Save', onSubmit, danger = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const err = errorBox(null);
    const controls = new Map();
    const fieldErrors = new Map();
    const rows = fields.map((f) => {
      const id = uid('field');
      const helpId = f.help ? uid('help') : null;
      const errId = uid('field-error');
      const control = fieldControl(f, id, [helpId, errId].filter(Boolean).join(' '));
      controls.set(f.name, control);
      const fe = h('p', { class: 'field-error', id: errId, hidden: true });
      fieldErrors.set(f.name, fe);
      if (f.type === 'checkbox') {
        control.checked = Boolean(f.value);
        return h('div', { class: 'field field-check' }, control, h('label', { for: id }, f.label), fe);
      }
      return h(
        'div',
        { class: 'field' },
        // "optional" beside the label, not in it: the label is the
        // field's name, exactly (the tests find fields by it).
        h('div', { class: 'field-head' }, h('label', { for: id }, f.label), f.required ? null : h('span', { class: 'optional', 'aria-hidden': 'true' }, 'optional')),
        control,
        f.help ? h('p', { class: 'help', id: helpId }, f.help) : null,
        fe,
      );
    });
    const submit = button(submitLabel, null, { variant: danger ? 'danger' : 'primary', type: 'submit' });
    const cancel = button('Cancel', () => close(null));
    const form = h(
      'form',
      { class: 'dialog-form', novalidate: false },
      h('h2', { id: titleId }, title),
      description ? h('p', { class: 'dialog-description' }, description) : null,
      err,
      h('div', { class: 'fields' }, rows),
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);

    function close(result) {
      dialog.close();
      dialog.remove();
      resolve(result);
    }

    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(null);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(err, null);
      for (const fe of fieldErrors.values()) fe.hidden = true;
      const values = {};
      for (const f of fields) values[f.name] = fieldValue(f, controls.get(f.name));
      try {
        const result = await busy(submit, () => onSubmit(values));
        close(result === undefined ? true : result);
      } catch (ex) {
        showError(err, ex);
        for (const { field, message: m } of (ex.details && ex.details.fields) || []) {
          const fe = fieldErrors.get(String(field).split('.')[0]);
          if (fe) {
            fe.textContent = m;
            fe.hidden = false;
          }
        }
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Ask before something that cannot be undone -> Promise<boolean>. */
export function confirm({ title, message, confirmLabel = 'Confirm', danger = true }) {
  return formDialog({
    title,
    description: message,
    fields: [],
    submitLabel: confirmLabel,
    danger,
    onSubmit: () => true,
  }).then((r) => r === true);
}

// ---------------------------------------------------------- bars, charts

/** How much of a limit is used: a labelled meter bar with the numbers in
 *  words. limit -1 (or null) means no limit. */
export function meter(label, used, limit, { format = String } = {}) {
  const unlimited = limit === null || limit === undefined || limit < 0;
  const ratio = unlimited ? 0 : limit === 0 ? (used > 0 ? 1 : 0) : Math.min(used / limit, 1);
  const tone = ratio >= 0.9 ? 'bad' : ratio >= 0.75 ? 'warn' : 'ok';
  const fill = h('div', { class: ['meter-fill', `meter-${tone}`] });
  fill.style.width = `${(ratio * 100).toFixed(1)}%`; // CSSOM: allowed by the CSP
  const words = unlimited ? `${format(used)} used (no limit)` : `${format(used)} of ${format(limit)}`;
  return h(
    'div',
    { class: 'meter-row' },
    h('div', { class: 'meter-label' }, h('span', null, label), h('span', { class: 'meter-words' }, words)),
    h(
      'div',
      {
        class: 'meter',
        role: 'meter',
        'aria-label': label,
        'aria-valuemin': 0,
        'aria-valuemax': unlimited ? used : limit,
        'aria-valuenow': used,
        'aria-valuetext': words,
      },
      fill,
    ),
  );
}

/** An indeterminate or known progress bar (uploads, long waits). */
export function progress(label, value = null, max = 100) {
  const bar = h('progress', { class: 'progress', 'aria-label': label, max });
  if (value !== null) bar.value = value;
  return bar;
}

/**
 * A line chart as inline SVG: lineChart({label, points: [[t, v], ...],
 * format, max}) (t in ms). Drawn to the box's width by the viewBox; the
 * last value and the peak are written out beside it.
 */
export function lineChart({ label, points, format = String, max }) {
  const W = 320;
  const H = 96;
  const pad = 4;
  const values = points.map((p) => p[1]);
  // Headroom over the peak: a flat series is a line, not a full box.
  const top = Math.max(max ?? 0, Math.max(...values, 0) * 1.15, 1e-9);
  const t0 = points.length ? points[0][0] : 0;
  const t1 = points.length ? points[points.length - 1][0] : 1;
  const span = Math.max(t1 - t0, 1);
  const xy = points.map(([t, v]) => [
    pad + ((t - t0) / span) * (W - 2 * pad),
    H - pad - (v / top) * (H - 2 * pad),
  ]);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const area = xy.length ? `${pad},${H - pad} ${line} ${xy[xy.length - 1][0].toFixed(1)},${H - pad}` : '';
  const last = values.length ? values[values.length - 1] : null;
  const peak = values.length ? Math.max(...values) : null;
  const chartTitle = uid('chart');
  return h(
    'figure',
    { class: 'chart' },
    h(
      'figcaption',
      null,
      h('span', { class: 'chart-label' }, label),
      h('span', { class: 'chart-value' }, last === null ? 'no samples' : format(last)),
    ),
    svg(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-labelledby': chartTitle, class: 'chart-svg' },
      svg('title', { id: chartTitle }, `${label}: ${last === null ? 'no samples' : `now ${format(last)}, peak ${format(peak)}`}`),
      svg('line', { x1: 0, x2: W, y1: H - pad, y2: H - pad, class: 'chart-axis' }),
      xy.length > 1 ? svg('polygon', { points: area, class: 'chart-area' }) : null,
      xy.length > 1 ? svg('polyline', { points: line, class: 'chart-line' }) : null,
    ),
    h('div', { class: 'chart-foot' }, peak === null ? '' : `peak ${format(peak)}`),
  );
}

// ------------------------------------------------------------ timeline

/** A task's events as a timeline: each step, its status, the host that ran
 *  it and how long it took. */
export function timeline(task) {
  const events = task.events || [];
  if (!events.length) return empty('No steps recorded yet.');
  return h(
    'ol',
    { class: 'timeline', 'aria-label': `Steps of ${task.action} ${task.id}` },
    events.map((e) =>
      h(
        'li',
        { class: ['timeline-item', `tl-${toneOf(e.status, 'task')}`] },
        h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'tl-body' },
          h(
            'div',
            { class: 'tl-head' },
            h('span', { class: 'tl-step' }, e.step),
            badge(e.status, { kind: 'task' }),
          ),
          h(
            'div',
            { class: 'tl-meta' },
            e.host ? h('span', null, `on ${e.host}`) : null,
            e.duration_ms !== null && e.duration_ms !== undefined ? h('span', null, fmt.duration(e.duration_ms)) : null,
            h('time', { datetime: e.at, title: fmt.dateTime(e.at) }, fmt.ago(e.at)),
          ),
          e.message ? h('p', { class: 'tl-message' }, e.message) : null,
        ),
      ),
    ),
  );
}
