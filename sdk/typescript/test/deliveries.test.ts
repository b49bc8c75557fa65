// A push subscription delivering to a receiver served here: signatures
// verified, idempotent by webhook-id.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  createSubscription,
  deleteSubscription,
  deliveryHandler,
  publishMessage,
  serve,
  verifyWebhook,
  WebhookVerificationError,
  type Delivery,
} from '../src/index.js';
import { client, eventually, runId, topic } from './env.js';

test('a push delivery is verified and processed once', async () => {
  const id = runId();
  const got: Delivery[] = [];
  const secrets: string[] = [];
  const served = await serve({ '/events': deliveryHandler({ secret: secrets, onDelivery: (d) => void got.push(d) }) });
  let subId: string | undefined;
  try {
    const sub = await createSubscription({
      client,
      body: { name: `billing-${id}`, topic, tagFilter: id, endpoint: `${served.url}/events`, maxAttempts: 3 },
    });
    assert.equal(sub.response.status, 201, JSON.stringify(sub.error));
    subId = sub.data!.id;
    secrets.push(sub.data!.secret);

    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7f]); // not UTF-8: verified over the bytes
    const sent = new Map<string, Buffer>();
    for (const [bytes, encoding] of [
      [Buffer.from(`paid ${id}`), 'utf8'],
      [binary, 'base64'],
    ] as const) {
      const r = await publishMessage({
        client,
        path: { topic },
        body: { body: encoding === 'utf8' ? bytes.toString() : bytes.toString('base64'), encoding, tag: id, keys: [id] },
      });
      assert.equal(r.response.status, 201, JSON.stringify(r.error));
      sent.set(r.data!.messageId, bytes);
    }

    await eventually('both messages delivered', 90_000, () => [...sent.keys()].every((m) => got.some((d) => d.messageId === m)));
    const mine = got.filter((d) => sent.has(d.messageId));
    for (const d of mine) {
      assert.deepEqual(d.body, sent.get(d.messageId));
      assert.equal(d.tag, id);
      assert.deepEqual(d.keys, [id]);
      assert.equal(d.source, `/zeroloss/topics/${topic}`);
      assert.equal(d.webhookId, d.messageId); // dedup by message id (the default)
    }

    // The same delivery again (a gateway retry after a lost answer): 200, not processed twice.
    const d = mine[0];
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.headers)) {
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
    }
    const replay = await fetch(`${served.url}/events`, { method: 'POST', headers, body: new Uint8Array(d.body) });
    assert.equal(replay.status, 200);
    assert.equal(got.filter((x) => x.webhookId === d.webhookId).length, 1);

    // A forged signature is refused.
    const forged = { ...headers, 'webhook-id': 'forged', 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') };
    assert.equal((await fetch(`${served.url}/events`, { method: 'POST', headers: forged, body: new Uint8Array(d.body) })).status, 401);
  } finally {
    if (subId) await deleteSubscription({ client, path: { id: subId } });
    await served.close();
  }
});

test('verifyWebhook follows the gateway signature scheme for text and binary bodies', () => {
  // Signed as the gateway's webhook.Sign does (the test above checks real gateway signatures).
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const secret = 'whsec_' + key.toString('base64');
  const ts = String(Math.floor(Date.now() / 1000));
  for (const body of [Buffer.from('{"a":1}'), Buffer.from([0xff, 0x00, 0x80]), Buffer.from('\ufeffbom')]) {
    const sig = 'v1,' + createHmac('sha256', key).update(`msg_1.${ts}.`).update(body).digest('base64');
    const headers = { 'Webhook-Id': 'msg_1', 'Webhook-Timestamp': ts, 'Webhook-Signature': `v1,AAAA ${sig}` };
    verifyWebhook(['whsec_' + Buffer.from('old-secret-old-secret').toString('base64'), secret], body, headers);
    assert.throws(() => verifyWebhook(secret, Buffer.concat([body, Buffer.from('x')]), headers), WebhookVerificationError);
  }
});
