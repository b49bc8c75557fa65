import { createClient, createConfig, type Client } from './gen/client/index.js';
import type { ClientOptions } from './gen/types.gen.js';

/** Where the gateway is and the API key to use. */
export interface ConnectOptions {
  /** The gateway's base URL, e.g. http://localhost:8080. */
  baseUrl: string;
  /** An API key from the gateway's configuration (sent as a Bearer token). */
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

/**
 * connect returns a client for the generated operations: pass it as
 * `client` to publishMessage, beginTransaction and the others.
 */
export function connect(opts: ConnectOptions): Client {
  return createClient(
    createConfig<ClientOptions>({
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      auth: opts.apiKey,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    }),
  );
}
