// Admin > Accounts and users: who may use the cloud. Accounts own the
// resources; users sign in to one account with one role (admin, member,
// reader). Disabling keeps the record and refuses its sign-ins; deleting
// is asked first (the API refuses an account that still owns things).

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../format.js';
import * as session from '../session.js';
import { badge, button, confirm, errorBox, formDialog, section, showError, table, toast } from '../components.js';
import { rowActions, rowButton } from './admin-common.js';

const ROLES = ['member', 'reader', 'admin'].map((r) => ({ value: r, label: r }));

function enabledBadge(item) {
  return badge(item.enabled ? 'enabled' : 'disabled');
}

function created(item) {
  return h('time', { datetime: item.created_at, title: fmt.dateTime(item.created_at) }, fmt.ago(item.created_at));
}

export async function render(el, ctx) {
  const me = session.load();
  let accounts = [];
  const accountName = (id) => (accounts.find((a) => a.id === id) || {}).name || id;
  const err = errorBox(null);

  const accountTable = table({
    label: 'Accounts',
    empty: 'No accounts.',
    columns: [
      { label: 'Name', render: (a) => h('span', { class: 'name-cell' }, h('strong', null, a.name), h('span', { class: 'sub' }, a.id)) },
      { label: 'Status', render: enabledBadge },
      { label: 'Users', class: 'num', render: (a) => String(a.users) },
      { label: 'Created', render: created },
      { label: 'Actions', render: accountActions },
    ],
  });
  const userTable = table({
    label: 'Users',
    empty: 'No users.',
    columns: [
      { label: 'Username', render: (u) => h('span', { class: 'name-cell' }, h('strong', null, u.username), h('span', { class: 'sub' }, u.id)) },
      { label: 'Account', render: (u) => accountName(u.account_id) },
      { label: 'Role', render: (u) => h('span', { class: 'chip' }, u.role) },
      { label: 'Status', render: enabledBadge },
      { label: 'Created', render: created },
      { label: 'Actions', render: userActions },
    ],
  });

  function accountActions(a) {
    if (a.id === me.account_id) return h('span', { class: 'muted' }, 'your account');
    return rowActions([
      rowButton(a.enabled ? 'Disable' : 'Enable', a.name, async () => {
        await api.patch(`/v1/accounts/${encodeURIComponent(a.id)}`, { enabled: !a.enabled });
        toast(`${a.name} ${a.enabled ? 'disabled' : 'enabled'}`);
        await refresh();
      }),
      rowButton(
        'Delete',
        a.name,
        async () => {
          const ok = await confirm({
            title: `Delete account ${a.name}?`,
            message: 'An account must have no users and no instances left to be deleted (disabling it keeps them but refuses their sign-ins). This cannot be undone.',
            confirmLabel: 'Delete',
          });
          if (!ok) return;
          await api.del(`/v1/accounts/${encodeURIComponent(a.id)}`);
          toast(`Account ${a.name} deleted`);
          await refresh();
        },
        { variant: 'danger-outline' },
      ),
    ]);
  }

  function userActions(u) {
    if (u.id === me.user.id) return h('span', { class: 'muted' }, 'you');
    return rowActions([
      rowButton(u.enabled ? 'Disable' : 'Enable', u.username, async () => {
        await api.patch(`/v1/users/${encodeURIComponent(u.id)}`, { enabled: !u.enabled });
        toast(`${u.username} ${u.enabled ? 'disabled' : 'enabled'}`);
        await refresh();
      }),
      rowButton(
        'Delete',
        u.username,
        async () => {
          const ok = await confirm({
            title: `Delete user ${u.username}?`,
            message: 'Their tokens stop working at once. This cannot be undone.',
            confirmLabel: 'Delete',
          });
          if (!ok) return;
          await api.del(`/v1/users/${encodeURIComponent(u.id)}`);
          toast(`User ${u.username} deleted`);
          await refresh();
        },
        { variant: 'danger-outline' },
      ),
    ]);
  }

  async function refresh() {
    try {
      const [acc, users] = await Promise.all([api.all('/v1/accounts', { sort: 'name' }), api.all('/v1/users', { sort: 'name' })]);
      if (!ctx.active) return;
      accounts = acc;
      const counts = new Map();
      for (const u of users) counts.set(u.account_id, (counts.get(u.account_id) || 0) + 1);
      accountTable.update(acc.map((a) => ({ ...a, users: counts.get(a.id) || 0 })));
      // The account's name is drawn in the row: it is part of the row's
      // signature, so a renamed account redraws its users.
      userTable.update(users.map((u) => ({ ...u, account_name: accountName(u.account_id) })));
      showError(err, null);
    } catch (e) {
      showError(err, e);
    }
  }

  function createAccount() {
    return formDialog({
      title: 'Create account',
      description: 'An account owns instances, volumes and networks; its users share them.',
      fields: [{ name: 'name', label: 'Name', required: true, placeholder: 'research' }],
      submitLabel: 'Create',
      onSubmit: async (v) => {
        const a = await api.post('/v1/accounts', { name: v.name });
        toast(`Account ${a.name} created`);
        await refresh();
        return a;
      },
    });
  }

  function createUser() {
    return formDialog({
      title: 'Create user',
      fields: [
        { name: 'username', label: 'Username', required: true },
        { name: 'password', label: 'Password', type: 'password', required: true, help: 'At least 8 characters.', autocomplete: 'new-password' },
        {
          name: 'account_id',
          label: 'Account',
          type: 'select',
          required: true,
          options: accounts.map((a) => ({ value: a.id, label: `${a.name} (${a.id})` })),
          value: me.account_id,
        },
        { name: 'role', label: 'Role', type: 'select', required: true, options: ROLES, value: 'member', help: 'member: uses the account; reader: sees it; admin: the whole cloud.' },
      ],
      submitLabel: 'Create',
      onSubmit: async (v) => {
        const u = await api.post('/v1/users', v);
        toast(`User ${u.username} created`);
        await refresh();
        return u;
      },
    });
  }

  el.append(
    err,
    section('Accounts', [accountTable.el], { aside: button('Create account', createAccount, { variant: 'primary' }) }),
    section('Users', [userTable.el], { aside: button('Create user', createUser, { variant: 'primary' }) }),
  );
  accountTable.update(null);
  userTable.update(null);
  await refresh();
}
