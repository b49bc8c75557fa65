// The console: sign-in, the view router (#/overview, #/subscriptions,
// #/subscriptions/<id>/dead-letters, #/transactions, #/producers) and the
// refresh loop of the current view.

import { apiKey, call, signIn, signOut, ApiError } from './api.js';
import { h, replace, clearError, alertError } from './dom.js';
import { overview } from './overview.js';
import { subscriptions } from './subscriptions.js';
import { deadLetters } from './deadletters.js';
import { transactions } from './transactions.js';
import { producers } from './producers.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signoutButton = document.getElementById('signout');

// current is the shown view: {stop()} ends its refresh loop.
let current = null;

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'subscriptions' && parts[2] === 'dead-letters') return { view: 'subscriptions', render: (el) => deadLetters(el, parts[1]) };
  switch (parts[0]) {
    case 'subscriptions': return { view: 'subscriptions', render: subscriptions };
    case 'transactions': return { view: 'transactions', render: transactions };
    case 'producers': return { view: 'producers', render: producers };
    default: return { view: 'overview', render: overview };
  }
}

// show renders the view of the address; moved says the user went there
// (focus then goes to its heading), rather than loading the page.
async function show(moved = false) {
  if (current) current.stop();
  current = null;
  clearError();
  if (!apiKey()) {
    renderSignIn();
    return;
  }
  nav.hidden = false;
  signoutButton.hidden = false;
  const { view, render } = route();
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  try {
    current = await render(main);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      show();
      return;
    }
    alertError(err);
  }
  // Move focus to the new view's heading, so keyboard and screen reader
  // users start there.
  const heading = main.querySelector('h1');
  if (heading && moved) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function renderSignIn() {
  nav.hidden = true;
  signoutButton.hidden = true;
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' });
  const input = h('input', { id: 'apikey', name: 'apikey', type: 'password', autocomplete: 'off', required: true,
    'aria-describedby': 'apikey-help signin-error', spellcheck: 'false' });
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('label', { for: 'apikey' }, 'API key'),
    input,
    h('p', { id: 'apikey-help', class: 'help' },
      'The key is kept in this browser tab only (sessionStorage) and sent to this gateway\'s API. It sees what its scopes allow.'),
    error,
    h('button', { type: 'submit', id: 'signin' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    error.textContent = '';
    try {
      await call('GET', '/v1/ops/summary', undefined, key);
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? 'This API key is not known to the gateway.' : err.message;
      input.focus();
      return;
    }
    signIn(key);
    if (!location.hash || location.hash === '#/') location.hash = '#/overview';
    else show(true);
  });
  replace(main, form);
  input.focus();
}

signoutButton.addEventListener('click', () => {
  signOut();
  location.hash = '';
  show();
});
window.addEventListener('hashchange', () => show(true));
show();
