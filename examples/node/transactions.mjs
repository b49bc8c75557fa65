// The seed scenario with the TypeScript SDK from Node: three half messages
// tagged TAGA, TAGB and TAGC; commit A, roll back B, leave C undecided and let
// the check-back, answered by the webhook this script serves, commit it.
//
//   make dev                              # in another terminal
//   make sdk-deps                         # once: npm packages, compiled SDK
//   node examples/node/transactions.mjs
import {
  beginTransaction,
  checkHandler,
  commitTransaction,
  connect,
  createProducer,
  deleteProducer,
  getTransaction,
  rollbackTransaction,
  serve,
  withIdempotencyKey,
} from '../../sdk/typescript/dist/index.js';

const client = connect({
  baseUrl: process.env.ZEROLOSS_URL ?? 'http://localhost:8080',
  apiKey: process.env.ZEROLOSS_API_KEY ?? 'dev-secret-key',
});
const topic = process.env.ZEROLOSS_TOPIC ?? 'orders';

// The producer's own record of its local transactions (a database table in
// real life): transaction id -> 'commit' once the local work is durable.
const localOutcome = new Map();

const secrets = []; // filled once the producer exists; read at each call
const hook = await serve({
  '/tx-check': checkHandler({
    secret: secrets,
    decide: (check) => {
      const decision = localOutcome.get(check.transactionId) ?? 'unknown';
      console.log(`check-back #${check.checkCount} for ${check.tag} (${check.transactionId}): ${decision}`);
      return decision;
    },
  }),
});
const { data: producer } = await createProducer({
  client,
  body: { name: 'orders-example-node', checkUrl: `${hook.url}/tx-check` },
});
secrets.push(producer.secret);
console.log(`producer ${producer.id}, check webhook ${hook.url}/tx-check`);

let ok = false;
try {
  const tx = {};
  for (const tag of ['TAGA', 'TAGB', 'TAGC']) {
    // 201 only once the broker stored the half message; a retry (503, 409,
    // no answer) reuses the Idempotency-Key.
    const r = await withIdempotencyKey((key) =>
      beginTransaction({
        client,
        body: { producer: producer.id, topic, body: `order ${tag}`, tag },
        headers: { 'Idempotency-Key': key },
      }),
    );
    if (r.response?.status !== 201) throw new Error(`begin ${tag}: ${r.response?.status} ${JSON.stringify(r.error)}`);
    tx[tag] = r.data.transactionId;
    console.log(`began ${tag}: ${tx[tag]}`);
  }

  console.log('commit A:', (await commitTransaction({ client, path: { id: tx.TAGA } })).data.state);
  console.log('roll back B:', (await rollbackTransaction({ client, path: { id: tx.TAGB } })).data.state);
  // C: the local transaction commits, but this process never calls commit
  // (as if it crashed here). The check-back will find it.
  localOutcome.set(tx.TAGC, 'commit');
  console.log('C left undecided; waiting for the broker\'s check-back…');

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { data: c } = await getTransaction({ client, path: { id: tx.TAGC } });
    if (c.state !== 'pending') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const states = {};
  for (const [tag, id] of Object.entries(tx)) {
    const { data: t } = await getTransaction({ client, path: { id } });
    states[tag] = t.state;
    console.log(`${tag}: ${t.state} (decided by ${t.decidedBy}, ${t.checkCount} check-backs)`);
  }
  ok = states.TAGA === 'committed' && states.TAGB === 'rolled_back' && states.TAGC === 'committed';
} finally {
  await deleteProducer({ client, path: { id: producer.id } });
  await hook.close();
}
process.exit(ok ? 0 : 1);
