// A pull consumer with the TypeScript SDK from Node, for hosts no webhook
// can reach: it creates a pull subscription to TAGA, TAGB and TAGC on the
// topic, receives with a long poll, processes each message id once and
// acknowledges it. Processing that fails is given back with a nack and a
// delay (it comes back with attempt + 1). Ctrl-C deletes the subscription.
//
//   node examples/node/pull.mjs [stop-after-N]
import {
  ackMessages,
  connect,
  createSubscription,
  deleteSubscription,
  nackMessages,
  receiveMessages,
} from '../../sdk/typescript/dist/index.js';

const client = connect({
  baseUrl: process.env.ZEROLOSS_URL ?? 'http://localhost:8080',
  apiKey: process.env.ZEROLOSS_API_KEY ?? 'dev-secret-key',
});
const topic = process.env.ZEROLOSS_TOPIC ?? 'orders';
const stopAfter = Number(process.argv[2] ?? 0);
const waitSeconds = 10; // long poll; fetch has no timeout of its own

// Processed message ids. Delivery is at least once: keep them in your
// database, in the same transaction as the work, to stay idempotent.
const seen = new Set();

function processMessage(m) {
  console.log(`${m.tag}: ${JSON.stringify(m.body)} (message ${m.messageId}, attempt ${m.attempt})`);
}

const { data: sub, error } = await createSubscription({
  client,
  body: { name: 'example-pull-node', topic, tagFilter: 'TAGA||TAGB||TAGC', mode: 'pull', maxAttempts: 5 },
});
if (!sub) throw new Error(`create subscription: ${JSON.stringify(error)}`);
console.log(`subscription ${sub.id} (pull) on ${topic}`);

let stopping = false;
process.once('SIGINT', () => (stopping = true));
process.once('SIGTERM', () => (stopping = true));
let processed = 0;
try {
  while (!stopping && (!stopAfter || processed < stopAfter)) {
    const got = await receiveMessages({
      client,
      path: { id: sub.id },
      body: { maxMessages: 10, waitSeconds, invisibleSeconds: 60 },
    });
    if (!got.data) {
      // 429 or 503: wait as told, then again.
      const wait = Number(got.response?.headers.get('Retry-After') ?? 1);
      console.error(`receive: ${got.response?.status} ${JSON.stringify(got.error)}`);
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    const done = [];
    const failed = [];
    for (const m of got.data.messages) {
      if (!seen.has(m.messageId)) {
        try {
          processMessage(m);
        } catch (e) {
          console.error('processing failed:', e);
          failed.push(m.receiptHandle);
          continue;
        }
        seen.add(m.messageId);
        processed++;
      }
      done.push(m.receiptHandle); // a duplicate is acked unprocessed
    }
    if (done.length) {
      const acked = await ackMessages({ client, path: { id: sub.id }, body: { receiptHandles: done } });
      for (const r of acked.data?.results ?? []) {
        // e.g. receipt-handle-expired: it may come again; seen covers it.
        if (!r.ok) console.error(`ack: ${r.problem?.type}`);
      }
    }
    if (failed.length) {
      await nackMessages({ client, path: { id: sub.id }, body: { receiptHandles: failed, delaySeconds: 5 } });
    }
  }
} finally {
  await deleteSubscription({ client, path: { id: sub.id } });
  console.log(`subscription ${sub.id} deleted`);
}
