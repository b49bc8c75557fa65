// Package pull is pull consumption for subscriptions in mode "pull":
// consumers without a public endpoint receive messages over HTTP, settle
// each with its receipt handle (ack, nack with a delay, extend), and get
// the same dedup, attempt limit and dead-letter queue as push.
//
// It builds on RocketMQ 5's POP (package pop) directly: the broker keeps
// the offsets, the invisibility timers, the retry topic and the
// redelivery, so a gateway replica keeps nothing per message. A receipt
// handle carries the subscription, the message's dedup id and the POP
// handle, so any replica can settle what another one handed out.
//
// # One receive
//
// A receive takes one of Config.MaxReceives slots (else
// ErrTooManyReceives) and holds at most one broker request at a time: a
// sweep of every master serving the topic without waiting, then long
// polls of one broker at a time until a message arrives or the wait ends.
// Each popped message then goes through, in order (a message stored before
// the subscription was created is acked unseen first):
//
//   - dedup (unless the subscription's dedup source is none): one atomic
//     claim of (subscription, dedup id) with a lease as long as the
//     invisibility. Delivered before (acked within the dedup window) →
//     acked on the broker and not handed out; in flight under another
//     receipt (a duplicate copy) → hidden again until that lease ends;
//     Redis not answering → hidden again for a second (fail closed: never
//     handed out unchecked) and, if nothing else was received, the
//     receive answers ErrUnavailable.
//   - the attempt limit: attempt = the broker's reconsume times + 1. A
//     message received MaxAttempts times and not acked is copied to the
//     subscription's dead-letter queue (%DLQ%<group>, with its last error
//     for the listing), then acked, instead of being handed out again.
//
// # Settling
//
// Ack records the dedup id delivered first, then acks on the broker.
// Nack changes the invisibility to the delay (the broker redelivers it
// from the group's POP retry topic with reconsume times + 1) and forgets
// the dedup claim. Extend changes the invisibility and returns a new
// handle; the old one is dead. A handle past its invisibility is
// ErrReceiptExpired: the message may be with another receiver already.
// An expired ack is still recorded for dedup and sent to the broker (a
// redelivery not yet made is then dropped), but reported. Anything that
// is not a receipt of the subscription is ErrInvalidReceipt.
//
// The broker accepts an ack of a handle that an extend or a nack replaced,
// without effect (the message comes back), so the gateway remembers the
// replaced handles in Redis until a minute past their invisibility and
// refuses them as ErrInvalidReceipt. Consumers must settle with the latest
// handle, and be idempotent by message id anyway (at least once:
// an ack that arrives after the invisibility, a broker failover, a Redis
// that forgot a mark).
package pull
