import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CheckRequest, CheckResponse } from './gen/types.gen.js';
import { verifyWebhook } from './webhooks.js';

/** A check-back answer: commit, rollback, or unknown (ask again later). */
export type Decision = CheckResponse['decision'];

/** Options of checkHandler. */
export interface CheckHandlerOptions {
  /** The producer's signing secret(s) (`whsec_…`, from createProducer or a rotation). */
  secret: string | string[];
  /**
   * decide looks the transaction up in the caller's own records and answers.
   * A throw answers 500, which the gateway counts as unknown (it asks again).
   */
  decide: (check: CheckRequest, webhookId: string) => Decision | Promise<Decision>;
}

/**
 * checkHandler returns a Node request listener for a producer's checkUrl:
 * it verifies the signature (401 if wrong), calls decide and answers
 * `{"decision": …}`.
 */
export function checkHandler(opts: CheckHandlerOptions): RequestListener {
  return async (req, res) => {
    const body = await readBody(req);
    try {
      verifyWebhook(opts.secret, body, req.headers);
    } catch {
      return reply(res, 401, { decision: 'unknown' });
    }
    try {
      const check = JSON.parse(body.toString('utf8')) as CheckRequest;
      const decision = await opts.decide(check, String(req.headers['webhook-id']));
      reply(res, 200, { decision } satisfies CheckResponse);
    } catch {
      reply(res, 500, { decision: 'unknown' });
    }
  };
}

/** One message delivered by a push subscription. */
export interface Delivery {
  /** webhook-id: the subscription's dedup id; the same for every attempt of one event. */
  webhookId: string;
  /** ce-id: RocketMQ's message id. */
  messageId: string;
  /** ce-attempt: 1 for the first attempt. */
  attempt: number;
  /** ce-source, /zeroloss/topics/<topic>. */
  source: string;
  tag?: string;
  keys: string[];
  properties: Record<string, string>;
  contentType: string;
  /** The message's original bytes. */
  body: Buffer;
  headers: IncomingMessage['headers'];
}

/** Remembers which webhook-ids were processed (see MemorySeen). */
export interface SeenStore {
  /** has reports whether id was processed. */
  has(id: string): boolean | Promise<boolean>;
  /** add records id as processed, after the handler succeeded. */
  add(id: string): void | Promise<void>;
}

/** MemorySeen is a SeenStore in this process's memory (use a database in production). */
export class MemorySeen implements SeenStore {
  readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
  }
}

/** Options of deliveryHandler. */
export interface DeliveryHandlerOptions {
  /** The subscription's signing secret(s). */
  secret: string | string[];
  /** Processes one message; a throw answers 500 and the gateway retries. */
  onDelivery: (d: Delivery) => void | Promise<void>;
  /** Processed webhook-ids; a MemorySeen by default. */
  seen?: SeenStore;
}

/**
 * deliveryHandler returns a Node request listener for a subscription's
 * endpoint. It verifies the signature (401 if wrong: the gateway
 * dead-letters it), answers 200 without calling onDelivery for a webhook-id
 * already processed, 503 (retried) for one being processed right now, and
 * otherwise calls onDelivery and records the id once it returned.
 */
export function deliveryHandler(opts: DeliveryHandlerOptions): RequestListener {
  const seen = opts.seen ?? new MemorySeen();
  const running = new Set<string>();
  return async (req, res) => {
    const body = await readBody(req);
    try {
      verifyWebhook(opts.secret, body, req.headers);
    } catch {
      return reply(res, 401, { error: 'bad signature' });
    }
    const h = req.headers;
    const id = String(h['webhook-id']);
    if (running.has(id)) return reply(res, 503, { error: 'in progress' });
    running.add(id);
    try {
      if (!(await seen.has(id))) {
        await opts.onDelivery({
          webhookId: id,
          messageId: String(h['ce-id'] ?? ''),
          attempt: Number(h['ce-attempt'] ?? 1),
          source: String(h['ce-source'] ?? ''),
          tag: h['ce-tag'] as string | undefined,
          keys: h['ce-keys'] ? String(h['ce-keys']).split(' ').filter(Boolean) : [],
          properties: Object.fromEntries(new URLSearchParams(String(h['ce-properties'] ?? ''))),
          contentType: String(h['content-type'] ?? 'application/octet-stream'),
          body,
          headers: h,
        });
        await seen.add(id);
      }
      reply(res, 200, { ok: true });
    } catch {
      reply(res, 500, { error: 'handler failed' });
    } finally {
      running.delete(id);
    }
  };
}

/** A listening server and how to stop it. */
export interface Served {
  /** http://host:port of the server. */
  url: string;
  close(): Promise<void>;
}

/**
 * serve listens on host:port (127.0.0.1 and a free port by default) with
 * the listener, routing by path when given an object of listeners.
 */
export async function serve(
  listener: RequestListener | Record<string, RequestListener>,
  opts: { host?: string; port?: number } = {},
): Promise<Served> {
  const route: RequestListener =
    typeof listener === 'function'
      ? listener
      : (req, res) => {
          const l = listener[new URL(req.url ?? '/', 'http://x').pathname];
          if (l) return l(req, res);
          reply(res, 404, { error: 'not found' });
        };
  const server = createServer(route);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
