import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** Request headers as Node's http module or fetch gives them. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

const TOLERANCE_SECONDS = 5 * 60;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * verifyWebhook checks a call from the gateway (check-back or delivery)
 * against its Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`): some v1 signature must be the HMAC-SHA256 of
 * `id.timestamp.body` under one of `secrets` (`whsec_…`; pass the old and the
 * new one during a rotation), and the timestamp within five minutes. It
 * throws WebhookVerificationError otherwise. `body` must be the raw bytes
 * received, before any parsing.
 *
 * Text bodies are verified by the `standardwebhooks` package. That package
 * signs `body.toString()`, which changes bytes that are not UTF-8, so binary
 * bodies (messages sent with `encoding: base64`) are verified here over the
 * bytes, with the same algorithm.
 */
export function verifyWebhook(secrets: string | string[], body: Uint8Array | string, headers: WebhookHeaders): void {
  const h = normalize(headers);
  const list = Array.isArray(secrets) ? secrets : [secrets];
  let text: string | undefined;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      text = undefined;
    }
  }
  let last: unknown = new WebhookVerificationError('No secret given');
  for (const secret of list) {
    try {
      if (text !== undefined) {
        new Webhook(secret).verify(text, h, { jsonParse: false });
      } else {
        verifyBytes(secret, body as Uint8Array, h);
      }
      return;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

function verifyBytes(secret: string, body: Uint8Array, h: Record<string, string>): void {
  const id = h['webhook-id'];
  const ts = h['webhook-timestamp'];
  const sigs = h['webhook-signature'];
  if (!id || !ts || !sigs) throw new WebhookVerificationError('Missing required headers');
  const t = Number.parseInt(ts, 10);
  if (Number.isNaN(t)) throw new WebhookVerificationError('Invalid Signature Headers');
  const now = Math.floor(Date.now() / 1000);
  if (now - t > TOLERANCE_SECONDS) throw new WebhookVerificationError('Message timestamp too old');
  if (t > now + TOLERANCE_SECONDS) throw new WebhookVerificationError('Message timestamp too new');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const want = createHmac('sha256', key).update(`${id}.${t}.`).update(body).digest();
  for (const vs of sigs.split(' ')) {
    const [version, sig] = vs.split(',');
    if (version !== 'v1' || !sig) continue;
    const got = Buffer.from(sig, 'base64');
    if (got.length === want.length && timingSafeEqual(got, want)) return;
  }
  throw new WebhookVerificationError('No matching signature found');
}

function normalize(headers: WebhookHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((v, k) => {
      out[k.toLowerCase()] = v;
    });
    return out;
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
