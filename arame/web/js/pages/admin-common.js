// Small pieces the admin sections share.

import { h } from '../dom.js';
import { busy, toast } from '../components.js';

/** "12 s ago" from an age in seconds (the API gives ages, not times, so
 *  a skewed browser clock cannot lie about a heartbeat). */
export function ageWords(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A small button in a table row: it shows `label`, and its accessible
 *  name says what it acts on ("Disable alice"), since every row has one.
 *  An API error becomes a toast in the API's words. */
export function rowButton(label, target, action, { variant = 'plain' } = {}) {
  const btn = h(
    'button',
    {
      type: 'button',
      class: ['btn', `btn-${variant}`, 'btn-small'],
      'aria-label': `${label} ${target}`,
    },
    label,
  );
  btn.addEventListener('click', () =>
    busy(btn, async () => {
      try {
        await action();
      } catch (e) {
        toast(e.message || String(e), 'error');
      }
    }),
  );
  return btn;
}

export function rowActions(buttons) {
  return h('div', { class: 'admin-row-actions' }, buttons);
}
