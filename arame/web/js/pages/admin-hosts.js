// Admin > Hosts: every host with its daemons' heartbeats, up or down, and
// what it has left: vCPUs, memory and disk on a hypervisor, the pool on a
// storage node. A hypervisor is taken out of service (Disable,
// Maintenance: no new instances, its guests stay) and put back (Enable,
// End maintenance) with PATCH /v1/hosts/{id}.

import { h, replace, uid } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';
import { badge, busy, button, confirm, empty, errorBox, formDialog, loading, meter, showError, toast } from '../components.js';
import { ageWords } from './admin-common.js';

const gb = (n) => `${n} GB`;

function capacity(host) {
  const bars = [];
  if (host.vcpus !== null && host.vcpus !== undefined) {
    bars.push(
      meter('vCPUs', host.vcpus_used || 0, host.vcpus),
      meter('Memory', host.memory_mb_used || 0, host.memory_mb, { format: fmt.mb }),
      meter('Disk', host.disk_gb_used || 0, host.disk_gb, { format: gb }),
    );
  }
  const st = host.storage;
  if (st) {
    bars.push(meter(`Pool ${st.pool || ''}`.trim(), st.size_bytes - st.free_bytes, st.size_bytes, { format: fmt.bytes }));
  }
  return bars.length ? h('div', { class: 'meters' }, bars) : empty('No capacity reported.');
}

function services(host) {
  return h(
    'ul',
    { class: 'host-services', 'aria-label': `Services on ${host.name}` },
    host.services.map((s) =>
      h(
        'li',
        { class: ['host-service', s.state === 'down' ? 'host-service-down' : null] },
        h('span', { class: 'host-service-name' }, s.binary),
        badge(s.state),
        h('span', { class: 'muted', title: s.last_heartbeat_at ? fmt.dateTime(s.last_heartbeat_at) : null }, ageWords(s.heartbeat_age_s)),
      ),
    ),
  );
}

function roles(host) {
  const words = [];
  if (host.vcpus !== null && host.vcpus !== undefined) {
    words.push(`${host.provider || 'vm'} hypervisor${host.hypervisor_type ? ` (${host.hypervisor_type})` : ''}`);
  }
  if (host.storage) words.push(`storage${host.storage.volume_mode ? ` (${host.storage.volume_mode})` : ''}`);
  if (host.enabled === false) words.push('disabled for new instances');
  if (host.maintenance) words.push('in maintenance');
  return words.join(' · ') || 'services only';
}

const isHypervisor = (host) => host.id !== null && host.id !== undefined;
const hostPath = (host) => `/v1/hosts/${encodeURIComponent(host.id)}`;

/** Why the host is out of service, as the operator who took it out
 *  wrote it. */
function reasons(host) {
  const lines = [];
  if (host.enabled === false) lines.push(`Disabled${host.disabled_reason ? `: ${host.disabled_reason}` : ''}`);
  if (host.maintenance) lines.push(`Maintenance${host.maintenance_reason ? `: ${host.maintenance_reason}` : ''}`);
  if (!lines.length) return null;
  return h('ul', { class: 'host-reasons muted', 'aria-label': `Why ${host.name} takes no new instances` }, lines.map((l) => h('li', null, l)));
}

/** Disable and Maintenance ask why (optional); Enable and End maintenance
 *  put the host back at once. Each answers with the host: the list is
 *  drawn again from the next poll. */
