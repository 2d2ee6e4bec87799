// Security groups: the list, and a new group from a name, a description
// and optionally its rules in Wakame's text form.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as fmt from '../format.js';
import { button, errorBox, formDialog, pageHeader, pager, showError, table, toast } from '../components.js';
import { go } from '../router.js';

export const RULES_HELP = 'One rule per line: protocol:from,to,source (tcp:22,22,ip4:0.0.0.0/0; icmp:8,-1,ip4:10.0.0.0/8; tcp:3306,3306,sg-xxxxxxxx). "#" starts a comment.';

export default {
  title: 'Security groups',
  async render(ctx) {
    const err = errorBox(null);
    const list = table({
      label: 'Security groups',
      empty: 'No security groups yet.',
      columns: [
        {
          label: 'Name',
          class: 'name-cell',
          render: (g) => [h('a', { href: `#/security-groups/${g.id}` }, g.name), h('span', { class: 'sub' }, g.id)],
        },
        { label: 'Description', key: 'description' },
        { label: 'Rules', class: 'num', render: (g) => String(g.rules.length) },
        { label: 'Created', render: (g) => h('time', { datetime: g.created_at, title: fmt.dateTime(g.created_at) }, fmt.ago(g.created_at)) },
      ],
    });
    list.update(null);
    const pages = pager(
      async (marker) => {
        try {
          const p = await api.page('/v1/security_groups', { marker, limit: 50 });
          showError(err, null);
          return p;
        } catch (e) {
          if (ctx.active) showError(err, e);
          throw e;
        }
      },
      list.update,
      { label: 'Security group pages' },
    );
    const poller = api.poll(() => pages.reload(), 10000);
    ctx.onLeave(poller.stop);

    const actions = [];
    if (session.canWrite()) {
      const create = button('Create security group', null, { variant: 'primary' });
      create.addEventListener('click', async () => {
        const made = await formDialog({
          title: 'Create security group',
          description: 'Inbound allow rules for its members; everything else inbound is refused.',
          submitLabel: 'Create',
          fields: [
            { name: 'name', label: 'Name', required: true, placeholder: 'web' },
            { name: 'description', label: 'Description', placeholder: 'HTTP and SSH from anywhere' },
            { name: 'rules_text', label: 'Rules', type: 'textarea', rows: 4, placeholder: 'tcp:22,22,ip4:0.0.0.0/0', help: RULES_HELP },
          ],
          onSubmit: (v) => {
            const body = { name: v.name };
            if (v.description) body.description = v.description;
            if (v.rules_text) body.rules_text = v.rules_text;
            return api.post('/v1/security_groups', body);
          },
        });
        if (made) {
          toast(`Created ${made.name}`);
          go(`/security-groups/${made.id}`);
        }
      });
      actions.push(create);
    }
    ctx.el.append(
      pageHeader('Security groups', { subtitle: 'Firewall rules applied to the instances that are members', actions }),
      err,
      h('section', { class: 'card', 'aria-label': 'Security group list' }, list.el, pages.el),
    );
  },
};
