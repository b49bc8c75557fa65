// Transactions: pending and terminal failures first; filter by producer,
// state and age; commit or roll back with a confirmation; check-backs.

import { all, get, post } from './api.js';
import { h, replace, time, age, badge, table, row, say, alertError, clearError, confirmAction } from './dom.js';

const states = ['pending', 'unknown_after_max_checks', 'committed', 'rolled_back', 'aborted'];
const ages = [['', 'any age'], ['60', 'older than 1 min'], ['300', 'older than 5 min'], ['3600', 'older than 1 hour'], ['86400', 'older than 1 day']];
// rank puts what needs a person first.
const rank = { pending: 0, unknown_after_max_checks: 1 };

export async function transactions(main) {
  let producers = [];
  try {
    producers = await all('/v1/producers');
  } catch {
    producers = []; // the key may read transactions of some topics only
  }
  const names = Object.fromEntries(producers.map((p) => [p.id, p.name]));
  const producer = h('select', { id: 'filter-producer' }, h('option', { value: '' }, 'every producer'),
    producers.map((p) => h('option', { value: p.id }, `${p.name} (${p.id})`)));
  const state = h('select', { id: 'filter-state' }, h('option', { value: '' }, 'every state'),
    states.map((s) => h('option', { value: s }, s.replaceAll('_', ' '))));
  const older = h('select', { id: 'filter-age' }, ages.map(([v, t]) => h('option', { value: v }, t)));
  const filters = h('form', { class: 'filters', id: 'tx-filters', 'aria-label': 'Filter transactions' },
    h('label', { for: 'filter-producer' }, 'Producer'), producer,
    h('label', { for: 'filter-state' }, 'State'), state,
    h('label', { for: 'filter-age' }, 'Age'), older,
    h('button', { type: 'submit', id: 'apply-filters' }, 'Apply'));
  const list = h('div', {});
  replace(main, h('h1', {}, 'Transactions'), filters, list);

  const load = async (focusId) => {
    const params = { producer: producer.value };
    let txs;
    if (state.value) {
      txs = await all('/v1/transactions', { ...params, state: state.value }, 500);
    } else {
      // Undecided and failed ones in full, then the latest of the rest.
      const [pending, failed, recent] = await Promise.all([
        all('/v1/transactions', { ...params, state: 'pending' }, 500),
        all('/v1/transactions', { ...params, state: 'unknown_after_max_checks' }, 500),
        get('/v1/transactions', { ...params, limit: 200 }).then((r) => r.items)]);
      const seen = new Set();
      txs = [...pending, ...failed, ...recent].filter((t) => !seen.has(t.transactionId) && seen.add(t.transactionId));
    }
    const minAge = Number(older.value || 0) * 1000;
    const now = Date.now();
    txs = txs.filter((t) => now - new Date(t.createdAt).getTime() >= minAge);
    txs.sort((a, b) => (rank[a.state] ?? 2) - (rank[b.state] ?? 2) || b.createdAt.localeCompare(a.createdAt));
    const rows = txs.map((t) => row({ id: `tx-${t.transactionId}` }, [
      ['Transaction', h('span', {}, h('code', { class: 'id' }, t.transactionId), h('br'), h('span', { class: 'muted' }, `message ${t.messageId}`))],
      ['Producer', names[t.producer] || t.producer],
      ['Topic', h('span', {}, t.topic, t.tag ? h('span', { class: 'muted' }, ` tag ${t.tag}`) : '')],
      ['State', h('span', { id: `txstate-${t.transactionId}` }, badge(t.state),
        t.decidedBy ? h('span', { class: 'muted' }, ` by ${t.decidedBy}`) : '')],
      ['Age', h('span', { title: t.createdAt }, age(t.createdAt, now))],
      ['Check-backs', h('span', {}, `${t.checkCount} from the broker`,
        t.lastCheckAt ? h('span', { class: 'muted' }, h('br'), `last check: ${t.lastCheckOutcome || '—'} at `, time(t.lastCheckAt)) : '')],
      ['Decided', t.decidedAt ? time(t.decidedAt) : '—'],
      ['Actions', t.state === 'pending' ? h('span', { class: 'actions' },
        h('button', { type: 'button', id: `commit-${t.transactionId}`, onclick: () => decide(t, 'commit') }, 'Commit', h('span', { class: 'sr' }, ` ${t.transactionId}`)),
        h('button', { type: 'button', class: 'danger', id: `rollback-${t.transactionId}`, onclick: () => decide(t, 'rollback') }, 'Roll back', h('span', { class: 'sr' }, ` ${t.transactionId}`))) : '—'],
    ]));
    replace(list, table('Transactions, undecided and failed first', ['Transaction', 'Producer', 'Topic', 'State', 'Age', 'Check-backs', 'Decided', 'Actions'], rows, { id: 'transactions' }));
    if (focusId) document.getElementById(focusId)?.focus();
  };

  const decide = async (t, what) => {
    clearError();
    const verb = what === 'commit' ? 'Commit' : 'Roll back';
    const text = what === 'commit'
      ? `The message on ${t.topic} becomes consumable. Do this only if the producer's local transaction committed.`
      : `The message on ${t.topic} is discarded and never delivered.`;
    if (!await confirmAction(`${verb} ${t.transactionId}?`, text, verb, what !== 'commit')) return;
    try {
      const res = await post(`/v1/transactions/${t.transactionId}/${what}`);
      say(`${t.transactionId} is ${res.state.replaceAll('_', ' ')}.`);
      await load();
      document.querySelector(`#tx-${t.transactionId} td`)?.setAttribute('tabindex', '-1');
      document.querySelector(`#tx-${t.transactionId} td`)?.focus();
    } catch (err) {
      alertError(err);
    }
  };

  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load().then(() => say('Transactions filtered.'), alertError);
  });
  await load();
  return { stop() {} };
}
