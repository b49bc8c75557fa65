// Dead letters of one subscription: last error, attempts, body preview;
// redrive the selected ones, all, or those dead since a time; purge.

import { get, post } from './api.js';
import { h, replace, time, table, row, say, alertError, clearError, confirmAction } from './dom.js';

export async function deadLetters(main, subID) {
  const sub = await get(`/v1/subscriptions/${subID}`);
  const list = h('div', {});
  const count = h('span', { id: 'dl-count' }, '');
  const selected = new Set();

  const redriveSelected = h('button', { type: 'button', id: 'redrive-selected', disabled: true }, 'Redrive selected');
  const redriveAll = h('button', { type: 'button', id: 'redrive-all' }, 'Redrive all');
  const since = h('input', { type: 'datetime-local', id: 'since', step: 1, required: true });
  const sinceForm = h('form', { class: 'inline', id: 'redrive-since-form' },
    h('label', { for: 'since' }, 'Died at or after'), since,
    h('button', { type: 'submit', id: 'redrive-since' }, 'Redrive since'));
  const purge = h('button', { type: 'button', id: 'purge', class: 'danger' }, 'Purge…');
  const refresh = h('button', { type: 'button', id: 'refresh', class: 'quiet' }, 'Refresh');

  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/subscriptions' }, '← Subscriptions')),
    h('h1', {}, 'Dead letters of ', sub.name, ' ', count),
    h('p', { class: 'muted' }, `Topic ${sub.topic} → ${sub.endpoint}. Redriven messages go through dedup: one already delivered is not delivered twice.`),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Dead-letter actions' }, refresh, redriveSelected, redriveAll, sinceForm, purge),
    list);

  const syncButtons = () => {
    redriveSelected.disabled = selected.size === 0;
    redriveSelected.textContent = selected.size ? `Redrive selected (${selected.size})` : 'Redrive selected';
  };

  const load = async () => {
    const res = await get(`/v1/subscriptions/${subID}/dead-letters`, { limit: 500 });
    const items = res.items;
    for (const id of [...selected]) if (!items.some((d) => d.messageId === id)) selected.delete(id);
    count.textContent = `(${items.length})`;
    const boxes = [];
    const selectAll = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every dead letter' });
    selectAll.addEventListener('change', () => {
      for (const b of boxes) { b.checked = selectAll.checked; b.dispatchEvent(new Event('change')); }
    });
    const rows = items.map((d) => {
      const box = h('input', { type: 'checkbox', id: `pick-${d.messageId}`, value: d.messageId, checked: selected.has(d.messageId),
        'aria-label': `Select dead letter ${d.messageId}` });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(d.messageId); else selected.delete(d.messageId);
        syncButtons();
      });
      boxes.push(box);
      const size = d.bodyBytes ?? 0;
      return row({ id: `dl-${d.messageId}` }, [
        ['Select', box],
        ['Message', h('span', {}, h('code', { class: 'id' }, d.messageId), d.tag ? h('span', { class: 'muted' }, ` tag ${d.tag}`) : '',
          d.keys && d.keys.length ? h('span', { class: 'muted' }, ` keys ${d.keys.join(' ')}`) : '')],
        ['Attempts', h('span', { class: 'num' }, String(d.attempts))],
        ['Last error', d.lastError || '—'],
        ['Died', time(d.deadAt)],
        ['Body', h('details', {},
          h('summary', {}, `${size} bytes, ${d.encoding || 'utf8'}`),
          h('pre', { class: 'body', tabindex: 0 }, d.body ?? ''),
          size > 4096 ? h('p', { class: 'muted' }, 'First 4 KiB shown.') : '')],
      ]);
    });
    replace(list, table(`Dead letters of ${sub.name}, oldest first`,
      [h('span', {}, selectAll), 'Message', 'Attempts', 'Last error', 'Died', 'Body'], rows, { id: 'dead-letters' }));
    syncButtons();
  };

  const redrive = async (body, what) => {
    clearError();
    try {
      const res = await post(`/v1/subscriptions/${subID}/dead-letters/redrive`, body);
      say(`${res.count} dead letter${res.count === 1 ? '' : 's'} sent back for delivery (${what}).`);
      selected.clear();
      await load();
    } catch (err) {
      alertError(err);
    }
  };

  refresh.addEventListener('click', () => load().then(() => say('Dead letters refreshed.'), alertError));
  redriveSelected.addEventListener('click', () => redrive({ messageIds: [...selected] }, 'selected'));
  redriveAll.addEventListener('click', async () => {
    if (await confirmAction('Redrive every dead letter?', `Every current dead letter of ${sub.name} is delivered again.`, 'Redrive all', false)) {
      await redrive({}, 'all');
    }
  });
  sinceForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const at = new Date(since.value);
    if (Number.isNaN(at.getTime())) { alertError('Pick a time.'); since.focus(); return; }
    await redrive({ since: at.toISOString() }, `dead since ${at.toLocaleString()}`);
  });
  purge.addEventListener('click', async () => {
    clearError();
    if (!await confirmAction(`Purge the dead letters of ${sub.name}?`,
      'Every current dead letter is dropped and cannot be redriven afterwards.', 'Purge dead letters')) return;
    try {
      const res = await post(`/v1/subscriptions/${subID}/dead-letters/purge`);
      say(`${res.count} dead letters purged.`);
      await load();
    } catch (err) {
      alertError(err);
    }
  });

  await load();
  return { stop() {} };
}
