import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ackMessages,
  createSubscription,
  deleteSubscription,
  nackMessages,
  publishMessage,
  receiveMessages,
  type ReceivedMessage,
} from '../src/index.js';
import { client, eventually, runId, topic } from './env.js';

test('a pull subscription: receive, ack, nack with a delay', async () => {
  const id = runId();
  const sub = await createSubscription({ client, body: { name: `pull-${id}`, topic, tagFilter: id, mode: 'pull', maxAttempts: 5 } });
  assert.equal(sub.response.status, 201, JSON.stringify(sub.error));
  assert.ok(sub.data);
  assert.equal(sub.data.mode, 'pull');
  assert.equal(sub.data.endpoint, undefined);
  const subId = sub.data.id;
  try {
    const sent = new Map<string, string>();
    for (const body of [`keep ${id}`, `again ${id}`]) {
      const r = await publishMessage({ client, path: { topic }, body: { body, tag: id, keys: [id] } });
      assert.equal(r.response.status, 201, JSON.stringify(r.error));
      sent.set(r.data!.messageId, body);
    }

    const got = new Map<string, ReceivedMessage>();
    await eventually('both messages received', 60_000, async () => {
      const r = await receiveMessages({ client, path: { id: subId }, body: { maxMessages: 10, waitSeconds: 2, invisibleSeconds: 60 } });
      assert.equal(r.response.status, 200, JSON.stringify(r.error));
      for (const m of r.data!.messages) got.set(m.messageId, m);
      return [...sent.keys()].every((k) => got.has(k));
    });
    for (const [mid, m] of got) {
      assert.equal(m.body, sent.get(mid));
      assert.equal(m.encoding, 'utf8');
      assert.equal(m.tag, id);
      assert.deepEqual(m.keys, [id]);
      assert.equal(m.attempt, 1);
    }
    const keep = [...got.values()].find((m) => m.body.startsWith('keep'))!;
    const again = [...got.values()].find((m) => m.body.startsWith('again'))!;

    const acked = await ackMessages({ client, path: { id: subId }, body: { receiptHandles: [keep.receiptHandle, 'garbage'] } });
    assert.equal(acked.response.status, 200, JSON.stringify(acked.error));
    const [ok, bad] = acked.data!.results;
    assert.equal(ok.ok, true);
    assert.equal(bad.ok, false);
    assert.equal(bad.problem?.type, 'https://zeroloss.dev/problems/receipt-handle-invalid');

    const nacked = await nackMessages({ client, path: { id: subId }, body: { receiptHandles: [again.receiptHandle], delaySeconds: 1 } });
    assert.equal(nacked.data?.results[0].ok, true, JSON.stringify(nacked.data ?? nacked.error));

    const back = await eventually('the nacked message back', 60_000, async () => {
      const r = await receiveMessages({ client, path: { id: subId }, body: { waitSeconds: 2 } });
      return r.data?.messages.find((m) => m.messageId === again.messageId);
    });
    assert.equal(back.attempt, 2);
    assert.notEqual(back.receiptHandle, again.receiptHandle);
    const done = await ackMessages({ client, path: { id: subId }, body: { receiptHandles: [back.receiptHandle] } });
    assert.equal(done.data?.results[0].ok, true);

    const none = await receiveMessages({ client, path: { id: subId }, body: { waitSeconds: 2 } });
    assert.deepEqual(none.data?.messages, []);
  } finally {
    await deleteSubscription({ client, path: { id: subId } });
  }
});
