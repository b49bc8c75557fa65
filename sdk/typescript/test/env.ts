// The gateway started by `make sdk-test` (sdk/sdk.sh test): without it the
// tests fail, they do not skip.
import { randomBytes } from 'node:crypto';
import { connect, type Client } from '../src/index.js';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the SDK tests with \`make sdk-test\``);
  return v;
}

export const topic = need('ZL_TOPIC');
export const client: Client = connect({ baseUrl: need('ZL_GATEWAY_URL'), apiKey: need('ZL_API_KEY') });

/** runId returns a tag-safe id unique to one test. */
export function runId(): string {
  return 'ts' + randomBytes(5).toString('hex');
}

/** eventually polls check until it returns a truthy value, throwing after `withinMs`. */
export async function eventually<T>(what: string, withinMs: number, check: () => Promise<T> | T): Promise<NonNullable<T>> {
  const deadline = Date.now() + withinMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${withinMs} ms (last: ${JSON.stringify(last)})`);
}
