import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newIdempotencyKey, publishBatch, publishMessage, withIdempotencyKey } from '../src/index.js';
import { client, runId, topic } from './env.js';

test('send one message', async () => {
  const id = runId();
  const r = await withIdempotencyKey((key) =>
    publishMessage({
      client,
      path: { topic },
      body: { body: 'hello from typescript', tag: id, keys: [id] },
      headers: { 'Idempotency-Key': key },
    }),
  );
  assert.equal(r.response.status, 201, JSON.stringify(r.error));
  assert.ok(r.data);
  assert.equal(r.data.topic, topic);
  assert.ok(r.data.messageId.length >= 16);
  assert.ok(r.data.queueOffset >= 0);
  assert.equal(r.response.headers.get('Idempotent-Replayed'), null);
});

test('a batch with an Idempotency-Key is replayed with the same ids', async () => {
  const id = runId();
  const key = newIdempotencyKey();
  const body = { messages: [0, 1, 2].map((i) => ({ body: `${id}-${i}`, tag: id })) };

  const first = await withIdempotencyKey(
    (k) => publishBatch({ client, path: { topic }, body, headers: { 'Idempotency-Key': k } }),
    { idempotencyKey: key },
  );
  assert.equal(first.response.status, 201, JSON.stringify(first.error));
  assert.ok(first.data);
  assert.equal(first.response.headers.get('Idempotent-Replayed'), null);
  const ids = first.data.items.map((i) => i.messageId);
  assert.equal(new Set(ids).size, 3);

  const again = await publishBatch({ client, path: { topic }, body, headers: { 'Idempotency-Key': key } });
  assert.equal(again.response.status, 201);
  assert.equal(again.response.headers.get('Idempotent-Replayed'), 'true');
  assert.deepEqual(again.data?.items.map((i) => i.messageId), ids);
  assert.equal(again.data?.queueId, first.data.queueId);

  // The same key with another payload is refused; nothing is sent.
  const mismatch = await publishBatch({
    client,
    path: { topic },
    body: { messages: [{ body: 'something else' }] },
    headers: { 'Idempotency-Key': key },
  });
  assert.equal(mismatch.response.status, 422);
  assert.equal(mismatch.error?.type, 'https://zeroloss.dev/problems/idempotency-key-mismatch');
});

test('withIdempotencyKey retries 503 and 409 with the same key, honouring Retry-After', async () => {
  const seen: string[] = [];
  const answers = [503, 409, 201];
  const started = Date.now();
  const r = await withIdempotencyKey(async (key) => {
    seen.push(key);
    const status = answers.shift()!;
    return { response: new Response(null, { status, headers: status === 201 ? {} : { 'Retry-After': '0' } }) };
  });
  assert.equal(r.response?.status, 201);
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen).size, 1);
  assert.ok(Date.now() - started < 1000, 'Retry-After: 0 is not a backoff');
});
