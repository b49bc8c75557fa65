// @zeroloss/sdk: the client generated from api/openapi.yaml (./gen, by
// `make sdk`; do not edit it) plus the hand-written parts a generator cannot
// give: connect, Idempotency-Key retries, Standard Webhooks verification and
// receivers for check-backs and deliveries.
export * from './gen/index.js';
export { createClient, createConfig, type Client } from './gen/client/index.js';
export { connect, type ConnectOptions } from './connect.js';
export { newIdempotencyKey, withIdempotencyKey, type RetryOptions } from './retry.js';
export { verifyWebhook, WebhookVerificationError, type WebhookHeaders } from './webhooks.js';
export {
  checkHandler,
  deliveryHandler,
  serve,
  MemorySeen,
  type CheckHandlerOptions,
  type Decision,
  type Delivery,
  type DeliveryHandlerOptions,
  type SeenStore,
  type Served,
} from './receiver.js';
