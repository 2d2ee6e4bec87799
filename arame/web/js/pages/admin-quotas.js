// Admin > Quotas: one account's limits beside what it uses, as bars, and
// the limits edited in place (PATCH: a field left empty goes back to the
// cloud's default, -1 is no limit).

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import { button, errorBox, formDialog, loading, meter, section, showError, toast } from '../components.js';

const RESOURCES = [
  { name: 'instances', label: 'Instances', format: String },
  { name: 'vcpus', label: 'vCPUs', format: String },
  { name: 'memory_mb', label: 'Memory', unit: 'MB', format: fmt.mb },
  { name: 'volumes', label: 'Volumes', format: String },
  { name: 'storage_gb', label: 'Storage', unit: 'GB', format: (n) => `${n} GB` },
];

export async function render(el, ctx) {
  const err = errorBox(null);
  const accounts = await api.all('/v1/accounts', { sort: 'name' });
  if (!ctx.active) return;
  let current =
    accounts.find((a) => a.id === ctx.query.account) ||
    accounts.find((a) => a.id === session.load().account_id) ||
    accounts[0];
  let quota = null;

  const picker = h(
    'select',
    { id: 'quota-account', class: 'quota-picker' },
    accounts.map((a) => h('option', { value: a.id, selected: a.id === current.id }, `${a.name} (${a.id})`)),
  );
  picker.addEventListener('change', () => {
    current = accounts.find((a) => a.id === picker.value);
    draw();
  });
  const editBtn = button('Edit limits', edit, { variant: 'primary' });
  const body = h('div', { class: 'quota-body' }, loading());
  const heading = h('span');

  async function draw() {
    replace(heading, `Quota of ${current.name}`);
    editBtn.disabled = true;
    try {
      quota = await api.get(`/v1/quotas/${encodeURIComponent(current.id)}`);
      // The picker may have moved on while this answer was on its way.
      if (!ctx.active || quota.account_id !== current.id) return;
      showError(err, null);
      replace(
        body,
        h(
          'div',
          { class: 'meters quota-meters' },
          RESOURCES.map((r) => meter(r.label, quota.in_use[r.name], quota.limits[r.name], { format: r.format })),
        ),
      );
      editBtn.disabled = false;
    } catch (e) {
      showError(err, e);
    }
  }

  function edit() {
    return formDialog({
      title: `Limits of ${current.name}`,
      description: '-1 means no limit; leave a field empty to give it back the cloud\u2019s default.',
      fields: RESOURCES.map((r) => ({
        name: r.name,
        label: r.unit ? `${r.label} (${r.unit})` : r.label,
        type: 'number',
        min: -1,
        value: quota.limits[r.name],
        help: `in use: ${r.format(quota.in_use[r.name])}`,
      })),
      submitLabel: 'Save limits',
      onSubmit: async (v) => {
        await api.patch(`/v1/quotas/${encodeURIComponent(current.id)}`, v);
        toast(`Limits of ${current.name} saved`);
        await draw();
      },
    });
  }

  const pickerField = h(
    'div',
    { class: 'quota-picker-field' },
    h('label', { for: 'quota-account' }, 'Account'),
    picker,
  );
  el.append(err, section(heading, [body], { aside: [pickerField, editBtn] }));
  await draw();
}
