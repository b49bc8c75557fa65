// Subscriptions: state, endpoint, lag, delivery rates; pause, resume,
// rotate the secret; a link to each one's dead letters.

import { all, get, post } from './api.js';
import { h, replace, badge, table, row, say, alertError, clearError, confirmAction, showSecret } from './dom.js';
import { chart, legend } from './chart.js';

const every = 3000;
const statsConcurrency = 4;

// onScreen says whether el overlaps the viewport (rows scrolled away are not polled).
const onScreen = (el) => {
  if (!el) return false;
  const r = el.getBoundingClientRect();
  return r.bottom >= 0 && r.top <= (window.innerHeight || document.documentElement.clientHeight);
};

export async function subscriptions(main) {
  const list = h('div', {});
  replace(main, h('h1', {}, 'Subscriptions'), list);
  let subs = [];

  const act = async (s, what) => {
    clearError();
    try {
      if (what === 'rotate-secret') {
        const ok = await confirmAction(`Rotate the secret of ${s.name}?`,
          'A new signing secret is made; the old one also signs for 24 hours so receivers can switch.', 'Rotate secret', false);
        if (!ok) return;
        const res = await post(`/v1/subscriptions/${s.id}/rotate-secret`);
        showSecret(res.secret);
        say(`Secret of ${s.name} rotated.`);
        return;
      }
      await post(`/v1/subscriptions/${s.id}/${what}`);
      say(`${s.name} ${what === 'pause' ? 'paused' : 'resumed'}.`);
      await load(`${what === 'pause' ? 'resume' : 'pause'}-${s.id}`);
    } catch (err) {
      alertError(err);
    }
  };

  const load = async (focusId) => {
    subs = await all('/v1/subscriptions');
    const rows = subs.map((s) => row({ id: `sub-${s.id}` }, [
      ['Name', h('span', {}, h('strong', {}, s.name), h('br'), h('code', { class: 'id' }, s.id))],
      ['Topic', h('span', {}, s.topic, s.tagFilter && s.tagFilter !== '*' ? h('span', { class: 'muted' }, ` (${s.tagFilter})`) : '')],
      ['State', h('span', { id: `state-${s.id}` }, badge(s.state), s.pausedReason ? h('span', { class: 'muted' }, ` ${s.pausedReason}`) : '')],
      ['Endpoint', h('span', { class: 'url' }, s.endpoint)],
      ['Lag', h('span', { id: `lag-${s.id}`, class: 'num', 'aria-live': 'off' }, '…')],
      ['Deliveries', h('span', { id: `rate-${s.id}`, class: 'rate' }, '…')],
      ['Actions', h('span', { class: 'actions' },
        s.state === 'paused'
          ? h('button', { type: 'button', id: `resume-${s.id}`, onclick: () => act(s, 'resume') }, 'Resume', h('span', { class: 'sr' }, ` ${s.name}`))
          : h('button', { type: 'button', id: `pause-${s.id}`, onclick: () => act(s, 'pause') }, 'Pause', h('span', { class: 'sr' }, ` ${s.name}`)),
        h('button', { type: 'button', class: 'quiet', id: `rotate-${s.id}`, onclick: () => act(s, 'rotate-secret') }, 'Rotate secret', h('span', { class: 'sr' }, ` of ${s.name}`)),
        h('a', { href: `#/subscriptions/${s.id}/dead-letters`, id: `dlq-${s.id}` }, 'Dead letters', h('span', { class: 'sr' }, ` of ${s.name}`)))],
    ]));
    replace(list, table('Push subscriptions of this API key', ['Name', 'Topic', 'State', 'Endpoint', 'Lag', 'Deliveries (last 5 min)', 'Actions'], rows, { id: 'subscriptions' }));
    if (focusId) document.getElementById(focusId)?.focus();
    await stats();
  };

  // One round at a time, at most statsConcurrency requests in flight, only
  // for the rows on screen and only while the page is visible: with
  // hundreds of subscriptions a round would otherwise ask the broker for
  // every lag at once, and rounds would pile up behind a slow broker.
  let running = false;
  const stats = async () => {
    if (running || document.hidden) return;
    running = true;
    try {
      const queue = subs.filter((s) => onScreen(document.getElementById(`sub-${s.id}`)));
      await Promise.all(Array.from({ length: statsConcurrency }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) await stat(s);
      }));
    } finally {
      running = false;
    }
  };

  const stat = async (s) => {
    const st = await get(`/v1/subscriptions/${s.id}/stats`);
    const lag = document.getElementById(`lag-${s.id}`);
    const cell = document.getElementById(`rate-${s.id}`);
    if (!lag || !cell) return;
    lag.textContent = st.lag === undefined ? 'unknown' : String(st.lag);
    replace(cell, chart(st.deliveries, { what: `Deliveries of ${s.name}`, okName: 'acknowledged', failName: 'failed' }),
      legend(st.deliveries, 'ok', 'failed'));
  };

  await load();
  const timer = setInterval(() => stats().catch(alertError), every);
  // Rows scrolled into view get their figures without waiting for the next tick.
  let settle;
  const onScroll = () => {
    clearTimeout(settle);
    settle = setTimeout(() => stats().catch(alertError), 250);
  };
  window.addEventListener('scroll', onScroll, { passive: true });
  return {
    stop: () => {
      clearInterval(timer);
      clearTimeout(settle);
      window.removeEventListener('scroll', onScroll);
    },
  };
}
