// A push subscriber with the TypeScript SDK from Node: it serves its
// endpoint, subscribes to TAGA, TAGB and TAGC on the topic, verifies every
// delivery's signature and processes each webhook-id once. Ctrl-C deletes
// the subscription.
//
//   node examples/node/subscriber.mjs [stop-after-N]
import { connect, createSubscription, deleteSubscription, deliveryHandler, serve } from '../../sdk/typescript/dist/index.js';

const client = connect({
  baseUrl: process.env.ZEROLOSS_URL ?? 'http://localhost:8080',
  apiKey: process.env.ZEROLOSS_API_KEY ?? 'dev-secret-key',
});
const topic = process.env.ZEROLOSS_TOPIC ?? 'orders';
const stopAfter = Number(process.argv[2] ?? 0);

// Processed webhook-ids. Keep them in your database, in the same transaction
// as the work, to stay idempotent across restarts.
const seen = new Set();
let stop;
const stopped = new Promise((resolve) => (stop = resolve));

const secrets = [];
const endpoint = await serve({
  '/events': deliveryHandler({
    secret: secrets,
    seen,
    // Runs only for a valid signature and a webhook-id not processed yet.
    onDelivery: (d) => {
      console.log(`${d.tag}: ${JSON.stringify(d.body.toString())} (message ${d.messageId}, attempt ${d.attempt})`);
      if (stopAfter && seen.size + 1 >= stopAfter) setImmediate(stop);
    },
  }),
});
const { data: sub, error } = await createSubscription({
  client,
  body: { name: 'billing-example-node', topic, tagFilter: 'TAGA||TAGB||TAGC', endpoint: `${endpoint.url}/events` },
});
if (!sub) throw new Error(`create subscription: ${JSON.stringify(error)}`);
secrets.push(sub.secret);
console.log(`subscription ${sub.id} delivering to ${endpoint.url}/events`);

process.once('SIGINT', () => stop());
process.once('SIGTERM', () => stop());
await stopped;
await deleteSubscription({ client, path: { id: sub.id } });
await endpoint.close();
