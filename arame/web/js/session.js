// The signed-in user, kept in sessionStorage (one tab, gone with it):
// the API's token answer as it came, nothing derived from it stored.

const KEY = 'arame.session';

export function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    if (!s || !s.token) return null;
    if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) {
      clear();
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function save(answer) {
  sessionStorage.setItem(KEY, JSON.stringify(answer));
}

export function clear() {
  sessionStorage.removeItem(KEY);
}

export function roles() {
  return (load() || {}).roles || [];
}

export function account() {
  return (load() || {}).account_id || null;
}

export function isAdmin() {
  return roles().includes('admin');
}

/** Whether the user may change things (members of the account and
 *  admins); a reader sees no write buttons. */
export function canWrite() {
  const r = roles();
  return r.includes('admin') || r.includes('member');
}
