"""A pull consumer with the Python SDK, for hosts no webhook can reach: it
creates a pull subscription to TAGA, TAGB and TAGC on the topic, receives
with a long poll, processes each message id once and acknowledges it.
Processing that fails is given back with a nack and a delay (it comes back
with attempt + 1). Ctrl-C deletes the subscription.

    .cache/sdk/venv/bin/python examples/python/pull.py [stop-after-N]
"""

import os
import signal
import sys

import httpx

import zeroloss
from zeroloss_client.api.subscriptions import ack_messages, create_subscription, delete_subscription, nack_messages, receive_messages
from zeroloss_client.models import AckRequest, NackRequest, ReceiveRequest, SubscriptionInput, SubscriptionMode

GATEWAY = os.environ.get("ZEROLOSS_URL", "http://localhost:8080")
API_KEY = os.environ.get("ZEROLOSS_API_KEY", "dev-secret-key")
TOPIC = os.environ.get("ZEROLOSS_TOPIC", "orders")
STOP_AFTER = int(sys.argv[1]) if len(sys.argv) > 1 else 0
WAIT = 10  # seconds of long poll; the HTTP timeout must be longer


class Seen(set):
    """Processed message ids. Delivery is at least once: keep them in your
    database, in the same transaction as the work, to stay idempotent."""


def process(m) -> None:
    print(f"{m.tag}: {m.body!r} (message {m.message_id}, attempt {m.attempt})", flush=True)


def main() -> int:
    client = zeroloss.connect(GATEWAY, API_KEY, timeout=httpx.Timeout(WAIT + 20))
    r = create_subscription.sync_detailed(
        client=client,
        body=SubscriptionInput(name="example-pull", topic=TOPIC, tag_filter="TAGA||TAGB||TAGC", mode=SubscriptionMode.PULL, max_attempts=5),
    )
    if r.status_code != 201:
        print("create subscription:", r.status_code, r.content.decode(), file=sys.stderr)
        return 1
    sub = r.parsed.id
    print(f"subscription {sub} (pull) on {TOPIC}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    seen, processed = Seen(), 0
    try:
        while not STOP_AFTER or processed < STOP_AFTER:
            got = receive_messages.sync_detailed(sub, client=client, body=ReceiveRequest(max_messages=10, wait_seconds=WAIT, invisible_seconds=60))
            if got.status_code != 200:  # 429 or 503: wait as told, then again
                print("receive:", got.status_code, got.content.decode(), file=sys.stderr)
                continue
            done, failed = [], []
            for m in got.parsed.messages:
                if m.message_id not in seen:
                    try:
                        process(m)
                    except Exception as e:  # noqa: BLE001 - any failure: give it back
                        print("processing failed:", e, file=sys.stderr)
                        failed.append(m.receipt_handle)
                        continue
                    seen.add(m.message_id)
                    processed += 1
                done.append(m.receipt_handle)  # a duplicate is acked unprocessed
            if done:
                for res in ack_messages.sync_detailed(sub, client=client, body=AckRequest(receipt_handles=done)).parsed.results:
                    if not res.ok:  # e.g. receipt-handle-expired: it may come again; seen covers it
                        print("ack:", res.problem.type_, file=sys.stderr)
            if failed:
                nack_messages.sync_detailed(sub, client=client, body=NackRequest(receipt_handles=failed, delay_seconds=5))
    except KeyboardInterrupt:
        pass
    finally:
        delete_subscription.sync_detailed(sub, client=client)
        print(f"subscription {sub} deleted", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