function hostActions(host, { err, refresh }) {
  if (!isHypervisor(host)) return null;
  const send = (body) => api.patch(hostPath(host), body);
  const takeOut = (title, description, submitLabel, body, done) => async () => {
    const out = await formDialog({
      title,
      description,
      submitLabel,
      fields: [{ name: 'reason', label: 'Reason', placeholder: 'bad DIMM, kernel update', help: 'Shown to the other administrators in this list (255 characters at most).' }],
      onSubmit: (v) => send(v.reason ? { ...body, reason: v.reason } : body),
    });
    if (out) {
      showError(err, null);
      toast(done);
      refresh();
    }
  };
  const putBack = (body, done) => async (ev) => {
    try {
      await busy(ev.currentTarget, () => send(body));
      showError(err, null);
      toast(done);
    } catch (e) {
      showError(err, e);
    }
    refresh();
  };
  // Only a down host: the API refuses one that still reports (409), and
  // moving guests off a live host is a migration, not an evacuation.
  const evacuate = async (ev) => {
    // Kept before the dialog: the event's currentTarget is gone after it.
    const btn = ev.currentTarget;
    const ok = await confirm({
      title: `Evacuate ${host.name}?`,
      message: 'Its storage access is revoked and its power cut where a BMC is set; every HA instance is rebuilt on another host with the same addresses. Instances without HA stay and are marked in error.',
      confirmLabel: 'Evacuate',
    });
    if (!ok) return;
    try {
      const out = await busy(btn, () => api.post(`${hostPath(host)}/evacuate`, {}));
      showError(err, null);
      const moving = out.tasks.length;
      const staying = out.not_evacuated.length;
      toast(`${host.name}: ${moving} instance(s) being evacuated${staying ? `, ${staying} staying (no HA)` : ''}`);
    } catch (e) {
      showError(err, e);
    }
    refresh();
  };
  return h(
    'span',
    { class: ['row-buttons', 'host-buttons'], role: 'group', 'aria-label': `Actions on ${host.name}` },
    host.state === 'down' ? button('Evacuate', evacuate, { variant: 'small' }) : null,
    host.enabled === false
      ? button('Enable', putBack({ enabled: true }, `${host.name} takes new instances again`), { variant: 'small' })
      : button(
          'Disable',
          takeOut(`Disable ${host.name}?`, 'No new instance is placed on it; the instances it runs stay.', 'Disable', { enabled: false }, `${host.name} disabled`),
          { variant: 'small' },
        ),
    host.maintenance
      ? button('End maintenance', putBack({ maintenance: false }, `${host.name} is out of maintenance`), { variant: 'small' })
      : button(
          'Maintenance',
          takeOut(`Put ${host.name} in maintenance?`, 'No new instance is placed on it while you work on it; the instances it runs stay.', 'Start maintenance', { maintenance: true }, `${host.name} in maintenance`),
          { variant: 'small' },
        ),
  );
}

function hostCard(host, actions) {
  const headingId = uid('host');
  return h(
    'section',
    { class: 'card host-card', 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'card-header' },
      h('div', { class: 'host-title' }, h('h2', { id: headingId }, host.name), h('span', { class: 'muted' }, roles(host))),
      h(
        'div',
        { class: 'card-aside' },
        host.maintenance ? badge('maintenance') : null,
        host.enabled === false ? badge('disabled') : null,
        badge(host.state),
        h('span', null, `heartbeat ${ageWords(host.heartbeat_age_s)}`),
        hostActions(host, actions),
      ),
    ),
    h(
      'div',
      { class: 'card-body host-body' },
      capacity(host),
      h(
        'div',
        { class: 'host-side' },
        host.instances !== null && host.instances !== undefined
          ? h('p', { class: 'host-instances' }, h('strong', null, host.instances), ' ', host.instances === 1 ? 'instance' : 'instances')
          : null,
        reasons(host),
        services(host),
      ),
    ),
  );
}

export async function render(el, ctx) {
  const err = errorBox(null);
  const summary = h('p', { class: 'muted admin-summary', role: 'status' });
  const list = h('div', { class: 'host-list' }, loading());
  el.append(err, summary, list);

  async function refresh() {
    try {
      const hosts = await api.all('/v1/hosts');
      if (!ctx.active) return;
      showError(err, null);
      const up = hosts.filter((x) => x.state === 'up').length;
      const out = hosts.filter((x) => x.enabled === false || x.maintenance).length;
      const outWords = out ? `, ${out} taking no new instances` : '';
      const words = `${fmt.count(hosts.length, 'host')}: ${up} up, ${hosts.length - up} down${outWords}. Heartbeats refresh every 5 seconds.`;
      // A live region: said again only when it changes.
      if (summary.textContent !== words) summary.textContent = words;
      const actions = { err, refresh: () => poller.refresh() };
      replace(list, hosts.length ? hosts.map((x) => hostCard(x, actions)) : empty('No host has reported yet.'));
    } catch (e) {
      showError(err, e);
      throw e;
    }
  }
  const poller = api.poll(refresh, 5000);
  ctx.onLeave(poller.stop);
}
