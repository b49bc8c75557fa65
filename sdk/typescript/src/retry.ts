import { randomUUID } from 'node:crypto';

/** How withIdempotencyKey retries. */
export interface RetryOptions {
  /** The key every attempt carries; a fresh UUID when absent. */
  idempotencyKey?: string;
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** Longest wait between attempts in ms (default 10 000), Retry-After included. */
  maxDelayMs?: number;
  /** Stops waiting (the last answer is returned). */
  signal?: AbortSignal;
}

/** newIdempotencyKey returns a fresh random key. */
export function newIdempotencyKey(): string {
  return randomUUID();
}

type Attempt = { response?: Response; error?: unknown };

/**
 * withIdempotencyKey calls `call` with one Idempotency-Key until the answer is
 * final, and returns the last answer. It retries, with the same key, on the
 * answers the contract says to retry: 503 (`send-unconfirmed`: the message
 * may or may not be stored; `dependency-unavailable`), 409
 * (`idempotency-key-in-use`: the first attempt still runs) and a request that
 * got no answer at all (network error, timeout). It waits `Retry-After`
 * seconds when the gateway sends one, else backs off exponentially.
 *
 * Reusing the key makes the retry safe: the gateway replays the stored answer
 * (`Idempotent-Replayed: true`) or sends with the first attempt's message id.
 *
 *   const r = await withIdempotencyKey((key) =>
 *     publishMessage({ client, path: { topic }, body, headers: { 'Idempotency-Key': key } }));
 */
export async function withIdempotencyKey<R>(
  call: (idempotencyKey: string) => Promise<R>,
  opts: RetryOptions = {},
): Promise<R> {
  const key = opts.idempotencyKey ?? newIdempotencyKey();
  const attempts = Math.max(1, opts.attempts ?? 6);
  const maxDelay = opts.maxDelayMs ?? 10_000;
  let backoff = 200;
  for (let i = 1; ; i++) {
    let r: R;
    try {
      r = await call(key);
    } catch (err) {
      // A thrown error (throwOnError, or a network failure) is retried like
      // a missing answer, up to the last attempt.
      if (i >= attempts || opts.signal?.aborted) throw err;
      await sleep(Math.min(backoff, maxDelay), opts.signal);
      backoff *= 2;
      continue;
    }
    const response = (r as Attempt | undefined)?.response;
    const status = response?.status;
    const retryable = status === undefined || status === 503 || status === 409;
    if (!retryable || i >= attempts || opts.signal?.aborted) return r;
    const after = retryAfterMs(response?.headers.get('Retry-After'));
    await sleep(Math.min(after ?? backoff, maxDelay), opts.signal);
    backoff *= 2;
  }
}

function retryAfterMs(v: string | null | undefined): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
