// Login: POST /backoffice/session {username, password} -> {id_token, expires_in, operator}.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, saveSession, ApiError } from '../api.js';
import { errorBox } from '../ui.js';

export async function render({ query, languageToggle }) {
  const message = h('div.login-message', { 'data-testid': 'login-error' });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, 'data-testid': 'username' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'password' });
  const submit = h('button.primary', { type: 'submit', 'data-testid': 'login-submit' }, t('login.submit'));
  const form = h('form.login-form', {
    on: {
      submit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        replace(message);
        try {
          const answer = await api('/backoffice/session', {
            method: 'POST',
            body: { username: username.value.trim(), password: password.value },
            anonymous: true,
          });
          saveSession(answer);
          const next = query.next && query.next.startsWith('/') && !query.next.startsWith('/login') ? query.next : '/dashboard';
          location.hash = `#${next}`;
        } catch (error) {
          replace(message, error instanceof ApiError && error.status === 401
            ? h('div.error', { role: 'alert' }, t('login.badCredentials'))
            : errorBox(error));
          submit.disabled = false;
          password.select();
        }
      },
    },
  },
  h('label', h('span', t('login.username')), username),
  h('label', h('span', t('login.password')), password),
  submit,
  message);
  setTimeout(() => username.focus(), 0);
  return h('div.login-page',
    h('div.login-card',
      h('div.login-head', h('h1', t('app.title')), languageToggle()),
      h('p.muted', t('login.hint')),
      form));
}
