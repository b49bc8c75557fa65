// Overview: replicas seen, readiness, send and delivery rates.

import { get } from './api.js';
import { h, replace, time, age, badge, table, row, alertError, clearError } from './dom.js';
import { chart, legend } from './chart.js';

const every = 5000;

export async function overview(main) {
  const body = h('div', { class: 'overview' });
  replace(main, h('h1', {}, 'Overview'), body);
  const draw = async () => {
    const s = await get('/v1/ops/summary');
    const ready = s.readiness.every((r) => r.ready);
    replace(body,
      h('section', { class: 'card', 'aria-labelledby': 'readiness-title' },
        h('h2', { id: 'readiness-title' }, 'Readiness (this replica) ', badge(ready ? 'ready' : 'not ready', ready ? 'active' : 'failed')),
        h('ul', { class: 'parts', id: 'readiness' }, s.readiness.map((r) =>
          h('li', {}, h('span', {}, r.part), ' ', badge(r.ready ? 'ready' : 'not ready', r.ready ? 'active' : 'failed'))))),
      h('section', { class: 'card', 'aria-labelledby': 'replicas-title' },
        h('h2', { id: 'replicas-title' }, `Replicas seen: `, h('span', { id: 'replica-count' }, String(s.replicas.length))),
        table('Gateway replicas with a recent heartbeat', ['Replica', 'Version', 'Up for', 'Last seen'],
          s.replicas.map((r) => row({}, [['Replica', r.id], ['Version', r.version], ['Up for', age(r.startedAt)], ['Last seen', time(r.lastSeenAt)]])))),
      h('section', { class: 'card', 'aria-labelledby': 'sends-title' },
        h('h2', { id: 'sends-title' }, 'Sends'),
        h('div', { id: 'sends-chart' }, chart(s.sends, { what: 'Sends', okName: 'SEND_OK', failName: 'not confirmed', width: 600, height: 120 })),
        legend(s.sends, 'SEND_OK', 'not confirmed')),
      h('section', { class: 'card', 'aria-labelledby': 'deliveries-title' },
        h('h2', { id: 'deliveries-title' }, 'Deliveries'),
        h('div', { id: 'deliveries-chart' }, chart(s.deliveries, { what: 'Deliveries', okName: 'acknowledged', failName: 'failed', width: 600, height: 120 })),
        legend(s.deliveries, 'acknowledged', 'failed')),
      h('p', { class: 'help' }, `Rates per ${s.intervalSeconds} s interval, summed over every replica; they refresh every ${every / 1000} s.`));
  };
  await draw();
  const timer = setInterval(() => draw().then(clearError, alertError), every);
  return { stop: () => clearInterval(timer) };
}
