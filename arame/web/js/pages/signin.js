// Sign in: the API's token for a username and password, kept in the
// session. The API's error is shown as it words it.

import { h } from '../dom.js';
import * as api from '../api.js';
import { button, errorBox, showError } from '../components.js';

/** Draw the sign-in form into `el`; onSignedIn() runs after a success.
 *  `notice`: why the user is here again ("Your session has ended"). */
export function renderSignIn(el, { notice, onSignedIn }) {
  const err = errorBox(null);
  const username = h('input', { id: 'signin-username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = button('Sign in', null, { variant: 'primary', type: 'submit' });
  submit.classList.add('btn-block');
  const form = h(
    'form',
    { class: 'signin-form', 'aria-labelledby': 'signin-title' },
    h('div', { class: 'brand brand-large' }, h('img', { src: 'favicon.svg', alt: '', width: 36, height: 36 }), h('span', null, 'Arame')),
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'subtitle' }, 'to manage your instances, volumes and networks'),
    notice ? h('div', { class: 'alert alert-info', role: 'status' }, notice) : null,
    err,
    h('div', { class: 'field' }, h('label', { for: 'signin-username' }, 'Username'), username),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'), password),
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, null);
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await api.signIn(username.value.trim(), password.value);
      onSignedIn();
    } catch (ex) {
      showError(err, ex);
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  el.replaceChildren(h('main', { class: 'signin' }, form));
  username.focus();
  // The first page is interactive: tests/ui measure the time to here.
  performance.mark('arame:signin-ready');
  document.documentElement.dataset.ready = 'signin';
}
