// Admin > Hosts: every host with its daemons' heartbeats, up or down, and
// what it has left: vCPUs, memory and disk on a hypervisor, the pool on a
// storage node.

import { h, replace, uid } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';
import { badge, empty, errorBox, loading, meter, showError } from '../components.js';
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
  return words.join(' · ') || 'services only';
}

function hostCard(host) {
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
        badge(host.state),
        h('span', null, `heartbeat ${ageWords(host.heartbeat_age_s)}`),
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
      const words = `${fmt.count(hosts.length, 'host')}: ${up} up, ${hosts.length - up} down. Heartbeats refresh every 5 seconds.`;
      // A live region: said again only when it changes.
      if (summary.textContent !== words) summary.textContent = words;
      replace(list, hosts.length ? hosts.map(hostCard) : empty('No host has reported yet.'));
    } catch (e) {
      showError(err, e);
      throw e;
    }
  }
  const poller = api.poll(refresh, 5000);
  ctx.onLeave(poller.stop);
}
