// The seed scenario: three half messages, commit A, roll back B, C answered
// by a check webhook served here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  beginTransaction,
  checkHandler,
  commitTransaction,
  createProducer,
  deleteProducer,
  getTransaction,
  rollbackTransaction,
  serve,
  withIdempotencyKey,
  type CheckRequest,
  type Transaction,
} from '../src/index.js';
import { client, eventually, runId, topic } from './env.js';

test('a check-back is answered by a TypeScript webhook', async () => {
  const id = runId();
  const checks: { check: CheckRequest; webhookId: string }[] = [];
  const committed = new Set<string>(); // the local transactions that committed
  // The secret is known once the producer exists; the handler reads the array at each call.
  const secrets: string[] = [];
  const served = await serve({
    '/tx-check': checkHandler({
      secret: secrets,
      decide: (check, webhookId) => {
        checks.push({ check, webhookId });
        return committed.has(check.transactionId) ? 'commit' : 'unknown';
      },
    }),
  });
  let producerId: string | undefined;
  try {
    const p = await createProducer({
      client,
      body: { name: `orders-${id}`, checkUrl: `${served.url}/tx-check`, timeoutMs: 2000 },
    });
    assert.equal(p.response.status, 201, JSON.stringify(p.error));
    assert.ok(p.data?.secret.startsWith('whsec_'));
    assert.ok(p.response.headers.get('Location'));
    producerId = p.data!.id;
    secrets.push(p.data!.secret);

    const txs: Record<string, Transaction> = {};
    for (const tag of ['TAGA', 'TAGB', 'TAGC']) {
      const r = await withIdempotencyKey((key) =>
        beginTransaction({
          client,
          body: { producer: producerId!, topic, body: `order ${id} ${tag}`, tag, keys: [id] },
          headers: { 'Idempotency-Key': key },
        }),
      );
      assert.equal(r.response.status, 201, JSON.stringify(r.error));
      assert.equal(r.data?.state, 'pending');
      txs[tag] = r.data!;
    }

    const a = await commitTransaction({ client, path: { id: txs.TAGA.transactionId } });
    assert.equal(a.data?.state, 'committed');
    assert.equal(a.data?.decidedBy, 'api');
    const b = await rollbackTransaction({ client, path: { id: txs.TAGB.transactionId } });
    assert.equal(b.data?.state, 'rolled_back');
    assert.equal(b.data?.decidedBy, 'api');

    const cId = txs.TAGC.transactionId;
    committed.add(cId);
    const c = await eventually('C committed by the check-back', 60_000, async () => {
      const t = await getTransaction({ client, path: { id: cId } });
      return t.data?.state === 'committed' ? t.data : undefined;
    });
    assert.equal(c.decidedBy, 'check');
    assert.ok(c.checkCount >= 1);
    // decide ran only for correctly signed calls, at least once for C.
    const forC = checks.filter((x) => x.check.transactionId === cId);
    assert.ok(forC.length >= 1);
    assert.ok(forC.every((x) => x.webhookId && x.check.tag === 'TAGC' && x.check.producer === producerId));
    assert.equal((await getTransaction({ client, path: { id: txs.TAGA.transactionId } })).data?.state, 'committed');
    assert.equal((await getTransaction({ client, path: { id: txs.TAGB.transactionId } })).data?.state, 'rolled_back');
  } finally {
    await served.close();
    if (producerId) await deleteProducer({ client, path: { id: producerId } });
  }
});

test('the check handler refuses a bad signature', async () => {
  const served = await serve(checkHandler({ secret: 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', decide: () => 'commit' }));
  try {
    const r = await fetch(served.url, {
      method: 'POST',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
      body: '{"transactionId":"tx_1"}',
    });
    assert.equal(r.status, 401);
    assert.deepEqual(await r.json(), { decision: 'unknown' });
  } finally {
    await served.close();
  }
});
