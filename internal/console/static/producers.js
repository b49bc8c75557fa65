// Producers: check URL, the last check-back result, rotate the secret.

import { all, get, post } from './api.js';
import { h, replace, time, table, row, say, alertError, clearError, confirmAction, showSecret } from './dom.js';

export async function producers(main) {
  const list = h('div', {});
  replace(main, h('h1', {}, 'Producers'), list);
  const items = await all('/v1/producers');
  // The last check of each producer: the latest lastCheckAt among its
  // recent transactions (the API keeps the last check per transaction).
  const last = {};
  await Promise.all(items.map(async (p) => {
    const txs = (await get('/v1/transactions', { producer: p.id, limit: 100 })).items;
    for (const t of txs) {
      if (t.lastCheckAt && (!last[p.id] || t.lastCheckAt > last[p.id].at)) {
        last[p.id] = { at: t.lastCheckAt, outcome: t.lastCheckOutcome, tx: t.transactionId };
      }
    }
  }));
  const rotate = async (p) => {
    clearError();
    if (!await confirmAction(`Rotate the secret of ${p.name}?`,
      'A new secret signs check calls; the old one also signs for 24 hours.', 'Rotate secret', false)) return;
    try {
      const res = await post(`/v1/producers/${p.id}/rotate-secret`);
      showSecret(res.secret);
      say(`Secret of ${p.name} rotated.`);
    } catch (err) {
      alertError(err);
    }
  };
  const rows = items.map((p) => row({ id: `prd-${p.id}` }, [
    ['Name', h('span', {}, h('strong', {}, p.name), h('br'), h('code', { class: 'id' }, p.id))],
    ['Check URL', h('span', { class: 'url' }, p.checkUrl)],
    ['Timeout', `${p.timeoutMs} ms`],
    ['Last check', last[p.id]
      ? h('span', {}, last[p.id].outcome || '—', h('br'), h('span', { class: 'muted' }, time(last[p.id].at), ` for ${last[p.id].tx}`))
      : h('span', { class: 'muted' }, 'none in its last 100 transactions')],
    ['Actions', h('button', { type: 'button', class: 'quiet', id: `rotate-${p.id}`, onclick: () => rotate(p) }, 'Rotate secret', h('span', { class: 'sr' }, ` of ${p.name}`))],
  ]));
  replace(list, table('Transactional producers of this API key\'s tenant', ['Name', 'Check URL', 'Timeout', 'Last check', 'Actions'], rows, { id: 'producers' }));
  return { stop() {} };
}
